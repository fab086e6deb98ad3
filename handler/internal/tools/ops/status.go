package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// defaultSample is the wait between the two progress readings: long enough
// for a copy to move measurably, short enough for an interactive command.
const defaultSample = 3 * time.Second

// errSingleReading explains a missing ETA when sampling is off.
var errSingleReading = errors.New("one reading only (-sample 0)")

// RunStatus is `handler status <destination blob URL>`: the chain at a
// glance, read from the destination's properties and snapshots.
func RunStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return statusCommand{realSurroundings()}.run(ctx, args, stdout, stderr)
}

// statusCommand is `status` in its surroundings; sleep waits between the
// two progress readings.
type statusCommand struct{ storageCommand }

// statusFlags are the parsed command line.
type statusFlags struct {
	destination       copyjob.BlobRef
	storageConnection string
	sample            time.Duration
	json              bool
}

func (c statusCommand) parse(args []string, stdout, stderr io.Writer) (statusFlags, error) {
	var f statusFlags
	fs := cli.NewFlagSet("status", "<destination blob URL> [flags]",
		"Shows one destination chain: its source, the last copied snapshot, the current copy with an ETA, and every restore point.",
		"Storage: -connection (Shared Key, e.g. the emulator's), else $"+config.SettingStorageConnectionString+", else Azure credentials (az login, a managed identity), which need Storage Blob Data Reader on the destination container.")
	fs.DurationVar(&f.sample, "sample", defaultSample, "time between two progress readings for the ETA; 0 reads once")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
	destination, err := c.parseDestination(fs, args, &f.storageConnection, stdout, stderr)
	if err != nil {
		return f, err
	}
	if f.sample < 0 {
		return f, cli.Refuse(fs, stderr, fmt.Errorf("-sample %s must not be negative", f.sample))
	}
	if f.destination, err = baseBlob("destination", destination); err != nil {
		return f, cli.Refuse(fs, stderr, err)
	}
	return f, nil
}

func (c statusCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := c.parse(args, stdout, stderr)
	if err != nil {
		return scrub(err)
	}
	ch, err := c.read(ctx, f)
	if err != nil {
		return scrub(explainStorageError(err, "read "+f.destination.URL, "Storage Blob Data Reader on the destination container", "check the destination URL"))
	}
	if f.json {
		return writeJSON(redactingWriter{stdout}, ch)
	}
	ch.writeText(redactingWriter{stdout})
	return nil
}

// read takes one reading of the destination, and a second one f.sample
// later while a copy is pending, to estimate its ETA.
func (c statusCommand) read(ctx context.Context, f statusFlags) (chain, error) {
	_, store, err := c.open(f.storageConnection, f.destination)
	if err != nil {
		return chain{}, err
	}
	d, err := store.Destination(ctx, f.destination)
	if err != nil {
		return chain{}, err
	}
	first := reading{At: c.clock.Now(), CopyID: d.CopyID, Progress: d.Progress}
	etaErr := errSingleReading
	var estimate eta
	if d.CopyStatus == copyjob.StatusPending && f.sample > 0 {
		if err := c.sleep(ctx, f.sample); err != nil {
			return chain{}, err
		}
		if d, err = store.Destination(ctx, f.destination); err != nil {
			return chain{}, err
		}
		estimate, etaErr = estimateETA(first, reading{At: c.clock.Now(), CopyID: d.CopyID, Progress: d.Progress})
	}
	// Listed after the last reading, so a copy that just finished shows
	// its restore point.
	history, err := store.History(ctx, f.destination)
	if err != nil {
		return chain{}, err
	}
	ch := newChain(f.destination.URL, d, history)
	ch.measure(ctx, store, f.destination)
	if ch.Copy != nil && d.CopyStatus == copyjob.StatusPending {
		ch.Copy.setETA(estimate, etaErr)
	}
	return ch, nil
}

// redactingWriter scrubs everything printed: the last line of defence if a
// status description or URL ever carries a secret.
type redactingWriter struct{ w io.Writer }

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := r.w.Write(redact.Bytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
