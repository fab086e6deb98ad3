package copyjob

import (
	"math"
	"time"
)

// PollPolicy decides how long to wait before the next Get Blob Properties on
// a pending copy. It is a pure function of what earlier polls observed and
// what the job knows (when the copy started, its total), so it can be
// measured on a simulated clock (package pollsim).
//
// Why adaptive: copies take seconds to hours. A fixed interval either wastes
// billed calls on long copies or reports short ones late. When the service
// reports progress (x-ms-copy-progress) the policy smooths the transfer rate
// over several polls, estimates when the copy ends, and waits only a
// fraction (Lead) of the time to then: each poll re-estimates, so polls
// close in on the finish geometrically and one wrong estimate costs little.
//
// Two things keep that estimate from being trusted too far. The figure is
// refreshed by the service every so often, not at every read, so it may be
// up to Stale old: the end is estimated from the earliest instant the figure
// can describe. And a copy may speed up, after a stall or near its end: a
// guard computes the earliest the copy could end if it ran Surge times
// faster than the smoothed rate, and never waits past that plus the promised
// lateness (ShortLate, or LongLate for copies that cannot end within
// LongCopy). Without a rate (no intermediate progress) only the total is
// known: the copy cannot end before total/FastestRate, and after that it is
// polled at the ShortLate cadence.
type PollPolicy struct {
	// MinDelay is the shortest wait between polls and the wait before the
	// first one; it bounds how late the end of a copy is seen.
	MinDelay time.Duration
	// MaxDelay is the longest wait between polls.
	MaxDelay time.Duration
	// Growth multiplies the delay after each poll that saw no progress.
	Growth float64
	// Jitter spreads polls by up to this fraction of the delay so that many
	// copies started together do not poll together.
	Jitter float64
	// Step is the wait between polls of a copy that is due (past its
	// estimated end) or whose first progress figure is awaited: the end is
	// seen within about Step.
	Step time.Duration
	// Lead is the fraction of the estimated time left to wait before the
	// next poll. Below 1 so that a copy that speeds up is still caught soon
	// after it ends.
	Lead float64
	// Horizon caps the delay at this multiple of the time the copy has run,
	// less MinDelay: an estimate is not trusted far beyond the span of the
	// observations it rests on.
	Horizon float64
	// Rise and Fall are the weights (0..1] of a new rate measurement in the
	// smoothed rate when it is above or below it. Rise > Fall: believing a
	// slow-down too readily makes polls late, a speed-up at worst costs an
	// early poll.
	Rise, Fall float64
	// Follow is the weight (0..1] of a new rate measurement in the pace,
	// the recent rate that says when a copy that slowed down will end. The
	// smoothed rate (Rise, Fall) paces the approach and the guard; the
	// pace only the polls of a copy the smoothed rate says is due, which
	// it would otherwise poll every Step until its slower end.
	Follow float64
	// AgeShare is the share of its largest possible age a figure is taken
	// to have when the next poll is aimed at the end of a copy that has run
	// Settled. Taking every figure as old as it can be aims every poll
	// early by up to Stale, which costs polls close to the end; the guard
	// still takes the largest age. Before Settled the copy's figures are
	// few and may all be that old.
	AgeShare float64
	Settled  time.Duration
	// Stale is the oldest x-ms-copy-progress is assumed to be: the service
	// refreshes the figure periodically, and between refreshes every read
	// returns the same old figure.
	Stale time.Duration
	// Surge is the most a copy's throughput is assumed to rise above the
	// smoothed rate (a copy that resumes after a stall, or speeds up near its
	// end); it sets the earliest end the lateness guarantee is kept for.
	Surge float64
	// FastestRate, in bytes per second, is the most any copy is assumed to
	// move: before a rate is measured, the total alone says the copy cannot
	// end sooner than total/FastestRate after its start.
	FastestRate float64
	// ShortLate is the latest the end of a copy that may end within LongCopy
	// of its start is seen; LongLate that of a longer copy.
	ShortLate, LongLate, LongCopy time.Duration
	// Delivery is how late Service Bus may deliver a scheduled message; the
	// lateness guarantees leave room for it.
	Delivery time.Duration
}

