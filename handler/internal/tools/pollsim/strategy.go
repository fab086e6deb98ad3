package pollsim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Strategy is a polling policy under test.
type Strategy interface {
	// Name labels the strategy in reports.
	Name() string
	// Start returns the poller of one new copy.
	Start() Poller
}

// Poller paces the polls of one copy.
type Poller interface {
	// First returns the wait from starting the copy to the first poll.
	First(rand float64) time.Duration
	// Next returns the wait after a poll that saw the copy pending, or
	// false when the poller gives up on the copy.
	Next(obs copyjob.Observation) (time.Duration, bool)
}

// Fixed polls at a constant interval.
type Fixed struct{ Interval time.Duration }

// Name implements Strategy.
func (f Fixed) Name() string { return fmt.Sprintf("fixed %s", f.Interval) }

// Start implements Strategy.
func (f Fixed) Start() Poller { return fixedPoller{interval: f.Interval} }

type fixedPoller struct {
	interval time.Duration
	expiry   time.Duration // 0: never
}

func (f fixedPoller) First(float64) time.Duration { return f.interval }

func (f fixedPoller) Next(obs copyjob.Observation) (time.Duration, bool) {
	if f.expiry > 0 && obs.Now.Add(f.interval).Sub(obs.StartedAt) > f.expiry {
		return 0, false
	}
	return f.interval, true
}

// DurableMonitor is the Durable Functions monitor pattern: a fixed interval
// until an expiry time, after which the orchestration stops watching.
type DurableMonitor struct{ Interval, Expiry time.Duration }

// Name implements Strategy.
func (m DurableMonitor) Name() string {
	return fmt.Sprintf("durable monitor %s, expiry %s", m.Interval, m.Expiry)
}

// Start implements Strategy.
func (m DurableMonitor) Start() Poller { return fixedPoller{interval: m.Interval, expiry: m.Expiry} }

// Exponential multiplies the interval by Factor after every poll, up to Max.
type Exponential struct {
	Initial, Max time.Duration
	Factor       float64
}

// Name implements Strategy.
func (e Exponential) Name() string {
	return fmt.Sprintf("exponential %s ×%g ≤ %s", e.Initial, e.Factor, e.Max)
}

// Start implements Strategy.
func (e Exponential) Start() Poller { return &exponentialPoller{Exponential: e} }

type exponentialPoller struct {
	Exponential
	last time.Duration
}

func (e *exponentialPoller) First(float64) time.Duration {
	e.last = e.Initial
	return e.last
}

func (e *exponentialPoller) Next(copyjob.Observation) (time.Duration, bool) {
	e.last = min(e.Max, time.Duration(float64(e.last)*e.Factor))
	return e.last, true
}

// Adaptive is snapcopy's policy, driven exactly as the CopyPoll handler
// drives it: its state makes a JSON round trip between polls, as it does
// inside the poll message.
type Adaptive struct{ Policy copyjob.PollPolicy }

// Name implements Strategy.
func (a Adaptive) Name() string { return "snapcopy adaptive" }

// Start implements Strategy.
func (a Adaptive) Start() Poller { return &adaptivePoller{policy: a.Policy} }

type adaptivePoller struct {
	policy copyjob.PollPolicy
	state  []byte
	// maxState is the largest serialised state, for the report.
	maxState int
}

func (a *adaptivePoller) First(rand float64) time.Duration {
	delay, state := a.policy.First(rand)
	a.keep(state)
	return delay
}

func (a *adaptivePoller) Next(obs copyjob.Observation) (time.Duration, bool) {
	var state copyjob.PolicyState
	if err := json.Unmarshal(a.state, &state); err != nil {
		panic(err) // the state was marshalled by keep
	}
	delay, next := a.policy.Next(state, obs)
	a.keep(next)
	return delay, true
}

func (a *adaptivePoller) keep(state copyjob.PolicyState) {
	b, err := json.Marshal(state)
	if err != nil {
		panic(err) // a struct of numbers and a time always marshals
	}
	a.state = b
	a.maxState = max(a.maxState, len(b))
}

// stateSize reports the largest state a poller carried, for pollers that
// carry one.
func stateSize(p Poller) int {
	if a, ok := p.(*adaptivePoller); ok {
		return a.maxState
	}
	return 0
}
