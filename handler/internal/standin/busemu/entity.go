package busemu

import (
	"container/heap"
	"maps"
	"reflect"
	"slices"
	"time"
)

// node is a queue or topic: what a client sends to. It owns sequence
// numbers, duplicate detection and scheduled messages.
type node struct {
	name       string
	seq        int64
	dedup      bool
	window     time.Duration
	seen       map[string]time.Time // message id → first accepted
	seenOrder  []seenID             // the same, oldest first, to forget expired ids without a scan
	defaultTTL time.Duration
	scheduled  map[int64]*storedMessage
	due        dueOrder                 // scheduled, by due time
	queue      *store                   // set for a queue
	subs       map[string]*subscription // set for a topic
}

type subscription struct {
	name   string
	filter *CorrelationFilter
	store  *store
}

func (n *node) isTopic() bool { return n.queue == nil }

func (n *node) nextSeq() int64 {
	n.seq++
	return n.seq
}

// isDuplicate records id and reports whether it was already seen within the
// duplicate-detection window. Messages without an id are never duplicates.
func (n *node) isDuplicate(id string, now time.Time) bool {
	if !n.dedup || id == "" {
		return false
	}
	for len(n.seenOrder) > 0 && now.Sub(n.seenOrder[0].at) >= n.window {
		old := n.seenOrder[0]
		if n.seen[old.id].Equal(old.at) {
			delete(n.seen, old.id)
		}
		n.seenOrder = n.seenOrder[1:]
	}
	if _, dup := n.seen[id]; dup {
		return true
	}
	n.seen[id] = now
	n.seenOrder = append(n.seenOrder, seenID{id, now})
	return false
}

// accept takes a message a client sent: drops duplicates, schedules it when
// it carries a future x-opt-scheduled-enqueue-time, else enqueues it.
func (n *node) accept(m *message, now time.Time) {
	if n.isDuplicate(m.messageID(), now) {
		return
	}
	if at, ok := scheduledTime(m); ok && at.After(now) {
		n.schedule(m, at)
		return
	}
	n.enqueue(m, now)
}

// schedule holds m until at and returns its scheduling sequence number.
func (n *node) schedule(m *message, at time.Time) int64 {
	seq := n.nextSeq()
	sm := &storedMessage{msg: m, seq: seq, scheduledAt: at}
	n.scheduled[seq] = sm
	heap.Push(&n.due, sm)
	return seq
}

// enqueue makes m visible, with a fresh sequence number, in the queue or in
// every subscription whose filter matches.
func (n *node) enqueue(m *message, now time.Time) {
	seq := n.nextSeq()
	if n.queue != nil {
		n.queue.add(newStored(m, seq, now, n.queue.ttlFor(m, n.defaultTTL)))
		return
	}
	for _, name := range slices.Sorted(maps.Keys(n.subs)) {
		sub := n.subs[name]
		if sub.filter.matches(m) {
			sub.store.add(newStored(m.clone(), seq, now, sub.store.ttlFor(m, n.defaultTTL)))
		}
	}
}

// activateDue enqueues scheduled messages whose time has come, oldest first.
func (n *node) activateDue(now time.Time) {
	for sm := n.nextScheduled(); sm != nil && !sm.scheduledAt.After(now); sm = n.nextScheduled() {
		heap.Pop(&n.due)
		delete(n.scheduled, sm.seq)
		n.enqueue(sm.msg, now)
	}
}

// stores lists the node's receivable stores, including dead-letter queues.
func (n *node) stores() []*store {
	var out []*store
	if n.queue != nil {
		out = append(out, n.queue, n.queue.dlq)
	}
	for _, name := range slices.Sorted(maps.Keys(n.subs)) {
		out = append(out, n.subs[name].store, n.subs[name].store.dlq)
	}
	return out
}

func scheduledTime(m *message) (time.Time, bool) {
	v, ok := m.annotations.Get(annScheduledEnqueueTime)
	if !ok {
		return time.Time{}, false
	}
	return asTime(v)
}

func (f *CorrelationFilter) matches(m *message) bool {
	if f == nil {
		return true
	}
	if f.Subject != "" && f.Subject != m.subject() {
		return false
	}
	if f.CorrelationID != "" && f.CorrelationID != asString(m.property(propCorrelationID)) {
		return false
	}
	for k, want := range f.ApplicationProperties {
		if got, ok := m.appProperties.Get(k); !ok || !reflect.DeepEqual(got, want) {
			return false
		}
	}
	return true
}
