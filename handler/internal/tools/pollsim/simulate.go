package pollsim

import (
	"math/rand/v2"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Bus models when Service Bus delivers a scheduled message: not before its
// time, on the next whole Granularity, plus a delivery latency drawn
// uniformly from [0, MaxLatency).
type Bus struct {
	Granularity, MaxLatency time.Duration
}

// DefaultBus is the bus of the benchmark.
func DefaultBus() Bus { return Bus{Granularity: time.Second, MaxLatency: 500 * time.Millisecond} }

func (b Bus) deliver(at time.Duration, r *rand.Rand) time.Duration {
	if b.Granularity > 0 {
		at = (at + b.Granularity - 1) / b.Granularity * b.Granularity
	}
	if b.MaxLatency > 0 {
		at += time.Duration(r.Int64N(int64(b.MaxLatency)))
	}
	return at
}

// Outcome is how one copy went under one strategy.
type Outcome struct {
	// Duration is the copy's duration.
	Duration time.Duration
	// Polls counts Get Blob Properties calls, the last one included.
	Polls int
	// Detected is false when the strategy gave up before the copy ended.
	Detected bool
	// Delay is from the copy's end to the poll that saw it.
	Delay time.Duration
	// StateBytes is the largest policy state the poll messages carried.
	StateBytes int
}

// epoch anchors the simulated clock; only differences matter.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Simulate runs every copy under the strategy. Jitter and delivery latency
// come from a stream per copy derived from seed, so a run is reproducible.
func Simulate(s Strategy, copies []Copy, bus Bus, seed uint64) []Outcome {
	out := make([]Outcome, len(copies))
	for i := range copies {
		out[i] = simulateCopy(s.Start(), &copies[i], bus, rand.New(rand.NewPCG(seed^0x5eed, uint64(i))))
	}
	return out
}

func simulateCopy(p Poller, c *Copy, bus Bus, r *rand.Rand) Outcome {
	o := Outcome{Duration: c.Duration}
	at := bus.deliver(p.First(r.Float64()), r)
	for {
		o.Polls++
		if at >= c.Duration {
			o.Detected, o.Delay = true, at-c.Duration
			break
		}
		delay, ok := p.Next(copyjob.Observation{
			Now: epoch.Add(at), StartedAt: epoch, Attempt: o.Polls,
			HasProgress: true, Bytes: c.Progress(at), Total: c.Total,
			Rand: r.Float64(),
		})
		if !ok {
			break
		}
		at = bus.deliver(at+delay, r)
	}
	o.StateBytes = stateSize(p)
	return o
}
