package busemu

import (
	"container/heap"
	"time"
)

// dueOrder holds a node's scheduled messages by (time, sequence number), so
// that what falls due next is found without scanning them all: a namespace
// with tens of thousands of scheduled polls is ticked on every operation.
// Cancelled messages stay in it until they reach the top; the node's
// scheduled map is the truth.
type dueOrder []*storedMessage

func (d dueOrder) Len() int { return len(d) }
func (d dueOrder) Less(i, j int) bool {
	if c := d[i].scheduledAt.Compare(d[j].scheduledAt); c != 0 {
		return c < 0
	}
	return d[i].seq < d[j].seq
}
func (d dueOrder) Swap(i, j int) { d[i], d[j] = d[j], d[i] }
func (d *dueOrder) Push(x any)   { *d = append(*d, x.(*storedMessage)) }
func (d *dueOrder) Pop() any {
	old := *d
	sm := old[len(old)-1]
	old[len(old)-1] = nil
	*d = old[:len(old)-1]
	return sm
}

// nextScheduled is the earliest scheduled message still scheduled, nil for
// none; cancelled ones it meets on the way are dropped.
func (n *node) nextScheduled() *storedMessage {
	for n.due.Len() > 0 {
		sm := n.due[0]
		if n.scheduled[sm.seq] == sm {
			return sm
		}
		heap.Pop(&n.due)
	}
	return nil
}

// nextScheduledAt is when the next scheduled message falls due, zero for none.
func (n *node) nextScheduledAt() time.Time {
	if sm := n.nextScheduled(); sm != nil {
		return sm.scheduledAt
	}
	return time.Time{}
}

// seenID is one accepted message id, in the order they were accepted.
type seenID struct {
	id string
	at time.Time
}
