package copyjob

import (
	"fmt"
	"strings"
	"time"
)

// StartAction is what to do with a SnapshotCreated after reading the
// destination.
type StartAction int

// Start actions, one per row group of the decision table (README "What happens to a SnapshotCreated").
const (
	// StartCopy: start an incremental copy of the requested snapshot.
	StartCopy StartAction = iota + 1
	// AlreadyCompleted: the snapshot was copied; publish Completed again
	// (same event id, so duplicate detection drops it if already sent).
	AlreadyCompleted
	// AlreadyPending: our copy is running (a redelivery); schedule a poll.
	AlreadyPending
	// WaitForOtherCopy: an earlier snapshot's copy is running; defer the
	// trigger with back-off.
	WaitForOtherCopy
	// NeedHistory: look up the destination's snapshots and decide again.
	NeedHistory
	// Supersede: a newer snapshot was already copied; publish Superseded.
	Supersede
	// Fail: publish Failed with Code.
	Fail
	// RetryLater: a transient error; defer the trigger within its budget.
	RetryLater
)

// StartDecision is the result of DecideStart.
type StartDecision struct {
	Action StartAction
	// Code and Reason explain Fail, Supersede and RetryLater.
	Code   FailureCode
	Reason string
	// CopyID is the running copy for AlreadyPending.
	CopyID string
	// DestinationSnapshot is the copy's result for AlreadyCompleted, and
	// BytesCopied what it moved (nil when the service does not say).
	DestinationSnapshot string
	BytesCopied         *int64
}

// StartInput is everything DecideStart looks at.
type StartInput struct {
	// Source is the requested source base blob URL.
	Source string
	// Snapshot is the requested source snapshot.
	Snapshot time.Time
	// Destination is the destination's current properties.
	Destination Destination
	// History is the destination's snapshots, valid when HistoryKnown.
	History      History
	HistoryKnown bool
}

// DecideStart is the decision table (README "What happens to a
// SnapshotCreated") for one SnapshotCreated.
func DecideStart(in StartInput) StartDecision {
	d := in.Destination
	switch {
	case !d.Exists:
		return StartDecision{Action: StartCopy}
	case !d.Incremental:
		return StartDecision{Action: Fail, Code: DestinationConflict,
			Reason: "the destination exists and is not an incremental-copy blob; snapcopy never modifies it"}
	case !SameBlob(d.CopySource, in.Source) || d.CopySourceSnapshot.IsZero():
		return StartDecision{Action: Fail, Code: DestinationConflict,
			Reason: fmt.Sprintf("the destination is an incremental copy of another source (%s); it is bound to that source", d.CopySource)}
	}
	last := d.CopySourceSnapshot
	switch {
	case last.Equal(in.Snapshot):
		switch d.CopyStatus {
		case StatusSuccess:
			if d.DestinationSnapshot != "" {
				return alreadyCompleted(in, d.DestinationSnapshot)
			}
			// Completed must name the destination snapshot; without the
			// header only the destination's snapshots can.
			return completedFromHistory(in)
		case StatusPending:
			return StartDecision{Action: AlreadyPending, CopyID: d.CopyID}
		default:
			// The last attempt of this very snapshot failed or was aborted:
			// a new trigger for it is a request to try again.
			return StartDecision{Action: StartCopy}
		}
	case last.Before(in.Snapshot):
		if d.CopyStatus == StatusPending {
			return StartDecision{Action: WaitForOtherCopy,
				Reason: fmt.Sprintf("the copy of earlier snapshot %s is still pending", FormatSnapshot(last))}
		}
		return StartDecision{Action: StartCopy}
	default:
		// A newer snapshot was copied last. This snapshot may have been
		// copied before it (a late redelivery): only history can tell.
		if !in.HistoryKnown {
			return StartDecision{Action: NeedHistory}
		}
		if c, ok := in.History.Find(in.Source, in.Snapshot); ok {
			return alreadyCompleted(in, c.DestinationSnapshot)
		}
		return StartDecision{Action: Supersede,
			Reason: fmt.Sprintf("newer snapshot %s was already copied; the service only copies snapshots in ascending order", FormatSnapshot(last))}
	}
}

// completedFromHistory is the outcome of a copy of the requested snapshot
// that succeeded without naming its destination snapshot.
func completedFromHistory(in StartInput) StartDecision {
	if !in.HistoryKnown {
		return StartDecision{Action: NeedHistory}
	}
	if c, ok := in.History.Find(in.Source, in.Snapshot); ok {
		return alreadyCompleted(in, c.DestinationSnapshot)
	}
	return StartDecision{Action: Fail, Code: CopyLost, Reason: missingSnapshotReason}
}

// alreadyCompleted is the decision to publish Completed again for
// destination snapshot snap, with the figures the service still reports.
func alreadyCompleted(in StartInput, snap string) StartDecision {
	return StartDecision{Action: AlreadyCompleted, DestinationSnapshot: snap, BytesCopied: BytesCopied(in.Destination, in.History, in.Source, in.Snapshot)}
}

// missingSnapshotReason explains a successful copy whose destination
// snapshot cannot be found.
const missingSnapshotReason = "the copy reported success but the destination has no snapshot of this source snapshot (x-ms-copy-destination-snapshot was absent and the snapshot list does not show one)"

// SameBlob compares two base blob URLs: scheme and host case-insensitively,
// the path exactly (blob names are case-sensitive).
func SameBlob(a, b string) bool {
	ra, _, errA := ParseBlobURL(a)
	rb, _, errB := ParseBlobURL(b)
	if errA != nil || errB != nil {
		return false
	}
	return strings.EqualFold(ra.URL, rb.URL) && ra.Container == rb.Container && ra.Name == rb.Name
}
