package busemu

import (
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/config"
)

func scenarioSendReceiveComplete(t *testing.T, tg conformanceTarget) {
	ctx, r, got := sendAndReceive(t, tg, "a", "hello")
	if string(got.Body) != "hello" || got.MessageID != tg.ids+"a" {
		t.Fatalf("got body %q id %q", got.Body, got.MessageID)
	}
	complete(t, ctx, r, got)
	noMessageWithin(t, r, 300*time.Millisecond)
}

func scenarioPropertiesRoundTrip(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	sent := &azservicebus.Message{
		MessageID:     ptr(tg.ids + "props"),
		Subject:       ptr("snapcopy.IncrementalCopy.Completed"),
		ContentType:   ptr("application/cloudevents+json"),
		CorrelationID: ptr("job-123"),
		TimeToLive:    ptr(time.Hour),
		ApplicationProperties: map[string]any{
			"text": "x", "count": int64(42), "flag": true, "ratio": 1.5,
		},
		Body: []byte(`{"specversion":"1.0"}`),
	}
	send(t, ctx, newSender(t, c, tg.queue), sent)
	r := queueReceiver(t, c, tg.queue, nil)
	got := receiveN(t, ctx, r, 1)[0]
	defer complete(t, ctx, r, got)
	if got.MessageID != *sent.MessageID || deref(got.Subject) != *sent.Subject || deref(got.ContentType) != *sent.ContentType ||
		deref(got.CorrelationID) != *sent.CorrelationID || string(got.Body) != string(sent.Body) {
		t.Errorf("properties differ: id %q subject %q content-type %q correlation %q body %q",
			got.MessageID, deref(got.Subject), deref(got.ContentType), deref(got.CorrelationID), got.Body)
	}
	for k, want := range sent.ApplicationProperties {
		if got.ApplicationProperties[k] != want {
			t.Errorf("application property %s = %#v, want %#v", k, got.ApplicationProperties[k], want)
		}
	}
	if got.TimeToLive == nil || *got.TimeToLive != time.Hour {
		t.Errorf("TimeToLive = %v, want 1h", got.TimeToLive)
	}
	if got.SequenceNumber == nil || got.EnqueuedTime == nil || got.LockedUntil == nil || got.DeliveryCount != 1 {
		t.Errorf("system properties: seq %v enqueued %v locked-until %v delivery count %d",
			got.SequenceNumber, got.EnqueuedTime, got.LockedUntil, got.DeliveryCount)
	}
}

func scenarioBatchSend(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	s := newSender(t, c, tg.queue)
	batch, err := s.NewMessageBatch(ctx, nil)
	if err != nil {
		t.Fatalf("NewMessageBatch: %v", err)
	}
	for _, id := range []string{"b1", "b2", "b3"} {
		if err := batch.AddMessage(tg.msg(id, "body-"+id), nil); err != nil {
			t.Fatalf("AddMessage: %v", err)
		}
	}
	if err := s.SendMessageBatch(ctx, batch, nil); err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	r := queueReceiver(t, c, tg.queue, nil)
	got := receiveN(t, ctx, r, 3)
	for i, id := range []string{"b1", "b2", "b3"} {
		if got[i].MessageID != tg.ids+id || string(got[i].Body) != "body-"+id {
			t.Errorf("message %d: id %q body %q", i, got[i].MessageID, got[i].Body)
		}
	}
	complete(t, ctx, r, got...)
}

// scheduleDelay is how far ahead scenarios schedule: an hour of fake time,
// or a few real seconds on a live namespace.
func (tg conformanceTarget) scheduleDelay() time.Duration {
	if tg.advance != nil {
		return time.Hour
	}
	return 3 * time.Second
}

// passTime lets d pass: advances the fake clock, or waits on a live target.
func (tg conformanceTarget) passTime(t *testing.T, r *azservicebus.Receiver, d time.Duration) {
	if tg.advance != nil {
		tg.advance(d)
		return
	}
	noMessageWithin(t, r, d)
}

