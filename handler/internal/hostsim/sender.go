package hostsim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// Sender sends to one queue or topic of a Broker with the method set of
// *azservicebus.Sender that snapcopy uses, so the handler's bus adapter
// runs unchanged against the in-memory broker.
type Sender struct {
	b      *Broker
	entity string
}

// Sender returns a sender for a queue or topic. Like azservicebus, an
// unknown entity is reported by the first send (CodeNotFound), not here.
func (b *Broker) Sender(entity string) *Sender { return &Sender{b: b, entity: entity} }

// SendMessage sends m; a ScheduledEnqueueTime schedules it. A duplicate
// MessageID within the window succeeds and is dropped.
func (s *Sender) SendMessage(ctx context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m == nil {
		return errors.New("hostsim: nil message")
	}
	msg := fromSDK(m)
	return s.sdkError(s.b.Send(s.entity, msg))
}

// ScheduleMessages schedules every message for scheduledEnqueueTime (which
// overrides the messages' own) and returns their sequence numbers. As in
// the SDK, a message without MessageID gets a random one, which defeats
// duplicate detection.
func (s *Sender) ScheduleMessages(ctx context.Context, messages []*azservicebus.Message, scheduledEnqueueTime time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seqs := make([]int64, 0, len(messages))
	for _, m := range messages {
		if m == nil {
			return nil, errors.New("hostsim: nil message")
		}
		msg := fromSDK(m)
		if msg.MessageID == "" {
			s.b.mu.Lock()
			msg.MessageID = s.b.newGUID()
			s.b.mu.Unlock()
		}
		seq, err := s.b.Schedule(s.entity, msg, scheduledEnqueueTime.UTC())
		if err != nil {
			return nil, s.sdkError(err)
		}
		seqs = append(seqs, seq)
	}
	return seqs, nil
}

// sdkError reports a missing entity the way the SDK does.
func (s *Sender) sdkError(err error) error {
	if errors.Is(err, ErrNoEntity) {
		return errors.Join(err, &azservicebus.Error{Code: azservicebus.CodeNotFound})
	}
	return err
}

func fromSDK(m *azservicebus.Message) Message {
	msg := Message{
		MessageID:             deref(m.MessageID),
		Subject:               deref(m.Subject),
		ContentType:           deref(m.ContentType),
		CorrelationID:         deref(m.CorrelationID),
		ReplyTo:               deref(m.ReplyTo),
		To:                    deref(m.To),
		ApplicationProperties: m.ApplicationProperties,
		Body:                  m.Body,
	}
	if m.TimeToLive != nil {
		msg.TimeToLive = *m.TimeToLive
	}
	if m.ScheduledEnqueueTime != nil {
		msg.ScheduledEnqueueTime = m.ScheduledEnqueueTime.UTC()
	}
	return msg
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkSize refuses a message larger than the tier allows. The size is
// estimated from the body, string properties and application properties;
// AMQP framing overhead is ignored.
func (b *Broker) checkSize(m Message) error {
	n := len(m.Body) + len(m.MessageID) + len(m.Subject) + len(m.ContentType) + len(m.CorrelationID) + len(m.ReplyTo) + len(m.To)
	for k, v := range m.ApplicationProperties {
		n += len(k) + len(fmt.Sprint(v))
	}
	if n > b.maxSize {
		return fmt.Errorf("%w: about %d bytes, limit %d", azservicebus.ErrMessageTooLarge, n, b.maxSize)
	}
	return nil
}
