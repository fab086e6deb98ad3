package copyjob

import (
	"errors"
	"sort"
	"time"
)

// ErrListForbidden is wrapped by storage adapters when the identity may not
// list the source's snapshots: gaps in the chain cannot be detected then.
var ErrListForbidden = errors.New("listing the source's snapshots is not permitted")

// NextMissing returns the oldest source snapshot strictly between the last
// copied one and the requested one. Incremental copy must go in ascending
// order, so copying the requested snapshot first would make every snapshot
// in between impossible to copy later: those restore points would be lost.
// A new chain (nothing copied yet) starts at the requested snapshot.
func NextMissing(lastCopied, requested time.Time, sourceSnapshots []time.Time) (time.Time, bool) {
	between := make([]time.Time, 0, len(sourceSnapshots))
	for _, s := range sourceSnapshots {
		if s.After(lastCopied) && s.Before(requested) {
			between = append(between, s)
		}
	}
	if len(between) == 0 {
		return time.Time{}, false
	}
	sort.Slice(between, func(i, j int) bool { return between[i].Before(between[j]) })
	return between[0], true
}
