package copyjob

import (
	"math"
	"time"
)

// PollPolicy decides how long to wait before the next Get Blob Properties on
// a pending copy. It is a pure function of what earlier polls observed, so it
// can be measured on a simulated clock (package pollsim).
//
// Why adaptive: copies take seconds to hours. A fixed interval either wastes
// billed calls on long copies or reports short ones late. When the service
// reports progress (x-ms-copy-progress) the policy smooths the transfer rate
// over several polls, estimates the time left, and waits only a fraction
// (Lead) of it: each poll re-estimates, so polls close in on the finish
// geometrically and one wrong estimate costs little. Without progress it
// backs off exponentially, but never past the point where the bytes left
// could have been copied, so a copy that resumes near its end is still
// reported promptly.
type PollPolicy struct {
	// MinDelay is the shortest wait between polls and the wait before the
	// first one; it bounds how late the end of a copy is seen.
	MinDelay time.Duration
	// MaxDelay is the longest wait between polls.
	MaxDelay time.Duration
	// Growth multiplies the delay after each poll without progress.
	Growth float64
	// Jitter spreads polls by up to this fraction of the delay so that many
	// copies started together do not poll together.
	Jitter float64
	// Lead is the fraction of the estimated time left to wait before the
	// next poll. Below 1 so that a copy that speeds up is still caught soon
	// after it ends.
	Lead float64
	// Horizon caps the delay at this multiple of the time the copy has run,
	// less MinDelay: an estimate is not trusted far beyond the span of the
	// observations it rests on, and early figures are coarse and may be a
	// few seconds old (the service refreshes them periodically).
	Horizon float64
	// Rise and Fall are the weights (0..1] of a new rate measurement in the
	// smoothed rate when it is above or below it. Rise > Fall: believing a
	// slow-down too readily makes polls late, a speed-up at worst costs an
	// early poll.
	Rise, Fall float64
}

// DefaultPollPolicy is the policy used when no setting overrides it. Its
// figures come from the pollsim benchmark (BENCHMARKS.md, "Polling policy").
func DefaultPollPolicy() PollPolicy {
	return PollPolicy{MinDelay: 5 * time.Second, MaxDelay: 10 * time.Minute, Growth: 2, Jitter: 0.1, Lead: 0.5, Horizon: 5, Rise: 1, Fall: 0.2}
}

// PolicyState is what the policy remembers between polls. It travels inside
// every poll message, because the worker keeps no state of its own, so it is
// kept to a few numbers.
type PolicyState struct {
	// LastBytes and LastTotal are the progress seen by the previous poll.
	LastBytes int64 `json:"lastBytes,omitempty"`
	LastTotal int64 `json:"lastTotal,omitempty"`
	// LastAt is when the previous poll saw that progress.
	LastAt time.Time `json:"lastAt,omitzero"`
	// LastDelay is the delay chosen by the previous poll.
	LastDelay time.Duration `json:"lastDelay,omitempty"`
	// Rate is the smoothed transfer rate in bytes per second; 0 while
	// unknown.
	Rate float64 `json:"rate,omitempty"`
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

// First returns the delay before the first poll of a copy that was just
// started, and the state to carry to it. Nothing is known yet, so it is
// MinDelay: a copy shorter than that is seen at the first poll.
func (p PollPolicy) First(rand float64) (time.Duration, PolicyState) {
	delay := p.clamp(p.jitter(p.MinDelay, rand))
	return delay, PolicyState{LastDelay: delay}
}

// Next returns the delay before the next poll of a copy that is still
// pending, and the state to carry to it.
func (p PollPolicy) Next(state PolicyState, obs Observation) (time.Duration, PolicyState) {
	next := state
	delay := p.backoff(state)
	if obs.HasProgress && obs.Total > 0 {
		next.Rate = p.updateRate(state, obs)
		next.LastBytes, next.LastTotal, next.LastAt = obs.Bytes, obs.Total, obs.Now
		left, known := timeLeft(obs, next.Rate)
		switch {
		case !known:
			// No rate yet: keep backing off.
		case obs.Bytes == state.LastBytes && obs.Total == state.LastTotal:
			// Stalled, or the service has not refreshed the figure yet. Back
			// off, but not past the time the bytes left would take, so
			// a copy that resumes near its end is still reported soon.
			delay = min(delay, p.lead(left))
		default:
			delay = p.lead(left)
		}
	}
	observed := obs.Now.Sub(obs.StartedAt) - p.MinDelay
	delay = min(delay, time.Duration(float64(max(0, observed))*p.Horizon))
	delay = p.clamp(p.jitter(delay, obs.Rand))
	next.LastDelay = delay
	return delay, next
}

// updateRate folds the transfer rate since the previous poll into the
// smoothed rate. A copy's first figure is measured from its start.
func (p PollPolicy) updateRate(state PolicyState, obs Observation) float64 {
	since, from := state.LastAt, state.LastBytes
	switch {
	case state.LastAt.IsZero():
		since, from = obs.StartedAt, 0
	case obs.Total != state.LastTotal || obs.Bytes < state.LastBytes:
		// The copy started over. The throughput seen so far is still the
		// best guess for the new run; it is measured again at the next poll.
		return state.Rate
	}
	elapsed := obs.Now.Sub(since).Seconds()
	copied := obs.Bytes - from
	if elapsed <= 0 || copied <= 0 {
		// Nothing new was copied: the figure says nothing about the rate
		// after the copy resumes, so keep the old estimate.
		return state.Rate
	}
	measured := float64(copied) / elapsed
	switch {
	case state.Rate <= 0:
		return measured
	case measured > state.Rate:
		return state.Rate + p.Rise*(measured-state.Rate)
	default:
		return state.Rate + p.Fall*(measured-state.Rate)
	}
}

// timeLeft estimates how long the copy needs to finish at rate.
func timeLeft(obs Observation, rate float64) (time.Duration, bool) {
	if rate <= 0 {
		return 0, false
	}
	left := float64(obs.Total-obs.Bytes) / rate * float64(time.Second)
	return time.Duration(min(left, math.MaxInt64/2)), true
}

// lead is the wait for a copy estimated to need left: a share of it, plus
// MinDelay, which bounds how late a copy that speeds up is seen; and close
// to the end, the estimate itself, polling just as the copy should end.
func (p PollPolicy) lead(left time.Duration) time.Duration {
	return min(left, time.Duration(float64(left)*p.Lead)+p.MinDelay)
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
