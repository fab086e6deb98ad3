package funchost

import (
	"context"
	"fmt"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Source is a function's Service Bus trigger listener: it locks messages
// of one queue or subscription in peek-lock mode and settles them by the
// handler's answer. The in-memory broker (Broker.Source) and a real
// azservicebus receiver (NewReceiverSource) implement it.
type Source interface {
	// Receive locks up to max messages. With wait it blocks until at least
	// one is available or ctx ends; without, it returns what is available
	// now, possibly nothing.
	Receive(ctx context.Context, max int, wait bool) ([]*Message, error)
	// Settle completes the message (the handler answered 2xx with JSON)
	// or, for any other settlement, abandons it for redelivery.
	Settle(ctx context.Context, m *Message, s copyjob.Settlement) error
	// NextDue is when the source will next have something it lacks now (a
	// scheduled message, a lock running out); ok is false when nothing is
	// pending. RunUntilIdle moves its fake clock there.
	NextDue() (at time.Time, ok bool)
}

// brokerSource reads one entity of the in-memory broker.
type brokerSource struct {
	b      *Broker
	entity string
}

// Source returns the listener for a queue or subscription of b.
func (b *Broker) Source(entity string) (Source, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.queues[entity]; !ok {
		return nil, fmt.Errorf("%w: %q: %s", ErrNoEntity, entity, declareHint)
	}
	return &brokerSource{b: b, entity: entity}, nil
}

func (s *brokerSource) Receive(ctx context.Context, max int, wait bool) ([]*Message, error) {
	for {
		changed := s.b.changes()
		var out []*Message
		for len(out) < max {
			m, ok := s.b.receive(s.entity)
			if !ok {
				break
			}
			out = append(out, m)
		}
		if len(out) > 0 || !wait {
			return out, nil
		}
		if err := s.waitFor(ctx, changed); err != nil {
			return nil, err
		}
	}
}

// waitFor blocks until the broker changes, something falls due on the real
// clock, or ctx ends.
func (s *brokerSource) waitFor(ctx context.Context, changed <-chan struct{}) error {
	wait := time.Hour
	if next, ok := s.NextDue(); ok {
		wait = max(next.Sub(s.b.opts.Clock.Now()), time.Millisecond)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-timer.C:
	}
	return nil
}

func (s *brokerSource) Settle(_ context.Context, m *Message, settlement copyjob.Settlement) error {
	return s.b.settle(s.entity, m.lockToken, settlement == copyjob.Complete)
}

func (s *brokerSource) NextDue() (time.Time, bool) { return s.b.nextDue(s.entity) }

// Sources maps function names to listeners of the entities they read.
func (b *Broker) Sources(entityOf map[string]string) (map[string]Source, error) {
	out := make(map[string]Source, len(entityOf))
	for fn, entity := range entityOf {
		src, err := b.Source(entity)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", fn, err)
		}
		out[fn] = src
	}
	return out, nil
}
