package hostsim

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func newTestBroker(t *testing.T, cfg BrokerConfig) (*Broker, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	cfg.Clock = clk
	b, err := NewBroker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, clk
}

func mustSource(t *testing.T, b *Broker, path string) *BrokerSource {
	t.Helper()
	s, err := b.Source(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustInspect(t *testing.T, b *Broker, path string) EntityState {
	t.Helper()
	s, err := b.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ids(ms []ReceivedMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.MessageID
	}
	return out
}

func TestScheduledDeliveryHonoursClock(t *testing.T) {
	b, clk := newTestBroker(t, BrokerConfig{})
	src := mustSource(t, b, "copy-poll")
	seq, err := b.Schedule("copy-poll", Message{MessageID: "late"}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send("copy-poll", Message{MessageID: "early", ScheduledEnqueueTime: t0.Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := src.tryReceive(); ok {
		t.Fatal("scheduled message visible before it is due")
	}
	if got := ids(mustInspect(t, b, "copy-poll").Scheduled); fmt.Sprint(got) != "[early late]" {
		t.Fatalf("scheduled = %v, want due order [early late]", got)
	}
	if due, _ := src.nextDue(); !due.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("nextDue = %v", due)
	}
	clk.Advance(time.Minute - time.Nanosecond)
	d, ok := src.tryReceive()
	if !ok || d.Message.MessageID != "early" {
		t.Fatalf("got %+v, want early", d)
	}
	if !d.Message.EnqueuedTime.Equal(t0.Add(30*time.Second)) || d.Message.SequenceNumber <= seq {
		t.Fatalf("activated message: enqueued %v seq %d (scheduling seq %d); want its due time and a new number",
			d.Message.EnqueuedTime, d.Message.SequenceNumber, seq)
	}
	if _, ok := src.tryReceive(); ok {
		t.Fatal("late message visible early")
	}
	clk.Advance(time.Nanosecond)
	if d, ok := src.tryReceive(); !ok || d.Message.MessageID != "late" {
		t.Fatal("late message not visible when due")
	}
}

func TestAbandonRedeliversThenDeadLetters(t *testing.T) {
	var dead []string
	b, _ := newTestBroker(t, BrokerConfig{
		Queues:         []QueueConfig{{Name: "q", ReceiveSettings: ReceiveSettings{MaxDeliveryCount: 3}}},
		OnDeadLettered: func(entity string, m ReceivedMessage) { dead = append(dead, entity+":"+m.MessageID) },
	})
	src := mustSource(t, b, "q")
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := b.Send("q", Message{MessageID: id}); err != nil {
			t.Fatal(err)
		}
	}
	for want := 1; want <= 3; want++ {
		d, ok := src.tryReceive()
		if !ok || d.Message.MessageID != "a" || d.Message.DeliveryCount != want {
			t.Fatalf("delivery %d: got %+v, want a at its place with DeliveryCount %d", want, d, want)
		}
		if err := src.Abandon(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	st := mustInspect(t, b, "q")
	if len(st.DeadLettered) != 1 || st.DeadLettered[0].DeadLetterReason != ReasonMaxDeliveryCountExceeded || st.DeadLettered[0].DeliveryCount != 3 {
		t.Fatalf("DLQ = %+v", st.DeadLettered)
	}
	if fmt.Sprint(ids(st.Active)) != "[b]" || st.Counters.Deliveries != 3 || st.Counters.Abandoned != 3 || st.Counters.DeadLettered != 1 {
		t.Fatalf("active %v counters %+v", ids(st.Active), st.Counters)
	}
	if fmt.Sprint(dead) != "[q:a]" {
		t.Fatalf("OnDeadLettered saw %v", dead)
	}
	if err := src.Abandon(ctx, &Delivery{Message: ReceivedMessage{LockToken: "nope"}}); !errors.Is(err, ErrLockLost) {
		t.Fatalf("abandon with unknown token: %v", err)
	}
}

func TestLockExpiryRedelivers(t *testing.T) {
	b, clk := newTestBroker(t, BrokerConfig{Queues: []QueueConfig{{Name: "q", ReceiveSettings: ReceiveSettings{LockDuration: 30 * time.Second}}}})
	src := mustSource(t, b, "q")
	if err := b.Send("q", Message{MessageID: "m"}); err != nil {
		t.Fatal(err)
	}
	d, _ := src.tryReceive()
	if !d.Message.LockedUntil.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("LockedUntil = %v", d.Message.LockedUntil)
	}
	if due, _ := src.nextDue(); !due.Equal(d.Message.LockedUntil) {
		t.Fatalf("nextDue = %v, want the lock expiry", due)
	}
	clk.Advance(30 * time.Second)
	if err := src.Complete(context.Background(), d); !errors.Is(err, ErrLockLost) {
		t.Fatalf("complete after lock expiry: %v, want ErrLockLost", err)
	}
	d2, ok := src.tryReceive()
	if !ok || d2.Message.DeliveryCount != 2 || d2.Message.LockToken == d.Message.LockToken {
		t.Fatalf("redelivery: %+v", d2)
	}
	if err := src.Complete(context.Background(), d2); err != nil {
		t.Fatal(err)
	}
	if c := mustInspect(t, b, "q").Counters; c.LockExpired != 1 || c.Completed != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestDuplicateDetectionWindow(t *testing.T) {
	b, clk := newTestBroker(t, BrokerConfig{})
	send := func(id string) {
		t.Helper()
		if err := b.Send("copy-poll", Message{MessageID: id}); err != nil {
			t.Fatal(err)
		}
	}
	send("j/poll/1")
	if _, err := b.Schedule("copy-poll", Message{MessageID: "j/poll/1"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err) // scheduled and plain sends dedupe each other
	}
	clk.Advance(DefaultDuplicateDetectionWindow - time.Second)
	send("j/poll/1")
	send("j/poll/2")
	st := mustInspect(t, b, "copy-poll")
	if fmt.Sprint(ids(st.Active)) != "[j/poll/1 j/poll/2]" || len(st.Scheduled) != 0 || st.Counters.Duplicates != 2 || st.Counters.Sent != 2 {
		t.Fatalf("within window: active %v scheduled %d counters %+v", ids(st.Active), len(st.Scheduled), st.Counters)
	}
	clk.Advance(time.Second)
	send("j/poll/1")
	if got := ids(mustInspect(t, b, "copy-poll").Active); fmt.Sprint(got) != "[j/poll/1 j/poll/2 j/poll/1]" {
		t.Fatalf("after window: %v", got)
	}

	off, _ := newTestBroker(t, BrokerConfig{Queues: []QueueConfig{{Name: "q", SendSettings: SendSettings{NoDuplicateDetection: true}}}})
	for range 2 {
		if err := off.Send("q", Message{MessageID: "same"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mustInspect(t, off, "q").Active); n != 2 {
		t.Fatalf("without duplicate detection: %d messages", n)
	}
}

func TestTopicFanOutAndHistory(t *testing.T) {
	b, clk := newTestBroker(t, BrokerConfig{Topics: []TopicConfig{{Name: "events", Subscriptions: []SubscriptionConfig{{Name: "a"}, {Name: "b"}}}}})
	if err := b.Send("events", Message{MessageID: "e1", Subject: "Completed"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send("events", Message{MessageID: "e1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Schedule("events", Message{MessageID: "e2"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"a", "b"} {
		if got := ids(mustInspect(t, b, SubscriptionPath("events", sub)).Active); fmt.Sprint(got) != "[e1]" {
			t.Fatalf("%s: %v", sub, got)
		}
	}
	clk.Advance(time.Minute)
	a := mustInspect(t, b, SubscriptionPath("events", "a")).Active
	bb := mustInspect(t, b, SubscriptionPath("events", "b")).Active
	if fmt.Sprint(ids(a)) != "[e1 e2]" || a[1].SequenceNumber != bb[1].SequenceNumber {
		t.Fatalf("after activation: a %v b %v; copies share the topic's sequence number", ids(a), ids(bb))
	}
	h, err := b.TopicHistory("events")
	if err != nil || fmt.Sprint(ids(h)) != "[e1 e2]" || h[0].Subject != "Completed" {
		t.Fatalf("history %v %v", ids(h), err)
	}
	if c := mustInspect(t, b, "events").Counters; c.Sent != 2 || c.Duplicates != 1 {
		t.Fatalf("topic counters %+v", c)
	}
	if _, err := b.Source("events"); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("receiving from a topic: %v", err)
	}
}

func TestTimeToLive(t *testing.T) {
	b, clk := newTestBroker(t, BrokerConfig{Queues: []QueueConfig{
		{Name: "drop", SendSettings: SendSettings{DefaultTimeToLive: time.Hour}},
		{Name: "dlq", ReceiveSettings: ReceiveSettings{DeadLetterOnExpiration: true}},
	}})
	if err := b.Send("drop", Message{MessageID: "capped", TimeToLive: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send("dlq", Message{MessageID: "short", TimeToLive: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if exp := mustInspect(t, b, "drop").Active[0].ExpiresAt; !exp.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ExpiresAt = %v, want capped at the entity default", exp)
	}
	clk.Advance(time.Hour)
	drop, dlq := mustInspect(t, b, "drop"), mustInspect(t, b, "dlq")
	if len(drop.Active) != 0 || len(drop.DeadLettered) != 0 || drop.Counters.Expired != 1 {
		t.Fatalf("drop: %+v", drop)
	}
	if len(dlq.DeadLettered) != 1 || dlq.DeadLettered[0].DeadLetterReason != ReasonTTLExpired {
		t.Fatalf("dlq: %+v", dlq)
	}
}

func TestFailNext(t *testing.T) {
	b, _ := newTestBroker(t, BrokerConfig{})
	b.FailNext(OpSend, "copy-poll", 2, nil)
	for i := range 2 {
		if err := b.Send("copy-poll", Message{MessageID: fmt.Sprint(i)}); !errors.Is(err, ErrInjected) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := b.Send("snapshot-created", Message{MessageID: "x"}); err != nil {
		t.Fatalf("other entity: %v", err)
	}
	if err := b.Send("copy-poll", Message{MessageID: "2"}); err != nil {
		t.Fatalf("third send: %v", err)
	}
	boom := errors.New("boom")
	b.FailNext(OpSchedule, "", 1, boom)
	if err := b.Send("copy-poll", Message{MessageID: "3", ScheduledEnqueueTime: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("send is not a schedule: %v", err)
	}
	if _, err := b.Schedule("copy-poll", Message{MessageID: "4"}, t0.Add(time.Hour)); !errors.Is(err, boom) {
		t.Fatalf("schedule: %v", err)
	}
	if st := mustInspect(t, b, "copy-poll"); len(st.Active) != 1 || len(st.Scheduled) != 1 {
		t.Fatalf("failed sends stored something: %+v", st)
	}
}

func TestBrokerConfigValidate(t *testing.T) {
	for name, cfg := range map[string]BrokerConfig{
		"duplicate name":  {Queues: []QueueConfig{{Name: "a"}}, Topics: []TopicConfig{{Name: "a"}}},
		"slash":           {Queues: []QueueConfig{{Name: "a/b"}}},
		"lock too long":   {Queues: []QueueConfig{{Name: "a", ReceiveSettings: ReceiveSettings{LockDuration: 6 * time.Minute}}}},
		"window too tiny": {Queues: []QueueConfig{{Name: "a", SendSettings: SendSettings{DuplicateDetectionWindow: time.Second}}}},
		"subscription":    {Topics: []TopicConfig{{Name: "t", Subscriptions: []SubscriptionConfig{{Name: "s"}, {Name: "s"}}}}},
		"max delivery":    {Queues: []QueueConfig{{Name: "a", ReceiveSettings: ReceiveSettings{MaxDeliveryCount: -1}}}},
	} {
		if _, err := NewBroker(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
