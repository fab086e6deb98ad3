package funchost

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
)

// testBus is one queue of a bus the host can listen to, on a fake clock.
type testBus struct {
	source Source
	send   bus.Sender // the in-memory broker's Sender or a real *azservicebus.Sender
	clock  *clock.Fake
}

// testBuses are the same scenarios' targets: the in-memory broker, and
// busemu over AMQP through the real azservicebus receiver and sender.
var testBuses = map[string]func(t *testing.T) testBus{
	"memory": func(t *testing.T) testBus {
		b, clk := newTestBroker(t)
		return testBus{source: sourceOf(t, b, "q"), send: b.Sender("q"), clock: clk}
	},
	"amqp": func(t *testing.T) testBus {
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
		r, err := client.NewReceiverForQueue(config.DefaultPollQueue, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := client.NewSender(config.DefaultPollQueue, nil)
		if err != nil {
			t.Fatal(err)
		}
		return testBus{source: NewReceiverSource(r, config.DefaultPollQueue, b), send: s, clock: clk}
	},
}

func (tb testBus) host(t *testing.T, h *recorder) *Host {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host, err := NewHost(HostOptions{Functions: map[string]Source{"Fn": tb.source}, BaseURL: srv.URL, Clock: tb.clock, FunctionTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return host
}

func TestBusesFollowScheduledChains(t *testing.T) {
	for name, newBus := range testBuses {
		t.Run(name, func(t *testing.T) {
			tb := newBus(t)
			ctx := context.Background()
			if err := tb.send.SendMessage(ctx, msg("0"), nil); err != nil {
				t.Fatal(err)
			}
			// Each invocation schedules the next one a minute later, 5 times.
			var count atomic.Int64
			rec := &recorder{answer: func(inv funcproto.Invocation) (int, string) {
				if n := count.Add(1); n < 5 {
					m := msg(string(rune('0' + n)))
					if _, err := tb.send.ScheduleMessages(ctx, []*azservicebus.Message{m}, tb.clock.Now().Add(time.Minute), nil); err != nil {
						return 500, `{}`
					}
				}
				return 200, `{}`
			}}
			if err := tb.host(t, rec).RunUntilIdle(ctx, tb.clock, Limits{}); err != nil {
				t.Fatal(err)
			}
			if count.Load() != 5 || !tb.clock.Now().Equal(t0.Add(4*time.Minute)) {
				t.Fatalf("%d invocations, clock at +%s", count.Load(), tb.clock.Now().Sub(t0))
			}
			for i, inv := range rec.got {
				if want := string(rune('0' + i)); inv.MessageID != want || inv.DeliveryCount != 1 || string(inv.Body) != `{"n":1}` || inv.Subject != "s" {
					t.Errorf("invocation %d: %+v, want message %s delivered once", i, inv, want)
				}
			}
		})
	}
}

func TestBusesRedeliverAbandoned(t *testing.T) {
	for name, newBus := range testBuses {
		t.Run(name, func(t *testing.T) {
			tb := newBus(t)
			ctx := context.Background()
			if err := tb.send.SendMessage(ctx, msg("m"), nil); err != nil {
				t.Fatal(err)
			}
			// Fail twice, then succeed: the host abandons, the bus redelivers
			// at once with the delivery count raised.
			rec := &recorder{answer: func(inv funcproto.Invocation) (int, string) {
				if inv.DeliveryCount < 3 {
					return 500, `{}`
				}
				return 200, `{}`
			}}
			if err := tb.host(t, rec).RunUntilIdle(ctx, tb.clock, Limits{}); err != nil {
				t.Fatal(err)
			}
			if len(rec.got) != 3 || !tb.clock.Now().Equal(t0) {
				t.Fatalf("%d invocations, clock at +%s; want 3 at once", len(rec.got), tb.clock.Now().Sub(t0))
			}
			for i, inv := range rec.got {
				if inv.MessageID != "m" || inv.DeliveryCount != i+1 {
					t.Errorf("invocation %d: id %s delivery %d", i, inv.MessageID, inv.DeliveryCount)
				}
			}
		})
	}
}
