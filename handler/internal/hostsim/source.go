package hostsim

import (
	"context"
	"fmt"
	"time"
)

// Source is where a function's trigger messages come from, in peek-lock
// mode. The in-memory broker (Broker.Source) and a real Service Bus
// receiver (NewReceiverSource) implement it.
type Source interface {
	// Receive locks the next message, waiting until one is available or
	// ctx ends.
	Receive(ctx context.Context) (*Delivery, error)
	// Complete removes the message.
	Complete(ctx context.Context, d *Delivery) error
	// Abandon releases the lock; the broker redelivers at once or
	// dead-letters after MaxDeliveryCount deliveries.
	Abandon(ctx context.Context, d *Delivery) error
}

// Delivery is one received, locked message.
type Delivery struct {
	Message ReceivedMessage
	// handle is what the source needs to settle it.
	handle any
}

// BrokerSource receives from a queue or subscription of a Broker.
type BrokerSource struct {
	b  *Broker
	st *store
}

// receiveWakeup bounds how long a blocked Receive sleeps without news, so
// that a clock moved by someone else (a fake clock) is noticed.
const receiveWakeup = 100 * time.Millisecond

// Source returns a source for a queue or subscription (SubscriptionPath).
func (b *Broker) Source(path string) (*BrokerSource, error) {
	st, ok := b.stores[path]
	if !ok {
		return nil, fmt.Errorf("%w: queue or subscription %q", ErrNoEntity, path)
	}
	return &BrokerSource{b: b, st: st}, nil
}

// Entity is the queue or subscription path the source reads.
func (s *BrokerSource) Entity() string { return s.st.path }

// Receive waits for a visible message and locks it.
func (s *BrokerSource) Receive(ctx context.Context) (*Delivery, error) {
	for {
		changed := s.b.changes()
		if d, ok := s.tryReceive(); ok {
			return d, nil
		}
		wait := receiveWakeup
		if due, ok := s.nextDue(); ok {
			wait = min(wait, max(due.Sub(s.b.clock.Now()), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// Complete removes the message; ErrLockLost if its lock ran out.
func (s *BrokerSource) Complete(_ context.Context, d *Delivery) error {
	return s.b.complete(s.st, d.Message.LockToken)
}

// Abandon releases the message for immediate redelivery.
func (s *BrokerSource) Abandon(_ context.Context, d *Delivery) error {
	return s.b.abandon(s.st, d.Message.LockToken)
}

// tryReceive locks a message if one is visible now.
func (s *BrokerSource) tryReceive() (*Delivery, bool) {
	m, ok := s.b.receive(s.st)
	if !ok {
		return nil, false
	}
	return &Delivery{Message: *m}, true
}

// nextDue is when the source may next have something to deliver.
func (s *BrokerSource) nextDue() (time.Time, bool) { return s.b.nextDue(s.st) }
