package ops

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
)

// TestSendThroughTheServiceBusStandIn sends with the real azservicebus
// client over AMQP to the stand-in on loopback, the way `handler send`
// reaches the local stack.
func TestSendThroughTheServiceBusStandIn(t *testing.T) {
	b, err := busemu.ListenLoopback(busemu.Options{Clock: clock.NewFake(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	env := map[string]string{"ServiceBusConnection": b.ConnectionString()}
	c := sendCommand{getenv: func(k string) string { return env[k] }, now: func() time.Time { return testStart }, newID: uuid.NewString, open: openServiceBusSender}
	send := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := c.run(context.Background(), append([]string{"-source", testSource, "-snapshot", testSnapshot}, args...), &out, &errOut); err != nil {
			t.Fatalf("send: %v\n%s", err, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}

	id := send()
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("printed id %q is not a UUID", id)
	}
	msgs, err := b.Messages(config.DefaultTriggerQueue)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("queue holds %d messages, %v", len(msgs), err)
	}
	m := msgs[0]
	if m.MessageID != id || m.ContentType != "application/cloudevents+json" || m.Subject != defaultEventType {
		t.Errorf("message id %q content type %q subject %q", m.MessageID, m.ContentType, m.Subject)
	}
	tr, err := copyjob.ParseTrigger(m.Body, copyjob.Rules{DestinationContainerURL: "https://dst.blob.core.windows.net/backups"}, testStart)
	if err != nil || tr.EventID != id || tr.Source.URL != testSource {
		t.Errorf("handler reads %+v, %v", tr, err)
	}

	// MessageId = event id: repeating a send is harmless under duplicate detection.
	send("-id", id)
	if msgs, _ := b.Messages(config.DefaultTriggerQueue); len(msgs) != 1 {
		t.Errorf("a repeated send was not deduplicated: %d messages", len(msgs))
	}
}
