package busemu

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
)

func TestDefaultTopologyAndDevConnectionString(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(testEpoch)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addr, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want := "Endpoint=sb://" + addr + ";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"
	if got := b.ConnectionString(); got != want {
		t.Errorf("ConnectionString() = %q, want %q", got, want)
	}
	ctx, c := testContext(t), newClient(t, want)
	for _, q := range []string{config.DefaultTriggerQueue, config.DefaultPollQueue, config.DefaultEventsTopic} {
		send(t, ctx, newSender(t, c, q), &azservicebus.Message{MessageID: ptr("same"), Body: []byte(q)})
		send(t, ctx, newSender(t, c, q), &azservicebus.Message{MessageID: ptr("same"), Body: []byte(q)}) // deduplicated
	}
	for _, path := range []string{config.DefaultTriggerQueue, config.DefaultPollQueue, config.DefaultEventsTopic + "/Subscriptions/" + config.EventsSubscription} {
		if counts, err := b.Counts(path); err != nil || counts.Active != 1 {
			t.Errorf("Counts(%s) = %+v, %v; want 1 active (duplicate detection on)", path, counts, err)
		}
	}
}

func TestUnknownEntityIsNotFound(t *testing.T) {
	b, _ := startBroker(t, Options{})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	err := newSender(t, c, "no-such-queue").SendMessage(ctx, &azservicebus.Message{Body: []byte("x")}, nil)
	var sbErr *azservicebus.Error
	if !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeNotFound {
		t.Fatalf("SendMessage to a missing queue: %v, want %s", err, azservicebus.CodeNotFound)
	}
}

func TestScheduledEnqueueTimeOnSend(t *testing.T) {
	b, fake := startBroker(t, Options{})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	at := fake.Now().Add(10 * time.Minute)
	send(t, ctx, newSender(t, c, confQueue), &azservicebus.Message{MessageID: ptr("s"), Body: []byte("x"), ScheduledEnqueueTime: &at})
	scheduled, err := b.ScheduledMessages(confQueue)
	if err != nil || len(scheduled) != 1 || !scheduled[0].ScheduledEnqueueTime.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("ScheduledMessages = %+v, %v", scheduled, err)
	}
	fake.Advance(10 * time.Minute)
	b.Tick()
	if counts, _ := b.Counts(confQueue); counts.Active != 1 || counts.Scheduled != 0 {
		t.Errorf("after the due time: %+v", counts)
	}
}

func TestExpiredMessagesDeadLetteredOrDropped(t *testing.T) {
	b, fake := startBroker(t, Options{Queues: []QueueConfig{
		{Name: "expire-dlq", Properties: QueueProperties{DeadLetteringOnMessageExpiration: true}},
		{Name: "expire-drop", Properties: QueueProperties{DefaultMessageTimeToLive: time.Minute}},
	}})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	send(t, ctx, newSender(t, c, "expire-dlq"), &azservicebus.Message{Body: []byte("x"), TimeToLive: ptr(time.Minute)})
	send(t, ctx, newSender(t, c, "expire-drop"), &azservicebus.Message{Body: []byte("y"), TimeToLive: ptr(time.Hour)}) // clamped to 1 min
	fake.Advance(time.Minute)
	b.Tick()
	if counts, _ := b.Counts("expire-drop"); counts != (Counts{}) {
		t.Errorf("expire-drop counts %+v, want empty", counts)
	}
	dead, err := b.Messages("expire-dlq/$deadletterqueue")
	if err != nil || len(dead) != 1 || dead[0].DeadLetterReason != reasonTTLExpired {
		t.Fatalf("DLQ = %+v, %v", dead, err)
	}
}

func TestLargeMessageSpansFrames(t *testing.T) {
	b, _ := startBroker(t, Options{})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	body := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16) // 200 KiB, four 64 KiB frames each way
	send(t, ctx, newSender(t, c, confQueue), &azservicebus.Message{Body: body})
	r := queueReceiver(t, c, confQueue, nil)
	got := receiveN(t, ctx, r, 1)[0]
	if !bytes.Equal(got.Body, body) {
		t.Fatalf("body of %d bytes came back as %d bytes", len(body), len(got.Body))
	}
	complete(t, ctx, r, got)
}

func TestMessageTooLarge(t *testing.T) {
	b, _ := startBroker(t, Options{MaxMessageSize: 1024})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	err := newSender(t, c, confQueue).SendMessage(ctx, &azservicebus.Message{Body: make([]byte, 4096)}, nil)
	if !errors.Is(err, azservicebus.ErrMessageTooLarge) {
		t.Fatalf("SendMessage of 4 KiB with a 1 KiB limit: %v", err)
	}
}

