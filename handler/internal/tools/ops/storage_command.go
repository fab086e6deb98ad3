package ops

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// storageCommand holds what a command that reads one destination chain
// (status, restore) takes from its surroundings; tests give it a fake clock
// and a sleeper that advances that clock.
type storageCommand struct {
	getenv func(string) string
	clock  clock.Clock
	// sleep waits between two readings of a copy.
	sleep func(ctx context.Context, d time.Duration) error
}

// realSurroundings is the process environment, the wall clock and real waits.
func realSurroundings() storageCommand {
	return storageCommand{getenv: os.Getenv, clock: clock.Real{}, sleep: sleepContext}
}

// parseDestination adds -connection, the storage connection string, to fs's
// flags, parses a command line that names one destination blob URL and
// returns that URL unparsed; an empty -connection falls back to the
// environment's.
func (c storageCommand) parseDestination(fs *flag.FlagSet, args []string, connection *string, stdout, stderr io.Writer) (string, error) {
	// Not the flag's default: -h prints defaults, and this one holds a key.
	fs.StringVar(connection, "connection", "", "storage connection string, Shared Key (default $"+config.SettingStorageConnectionString+"; empty: Azure credentials)")
	positional, err := cli.Parse(fs, args, stdout, stderr)
	if err != nil {
		return "", err
	}
	if *connection == "" {
		*connection = c.getenv(config.SettingStorageConnectionString)
	}
	switch {
	case len(positional) == 0:
		return "", cli.Refuse(fs, stderr, errors.New("give the destination blob URL"))
	case len(positional) > 1:
		return "", cli.Refuse(fs, stderr, fmt.Errorf("one destination blob URL at a time; %q is one too many", positional[1]))
	}
	return positional[0], nil
}

// open authenticates with connection (Azure credentials when empty),
// refuses any of refs the credentials do not fit, and returns the
// handler's storage adapter over them.
func (c storageCommand) open(connection string, refs ...copyjob.BlobRef) (storageAuth, *blobstore.Store, error) {
	auth, err := newStorageAuth(connection, "-connection", c.getenv(config.SettingStorageEndpointSuffix))
	if err != nil {
		return auth, nil, err
	}
	for _, ref := range refs {
		if err := auth.fits(ref); err != nil {
			return auth, nil, err
		}
	}
	store, err := auth.store(c.clock)
	return auth, store, err
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