// DefaultPollPolicy is the policy used when no setting overrides it. Its
// figures come from the pollsim benchmark (BENCHMARKS.md, "Polling policy").
func DefaultPollPolicy() PollPolicy {
	return PollPolicy{
		MinDelay: 5 * time.Second, MaxDelay: 10 * time.Minute,
		Step: 8 * time.Second, Growth: 2, Jitter: 0.1, Lead: 0.5, Horizon: 4, Rise: 1, Fall: 0.2, Follow: 0.5, AgeShare: 0.5, Settled: 5 * time.Minute,
		Stale: 30 * time.Second, Surge: 5, FastestRate: 256 << 20,
		ShortLate: time.Minute, LongLate: 5 * time.Minute, LongCopy: time.Hour,
		Delivery: 2 * time.Second,
	}
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
	// Pace is the recent transfer rate in bytes per second (Follow); 0
	// while unknown.
	Pace float64 `json:"pace,omitempty"`
	// SeenFor is how long before LastAt the same progress was first seen.
	SeenFor time.Duration `json:"seenFor,omitempty"`
	// Age bounds how old the progress was when first seen: the gap since
	// the poll before, which saw another figure (or since the start). 0:
	// unknown.
	Age time.Duration `json:"age,omitempty"`
	// Refresh bounds the service's refresh period, learnt from two
	// successive changes of the figure: each was made between two polls,
	// so two refreshes lie within the span of those polls. 0: unknown.
	Refresh time.Duration `json:"refresh,omitempty"`
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
// pending, and the state to carry to it. A poll that read no progress (the
// header absent, or the read failed) adds nothing: what earlier polls saw
// still holds.
func (p PollPolicy) Next(state PolicyState, obs Observation) (time.Duration, PolicyState) {
	state = state.sane(obs)
	next, moved := state, false
	if obs.HasProgress && obs.Total > 0 {
		next, moved = p.observe(state, obs)
	}
	est := p.estimate(next, obs)
	running := obs.Now.Sub(obs.StartedAt)
	delay := p.backoff(state)
	switch {
	case est.rateKnown && moved:
		delay = p.lead(est.end.Sub(obs.Now))
		if delay <= p.Step {
			// Due at the smoothed rate, yet still moving: it slowed
			// down, and the recent pace says when it ends.
			delay = p.lead(est.paced.Sub(obs.Now))
		}
	case est.rateKnown && next.LastBytes >= next.LastTotal:
		// Every byte is copied but the copy is still pending, as while
		// the service finalises it: nothing says when it ends. The poll
		// that first saw it waited Step, so a short finalisation is seen
		// within that; a long one is polled backing off, within the guard.
	case est.rateKnown:
		// Stalled, or the service has not refreshed the figure yet: back
		// off, but not past the estimated end.
		delay = min(delay, p.lead(est.end.Sub(obs.Now)))
	case running <= p.Stale:
		// No bytes reported yet, but the service may not have refreshed
		// the figure since the start.
		delay = min(delay, p.Step)
	}
	delay = min(delay, time.Duration(float64(max(0, running-p.MinDelay))*p.Horizon))
	if est.rateKnown || running > p.Stale {
		// No poll before the copy could end at FastestRate (the whole
		// wait, if the service reports no intermediate progress): a poll
		// that cannot see the end only refines an estimate, which the
		// polls after it do anyway.
		delay = max(delay, est.physical.Sub(obs.Now))
	}
	delay = p.clamp(p.jitter(delay, obs.Rand))
	delay = max(p.MinDelay, min(delay, p.guard(est, obs)))
	next.LastDelay = delay
	return delay, next
}

// sane bounds a state read from a poll message, which anyone able to send
// to the queue could have written: no negative figure or span, no time
// after this poll.
func (s PolicyState) sane(obs Observation) PolicyState {
	if s.LastBytes < 0 || s.LastTotal < 0 || s.LastAt.After(obs.Now) || s.LastAt.Before(obs.StartedAt) {
		s.LastBytes, s.LastTotal, s.LastAt, s.SeenFor, s.Age = 0, 0, time.Time{}, 0, 0
	}
	if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
		s.Rate = 0
	}
	if !(s.Pace > 0) || math.IsInf(s.Pace, 0) {
		s.Pace = 0
	}
	s.SeenFor = max(0, min(s.SeenFor, s.LastAt.Sub(obs.StartedAt)))
	s.Age, s.Refresh, s.LastDelay = max(0, s.Age), max(0, s.Refresh), max(0, s.LastDelay)
	return s
}

// observe folds a progress reading into the state; moved reports whether
// the figure differs from the previous one.
func (p PollPolicy) observe(state PolicyState, obs Observation) (next PolicyState, moved bool) {
	next = state
	next.LastBytes, next.LastTotal, next.LastAt = obs.Bytes, obs.Total, obs.Now
	if !state.LastAt.IsZero() && obs.Bytes == state.LastBytes && obs.Total == state.LastTotal {
		next.SeenFor = state.SeenFor + obs.Now.Sub(state.LastAt)
		return next, false
	}
	// The service made this figure between the previous poll and this one
	// (or since the start, unless it is the 0 the copy starts with).
	next.SeenFor, next.Age = 0, 0
	switch {
	case !state.LastAt.IsZero():
		next.Age = obs.Now.Sub(state.LastAt)
	case obs.Bytes > 0:
		next.Age = obs.Now.Sub(obs.StartedAt)
	}
	if state.Age > 0 && next.Age > 0 {
		// The previous figure was made after firstSeen-Age, this one
		// before now: the refresh period is at most the span between.
		span := obs.Now.Sub(state.LastAt.Add(-state.SeenFor - state.Age))
		if state.Refresh <= 0 || span < state.Refresh {
			next.Refresh = span
		}
	}
	next.Rate, next.Pace = p.updateRate(state, obs)
	return next, true
}

