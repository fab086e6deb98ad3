package localrun

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Options configure a local run.
type Options struct {
	// Blobs is how many disks to back up; Generations how many snapshots
	// each gets.
	Blobs, Generations int
	// DiskBytes is each disk's size; WritesPerGeneration the number of
	// random extents written before each snapshot.
	DiskBytes           int64
	WritesPerGeneration int
	// Seed makes writes (and chaos) reproducible.
	Seed uint64
	// Chaos injects transient storage faults and latency.
	Chaos bool
	// CopyRate is the emulated copy speed in bytes per second.
	CopyRate int64
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Keep leaves the stack running after the demo until ctx ends.
	Keep bool
	// Retention is the handler's retention policy and PruneSource its
	// source pruning; the run then waits for each chain's Pruned event and
	// checks that what survives is what the policy keeps.
	Retention   copyjob.RetentionPolicy
	PruneSource bool
	// Out receives progress and the summary, and the handler's debug and
	// info lines; ErrOut the handler's warnings and errors.
	Out, ErrOut io.Writer
	// LogLevel is the handler's log level.
	LogLevel string
}

// Defaults are the options of a plain `handler local`.
func Defaults() Options {
	return Options{Blobs: 1, Generations: 3, DiskBytes: 64 << 20, WritesPerGeneration: 24, Seed: 1, CopyRate: 32 << 20, Timeout: 2 * time.Minute, LogLevel: "warn"}
}

// ErrInvalid wraps option errors.
var ErrInvalid = errors.New("localrun: invalid options")

// Validate says what is wrong with the options.
func (o Options) Validate() error {
	// Each message names the `handler local` flag that sets the option.
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Blobs < 1 {
		bad("-blobs %d: at least 1 disk", o.Blobs)
	}
	if o.Generations < 1 {
		bad("-generations %d: at least 1 snapshot per disk", o.Generations)
	}
	if o.DiskBytes < 1<<20 || o.DiskBytes%pageSize != 0 {
		bad("-disk-mib: the disk must be at least 1 MiB and a multiple of 512 bytes (%d bytes asked for)", o.DiskBytes)
	}
	if o.WritesPerGeneration < 1 {
		bad("-writes %d: at least 1 extent per generation", o.WritesPerGeneration)
	}
	if o.CopyRate < 1 {
		bad("-copy-rate %d: must be a positive number of bytes per second", o.CopyRate)
	}
	if o.Timeout <= 0 {
		bad("-timeout %s: must be positive", o.Timeout)
	}
	if err := o.Retention.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Out == nil || o.ErrOut == nil {
		bad("Out and ErrOut are required (the caller's output)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}