func scenarioSchedule(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	at := tg.now().Add(tg.scheduleDelay()).Truncate(time.Millisecond)
	seqs, err := newSender(t, c, tg.queue).ScheduleMessages(ctx, []*azservicebus.Message{tg.msg("sched", "later")}, at, nil)
	if err != nil || len(seqs) != 1 {
		t.Fatalf("ScheduleMessages = %v, %v", seqs, err)
	}
	r := queueReceiver(t, c, tg.queue, nil)
	noMessageWithin(t, r, 300*time.Millisecond)
	if tg.advance != nil {
		tg.advance(tg.scheduleDelay() + time.Second)
	}
	got := receiveN(t, ctx, r, 1)[0]
	if string(got.Body) != "later" || got.ScheduledEnqueueTime == nil || !got.ScheduledEnqueueTime.Equal(at) {
		t.Errorf("got body %q scheduled %v, want %v", got.Body, got.ScheduledEnqueueTime, at)
	}
	if got.EnqueuedTime == nil || got.EnqueuedTime.Before(at) {
		t.Errorf("enqueued %v before the scheduled time %v", got.EnqueuedTime, at)
	}
	complete(t, ctx, r, got)
}

func scenarioCancelScheduled(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	s := newSender(t, c, tg.queue)
	seqs, err := s.ScheduleMessages(ctx, []*azservicebus.Message{tg.msg("cancel", "never")}, tg.now().Add(tg.scheduleDelay()), nil)
	if err != nil {
		t.Fatalf("ScheduleMessages: %v", err)
	}
	if err := s.CancelScheduledMessages(ctx, seqs, nil); err != nil {
		t.Fatalf("CancelScheduledMessages: %v", err)
	}
	r := queueReceiver(t, c, tg.queue, nil)
	tg.passTime(t, r, tg.scheduleDelay()+time.Second)
	noMessageWithin(t, r, 300*time.Millisecond)
}

func scenarioAbandon(t *testing.T, tg conformanceTarget) {
	ctx, r, first := sendAndReceive(t, tg, "abandon", "again")
	if err := r.AbandonMessage(ctx, first, nil); err != nil {
		t.Fatalf("AbandonMessage: %v", err)
	}
	second := receiveN(t, ctx, r, 1)[0]
	if second.MessageID != first.MessageID || second.DeliveryCount != first.DeliveryCount+1 {
		t.Errorf("redelivered %q with delivery count %d after %d", second.MessageID, second.DeliveryCount, first.DeliveryCount)
	}
	complete(t, ctx, r, second)
}

