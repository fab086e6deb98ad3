package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/snapcopy/snapcopy/handler/internal/chainstatus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// statusClock and sleepFor time the two progress readings of `handler
// status`; variables so tests run on a fake clock instead of waiting.
var statusClock clock.Clock = clock.Real{}

var sleepFor = func(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// runStatus is `handler status <destination blob URL>`: the chain at a
// glance, from the destination's properties and snapshots.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := fs.String("connection", os.Getenv(config.SettingStorageConnectionString), "storage connection string (Shared Key, e.g. the local emulator); empty: Azure credentials")
	sample := fs.Duration("sample", 3*time.Second, "time between two progress readings for the ETA; 0 reads once")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: handler status [flags] <destination blob URL>")
		return errUsage
	}
	dest, query, err := copyjob.ParseBlobURL(fs.Arg(0))
	if err != nil || len(query) > 0 {
		return fmt.Errorf("destination: give a blob URL without a query (%v)", err)
	}
	cfg := config.Defaults()
	cfg.StorageConnectionString, cfg.ClientID = *conn, os.Getenv(config.SettingClientID)
	var token azcore.TokenCredential
	if cfg.StorageConnectionString == "" {
		if token, err = credential(cfg); err != nil {
			return err
		}
	}
	store, err := blobStore(cfg, token, clock.Real{})
	if err != nil {
		return err
	}
	first, err := store.Destination(ctx, dest)
	if err != nil {
		return err
	}
	history, err := store.History(ctx, dest)
	if err != nil {
		return err
	}
	status := chainstatus.New(dest.URL, first, history)
	if first.CopyStatus == copyjob.StatusPending && *sample > 0 {
		at := statusClock.Now()
		if err := sleepFor(ctx, *sample); err != nil {
			return err
		}
		second, err := store.Destination(ctx, dest)
		if err != nil {
			return err
		}
		if second.CopyID == first.CopyID {
			status = chainstatus.New(dest.URL, second, history)
			if eta, ok := chainstatus.EstimateRemaining(chainstatus.Reading{At: at, Progress: first.Progress}, chainstatus.Reading{At: statusClock.Now(), Progress: second.Progress}); ok {
				status.ETA = eta.Round(time.Second).String()
			}
		}
	}
	if *asJSON {
		return status.WriteJSON(stdout)
	}
	status.WriteText(stdout)
	return nil
}
