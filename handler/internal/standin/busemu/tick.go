package busemu

import (
	"maps"
	"slices"
	"time"
)

// idleTimerWait bounds how long the real-clock timer sleeps when nothing is
// due, so state added without a nudge is still noticed.
const idleTimerWait = time.Second

// Tick applies everything that has fallen due by the clock's current time:
// scheduled messages become visible, expired locks return their messages
// (counting a delivery), expired messages are dropped or dead-lettered, and
// waiting receivers get what is now available. Call it after moving a fake
// clock; with the real clock the broker ticks by itself. The broker also
// ticks whenever a receiver grants credit and before management operations.
func (b *Broker) Tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
}

func (b *Broker) tickLocked() {
	b.applyDue()
	b.nudge()
}

func (b *Broker) applyDue() {
	now := b.now()
	for _, name := range slices.Sorted(maps.Keys(b.nodes)) {
		n := b.nodes[name]
		n.activateDue(now)
		for _, s := range n.stores() {
			s.expireLocks(now)
			s.pump()
		}
	}
}

// nudge wakes the timer loop to recompute its deadline.
func (b *Broker) nudge() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// nextDueLocked is the earliest moment something falls due, zero if nothing.
func (b *Broker) nextDueLocked() time.Time {
	var due time.Time
	for _, n := range b.nodes {
		due = earliest(due, n.nextScheduledAt())
		for _, s := range n.stores() {
			due = earliest(due, s.nextDue())
		}
	}
	return due
}

// timerLoop ticks when the next thing falls due (real clock only).
func (b *Broker) timerLoop() {
	defer b.wg.Done()
	timer := time.NewTimer(idleTimerWait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		due := b.nextDueLocked()
		b.mu.Unlock()
		wait := idleTimerWait
		if !due.IsZero() {
			wait = min(max(due.Sub(b.now()), 0), idleTimerWait)
		}
		timer.Reset(wait)
		select {
		case <-b.done:
			return
		case <-b.wake:
			timer.Stop() // since Go 1.23 no stale tick can remain
			continue
		case <-timer.C:
		}
		b.mu.Lock()
		b.applyDue()
		b.mu.Unlock()
	}
}
