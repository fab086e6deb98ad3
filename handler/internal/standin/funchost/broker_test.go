package funchost

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func newTestBroker(t *testing.T) (*Broker, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	b, err := NewBroker(BrokerOptions{Clock: clk, Queues: []string{"q"}, Topics: map[string][]string{"t": {"a", "b"}}, MaxDeliveryCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	return b, clk
}

func msg(id string) *azservicebus.Message {
	return &azservicebus.Message{MessageID: to.Ptr(id), Body: []byte(`{"n":1}`), Subject: to.Ptr("s")}
}

func TestScheduledMessagesAreInvisibleUntilDue(t *testing.T) {
	b, clk := newTestBroker(t)
	if _, err := b.Sender("q").ScheduleMessages(context.Background(), []*azservicebus.Message{msg("m1")}, t0.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.receive("q"); ok {
		t.Fatal("received before due")
	}
	clk.Advance(time.Minute)
	m, ok := b.receive("q")
	if !ok || m.ID != "m1" || m.DeliveryCount != 1 || !m.EnqueuedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("received %+v %v", m, ok)
	}
}

func TestAbandonRedeliversThenDeadLetters(t *testing.T) {
	b, _ := newTestBroker(t)
	if err := b.Sender("q").SendMessage(context.Background(), msg("m1"), nil); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		m, ok := b.receive("q")
		if !ok || m.DeliveryCount != want {
			t.Fatalf("delivery %d: %+v %v", want, m, ok)
		}
		if err := b.settle("q", m.lockToken, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := b.receive("q"); ok {
		t.Fatal("delivered past MaxDeliveryCount")
	}
	dead := b.Stats("q").DeadLettered
	if len(dead) != 1 || dead[0].DeadLetterReason != "MaxDeliveryCountExceeded" {
		t.Fatalf("dead letters %+v", dead)
	}
}

func TestLockExpiryRedelivers(t *testing.T) {
	b, clk := newTestBroker(t)
	_ = b.Sender("q").SendMessage(context.Background(), msg("m1"), nil)
	first, _ := b.receive("q")
	clk.Advance(5 * time.Minute) // the default lock
	second, ok := b.receive("q")
	if !ok || second.DeliveryCount != 2 {
		t.Fatalf("after lock expiry: %+v %v", second, ok)
	}
	if err := b.settle("q", first.lockToken, true); !errors.Is(err, ErrLockLost) {
		t.Fatalf("settling an expired lock: %v", err)
	}
	if err := b.settle("q", second.lockToken, true); err != nil || b.Stats("q").Completed != 1 {
		t.Fatalf("complete: %v %+v", err, b.Stats("q"))
	}
}

func TestDuplicateDetectionWindow(t *testing.T) {
	b, clk := newTestBroker(t)
	s := b.Sender("q")
	for i := 0; i < 2; i++ {
		if err := s.SendMessage(context.Background(), msg("same"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Stats("q").Ready; n != 1 {
		t.Fatalf("%d messages after a duplicate, want 1", n)
	}
	clk.Advance(time.Hour)
	_ = s.SendMessage(context.Background(), msg("same"), nil)
	if n := b.Stats("q").Ready; n != 2 {
		t.Fatalf("%d messages after the window, want 2", n)
	}
}

func TestTopicFansOutToSubscriptions(t *testing.T) {
	b, _ := newTestBroker(t)
	if err := b.Sender("t").SendMessage(context.Background(), msg("e1"), nil); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"a", "b"} {
		got := b.Peek(SubscriptionPath("t", sub))
		if len(got) != 1 || got[0].ID != "e1" || got[0].Subject != "s" {
			t.Fatalf("subscription %s: %+v", sub, got)
		}
	}
}

func TestInjectedSendFailuresAndUnknownEntities(t *testing.T) {
	b, _ := newTestBroker(t)
	b.FailNextSends("q", 1)
	if err := b.Sender("q").SendMessage(context.Background(), msg("m1"), nil); !errors.Is(err, ErrInjected) {
		t.Fatalf("first send: %v", err)
	}
	if err := b.Sender("q").SendMessage(context.Background(), msg("m1"), nil); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if err := b.Sender("nope").SendMessage(context.Background(), msg("m1"), nil); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("unknown entity: %v", err)
	}
	if _, err := NewBroker(BrokerOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no entities: %v", err)
	}
}
