package copyjob

import (
	"slices"
	"time"
)

// SourcePrune is what source pruning deletes after a retention run.
type SourcePrune struct {
	// Source is the chain's source blob, as the destination lists it.
	Source BlobRef
	// Snapshots are the source snapshots to delete, oldest first.
	Snapshots []time.Time
	// Skip says why nothing is deleted at the source, if so.
	Skip string
}

// PlanSourcePrune decides which source snapshots may go. The proof is the
// destination's snapshot list: a source snapshot is deleted only when a
// listed restore point was copied from it (its copy source names the
// chain's source blob and that snapshot) and it is older than the newest
// copied one. The newest copied snapshot stays, because the next
// incremental copy is computed against it; newer ones stay, because they
// are not copied yet. A snapshot the list does not show (never copied,
// superseded by a newer one, or its restore point pruned before) stays
// too: it may be a restore point that exists nowhere else, and nothing
// proves otherwise. The source blob must lie under an allowed source, so
// credentials go only where triggers may send them. Only snapshots the
// source still lists (existing) are deleted, so that a snapshot deleted by
// an earlier run is not deleted again.
func PlanSourcePrune(h History, existing []time.Time, rules Rules) SourcePrune {
	src, skip := ChainSource(h, rules)
	if skip != "" {
		return SourcePrune{Skip: skip}
	}
	newest, _ := h.Newest()
	p := SourcePrune{Source: src}
	for _, c := range h {
		if SameBlob(c.SourceBlobURL, src.URL) && c.SourceSnapshot.Before(newest.SourceSnapshot) &&
			slices.ContainsFunc(existing, c.SourceSnapshot.Equal) && !slices.ContainsFunc(p.Snapshots, c.SourceSnapshot.Equal) {
			p.Snapshots = append(p.Snapshots, c.SourceSnapshot)
		}
	}
	slices.SortFunc(p.Snapshots, time.Time.Compare)
	return p
}

// ChainSource is the chain's source blob as its newest restore point names
// it, when it lies under an allowed source (credentials go only where
// triggers may send them); otherwise skip says why there is none.
func ChainSource(h History, rules Rules) (src BlobRef, skip string) {
	newest, ok := h.Newest()
	if !ok {
		return BlobRef{}, "the destination lists no restore points"
	}
	src, query, err := ParseBlobURL(newest.SourceBlobURL)
	switch {
	case err != nil || len(query) > 0:
		return BlobRef{}, "the newest restore point's copy source is not a base blob URL"
	case !rules.SourceAllowed(src):
		return BlobRef{}, "source " + src.URL + " is not a storage host under an allowed source"
	}
	return src, ""
}
