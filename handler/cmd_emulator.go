package main

import (
	"context"
	"fmt"
	"io"

	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// runEmulator serves the storage emulator standalone, for people running
// `func start` against it.
func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("emulator", "[-addr 127.0.0.1:10000] [flags]", "Serves the storage emulator (incremental copy included) on loopback; prints the connection string to use.")
	addr := fs.String("addr", "127.0.0.1:10000", "loopback address to listen on")
	rate := fs.Int64("copy-rate", storageemu.DefaultCopyRate, "incremental copy speed in bytes per second")
	newCode := fs.Bool("new-error-code", false, "answer IncrementalCopyOfEarlierSnapshotNotAllowed instead of the historic misspelled code")
	if err := cli.ParseFlagsOnly(fs, args, stdout, stderr, "give the address with -addr"); err != nil {
		return err
	}
	if *rate <= 0 {
		return cli.Refuse(fs, stderr, fmt.Errorf("-copy-rate %d must be a positive number of bytes per second", *rate))
	}
	opts := storageemu.Options{CopyRate: *rate}
	if *newCode {
		opts.EarlierSnapshotErrorCode = storageemu.EarlierSnapshotCodeCurrent
	}
	err := storageemu.Serve(ctx, *addr, opts, func(bound string) {
		base := "http://" + bound
		fmt.Fprintf(stdout, "storage emulator listening on %s\n", base)
		fmt.Fprintf(stdout, "connection string: %s\n", storageemu.ConnectionString(base, storageemu.DevAccount))
	})
	return explainListen(err, storageemu.ErrNotLoopback, *addr)
}
