package funchost

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// BrokerView is the in-process side of a stand-in broker (busemu) that
// lets a receiver source run on a fake clock: whether a receive would find
// something now, and when something next falls due. Against Azure there
// is none, and the source can only be used by Run.
type BrokerView interface {
	// Pending applies what has fallen due and counts the messages of path
	// a receiver could get: available, or locked but not yet settled
	// (some may sit in the client's buffer).
	Pending(path string) (int, error)
	// NextDue is when something next falls due for path.
	NextDue(path string) (time.Time, bool)
}

// ErrNoView: without a BrokerView a receiver source cannot tell what is
// available now (Dispatch, RunUntilIdle); Run needs none.
var ErrNoView = errors.New("funchost: a receiver source without a BrokerView cannot tell what is available now; use Run")

// receiveBound bounds a receive that the view says will find a message,
// so a wrong count costs seconds, not a hang.
const receiveBound = 5 * time.Second

// receiverSource receives through the real azservicebus client, exactly
// as the Functions host's Service Bus extension does.
type receiverSource struct {
	r    *azservicebus.Receiver
	path string
	view BrokerView

	mu   sync.Mutex
	held map[*Message]*azservicebus.ReceivedMessage // received, not settled
}

// NewReceiverSource listens with r, a peek-lock receiver for path (a queue
// or "topic/Subscriptions/name"). view may be nil outside tests on a fake
// clock.
func NewReceiverSource(r *azservicebus.Receiver, path string, view BrokerView) Source {
	return &receiverSource{r: r, path: path, view: view, held: map[*Message]*azservicebus.ReceivedMessage{}}
}

func (s *receiverSource) Receive(ctx context.Context, max int, wait bool) ([]*Message, error) {
	var opts *azservicebus.ReceiveMessagesOptions
	if !wait {
		if s.view == nil {
			return nil, ErrNoView
		}
		pending, err := s.view.Pending(s.path)
		if err != nil {
			return nil, err
		}
		available := pending - s.heldCount()
		if available <= 0 {
			return nil, nil
		}
		// Ask for no more than is there, and do not linger for more: the
		// next Dispatch round comes back for late arrivals.
		max = min(max, available)
		opts = &azservicebus.ReceiveMessagesOptions{TimeAfterFirstMessage: time.Millisecond}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, receiveBound)
		defer cancel()
	}
	received, err := s.r.ReceiveMessages(ctx, max, opts)
	if err != nil && (wait || !errors.Is(err, context.DeadlineExceeded)) {
		return nil, err
	}
	out := make([]*Message, 0, len(received))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rm := range received {
		m := fromReceived(rm)
		s.held[m] = rm
		out = append(out, m)
	}
	return out, nil
}

func (s *receiverSource) heldCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

func (s *receiverSource) Settle(ctx context.Context, m *Message, settlement copyjob.Settlement) error {
	s.mu.Lock()
	rm, ok := s.held[m]
	delete(s.held, m)
	s.mu.Unlock()
	if !ok {
		return ErrLockLost
	}
	if settlement == copyjob.Complete {
		return s.r.CompleteMessage(ctx, rm, nil)
	}
	return s.r.AbandonMessage(ctx, rm, nil)
}

func (s *receiverSource) NextDue() (time.Time, bool) {
	if s.view == nil {
		return time.Time{}, false
	}
	return s.view.NextDue(s.path)
}

// fromReceived is the part of a received message the host passes on.
func fromReceived(rm *azservicebus.ReceivedMessage) *Message {
	m := &Message{
		ID: rm.MessageID, Body: rm.Body, Properties: rm.ApplicationProperties,
		DeliveryCount: int(rm.DeliveryCount),
	}
	for dst, src := range map[*string]*string{&m.ContentType: rm.ContentType, &m.CorrelationID: rm.CorrelationID, &m.Subject: rm.Subject} {
		if src != nil {
			*dst = *src
		}
	}
	if rm.SequenceNumber != nil {
		m.SequenceNumber = *rm.SequenceNumber
	}
	if rm.EnqueuedTime != nil {
		m.EnqueuedAt = *rm.EnqueuedTime
	}
	return m
}

// SubscriptionPath is the entity path of a topic subscription.
func SubscriptionPath(topic, subscription string) string {
	return topic + "/Subscriptions/" + subscription
}

// DefaultTriggers are the entities snapcopy's functions read under the
// default settings, as function.json binds them, by function name: a queue,
// or a topic's subscription.
func DefaultTriggers() map[string]string {
	return map[string]string{
		"SnapshotCreated": config.DefaultTriggerQueue,
		"CopyPoll":        config.DefaultPollQueue,
		"Retention":       SubscriptionPath(config.DefaultEventsTopic, config.DefaultRetentionSubscription),
	}
}

// NewReceiverSources opens a listener over client for each function of
// triggers (function name → queue or "topic/Subscriptions/name"); view as
// for NewReceiverSource.
func NewReceiverSources(client *azservicebus.Client, triggers map[string]string, view BrokerView) (map[string]Source, error) {
	out := make(map[string]Source, len(triggers))
	for fn, path := range triggers {
		r, err := NewReceiverFor(client, path)
		if err != nil {
			return nil, err
		}
		out[fn] = NewReceiverSource(r, path, view)
	}
	return out, nil
}

// NewReceiverFor opens a peek-lock receiver on path, a queue or a topic's
// subscription ("topic/Subscriptions/name", as SubscriptionPath writes it),
// for NewReceiverSource.
func NewReceiverFor(client *azservicebus.Client, path string) (*azservicebus.Receiver, error) {
	if topic, sub, ok := strings.Cut(path, "/Subscriptions/"); ok {
		return client.NewReceiverForSubscription(topic, sub, nil)
	}
	return client.NewReceiverForQueue(path, nil)
}
