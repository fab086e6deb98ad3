package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// runEmulator serves the storage emulator standalone, for people running
// `func start` against it.
func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:10000", "loopback address to listen on")
	rate := fs.Int64("copy-rate", storageemu.DefaultCopyRate, "incremental copy speed in bytes per second")
	newCode := fs.Bool("new-error-code", false, "answer IncrementalCopyOfEarlierSnapshotNotAllowed instead of the historic misspelled code")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	opts := storageemu.Options{CopyRate: *rate}
	if *newCode {
		opts.EarlierSnapshotErrorCode = storageemu.EarlierSnapshotCodeCurrent
	}
	return storageemu.Serve(ctx, *addr, opts, func(bound string) {
		base := "http://" + bound
		fmt.Fprintf(stdout, "storage emulator listening on %s\n", base)
		fmt.Fprintf(stdout, "connection string: %s\n", storageemu.ConnectionString(base, storageemu.DevAccount))
	})
}
