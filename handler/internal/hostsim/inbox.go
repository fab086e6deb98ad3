package hostsim

import (
	"slices"
	"time"
)

// inbox is the send side of a queue or topic: duplicate detection,
// sequence numbers, scheduled messages, and the stores it delivers to (the
// queue's own, or each subscription's).
type inbox struct {
	name      string
	settings  SendSettings
	dedup     *dedup // nil when duplicate detection is off
	seq       int64
	scheduled []*ReceivedMessage // by due time, then scheduling number
	targets   []*store
	// history keeps every message a topic accepted, for inspection.
	history  []*ReceivedMessage
	isTopic  bool
	counters Counters
}

func newInbox(name string, s SendSettings, isTopic bool) *inbox {
	in := &inbox{name: name, settings: s, isTopic: isTopic}
	if !s.NoDuplicateDetection {
		in.dedup = newDedup(s.DuplicateDetectionWindow)
	}
	return in
}

// accept applies duplicate detection; a duplicate is counted and dropped.
func (in *inbox) accept(m *ReceivedMessage, now time.Time) bool {
	if in.dedup != nil && !in.dedup.accept(m.MessageID, now) {
		in.counters.Duplicates++
		return false
	}
	in.counters.Sent++
	return true
}

// record keeps a copy of what a topic accepted, once numbered.
func (in *inbox) record(m *ReceivedMessage) {
	if in.isTopic {
		in.history = append(in.history, m.clone())
	}
}

// enqueue makes m visible now: a new sequence number, enqueued time and
// expiry, and a copy in every target store.
func (in *inbox) enqueue(m *ReceivedMessage, now time.Time) {
	in.seq++
	m.SequenceNumber = in.seq
	m.EnqueuedTime = now
	m.ExpiresAt = time.Time{}
	if ttl := in.ttl(m.TimeToLive); ttl > 0 {
		m.ExpiresAt = now.Add(ttl)
	}
	for _, s := range in.targets {
		s.add(m.clone())
	}
}

// ttl caps a message's TTL at the entity default, as Service Bus does.
func (in *inbox) ttl(msg time.Duration) time.Duration {
	def := in.settings.DefaultTimeToLive
	switch {
	case msg <= 0:
		return def
	case def > 0 && def < msg:
		return def
	}
	return msg
}

// schedule holds m until due, numbered with a scheduling sequence number.
func (in *inbox) schedule(m *ReceivedMessage, due time.Time) {
	in.seq++
	m.SequenceNumber = in.seq
	m.ScheduledEnqueueTime = due
	i, _ := slices.BinarySearchFunc(in.scheduled, m, func(a, b *ReceivedMessage) int {
		if c := a.ScheduledEnqueueTime.Compare(b.ScheduledEnqueueTime); c != 0 {
			return c
		}
		return cmpInt64(a.SequenceNumber, b.SequenceNumber)
	})
	in.scheduled = slices.Insert(in.scheduled, i, m)
}

// activate enqueues scheduled messages that are due, in due order, each as
// if sent at its scheduled time. It reports whether any became visible.
func (in *inbox) activate(now time.Time) bool {
	n := 0
	for _, m := range in.scheduled {
		if m.ScheduledEnqueueTime.After(now) {
			break
		}
		in.enqueue(m, m.ScheduledEnqueueTime)
		n++
	}
	clear(in.scheduled[:n])
	in.scheduled = in.scheduled[n:]
	return n > 0
}

func (in *inbox) nextScheduled() (time.Time, bool) {
	if len(in.scheduled) == 0 {
		return time.Time{}, false
	}
	return in.scheduled[0].ScheduledEnqueueTime, true
}