// updateRate folds the transfer rate since the previous figure into the
// smoothed rate. Each figure is dated by the poll that first saw it, so a
// figure that stayed unchanged over several polls does not stretch the
// interval. A copy's first figure is measured from its start, as is any
// figure after one of 0 bytes: the copy had that much at its start already.
func (p PollPolicy) updateRate(state PolicyState, obs Observation) (float64, float64) {
	since, from := state.LastAt.Add(-state.SeenFor), state.LastBytes
	switch {
	case state.LastAt.IsZero() || state.LastBytes == 0:
		since, from = obs.StartedAt, 0
	case obs.Total != state.LastTotal || obs.Bytes < state.LastBytes:
		// The copy started over. The throughput seen so far is still the
		// best guess for the new run; it is measured again at the next poll.
		return state.Rate, state.Pace
	}
	elapsed := obs.Now.Sub(since).Seconds()
	copied := obs.Bytes - from
	if elapsed <= 0 || copied <= 0 {
		// Nothing new was copied: the figure says nothing about the rate
		// after the copy resumes, so keep the old estimates.
		return state.Rate, state.Pace
	}
	measured := float64(copied) / elapsed
	pace := measured
	if state.Pace > 0 {
		pace = state.Pace + p.Follow*(measured-state.Pace)
	}
	switch {
	case state.Rate <= 0:
		return measured, pace
	case measured > state.Rate:
		return state.Rate + p.Rise*(measured-state.Rate), pace
	default:
		return state.Rate + p.Fall*(measured-state.Rate), pace
	}
}

// estimate is when the copy is expected to end at the smoothed rate, and
// the earliest it could.
type estimate struct {
	rateKnown bool
	// end is the end at the smoothed rate, counted from a likely instant
	// of the figure (AgeShare of its largest age before it was seen).
	end time.Time
	// paced is the end at the recent pace, from the same instant.
	paced time.Time
	// earliest is the soonest the copy could end.
	earliest time.Time
	// physical is the soonest it could end at FastestRate.
	physical time.Time
}

func (p PollPolicy) estimate(s PolicyState, obs Observation) estimate {
	if s.Rate <= 0 || s.LastTotal <= 0 || s.LastAt.IsZero() {
		// Only the total, if any, is known.
		e := obs.StartedAt.Add(seconds(float64(s.LastTotal) / p.FastestRate))
		return estimate{earliest: e, physical: e}
	}
	// The figure describes the copy as it was when the service last
	// refreshed it: no earlier than Age before the poll that first saw
	// it, nor than one refresh period (Stale, or the one learnt) before
	// now: an unchanged figure is still true at every refresh.
	at := s.LastAt.Add(-s.SeenFor)
	stale := p.Stale
	if s.Refresh > 0 {
		stale = min(stale, s.Refresh)
	}
	age := stale
	if s.Age > 0 {
		age = min(age, s.Age)
	}
	from := latest(at.Add(-age), s.LastAt.Add(-stale))
	physical := obs.StartedAt.Add(seconds(float64(s.LastTotal) / p.FastestRate))
	rest := float64(max(0, s.LastTotal-s.LastBytes))
	pace := s.Pace
	if pace <= 0 {
		pace = s.Rate
	}
	// The end is aimed at from a likelier instant than the oldest.
	share := 1.0
	if obs.Now.Sub(obs.StartedAt) >= p.Settled {
		share = p.AgeShare
	}
	likely := latest(at.Add(-scale(age, share)), s.LastAt.Add(-scale(stale, share)))
	return estimate{
		rateKnown: true,
		end:       likely.Add(seconds(rest / s.Rate)),
		paced:     likely.Add(seconds(rest / pace)),
		earliest:  latest(from.Add(seconds(rest/s.Rate/p.Surge)), physical),
		physical:  physical,
	}
}

// guard is the longest wait that still sees the copy's end within the
// promised lateness, however soon after est.earliest it comes. Without a
// rate the copy's length is unknown, so it is held to ShortLate.
func (p PollPolicy) guard(est estimate, obs Observation) time.Duration {
	from := latest(est.earliest, obs.Now)
	late := p.ShortLate
	if est.rateKnown && from.Sub(obs.StartedAt) >= p.LongCopy {
		late = p.LongLate
	}
	return from.Sub(obs.Now) + late - p.Delivery
}

// lead is the wait for a copy estimated to end after left: a share of it,
// plus MinDelay, which bounds how late a copy that speeds up is seen; close
// to the end, the estimate itself, polling just as the copy should end; and
// once it is due, Step.
func (p PollPolicy) lead(left time.Duration) time.Duration {
	if left < p.Step {
		return p.Step
	}
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

func scale(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

// seconds converts to a Duration, saturating far beyond any copy's length.
func seconds(s float64) time.Duration {
	return time.Duration(min(s, float64(math.MaxInt64/4)/float64(time.Second)) * float64(time.Second))
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
