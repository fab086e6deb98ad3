package worker

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
)

// Worker handles SnapshotCreated, CopyPoll and Retention invocations.
type Worker struct {
	Storage Storage
	Bus     Bus
	Clock   clock.Clock
	Log     zerolog.Logger
	// Rand returns uniform values in [0,1) for jitter.
	Rand func() float64
	// Policy paces polls; Rules validate triggers.
	Policy copyjob.PollPolicy
	Rules  copyjob.Rules
	// CopyDeadline bounds a copy; AbortOnTimeout aborts it at the deadline.
	CopyDeadline   time.Duration
	AbortOnTimeout bool
	// InvocationTimeout bounds one invocation, below the host's
	// functionTimeout and the message lock.
	InvocationTimeout time.Duration
	// Retain configures the Retention function.
	Retain RetentionConfig
}

// ErrInvalid is returned by Validate.
var ErrInvalid = errors.New("worker: invalid configuration")

// Validate reports missing dependencies.
func (w *Worker) Validate() error {
	var errs []error
	if w.Storage == nil {
		errs = append(errs, errors.New("worker.Storage is nil"))
	}
	if w.Bus == nil {
		errs = append(errs, errors.New("worker.Bus is nil"))
	}
	if w.Clock == nil {
		errs = append(errs, errors.New("worker.Clock is nil"))
	}
	if w.Rand == nil {
		errs = append(errs, errors.New("worker.Rand is nil"))
	}
	if w.CopyDeadline <= 0 || w.InvocationTimeout <= 0 {
		errs = append(errs, errors.New("worker.CopyDeadline and worker.InvocationTimeout must be positive"))
	}
	if err := w.Retain.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(append([]error{ErrInvalid}, errs...)...)
	}
	return nil
}

// Functions returns the custom handler's functions by name.
func (w *Worker) Functions() map[string]funcproto.Function {
	return map[string]funcproto.Function{
		"SnapshotCreated": w.SnapshotCreated,
		"CopyPoll":        w.CopyPoll,
		"Retention":       w.Retention,
	}
}

// invocation is the per-message context: logger with correlation fields.
type invocation struct {
	funcproto.Invocation
	log zerolog.Logger
	now time.Time
}

func (w *Worker) begin(ctx context.Context, inv funcproto.Invocation) (context.Context, context.CancelFunc, *invocation) {
	ctx, cancel := context.WithTimeout(ctx, w.InvocationTimeout)
	log := w.Log.With().
		Str(logging.FieldFunction, inv.Function).
		Str(logging.FieldInvocationID, inv.InvocationID).
		Str(logging.FieldMessageID, inv.MessageID).
		Int("deliveryCount", inv.DeliveryCount).
		Logger()
	return ctx, cancel, &invocation{Invocation: inv, log: log, now: w.Clock.Now()}
}

// settle turns the result of the durable write into the host's answer and
// logs it; a retry is logged as an error before answering, because the
// host drops the response of a failed invocation.
func (w *Worker) settle(in *invocation, err error) copyjob.Settlement {
	s := copyjob.Settle(err)
	if s == copyjob.Retry {
		in.log.Error().Err(err).Msg("nothing durable could be written; abandoning the message so the broker redelivers it")
		return s
	}
	in.log.Debug().Str("settlement", s.String()).Msg("done")
	return s
}

func (w *Worker) withJob(in *invocation, key string) {
	in.log = in.log.With().Str(logging.FieldJobKey, key).Logger()
}
