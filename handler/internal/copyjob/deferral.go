package copyjob

import (
	"math"
	"time"
)

// MaxTransientRetries bounds how often one trigger is deferred because of a
// transient refusal before it ends as Failed.
const MaxTransientRetries = 8

// DeferState counts the deferrals of one trigger. It travels in the
// deferred message's application properties, so the body stays the
// producer's own.
type DeferState struct {
	// Waits counts deferrals behind another snapshot's pending copy.
	Waits int
	// Retries counts deferrals after transient refusals.
	Retries int
	// FirstAt is when the trigger was first deferred.
	FirstAt time.Time
}

// Deferral is the plan for re-scheduling a trigger.
type Deferral struct {
	// GiveUp is set when the budget is spent; publish Failed instead.
	GiveUp bool
	// Delay is how long to wait before the trigger is seen again.
	Delay time.Duration
	// Next is the state the deferred message carries.
	Next DeferState
	// MessageID is the deferred message's id: DeferMessageID of the
	// delivered trigger, so a redelivery defers under the same id.
	MessageID string
}

// DeliveredTrigger is the delivery a deferral re-schedules, as far as the
// deferral's id derives from it.
type DeliveredTrigger struct {
	JobKey string
	// MessageID and Body are the delivered message's, which only its
	// sender and snapcopy know.
	MessageID string
	Body      []byte
}

// DeferralBounds are the limits of a deferral.
type DeferralBounds struct {
	// MinDelay and MaxDelay bound the exponential back-off.
	MinDelay, MaxDelay time.Duration
	// MaxWait bounds the total time a trigger waits behind another copy;
	// past it the other copy is past its own deadline.
	MaxWait time.Duration
}

// PlanDeferral decides whether and when to see trigger t again. transient
// selects the retry budget; otherwise the trigger waits behind another copy.
// r is a uniform value in [0,1) for jitter.
func PlanDeferral(t DeliveredTrigger, s DeferState, transient bool, now time.Time, b DeferralBounds, r float64) Deferral {
	next := s
	// A first deferral in the future (the properties are the sender's to
	// write) would keep the wait budget from ever running out.
	if next.FirstAt.IsZero() || next.FirstAt.After(now) {
		next.FirstAt = now
	}
	var n int
	if transient {
		next.Retries++
		n = next.Retries
	} else {
		next.Waits++
		n = next.Waits
	}
	giveUp := (transient && next.Retries > MaxTransientRetries) || (!transient && now.Sub(next.FirstAt) > b.MaxWait)
	exp := float64(b.MinDelay) * math.Pow(2, float64(min(n-1, 30)))
	delay := time.Duration(min(exp, float64(b.MaxDelay)) * (0.9 + 0.2*r))
	return Deferral{
		GiveUp:    giveUp,
		Delay:     max(b.MinDelay, delay),
		Next:      next,
		MessageID: DeferMessageID(t.JobKey, next.Waits+next.Retries, t.MessageID, t.Body),
	}
}