func TestDelayedSendTimesOut(t *testing.T) {
	b, _ := startBroker(t, Options{})
	c := newClient(t, b.ConnectionString())
	s := newSender(t, c, confQueue)
	send(t, testContext(t), s, &azservicebus.Message{Body: []byte("warm up the link")})
	remove := b.InjectFault(Fault{Op: OpSend, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.SendMessage(ctx, &azservicebus.Message{Body: []byte("slow")}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendMessage with a delayed answer: %v, want deadline exceeded", err)
	}
	remove()
}

func TestClientRecoversFromDroppedConnection(t *testing.T) {
	b, _ := startBroker(t, Options{})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	s := newSender(t, c, confQueue)
	send(t, ctx, s, &azservicebus.Message{MessageID: ptr("1"), Body: []byte("before")})
	b.DropConnections()
	send(t, ctx, s, &azservicebus.Message{MessageID: ptr("2"), Body: []byte("after")})
	b.InjectFault(Fault{Op: OpSend, DropConnection: true, Times: 1})
	send(t, ctx, s, &azservicebus.Message{MessageID: ptr("3"), Body: []byte("retried")})
	msgs, err := b.Messages(confQueue)
	if err != nil || len(msgs) != 3 || b.FaultsFired(OpSend) != 1 {
		t.Fatalf("Messages = %d, %v; want 3, after the one dropped connection (%d fired)", len(msgs), err, b.FaultsFired(OpSend))
	}
}

func TestPutTokenBusyIsRetried(t *testing.T) {
	b, _ := startBroker(t, Options{})
	b.InjectFault(Fault{Op: OpPutToken, Condition: CondServerBusy, Times: 1})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	send(t, ctx, newSender(t, c, confQueue), &azservicebus.Message{Body: []byte("x")})
	if n := b.FaultsFired(OpPutToken); n != 1 {
		t.Fatalf("%d put-token faults fired, want 1", n)
	}
}

func TestRefusedReceiverAttach(t *testing.T) {
	b, _ := startBroker(t, Options{})
	b.InjectFault(Fault{Op: OpReceive, Entity: confQueue, Condition: CondUnauthorized, Times: 1})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	_, err := queueReceiver(t, c, confQueue, nil).ReceiveMessages(ctx, 1, nil)
	var sbErr *azservicebus.Error
	if !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeUnauthorizedAccess {
		t.Fatalf("ReceiveMessages on a refused link: %v", err)
	}
}

func TestRealClockTimerDeliversScheduledMessages(t *testing.T) {
	b, _ := startBroker(t, Options{Clock: clock.Real{}})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	at := time.Now().Add(50 * time.Millisecond).Truncate(time.Millisecond) // AMQP timestamps carry milliseconds
	if _, err := newSender(t, c, confQueue).ScheduleMessages(ctx, []*azservicebus.Message{{Body: []byte("soon")}}, at, nil); err != nil {
		t.Fatal(err)
	}
	r := queueReceiver(t, c, confQueue, nil)
	got := receiveN(t, ctx, r, 1)[0] // only the broker's own timer can make it due
	if time.Now().Before(at) {
		t.Errorf("received before the scheduled time")
	}
	complete(t, ctx, r, got)
}

func TestOptionsValidate(t *testing.T) {
	for name, o := range map[string]Options{
		"key without name": {Key: "k"},
		"tiny frames":      {MaxFrameSize: 100},
		"negative idle":    {IdleTimeout: -time.Second},
		"huge messages":    {MaxMessageSize: 1 << 40},
		"bad queue name":   {Queues: []QueueConfig{{Name: "a/b"}}},
		"negative lock":    {Queues: []QueueConfig{{Name: "q", Properties: QueueProperties{LockDuration: -1}}}},
	} {
		if err := o.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate() = %v, want ErrInvalid", name, err)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	b, err := New(Options{NoDefaultEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Listen("0.0.0.0:0"); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Listen(0.0.0.0:0) = %v", err)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", Options{}, func(addr string) { ready <- addr }) }()
	addr := <-ready
	c := newClient(t, ConnectionString(addr, DevKeyName, DevKey))
	send(t, testContext(t), newSender(t, c, config.DefaultTriggerQueue), &azservicebus.Message{Body: []byte("x")})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestSASLPlain(t *testing.T) {
	b, _ := startBroker(t, Options{})
	for _, tc := range []struct {
		user, pass string
		want       uint8
	}{{DevKeyName, DevKey, saslOK}, {DevKeyName, "wrong", saslAuth}} {
		if got := saslPlainOutcome(t, b.Addr(), tc.user, tc.pass); got != tc.want {
			t.Errorf("PLAIN %s/%s: outcome %d, want %d", tc.user, strings.Repeat("*", len(tc.pass)), got, tc.want)
		}
	}
}

// TestRetentionSubscriptionFollowsEventTypePrefix: a handler configured
// with another SNAPCOPY_EVENT_TYPE_PREFIX gets a retention subscription
// that admits its own Completed events.
func TestRetentionSubscriptionFollowsEventTypePrefix(t *testing.T) {
	b, _ := startBroker(t, Options{EventTypePrefix: "Contoso.Copy"})
	ctx, c := testContext(t), newClient(t, b.ConnectionString())
	s := newSender(t, c, config.DefaultEventsTopic)
	for _, subject := range []string{config.DefaultEventTypePrefix + ".Completed", "Contoso.Copy.Failed", "Contoso.Copy.Completed"} {
		send(t, ctx, s, &azservicebus.Message{MessageID: ptr(subject), Subject: ptr(subject)})
	}
	msgs, err := b.Messages(config.DefaultEventsTopic + "/Subscriptions/" + config.DefaultRetentionSubscription)
	if err != nil || len(msgs) != 1 || msgs[0].Subject != "Contoso.Copy.Completed" {
		t.Fatalf("retention subscription holds %+v, %v; want only Contoso.Copy.Completed", msgs, err)
	}
}
