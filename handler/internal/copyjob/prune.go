package copyjob

import (
	"fmt"
	"time"
)

// PruneInput is everything DecidePrune looks at.
type PruneInput struct {
	// Event is the Completed event that triggered the run.
	Event ChainEvent
	// History is the destination's snapshot list: the only evidence the
	// run acts on.
	History History
	Policy  RetentionPolicy
	// PruneSource also deletes source snapshots proven copied; Rules'
	// allowed sources bound where. SourceSnapshots is what the source
	// lists (read only when PruneSource).
	PruneSource     bool
	SourceSnapshots []time.Time
	Rules           Rules
}

// PruneDecision is what a retention run does.
type PruneDecision struct {
	// Skip says why the run deletes nothing; empty when it acts.
	Skip string
	// Newest is the chain's newest restore point. It is never deleted, and
	// its job key names the Pruned event.
	Newest CopiedSnapshot
	// Plan is the policy applied to the listed restore points.
	Plan RetentionPlan
	// Source is what source pruning deletes, planned from the same listing
	// before any restore point is deleted: the listing is the proof.
	Source SourcePrune
}

// DecidePrune plans a retention run. Only the run of the event that names
// the chain's newest restore point acts: the runs of older events would
// delete a subset of what it deletes (the policy is monotone as the chain
// grows newer), so letting them act would only make two runs delete the
// same snapshots at once; and a forged event naming no restore point does
// nothing at all.
func DecidePrune(in PruneInput) PruneDecision {
	newest, ok := in.History.Newest()
	if !ok {
		return PruneDecision{Skip: "the destination lists no restore points"}
	}
	d := PruneDecision{Newest: newest}
	if !sameSnapshot(newest.DestinationSnapshot, in.Event.DestinationSnapshot) {
		d.Skip = fmt.Sprintf("the event names destination snapshot %s but the chain's newest restore point is %s: the run of that restore point's own Completed event prunes the chain",
			in.Event.DestinationSnapshot, newest.DestinationSnapshot)
		return d
	}
	d.Plan = PlanRetention(in.History.RestorePoints(), in.Policy)
	if in.PruneSource {
		d.Source = PlanSourcePrune(in.History, in.SourceSnapshots, in.Rules)
	}
	return d
}

// Newest returns the restore point with the newest source snapshot (the
// newest destination snapshot among equals).
func (h History) Newest() (CopiedSnapshot, bool) {
	if len(h) == 0 {
		return CopiedSnapshot{}, false
	}
	newest := h[0]
	for _, c := range h[1:] {
		if c.SourceSnapshot.After(newest.SourceSnapshot) ||
			(c.SourceSnapshot.Equal(newest.SourceSnapshot) && snapshotTime(c.DestinationSnapshot).After(snapshotTime(newest.DestinationSnapshot))) {
			newest = c
		}
	}
	return newest, true
}

// RestorePoints are the listed snapshots as retention sees them.
func (h History) RestorePoints() []RestorePoint {
	out := make([]RestorePoint, len(h))
	for i, c := range h {
		out[i] = RestorePoint{SourceSnapshot: c.SourceSnapshot, DestinationSnapshot: c.DestinationSnapshot}
	}
	return out
}

// PrunedPoint is a restore point as a Pruned event lists it, with snapshot
// times in the service's layout and, for survivors, the rules that kept it.
type PrunedPoint struct {
	SourceSnapshot      string   `json:"sourceSnapshot"`
	DestinationSnapshot string   `json:"destinationSnapshot"`
	Reasons             []string `json:"reasons,omitempty"`
}

// Pruned returns p as an event lists it.
func (p RestorePoint) Pruned(reasons []string) PrunedPoint {
	return PrunedPoint{SourceSnapshot: FormatSnapshot(p.SourceSnapshot), DestinationSnapshot: normalizeSnapshot(p.DestinationSnapshot), Reasons: reasons}
}

// snapshotTime parses s, or returns the zero time for a malformed one (a
// listing's snapshot strings come from the service).
func snapshotTime(s string) time.Time {
	t, _ := ParseSnapshot(s)
	return t
}

// sameSnapshot compares two snapshot strings as times, so that spellings
// with fewer fractional digits match.
func sameSnapshot(a, b string) bool {
	ta, errA := ParseSnapshot(a)
	tb, errB := ParseSnapshot(b)
	return errA == nil && errB == nil && ta.Equal(tb)
}

func normalizeSnapshot(s string) string {
	if t, err := ParseSnapshot(s); err == nil {
		return FormatSnapshot(t)
	}
	return s
}

// Previous returns the restore point listed just before the one in
// destination snapshot s (by source snapshot, then destination snapshot):
// the base a new restore point's cost is measured against. ok is false for
// the first restore point of a chain.
func (h History) Previous(s string) (CopiedSnapshot, bool) {
	at := snapshotTime(s)
	var prev CopiedSnapshot
	found := false
	for _, c := range h {
		t := snapshotTime(c.DestinationSnapshot)
		if t.Before(at) && (!found || t.After(snapshotTime(prev.DestinationSnapshot))) {
			prev, found = c, true
		}
	}
	return prev, found
}
