package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
	"github.com/snapcopy/snapcopy/handler/internal/tools/localrun"
)

// runLocal is the README's first command: the whole chain on the built-in
// stand-ins, no Azure account needed.
func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := localrun.Defaults()
	fs := cli.NewFlagSet("local", "[flags]", "Runs the whole chain on the built-in stand-ins (no Azure account), verifies every restore point byte for byte, then restores the newest one of each disk into a new blob and verifies that too.")
	fs.IntVar(&opts.Blobs, "blobs", opts.Blobs, "number of disks to back up")
	fs.IntVar(&opts.Generations, "generations", opts.Generations, "snapshots per disk")
	diskMiB := fs.Int64("disk-mib", opts.DiskBytes>>20, "disk size in MiB")
	fs.IntVar(&opts.WritesPerGeneration, "writes", opts.WritesPerGeneration, "random extents written before each snapshot")
	fs.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed for writes and chaos")
	fs.BoolVar(&opts.Chaos, "chaos", opts.Chaos, "inject transient storage faults and latency")
	fs.Int64Var(&opts.CopyRate, "copy-rate", opts.CopyRate, "emulated copy speed in bytes per second")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "bound on the demo")
	fs.BoolVar(&opts.Keep, "keep", opts.Keep, "keep the stack running after the demo until interrupted")
	fs.IntVar(&opts.Retention.Last, "retain-last", 0, "retention: keep the last n restore points of each disk (0: rule not used)")
	fs.IntVar(&opts.Retention.Daily, "retain-daily", 0, "retention: keep the newest restore point of each of the last n days")
	fs.IntVar(&opts.Retention.Weekly, "retain-weekly", 0, "retention: the same per ISO week")
	fs.IntVar(&opts.Retention.Monthly, "retain-monthly", 0, "retention: the same per month")
	fs.BoolVar(&opts.PruneSource, "prune-source", false, "delete source snapshots proven copied, except the newest copied one")
	fs.StringVar(&opts.LogLevel, "log-level", opts.LogLevel, "handler log level (debug, info, warn, error)")
	if err := cli.ParseFlagsOnly(fs, args, stdout, stderr, "local takes flags only"); err != nil {
		return err
	}
	opts.DiskBytes = *diskMiB << 20
	opts.Out, opts.ErrOut = stdout, stderr
	if err := opts.Validate(); err != nil {
		return cli.Refuse(fs, stderr, err)
	}
	sum, err := localrun.Run(ctx, opts)
	if err != nil {
		return err
	}
	if !sum.OK() {
		return errors.New("verification failed")
	}
	fmt.Fprintln(stdout, "local run verified")
	return nil
}
