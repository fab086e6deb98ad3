package copyjob

import (
	"math"
	"time"
)

// PollPolicy decides how long to wait before the next Get Blob Properties on
// a pending copy. It is a pure function of what earlier polls observed, so it
// can be measured on a simulated clock.
//
// Why adaptive: copies take seconds to hours. A fixed interval either wastes
// billed calls on long copies or reports short ones late. When the service
// reports progress (x-ms-copy-progress) the policy estimates the finish time
// from the transfer rate and polls just after it; without usable progress it
// backs off exponentially between MinDelay and MaxDelay.
type PollPolicy struct {
	// MinDelay is the shortest wait between polls.
	MinDelay time.Duration
	// MaxDelay is the longest wait between polls.
	MaxDelay time.Duration
	// Growth multiplies the delay after each poll without a usable estimate.
	Growth float64
	// Jitter spreads polls by up to this fraction of the delay so that many
	// copies started together do not poll together.
	Jitter float64
}

// DefaultPollPolicy is the policy used when no setting overrides it.
func DefaultPollPolicy() PollPolicy {
	return PollPolicy{MinDelay: 5 * time.Second, MaxDelay: 10 * time.Minute, Growth: 2, Jitter: 0.1}
}

// PolicyState is what the policy remembers between polls. It travels inside
// the poll message, because the worker keeps no state of its own.
type PolicyState struct {
	// LastBytes and LastTotal are the progress seen by the previous poll.
	LastBytes int64 `json:"lastBytes,omitempty"`
	LastTotal int64 `json:"lastTotal,omitempty"`
	// LastAt is when the previous poll saw that progress.
	LastAt time.Time `json:"lastAt,omitzero"`
	// LastDelay is the delay chosen by the previous poll.
	LastDelay time.Duration `json:"lastDelay,omitempty"`
}

// Observation is what one poll of a pending copy saw.
type Observation struct {
	// Now is the time of this poll.
	Now time.Time
	// StartedAt is when the copy was started.
	StartedAt time.Time
	// Attempt counts polls of this job, starting at 1.
	Attempt int
	// HasProgress reports whether x-ms-copy-progress was present and parsed.
	HasProgress bool
	// Bytes and Total are the copied and total bytes of x-ms-copy-progress.
	Bytes, Total int64
	// Rand is a uniform value in [0,1) supplied by the caller, so the policy
	// stays deterministic under test.
	Rand float64
}

// Next returns the delay before the next poll and the state to carry to it.
func (p PollPolicy) Next(state PolicyState, obs Observation) (time.Duration, PolicyState) {
	delay := p.backoff(state)
	if eta, ok := estimateRemaining(state, obs); ok {
		// Poll just after the estimated finish, but never wait longer than
		// the back-off would, so a wrong estimate costs at most one step.
		delay = min(delay, eta+p.MinDelay/2)
	}
	delay = p.clamp(p.jitter(delay, obs.Rand))
	next := PolicyState{LastDelay: delay}
	if obs.HasProgress {
		next.LastBytes, next.LastTotal, next.LastAt = obs.Bytes, obs.Total, obs.Now
	}
	return delay, next
}

func (p PollPolicy) backoff(state PolicyState) time.Duration {
	if state.LastDelay <= 0 {
		return p.MinDelay
	}
	return time.Duration(float64(state.LastDelay) * p.Growth)
}

func (p PollPolicy) jitter(d time.Duration, r float64) time.Duration {
	return time.Duration(float64(d) * (1 + p.Jitter*(2*r-1)))
}

func (p PollPolicy) clamp(d time.Duration) time.Duration {
	return max(p.MinDelay, min(p.MaxDelay, d))
}

// estimateRemaining extrapolates the transfer rate between the previous and
// the current observation to the time the copy should finish.
func estimateRemaining(state PolicyState, obs Observation) (time.Duration, bool) {
	if !obs.HasProgress || state.LastAt.IsZero() || obs.Total <= 0 || state.LastTotal != obs.Total {
		return 0, false
	}
	elapsed := obs.Now.Sub(state.LastAt)
	copied := obs.Bytes - state.LastBytes
	if elapsed <= 0 || copied <= 0 {
		return 0, false
	}
	rate := float64(copied) / elapsed.Seconds()
	remaining := float64(obs.Total-obs.Bytes) / rate
	if math.IsInf(remaining, 0) || math.IsNaN(remaining) || remaining > float64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(remaining * float64(time.Second)), true
}
