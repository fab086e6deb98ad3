package funchost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// queueName is a queue busemu creates with the entity settings infra gives it.
const queueName = "copy-poll"

// emulatedQueue is one busemu queue on a fake clock, reached through the
// real azservicebus client: the host listens with a receiver source, the
// test sends with a real sender.
type emulatedQueue struct {
	broker *busemu.Broker
	source Source
	send   *azservicebus.Sender
	clock  *clock.Fake
}

func newEmulatedQueue(t *testing.T) *emulatedQueue {
	t.Helper()
	clk := clock.NewFake(t0)
	b, err := busemu.ListenLoopback(busemu.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	client, err := azservicebus.NewClientFromConnectionString(b.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	r, err := client.NewReceiverForQueue(queueName, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.NewSender(queueName, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &emulatedQueue{broker: b, source: NewReceiverSource(r, queueName, b), send: s, clock: clk}
}

// sendNow sends m, failing the test if it cannot.
func (q *emulatedQueue) sendNow(t *testing.T, m *azservicebus.Message) {
	t.Helper()
	if err := q.send.SendMessage(context.Background(), m, nil); err != nil {
		t.Fatal(err)
	}
}

// host serves the queue to h as function "Fn".
func (q *emulatedQueue) host(t *testing.T, h http.Handler, opts HostOptions) *Host {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.BaseURL, opts.Functions, opts.Clock = srv.URL, map[string]Source{"Fn": q.source}, q.clock
	if opts.FunctionTimeout == 0 {
		opts.FunctionTimeout = 10 * time.Second
	}
	host, err := NewHost(opts)
	if err != nil {
		t.Fatal(err)
	}
	return host
}

func msg(id string) *azservicebus.Message {
	return &azservicebus.Message{MessageID: to.Ptr(id), Body: []byte(`{"n":1}`), Subject: to.Ptr("s")}
}
