package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/google/uuid"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// sendFlags are the producer's side of the SnapshotCreated contract.
type sendFlags struct {
	source, snapshot, snapshotURL, destination, sas, id, eventType string
}

// buildSnapshotCreated makes the CloudEvent a producer sends and checks it
// with the handler's own validator, so a mistake is reported here, with the
// same words, instead of as a Rejected event later.
func buildSnapshotCreated(f sendFlags, now time.Time) ([]byte, error) {
	data := copyjob.SnapshotCreated{SourceBlobURL: f.source, Snapshot: f.snapshot, SnapshotURL: f.snapshotURL, DestinationBlobURL: f.destination, SourceSAS: f.sas}
	body, err := json.Marshal(map[string]any{
		"specversion": "1.0", "type": f.eventType, "source": "/snapcopy/send", "id": f.id,
		"time": now.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": data,
	})
	if err != nil {
		return nil, err
	}
	// Routing is the handler's configuration, unknown here: a placeholder
	// lets a message without destination pass the check.
	rules := copyjob.Rules{MaxBytes: config.Defaults().MaxMessageBytes, AllowMessageSAS: true, DestinationContainerURL: "https://routing.invalid/by-handler-configuration"}
	if _, err := copyjob.ParseTrigger(body, rules, now); err != nil {
		return nil, err
	}
	return body, nil
}

// sendMessage sends body as a SnapshotCreated with MessageID = event id.
func sendMessage(ctx context.Context, s bus.Sender, id string, body []byte) error {
	return s.SendMessage(ctx, &azservicebus.Message{MessageID: to.Ptr(id), ContentType: to.Ptr(bus.ContentTypeCloudEvents), Subject: to.Ptr("SnapshotCreated"), Body: body}, nil)
}

// runSend is `handler send`: send a SnapshotCreated the way a producer would.
func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f sendFlags
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.source, "source", "", "source base blob URL")
	fs.StringVar(&f.snapshot, "snapshot", "", "source snapshot time, e.g. 2026-11-24T10:00:00.1234567Z")
	fs.StringVar(&f.snapshotURL, "snapshot-url", "", "…/blob?snapshot=… instead of -source and -snapshot")
	fs.StringVar(&f.destination, "destination", "", "destination blob URL (default: the handler's routing)")
	fs.StringVar(&f.sas, "sas", "", "source SAS (sr=b, read); accepted only where SNAPCOPY_ALLOW_MESSAGE_SAS=true")
	fs.StringVar(&f.id, "id", "", "CloudEvent id and MessageId (default: random)")
	fs.StringVar(&f.eventType, "type", "Snapcopy.SnapshotCreated", "CloudEvent type (must end in SnapshotCreated)")
	queue := fs.String("queue", envOr(config.SettingTriggerQueue, config.Defaults().TriggerQueue), "trigger queue")
	conn := fs.String("connection", os.Getenv(config.SettingServiceBusConnection), "Service Bus connection string")
	namespace := fs.String("namespace", os.Getenv(config.SettingServiceBusNamespace), "Service Bus namespace FQDN (Azure credentials)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if f.id == "" {
		f.id = uuid.NewString()
	}
	body, err := buildSnapshotCreated(f, time.Now())
	if err != nil {
		return fmt.Errorf("the handler would reject this message: %w", err)
	}
	cfg := config.Defaults()
	cfg.ServiceBusConnectionString, cfg.ServiceBusNamespace, cfg.ClientID = *conn, *namespace, os.Getenv(config.SettingClientID)
	var token azcore.TokenCredential
	if cfg.ServiceBusConnectionString == "" {
		if cfg.ServiceBusNamespace == "" {
			return fmt.Errorf("give -connection or -namespace (or set %s / %s)", config.SettingServiceBusConnection, config.SettingServiceBusNamespace)
		}
		if token, err = credential(cfg); err != nil {
			return err
		}
	}
	client, err := serviceBusClient(cfg, token)
	if err != nil {
		return err
	}
	defer client.Close(context.Background())
	sender, err := client.NewSender(*queue, nil)
	if err != nil {
		return err
	}
	defer sender.Close(context.Background())
	if err := sendMessage(ctx, sender, f.id, body); err != nil {
		return err
	}
	if f.sas != "" {
		fmt.Fprintln(stderr, "note: the message carries a SAS; the handler accepts it only with SNAPCOPY_ALLOW_MESSAGE_SAS=true")
	}
	fmt.Fprintln(stdout, f.id)
	return nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
