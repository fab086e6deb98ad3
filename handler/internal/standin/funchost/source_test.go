package funchost

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

func TestReceiverSourceFollowsScheduledChains(t *testing.T) {
	{
		{
			tb := newEmulatedQueue(t)
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
			if err := tb.host(t, rec, HostOptions{}).RunUntilIdle(ctx, tb.clock, Limits{}); err != nil {
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
		}
	}
}

func TestReceiverSourceRedeliversAbandoned(t *testing.T) {
	{
		{
			tb := newEmulatedQueue(t)
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
			if err := tb.host(t, rec, HostOptions{}).RunUntilIdle(ctx, tb.clock, Limits{}); err != nil {
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
		}
	}
}
