package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// RunSend is `handler send`: it sends a SnapshotCreated for one source
// snapshot to the trigger queue, as a producer would, and prints the
// message id.
func RunSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := sendCommand{getenv: os.Getenv, now: time.Now, newID: uuid.NewString, open: openServiceBusSender}
	return c.run(ctx, args, stdout, stderr)
}

// sendCommand holds what `send` takes from its surroundings, so tests can
// swap the environment, the clock, the ids and the Service Bus sender.
type sendCommand struct {
	getenv func(string) string
	now    func() time.Time
	newID  func() string
	open   openSender
}

// sendFlags are the parsed command line.
type sendFlags struct {
	message           snapshotCreated
	snapshotNow       bool
	queue             string
	bus               busTarget
	storageConnection string
}

func (c sendCommand) parse(args []string, stdout, stderr io.Writer) (sendFlags, error) {
	var f sendFlags
	d := &f.message.Data
	fs := cli.NewFlagSet("send", "-source <blob URL> -snapshot <time> [flags]",
		"Sends a SnapshotCreated to the trigger queue as a producer would, after checking it with the handler's own validator, and prints its message id.",
		"Service Bus: -connection, or -namespace with Azure credentials (az login, a managed identity; AZURE_CLIENT_ID picks one); without either, $"+
			config.SettingServiceBusConnection+" or $"+config.SettingServiceBusNamespace+".")
	fs.StringVar(&d.SourceBlobURL, "source", "", "source base blob URL")
	fs.StringVar(&d.Snapshot, "snapshot", "", "source snapshot time, e.g. 2026-11-24T10:00:00.1234567Z")
	fs.StringVar(&d.SnapshotURL, "snapshot-url", "", "…/blob?snapshot=… instead of -source and -snapshot")
	fs.BoolVar(&f.snapshotNow, "snapshot-now", false, "snapshot -source now (storage credentials) and send that snapshot")
	fs.StringVar(&d.DestinationBlobURL, "destination", "", "destination blob URL (default: the handler's routing)")
	fs.StringVar(&d.SourceSAS, "sas", "", "source SAS (sr=b, read); accepted only where "+config.SettingAllowMessageSAS+"=true")
	fs.StringVar(&f.message.ID, "id", "", "CloudEvent id and MessageId (default: a random UUID)")
	fs.StringVar(&f.message.EventType, "type", defaultEventType, "CloudEvent type: by default the handler accepts types whose last words are \"snapshot created\" (com.contoso.backup.snapshot.created), else those in $"+config.SettingTriggerEventTypes)
	fs.StringVar(&f.queue, "queue", c.envOr(config.SettingTriggerQueue, config.Defaults().TriggerQueue), "trigger queue")
	// Secrets from the environment are not flag defaults: -h prints defaults.
	fs.StringVar(&f.bus.ConnectionString, "connection", "", "Service Bus connection string (default $"+config.SettingServiceBusConnection+")")
	fs.StringVar(&f.bus.Namespace, "namespace", "", "Service Bus namespace host name, with Azure credentials (default $"+config.SettingServiceBusNamespace+")")
	fs.StringVar(&f.storageConnection, "storage-connection", "", "storage connection string for -snapshot-now; its BlobEndpoint is a storage host for the check, as in the handler (default $"+config.SettingStorageConnectionString+"; empty: Azure credentials)")
	positional, err := cli.Parse(fs, args, stdout, stderr)
	if err != nil {
		return f, err
	}
	var problems []error
	if len(positional) > 0 {
		problems = append(problems, fmt.Errorf("unexpected argument %q: send takes flags only", positional[0]))
	}
	if f.bus.ConnectionString != "" && f.bus.Namespace != "" {
		problems = append(problems, errors.New("give -connection or -namespace, not both: a connection string names its namespace itself"))
	} else {
		if f.bus == (busTarget{}) {
			// The handler's rule: a connection string wins over the namespace.
			f.bus = busTarget{ConnectionString: c.getenv(config.SettingServiceBusConnection)}
			if f.bus.ConnectionString == "" {
				f.bus.Namespace = c.getenv(config.SettingServiceBusNamespace)
			}
		}
		problems = append(problems, f.bus.check())
	}
	if f.storageConnection == "" {
		f.storageConnection = c.getenv(config.SettingStorageConnectionString)
	}
	if f.storageConnection != "" {
		// It names the emulator endpoint for the check even without -snapshot-now.
		if _, err := blobstore.SharedKeyFromConnectionString(f.storageConnection); err != nil {
			problems = append(problems, fmt.Errorf("-storage-connection (or $%s): %w", config.SettingStorageConnectionString, err))
		}
	}
	if f.snapshotNow && (d.Snapshot != "" || d.SnapshotURL != "" || d.SourceBlobURL == "") {
		problems = append(problems, errors.New("-snapshot-now takes -source and no -snapshot or -snapshot-url"))
	}
	if f.message.ID == "" {
		f.message.ID = c.newID()
	}
	if err := errors.Join(problems...); err != nil {
		return f, cli.Refuse(fs, stderr, err)
	}
	return f, nil
}

func (c sendCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := c.parse(args, stdout, stderr)
	if err != nil {
		return scrub(err)
	}
	return scrub(c.send(ctx, f, stdout, stderr))
}

func (c sendCommand) send(ctx context.Context, f sendFlags, stdout, stderr io.Writer) error {
	now := c.now()
	rules, err := checkRules(c.getenv, config.StorageHostsFor(f.storageConnection, c.getenv(config.SettingStorageEndpointSuffix)))
	if err != nil {
		return err
	}
	if f.snapshotNow {
		// Check the rest of the message with a stand-in time first, so a
		// mistake does not leave behind a snapshot nobody will copy.
		f.message.Data.Snapshot = copyjob.FormatSnapshot(now)
		_, trigger, err := f.message.check(rules, now)
		if err != nil {
			return err
		}
		auth, err := newStorageAuth(f.storageConnection, "-storage-connection", c.getenv(config.SettingStorageEndpointSuffix))
		if err != nil {
			return err
		}
		if f.message.Data.Snapshot, err = takeSnapshot(ctx, auth, trigger.Source); err != nil {
			return err
		}
		now = c.now()
	}
	body, trigger, err := f.message.check(rules, now)
	if err != nil {
		return err
	}
	if !trigger.SAS.IsZero() {
		fmt.Fprintf(stderr, "note: the message carries a source SAS; the handler accepts it only with %s=true, otherwise it is Rejected (NotAllowed)\n", config.SettingAllowMessageSAS)
	}
	sender, closeSender, err := c.open(ctx, f.bus, f.queue)
	if err != nil {
		return err
	}
	defer closeSender()
	if err := sender.SendMessage(ctx, f.message.serviceBusMessage(body), nil); err != nil {
		return explainSendError(fmt.Errorf("send to queue %s: %w", f.queue, err), f.bus, f.queue)
	}
	fmt.Fprintf(stderr, "sent %s for %s snapshot %s to queue %s\n", f.message.EventType, redact.URL(trigger.Source.URL), copyjob.FormatSnapshot(trigger.Snapshot), f.queue)
	fmt.Fprintln(stdout, f.message.ID)
	return nil
}

func (c sendCommand) envOr(name, fallback string) string {
	if v := c.getenv(name); v != "" {
		return v
	}
	return fallback
}
