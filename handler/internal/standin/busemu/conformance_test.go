package busemu

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// conformanceTarget is a namespace the scenarios run against: the stand-in
// or a real Service Bus namespace.
type conformanceTarget struct {
	connStr string
	// queue requires duplicate detection; its MaxDeliveryCount is maxDelivery.
	queue       string
	maxDelivery int
	// topic has subscriptions subAll (no filter) and subKeep (Subject == "keep").
	topic, subAll, subKeep string
	// retentionTopic's subscription retentionSub admits only
	// "<config.DefaultEventTypePrefix>.Completed"; "" skips that scenario.
	retentionTopic, retentionSub string
	// advance moves the target's clock and applies what fell due; nil means
	// real time (scenarios then wait with bounded contexts).
	advance func(d time.Duration)
	// now is the target's current time (the fake clock for the stand-in).
	now func() time.Time
	// ids makes message ids unique per run, so a live namespace's duplicate
	// detection does not remember earlier runs.
	ids string
	// wrongKeyConnStr is connStr signed with a wrong key; "" skips that scenario.
	wrongKeyConnStr string
	// broker is the stand-in (fault scenarios need it); nil on a live namespace.
	broker *Broker
}

// scenario is one behaviour every target must show.
type scenario struct {
	name string
	run  func(t *testing.T, tg conformanceTarget)
	// needs skip the scenario on targets that lack one of them.
	needs []need
}

// need is something a target may lack.
type need struct {
	has func(tg conformanceTarget) bool
	// lacking says why the scenario is skipped.
	lacking string
}

var (
	needClock           = need{func(tg conformanceTarget) bool { return tg.advance != nil }, "needs a controllable clock"}
	needBroker          = need{func(tg conformanceTarget) bool { return tg.broker != nil }, "needs the stand-in's fault injection"}
	needFilteredSub     = need{func(tg conformanceTarget) bool { return tg.subKeep != "" }, "no filtered subscription configured"}
	needRetentionSub    = need{func(tg conformanceTarget) bool { return tg.retentionSub != "" }, "no retention subscription configured"}
	needWrongKeyConnStr = need{func(tg conformanceTarget) bool { return tg.wrongKeyConnStr != "" }, "no wrong-key connection string"}
)

var scenarios = []scenario{
	{name: "SendReceiveComplete", run: scenarioSendReceiveComplete},
	{name: "PropertiesRoundTrip", run: scenarioPropertiesRoundTrip},
	{name: "BatchSend", run: scenarioBatchSend},
	{name: "ScheduleMessages", run: scenarioSchedule},
	{name: "CancelScheduledMessages", run: scenarioCancelScheduled},
	{name: "AbandonRedelivers", run: scenarioAbandon},
	{name: "DeadLetter", run: scenarioDeadLetter},
	{name: "MaxDeliveryCount", run: scenarioMaxDelivery},
	{name: "DuplicateDetection", run: scenarioDuplicate},
	{name: "TopicFanOut", run: scenarioFanOut},
	{name: "SubjectFilter", run: scenarioSubjectFilter, needs: []need{needFilteredSub}},
	{name: "CompletedOnlySubscription", run: scenarioCompletedOnly, needs: []need{needRetentionSub}},
	{name: "ReceiveAndDelete", run: scenarioReceiveAndDelete},
	{name: "Peek", run: scenarioPeek},
	{name: "RenewLock", run: scenarioRenewLock, needs: []need{needClock}},
	{name: "LockExpiry", run: scenarioLockExpiry, needs: []need{needClock}},
	{name: "WrongKey", run: scenarioWrongKey, needs: []need{needWrongKeyConnStr}},
	{name: "ServerBusyRetried", run: scenarioServerBusy, needs: []need{needBroker}},
}

// runConformance runs every scenario against targets made by newTarget
// (one fresh target per scenario, so they cannot disturb each other).
func runConformance(t *testing.T, newTarget func(t *testing.T) conformanceTarget) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			tg := newTarget(t)
			for _, n := range sc.needs {
				if !n.has(tg) {
					t.Skip(n.lacking)
				}
			}
			sc.run(t, tg)
		})
	}
}

// fastRetries keeps the SDK's retries quick so fault scenarios stay fast.
var fastRetries = azservicebus.RetryOptions{MaxRetries: 5, RetryDelay: 5 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond}

func newClient(t *testing.T, connStr string) *azservicebus.Client {
	t.Helper()
	c, err := azservicebus.NewClientFromConnectionString(connStr, &azservicebus.ClientOptions{RetryOptions: fastRetries})
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sendAndReceive sends one message to the target's queue and receives it
// with a peek-lock receiver.
func sendAndReceive(t *testing.T, tg conformanceTarget, id, body string) (context.Context, *azservicebus.Receiver, *azservicebus.ReceivedMessage) {
	t.Helper()
	ctx, c := testContext(t), newClient(t, tg.connStr)
	send(t, ctx, newSender(t, c, tg.queue), tg.msg(id, body))
	r := queueReceiver(t, c, tg.queue, nil)
	return ctx, r, receiveN(t, ctx, r, 1)[0]
}

func newSender(t *testing.T, c *azservicebus.Client, entity string) *azservicebus.Sender {
	t.Helper()
	s, err := c.NewSender(entity, nil)
	if err != nil {
		t.Fatalf("NewSender(%s): %v", entity, err)
	}
	return s
}

func queueReceiver(t *testing.T, c *azservicebus.Client, queue string, opts *azservicebus.ReceiverOptions) *azservicebus.Receiver {
	t.Helper()
	r, err := c.NewReceiverForQueue(queue, opts)
	if err != nil {
		t.Fatalf("NewReceiverForQueue(%s): %v", queue, err)
	}
	return r
}

func send(t *testing.T, ctx context.Context, s *azservicebus.Sender, msgs ...*azservicebus.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := s.SendMessage(ctx, m, nil); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}
}

// receiveN receives exactly n messages or fails.
func receiveN(t *testing.T, ctx context.Context, r *azservicebus.Receiver, n int) []*azservicebus.ReceivedMessage {
	t.Helper()
	var got []*azservicebus.ReceivedMessage
	for len(got) < n {
		msgs, err := r.ReceiveMessages(ctx, n-len(got), nil)
		if err != nil {
			t.Fatalf("ReceiveMessages: got %d of %d: %v", len(got), n, err)
		}
		got = append(got, msgs...)
	}
	return got
}

// noMessageWithin asserts that nothing arrives within a short bound: the
// broker has already decided, so the wait only bounds a negative check.
func noMessageWithin(t *testing.T, r *azservicebus.Receiver, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	msgs, err := r.ReceiveMessages(ctx, 1, nil)
	if len(msgs) > 0 {
		t.Fatalf("unexpected message %q (id %s)", msgs[0].Body, msgs[0].MessageID)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReceiveMessages: %v", err)
	}
}

func complete(t *testing.T, ctx context.Context, r *azservicebus.Receiver, msgs ...*azservicebus.ReceivedMessage) {
	t.Helper()
	for _, m := range msgs {
		if err := r.CompleteMessage(ctx, m, nil); err != nil {
			t.Fatalf("CompleteMessage(%s): %v", m.MessageID, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func (tg conformanceTarget) msg(id, body string) *azservicebus.Message {
	return &azservicebus.Message{MessageID: ptr(tg.ids + id), Body: []byte(body)}
}
