package hostsim

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// IdleLimits bound RunUntilIdle. Zero values take defaults.
type IdleLimits struct {
	// MaxSteps bounds waves of invocations plus clock advances.
	// Default: 100000.
	MaxSteps int
	// MaxSimulatedTime bounds how far the clock may be moved from where
	// it was at the start. Default: 30 days.
	MaxSimulatedTime time.Duration
}

func (l *IdleLimits) setDefaults() {
	if l.MaxSteps == 0 {
		l.MaxSteps = 100_000
	}
	if l.MaxSimulatedTime == 0 {
		l.MaxSimulatedTime = 30 * 24 * time.Hour
	}
}

// Validate says what is wrong with the limits, after defaults.
func (l *IdleLimits) Validate() error {
	if l.MaxSteps < 0 || l.MaxSimulatedTime < 0 {
		return fmt.Errorf("%w: IdleLimits must not be negative", ErrInvalidConfig)
	}
	return nil
}

// settableClock is a clock RunUntilIdle can move (*clock.Fake).
type settableClock interface {
	Now() time.Time
	Set(time.Time)
}

// RunUntilIdle drives the functions on a fake clock until nothing is left
// for them. In each step it either runs a wave — every function takes up
// to MaxConcurrentCalls visible messages, the invocations run concurrently,
// then the messages are settled in the order received — or, when nothing
// is visible, sets the clock to the next scheduled message or lock expiry.
// It returns nil when the functions' queues and subscriptions hold nothing
// active, locked or scheduled (dead-lettered messages and unbound
// entities do not count), or an error wrapping ErrMaxSteps or
// ErrMaxSimulatedTime. Every source must be a BrokerSource on the host's
// clock, which must be settable (*clock.Fake).
//
// With a given Seed the function order, invocation ids and settlement
// order are the same in every run; sends the handler makes concurrently
// within one wave may still interleave differently (MaxConcurrentCalls 1
// removes that).
func (h *Host) RunUntilIdle(ctx context.Context, limits *IdleLimits) error {
	var l IdleLimits
	if limits != nil {
		l = *limits
	}
	l.setDefaults()
	if err := l.Validate(); err != nil {
		return err
	}
	clk, sources, err := h.steppable()
	if err != nil {
		return err
	}
	start := clk.Now()
	for steps := 0; ; steps++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if steps >= l.MaxSteps {
			return fmt.Errorf("%w: %d steps, simulated %v", ErrMaxSteps, l.MaxSteps, clk.Now().Sub(start))
		}
		if h.wave(ctx, sources) > 0 {
			continue
		}
		next, ok := nextDue(sources)
		if !ok {
			return nil
		}
		if next.Sub(start) > l.MaxSimulatedTime {
			return fmt.Errorf("%w: %v (next event at +%v, after %d steps)", ErrMaxSimulatedTime, l.MaxSimulatedTime, next.Sub(start), steps)
		}
		clk.Set(next)
	}
}

// steppable checks that RunUntilIdle can drive this host.
func (h *Host) steppable() (settableClock, []*BrokerSource, error) {
	clk, ok := h.cfg.Clock.(settableClock)
	if !ok {
		return nil, nil, fmt.Errorf("%w: HostConfig.Clock is %T", ErrNotSteppable, h.cfg.Clock)
	}
	sources := make([]*BrokerSource, len(h.cfg.Functions))
	for i, fn := range h.cfg.Functions {
		src, ok := fn.Source.(*BrokerSource)
		if !ok {
			return nil, nil, fmt.Errorf("%w: function %s reads a %T", ErrNotSteppable, fn.Name, fn.Source)
		}
		if src.b.clock != h.cfg.Clock {
			return nil, nil, fmt.Errorf("%w: function %s's broker runs on another clock", ErrNotSteppable, fn.Name)
		}
		sources[i] = src
	}
	return clk, sources, nil
}

// wave runs one round of invocations and returns how many it made.
func (h *Host) wave(ctx context.Context, sources []*BrokerSource) int {
	type job struct {
		fn  Function
		d   *Delivery
		id  string
		inv Invocation
	}
	var jobs []*job
	h.mu.Lock()
	order := h.rng.Perm(len(sources))
	h.mu.Unlock()
	for _, i := range order {
		for range h.cfg.MaxConcurrentCalls {
			d, ok := sources[i].tryReceive()
			if !ok {
				break
			}
			jobs = append(jobs, &job{fn: h.cfg.Functions[i], d: d, id: h.invocationID()})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.inv = h.invoke(ctx, j.fn, j.d, j.id) })
	}
	wg.Wait()
	for _, j := range jobs {
		h.settle(ctx, j.fn, j.d, &j.inv)
		h.report(j.fn, j.d, j.inv)
	}
	return len(jobs)
}

// nextDue is the earliest time any source has something to deliver.
func nextDue(sources []*BrokerSource) (time.Time, bool) {
	var times []time.Time
	for _, s := range sources {
		if t, ok := s.nextDue(); ok {
			times = append(times, t)
		}
	}
	if len(times) == 0 {
		return time.Time{}, false
	}
	return slices.MinFunc(times, time.Time.Compare), true
}
