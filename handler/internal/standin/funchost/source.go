package funchost

import (
	"context"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Source is a function's Service Bus trigger listener: it locks messages
// of one queue or subscription in peek-lock mode and settles them by the
// handler's answer. A real azservicebus receiver (NewReceiverSource)
// implements it, on busemu or on Azure.
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
