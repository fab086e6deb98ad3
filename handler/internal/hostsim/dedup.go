package hostsim

import "time"

// dedup remembers the MessageIds an entity accepted within its duplicate
// detection window. Service Bus compares only app-set MessageIds and
// accepts a duplicate send without storing it (platform-notes §3.3).
type dedup struct {
	window time.Duration
	seen   map[string]time.Time
	// order lists ids by acceptance time so expired ones are pruned from
	// the front instead of scanning the map.
	order []seenID
}

type seenID struct {
	id string
	at time.Time
}

func newDedup(window time.Duration) *dedup {
	return &dedup{window: window, seen: map[string]time.Time{}}
}

// accept reports whether id is new within the window, and remembers it.
func (d *dedup) accept(id string, now time.Time) bool {
	d.prune(now)
	if _, dup := d.seen[id]; dup {
		return false
	}
	d.seen[id] = now
	d.order = append(d.order, seenID{id, now})
	return true
}

func (d *dedup) prune(now time.Time) {
	n := 0
	for _, s := range d.order {
		if now.Sub(s.at) < d.window {
			break
		}
		if d.seen[s.id].Equal(s.at) {
			delete(d.seen, s.id)
		}
		n++
	}
	d.order = d.order[n:]
}