func scenarioDeadLetter(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	send(t, ctx, newSender(t, c, tg.queue), tg.msg("dlq", "poison"))
	r := queueReceiver(t, c, tg.queue, nil)
	got := receiveN(t, ctx, r, 1)[0]
	if err := r.DeadLetterMessage(ctx, got, &azservicebus.DeadLetterOptions{Reason: ptr("BadInput"), ErrorDescription: ptr("cannot parse")}); err != nil {
		t.Fatalf("DeadLetterMessage: %v", err)
	}
	dlq := queueReceiver(t, c, tg.queue, &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
	dead := receiveN(t, ctx, dlq, 1)[0]
	if dead.MessageID != got.MessageID || deref(dead.DeadLetterReason) != "BadInput" || deref(dead.DeadLetterErrorDescription) != "cannot parse" {
		t.Errorf("DLQ message %q reason %q description %q", dead.MessageID, deref(dead.DeadLetterReason), deref(dead.DeadLetterErrorDescription))
	}
	complete(t, ctx, dlq, dead)
	noMessageWithin(t, r, 300*time.Millisecond)
}

func scenarioMaxDelivery(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	send(t, ctx, newSender(t, c, tg.queue), tg.msg("max", "always fails"))
	r := queueReceiver(t, c, tg.queue, nil)
	for i := 1; i <= tg.maxDelivery; i++ {
		got := receiveN(t, ctx, r, 1)[0]
		if int(got.DeliveryCount) != i {
			t.Fatalf("delivery %d has DeliveryCount %d", i, got.DeliveryCount)
		}
		if err := r.AbandonMessage(ctx, got, nil); err != nil {
			t.Fatalf("AbandonMessage: %v", err)
		}
	}
	noMessageWithin(t, r, 300*time.Millisecond)
	dlq := queueReceiver(t, c, tg.queue, &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
	dead := receiveN(t, ctx, dlq, 1)[0]
	if deref(dead.DeadLetterReason) != "MaxDeliveryCountExceeded" {
		t.Errorf("DeadLetterReason = %q", deref(dead.DeadLetterReason))
	}
	complete(t, ctx, dlq, dead)
}

func scenarioDuplicate(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	s := newSender(t, c, tg.queue)
	send(t, ctx, s, tg.msg("dup", "first"), tg.msg("dup", "second"))
	r := queueReceiver(t, c, tg.queue, nil)
	got := receiveN(t, ctx, r, 1)[0]
	if string(got.Body) != "first" {
		t.Errorf("body %q, want the first send", got.Body)
	}
	complete(t, ctx, r, got)
	noMessageWithin(t, r, 300*time.Millisecond)
}

func subReceiver(t *testing.T, c *azservicebus.Client, topic, sub string) *azservicebus.Receiver {
	t.Helper()
	r, err := c.NewReceiverForSubscription(topic, sub, nil)
	if err != nil {
		t.Fatalf("NewReceiverForSubscription(%s, %s): %v", topic, sub, err)
	}
	return r
}

func scenarioFanOut(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	m := tg.msg("fan", "to everyone")
	m.Subject = ptr("keep")
	send(t, ctx, newSender(t, c, tg.topic), m)
	for _, sub := range []string{tg.subAll, tg.subKeep} {
		if sub == "" {
			continue
		}
		r := subReceiver(t, c, tg.topic, sub)
		got := receiveN(t, ctx, r, 1)[0]
		if got.MessageID != *m.MessageID {
			t.Errorf("%s got %q", sub, got.MessageID)
		}
		complete(t, ctx, r, got)
	}
}

func scenarioSubjectFilter(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	other, keep := tg.msg("other", "filtered out"), tg.msg("keep", "kept")
	other.Subject, keep.Subject = ptr("other"), ptr("keep")
	send(t, ctx, newSender(t, c, tg.topic), other, keep)
	rk := subReceiver(t, c, tg.topic, tg.subKeep)
	got := receiveN(t, ctx, rk, 1)[0]
	if got.MessageID != *keep.MessageID {
		t.Errorf("filtered subscription got %q", got.MessageID)
	}
	complete(t, ctx, rk, got)
	noMessageWithin(t, rk, 300*time.Millisecond)
	ra := subReceiver(t, c, tg.topic, tg.subAll)
	complete(t, ctx, ra, receiveN(t, ctx, ra, 2)...)
}

// scenarioCompletedOnly publishes one event of every outcome type, as the
// handler does (type in Subject): the retention subscription gets only the
// Completed one.
func scenarioCompletedOnly(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	s := newSender(t, c, tg.retentionTopic)
	for _, outcome := range []string{"Failed", "Completed", "Superseded", "Rejected", "Pruned"} {
		m := tg.msg("event-"+outcome, outcome)
		m.Subject = ptr(config.DefaultEventTypePrefix + "." + outcome)
		send(t, ctx, s, m)
	}
	other := tg.msg("event-other", "another producer's Completed")
	other.Subject = ptr("Contoso.Backup.Completed")
	send(t, ctx, s, other)
	r := subReceiver(t, c, tg.retentionTopic, tg.retentionSub)
	got := receiveN(t, ctx, r, 1)[0]
	if string(got.Body) != "Completed" || deref(got.Subject) != config.DefaultEventTypePrefix+".Completed" {
		t.Errorf("retention subscription got %q (subject %q)", got.Body, deref(got.Subject))
	}
	complete(t, ctx, r, got)
	noMessageWithin(t, r, 300*time.Millisecond)
}

func scenarioReceiveAndDelete(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	send(t, ctx, newSender(t, c, tg.queue), tg.msg("rd1", "one"), tg.msg("rd2", "two"))
	r := queueReceiver(t, c, tg.queue, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	got := receiveN(t, ctx, r, 2)
	if string(got[0].Body) != "one" || string(got[1].Body) != "two" {
		t.Errorf("bodies %q, %q", got[0].Body, got[1].Body)
	}
	noMessageWithin(t, queueReceiver(t, c, tg.queue, nil), 300*time.Millisecond)
}

func scenarioPeek(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	send(t, ctx, newSender(t, c, tg.queue), tg.msg("p1", "one"), tg.msg("p2", "two"), tg.msg("p3", "three"))
	r := queueReceiver(t, c, tg.queue, nil)
	peeked, err := r.PeekMessages(ctx, 10, nil)
	if err != nil || len(peeked) != 3 {
		t.Fatalf("PeekMessages = %d messages, %v", len(peeked), err)
	}
	for i := 1; i < len(peeked); i++ {
		if *peeked[i].SequenceNumber <= *peeked[i-1].SequenceNumber {
			t.Errorf("peeked sequence numbers not ascending")
		}
	}
	complete(t, ctx, r, receiveN(t, ctx, r, 3)...) // peek took no locks
}

func scenarioRenewLock(t *testing.T, tg conformanceTarget) {
	ctx, r, got := sendAndReceive(t, tg, "renew", "slow work")
	before := *got.LockedUntil
	tg.advance(40 * time.Second)
	if err := r.RenewMessageLock(ctx, got, nil); err != nil {
		t.Fatalf("RenewMessageLock: %v", err)
	}
	if !got.LockedUntil.After(before) {
		t.Errorf("LockedUntil %v not after %v", got.LockedUntil, before)
	}
	tg.advance(40 * time.Second) // past the original lock, within the renewed one
	complete(t, ctx, r, got)
}

func scenarioLockExpiry(t *testing.T, tg conformanceTarget) {
	ctx, r, first := sendAndReceive(t, tg, "expire", "stuck")
	tg.advance(DefaultLockDuration + time.Second)
	second := receiveN(t, ctx, r, 1)[0]
	if second.MessageID != first.MessageID || second.DeliveryCount != 2 {
		t.Errorf("redelivered %q with DeliveryCount %d", second.MessageID, second.DeliveryCount)
	}
	var sbErr *azservicebus.Error
	if err := r.CompleteMessage(ctx, first, nil); !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeLockLost {
		t.Errorf("completing with the expired lock: %v, want %s", err, azservicebus.CodeLockLost)
	}
	complete(t, ctx, r, second)
}

func scenarioWrongKey(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.wrongKeyConnStr)
	err := newSender(t, c, tg.queue).SendMessage(ctx, tg.msg("denied", "x"), nil)
	var sbErr *azservicebus.Error
	if !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeUnauthorizedAccess {
		t.Fatalf("SendMessage with a wrong key: %v, want %s", err, azservicebus.CodeUnauthorizedAccess)
	}
}

func scenarioServerBusy(t *testing.T, tg conformanceTarget) {
	ctx, c := testContext(t), newClient(t, tg.connStr)
	tg.broker.InjectFault(Fault{Op: OpSend, Entity: tg.queue, Condition: CondServerBusy, Times: 2})
	tg.broker.InjectFault(Fault{Op: OpSchedule, Entity: tg.queue, Condition: CondServerBusy, Times: 2})
	s := newSender(t, c, tg.queue)
	send(t, ctx, s, tg.msg("busy", "eventually"))
	if _, err := s.ScheduleMessages(ctx, []*azservicebus.Message{tg.msg("busy-sched", "later")}, tg.now(), nil); err != nil {
		t.Fatalf("ScheduleMessages after busy answers: %v", err)
	}
	if n := tg.broker.FaultsFired(OpSend) + tg.broker.FaultsFired(OpSchedule); n != 4 {
		t.Fatalf("%d server-busy answers given, want 4: the retries were not exercised", n)
	}
	r := queueReceiver(t, c, tg.queue, nil)
	complete(t, ctx, r, receiveN(t, ctx, r, 2)...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
