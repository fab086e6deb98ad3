package copyjob

import (
	"strings"
	"testing"
	"time"
)

// Times and blobs shared by the decision tables.
var (
	snapOld = time.Date(2026, 11, 24, 8, 0, 0, 100, time.UTC)
	snapMid = time.Date(2026, 11, 24, 9, 0, 0, 200, time.UTC)
	snapNew = time.Date(2026, 11, 24, 10, 0, 0, 300, time.UTC)
)

const (
	srcURL   = "https://src.blob.core.windows.net/disks/vm1.vhd"
	otherURL = "https://src.blob.core.windows.net/disks/vm2.vhd"
)

// copyOf is an incremental-copy destination whose last copy is of
// snapshot s with status st.
func copyOf(s time.Time, st CopyStatus) Destination {
	return Destination{Exists: true, Incremental: true, CopySource: srcURL, CopySourceSnapshot: s,
		CopyStatus: st, CopyID: "copy-" + FormatSnapshot(s), DestinationSnapshot: "dst-" + FormatSnapshot(s)}
}

// TestDecideStart covers every row of the decision table that DecideStart decides,
// for a SnapshotCreated of snapMid.
func TestDecideStart(t *testing.T) {
	notIncremental := Destination{Exists: true}
	otherSource := copyOf(snapOld, StatusSuccess)
	otherSource.CopySource = otherURL
	noSnapshot := copyOf(snapOld, StatusSuccess)
	noSnapshot.CopySourceSnapshot = time.Time{}
	upperHost := copyOf(snapOld, StatusSuccess)
	upperHost.CopySource = "https://SRC.blob.core.windows.net/disks/vm1.vhd"
	history := History{{SourceBlobURL: srcURL, SourceSnapshot: snapOld, DestinationSnapshot: "dst-old"}, {SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}
	// Boundaries: fields that must not change the row, 100 ns ordering,
	// equal instants in other time zones.
	tick := 100 * time.Nanosecond // the resolution of a snapshot time
	justBefore, justAfter := snapMid.Add(-tick), snapMid.Add(tick)

	absentButStale := copyOf(snapMid, StatusPending)
	absentButStale.Exists = false
	plainCopy := copyOf(snapMid, StatusSuccess) // Copy Blob, not incremental
	plainCopy.Incremental = false
	plainPending := copyOf(snapMid, StatusPending)
	plainPending.Incremental = false
	otherContainer := copyOf(snapOld, StatusSuccess)
	otherContainer.CopySource = "https://src.blob.core.windows.net/other/vm1.vhd"
	otherNameCase := copyOf(snapOld, StatusSuccess)
	otherNameCase.CopySource = "https://src.blob.core.windows.net/disks/VM1.vhd"
	noCopySource := copyOf(snapOld, StatusSuccess)
	noCopySource.CopySource = ""
	otherSourceSameSnapshot := copyOf(snapMid, StatusSuccess)
	otherSourceSameSnapshot.CopySource = otherURL
	statusNotReported := copyOf(snapOld, StatusNone)
	sameInstantElsewhere := copyOf(snapMid.In(time.FixedZone("UTC+5", 5*3600)), StatusSuccess)
	sameInstantElsewhere.DestinationSnapshot = "dst-mid"
	pendingSameInstantElsewhere := copyOf(snapMid.In(time.FixedZone("UTC-8", -8*3600)), StatusPending)
	pendingSameInstantElsewhere.CopyID = "copy-running"
	historyOfMid := History{{SourceBlobURL: srcURL, SourceSnapshot: snapOld, DestinationSnapshot: "dst-old"}, {SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}
	historyNearMiss := History{{SourceBlobURL: srcURL, SourceSnapshot: justBefore, DestinationSnapshot: "dst-before"}, {SourceBlobURL: srcURL, SourceSnapshot: justAfter, DestinationSnapshot: "dst-after"}}

	cases := []struct {
		row          string
		dst          Destination
		history      History
		historyKnown bool
		want         StartDecision
		reason       []string // parts the reason must contain
	}{
		{"does not exist: first copy, full", Destination{}, nil, false, StartDecision{Action: StartCopy}, nil},
		{"not an incremental-copy blob: DestinationConflict", notIncremental, nil, false, StartDecision{Action: Fail, Code: DestinationConflict}, nil},
		{"incremental copy of another source: DestinationConflict", otherSource, nil, false, StartDecision{Action: Fail, Code: DestinationConflict}, nil},
		{"incremental copy without a source snapshot: DestinationConflict", noSnapshot, nil, false, StartDecision{Action: Fail, Code: DestinationConflict}, nil},
		{"same source, host in other case: diff copy", upperHost, nil, false, StartDecision{Action: StartCopy}, nil},
		{"same source, last copied < requested, not pending: diff copy", copyOf(snapOld, StatusSuccess), nil, false, StartDecision{Action: StartCopy}, nil},
		{"same source, last copied < requested, that copy failed: diff copy", copyOf(snapOld, StatusFailed), nil, false, StartDecision{Action: StartCopy}, nil},
		{"same source, another snapshot pending: wait", copyOf(snapOld, StatusPending), nil, false, StartDecision{Action: WaitForOtherCopy}, nil},
		{"last copied == requested, success: Completed again", copyOf(snapMid, StatusSuccess), nil, false,
			StartDecision{Action: AlreadyCompleted, DestinationSnapshot: "dst-" + FormatSnapshot(snapMid)}, nil},
		{"requested pending: already ours, poll", copyOf(snapMid, StatusPending), nil, false,
			StartDecision{Action: AlreadyPending, CopyID: "copy-" + FormatSnapshot(snapMid)}, nil},
		{"requested failed before: try again", copyOf(snapMid, StatusFailed), nil, false, StartDecision{Action: StartCopy}, nil},
		{"requested aborted before: try again", copyOf(snapMid, StatusAborted), nil, false, StartDecision{Action: StartCopy}, nil},
		{"last copied > requested, history not read: read it", copyOf(snapNew, StatusSuccess), nil, false, StartDecision{Action: NeedHistory}, nil},
		{"last copied > requested, requested in history: Completed again", copyOf(snapNew, StatusSuccess), history, true,
			StartDecision{Action: AlreadyCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"last copied > requested, not in history: Superseded", copyOf(snapNew, StatusSuccess), history[:1], true, StartDecision{Action: Supersede}, nil},
		{"last copied > requested and pending, not in history: Superseded", copyOf(snapNew, StatusPending), nil, true, StartDecision{Action: Supersede}, nil},
		{"row does-not-exist: stale copy properties of an absent blob are ignored", absentButStale, nil, false,
			StartDecision{Action: StartCopy}, nil},
		{"row not-incremental: a plain copy of this very snapshot is still DestinationConflict", plainCopy, nil, false,
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{"not an incremental-copy blob", "never modifies"}},
		{"row not-incremental: a pending plain copy is not ours to poll", plainPending, nil, false,
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{"not an incremental-copy blob"}},
		{"row other-source: another container is DestinationConflict naming it", otherContainer, nil, false,
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{"https://src.blob.core.windows.net/other/vm1.vhd"}},
		{"row other-source: blob names are case-sensitive", otherNameCase, nil, false,
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{"disks/VM1.vhd"}},
		{"row other-source: no x-ms-copy-source at all", noCopySource, nil, false,
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{"another source"}},
		{"row other-source: same snapshot time of another blob is not Completed", otherSourceSameSnapshot, nil, false,
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{otherURL}},
		{"row last<requested not pending: 100 ns older, success: diff copy", copyOf(justBefore, StatusSuccess), nil, false,
			StartDecision{Action: StartCopy}, nil},
		{"row last<requested not pending: last copy aborted: diff copy", copyOf(snapOld, StatusAborted), nil, false,
			StartDecision{Action: StartCopy}, nil},
		{"row last<requested not pending: no status reported: diff copy", statusNotReported, nil, false,
			StartDecision{Action: StartCopy}, nil},
		{"row last<requested not pending: history is not consulted", copyOf(snapOld, StatusSuccess), historyOfMid, true,
			StartDecision{Action: StartCopy}, nil},
		{"row another-pending: 100 ns older snapshot pending: wait, naming it", copyOf(justBefore, StatusPending), nil, false,
			StartDecision{Action: WaitForOtherCopy}, []string{FormatSnapshot(justBefore), "pending"}},
		{"row another-pending: wait names the pending snapshot", copyOf(snapOld, StatusPending), nil, false,
			StartDecision{Action: WaitForOtherCopy}, []string{"2026-11-24T08:00:00.0000001Z"}},
		{"row last==requested success: equal instant in another zone: Completed again", sameInstantElsewhere, nil, false,
			StartDecision{Action: AlreadyCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"row requested-pending: equal instant in another zone: already ours", pendingSameInstantElsewhere, nil, false,
			StartDecision{Action: AlreadyPending, CopyID: "copy-running"}, nil},
		{"row last>requested: 100 ns newer, history unknown: read history", copyOf(justAfter, StatusSuccess), nil, false,
			StartDecision{Action: NeedHistory}, nil},
		{"row last>requested: newer copy failed, history unknown: read history", copyOf(snapNew, StatusFailed), nil, false,
			StartDecision{Action: NeedHistory}, nil},
		{"row last>requested: newer copy pending, requested in history: Completed again", copyOf(snapNew, StatusPending), historyOfMid, true,
			StartDecision{Action: AlreadyCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"row last>requested: history read and empty: Superseded naming the newer snapshot", copyOf(snapNew, StatusSuccess), History{}, true,
			StartDecision{Action: Supersede}, []string{"2026-11-24T10:00:00.0000003Z", "ascending"}},
		{"row last>requested: history has only neighbours 100 ns away: Superseded", copyOf(snapNew, StatusSuccess), historyNearMiss, true,
			StartDecision{Action: Supersede}, []string{FormatSnapshot(snapNew)}},
	}
	for _, c := range cases {
		t.Run(c.row, func(t *testing.T) {
			got := DecideStart(StartInput{Source: srcURL, Snapshot: snapMid, Destination: c.dst, History: c.history, HistoryKnown: c.historyKnown})
			if got.Action != c.want.Action || got.Code != c.want.Code || got.CopyID != c.want.CopyID || got.DestinationSnapshot != c.want.DestinationSnapshot {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if (got.Action == Fail || got.Action == Supersede || got.Action == WaitForOtherCopy) && got.Reason == "" {
				t.Fatalf("%v without a reason", got.Action)
			}
			for _, part := range c.reason {
				if !strings.Contains(got.Reason, part) {
					t.Errorf("reason %q does not contain %q", got.Reason, part)
				}
			}
		})
	}
}

// TestDecideStartRequestedAsURLVariant: the requested source may be spelled
// with another host case or a trailing query (the trigger keeps the URL
// without query, but DecideStart must not depend on it); the row is still
// "same source".
func TestDecideStartRequestedAsURLVariant(t *testing.T) {
	for _, source := range []string{
		"HTTPS://SRC.BLOB.CORE.WINDOWS.NET/disks/vm1.vhd",
		srcURL + "?snapshot=" + FormatSnapshot(snapMid),
	} {
		got := DecideStart(StartInput{Source: source, Snapshot: snapMid, Destination: copyOf(snapOld, StatusSuccess)})
		if got.Action != StartCopy {
			t.Errorf("row last<requested not pending, requested as %s: got %+v, want StartCopy", source, got)
		}
	}
}

// TestDecideStartCompletedWithoutDestinationSnapshot: the row "last copied
// == requested, success → publish Completed again" must give the event its
// destinationSnapshot (a Completed event always carries it). When the base blob's
// properties lack x-ms-copy-destination-snapshot, the destination's
// snapshots name it, as in DecidePoll; if they do not, the job fails as
// CopyLost rather than publishing a Completed without it (whose id, shared
// with the poll's, would let duplicate detection drop a correct one).
func TestDecideStartCompletedWithoutDestinationSnapshot(t *testing.T) {
	noHeader := copyOf(snapMid, StatusSuccess)
	noHeader.DestinationSnapshot = ""
	got := DecideStart(StartInput{Source: srcURL, Snapshot: snapMid, Destination: noHeader})
	if got.Action != NeedHistory {
		t.Fatalf("history unknown: got %+v, want NeedHistory", got)
	}
	got = DecideStart(StartInput{Source: srcURL, Snapshot: snapMid, Destination: noHeader, HistoryKnown: true,
		History: History{{SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}})
	if got.Action != AlreadyCompleted || got.DestinationSnapshot != "dst-mid" {
		t.Fatalf("history known: got %+v, want AlreadyCompleted dst-mid", got)
	}
	got = DecideStart(StartInput{Source: srcURL, Snapshot: snapMid, Destination: noHeader, HistoryKnown: true})
	if got.Action != Fail || got.Code != CopyLost || got.Reason == "" {
		t.Fatalf("not in history: got %+v, want Failed CopyLost", got)
	}
}

func TestSameBlob(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{srcURL, srcURL, true},
		{srcURL, "HTTPS://Src.Blob.Core.Windows.Net/disks/vm1.vhd", true},
		{srcURL, "https://src.blob.core.windows.net/disks/VM1.vhd", false}, // blob names are case-sensitive
		{srcURL, "https://src.blob.core.windows.net/other/vm1.vhd", false},
		{srcURL, otherURL, false},
		{srcURL, "not a url", false},
	}
	for _, c := range cases {
		if got := SameBlob(c.a, c.b); got != c.want {
			t.Errorf("SameBlob(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestNextMissing is the gap row: snapshots between the last copied and
// the requested one are copied first, oldest first.
func TestNextMissing(t *testing.T) {
	between1 := snapOld.Add(10 * time.Minute)
	between2 := snapOld.Add(20 * time.Minute)
	cases := []struct {
		name   string
		source []time.Time
		want   time.Time
		found  bool
	}{
		{"no snapshots in between", []time.Time{snapOld, snapNew}, time.Time{}, false},
		{"one in between", []time.Time{snapOld, between1, snapNew}, between1, true},
		{"several, listed out of order: the oldest", []time.Time{snapNew, between2, snapOld, between1}, between1, true},
		{"bounds are exclusive", []time.Time{snapOld, snapNew}, time.Time{}, false},
		{"older than the last copied: not missing", []time.Time{snapOld.Add(-time.Hour)}, time.Time{}, false},
		{"newer than requested: not missing", []time.Time{snapNew.Add(time.Hour)}, time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, found := NextMissing(snapOld, snapNew, c.source)
			if found != c.found || !got.Equal(c.want) {
				t.Fatalf("NextMissing = %v %v, want %v %v", got, found, c.want, c.found)
			}
		})
	}
}

// TestDecideStartError maps every kind of start refusal to its row.
func TestDecideStartError(t *testing.T) {
	cases := []struct {
		row    string
		err    StartError
		action StartAction
		code   FailureCode
		reason string // a part the reason must contain
	}{
		{"PendingCopyOperation: our copy already started", StartError{Kind: StartErrPending, Code: "PendingCopyOperation", Status: 409}, AlreadyPending, "", ""},
		{"earlier snapshot (historic spelling): Superseded", StartError{Kind: StartErrEarlier, Code: "IncrementalCopyOfEralierVersionSnapshotNotAllowed", Status: 409}, Supersede, "", "IncrementalCopyOfEralierVersionSnapshotNotAllowed"},
		{"earlier snapshot (corrected spelling): Superseded", StartError{Kind: StartErrEarlier, Code: "IncrementalCopyOfEarlierVersionSnapshotNotAllowed", Status: 409}, Supersede, "", "Earlier"},
		{"earlier snapshot (short form): Superseded", StartError{Kind: StartErrEarlier, Code: "IncrementalCopyOfEarlierSnapshotNotAllowed", Status: 409}, Supersede, "", "EarlierSnapshot"},
		{"destination bound elsewhere: DestinationConflict", StartError{Kind: StartErrConflict, Code: "IncrementalCopyBlobMismatch", Status: 409}, Fail, DestinationConflict, "IncrementalCopyBlobMismatch"},
		{"source re-created: ChainBroken with the remedy", StartError{Kind: StartErrChainBroken, Code: "BlobOverwritten", Status: 409}, Fail, ChainBroken, ChainBrokenRemedy},
		{"source refused: SourceUnauthorized", StartError{Kind: StartErrSourceDenied, Code: "CannotVerifyCopySource", Status: 403}, Fail, SourceUnauthorized, "SAS"},
		{"source not a page-blob snapshot: InvalidSource", StartError{Kind: StartErrInvalidSource, Code: "InvalidSourceBlobType", Status: 409}, Fail, InvalidSource, "InvalidSourceBlobType"},
		{"throttled: retry, then RetriesExhausted", StartError{Kind: StartErrTransient, Code: "ServerBusy", Status: 503}, RetryLater, RetriesExhausted, "503 ServerBusy"},
		{"source not verified in time (500): retry, then SourceUnauthorized", StartError{Kind: StartErrTransient, Code: "CannotVerifyCopySource", Status: 500}, RetryLater, SourceUnauthorized, "CannotVerifyCopySource"},
		{"anything else: Failed CopyRejected", StartError{Kind: StartErrOther, Code: "Weird", Status: 400}, Fail, CopyRejected, "400 Weird"},
	}
	for _, c := range cases {
		t.Run(c.row, func(t *testing.T) {
			got := DecideStartError(&c.err)
			if got.Action != c.action || got.Code != c.code || !strings.Contains(got.Reason, c.reason) {
				t.Fatalf("got %+v, want action %v code %q reason containing %q", got, c.action, c.code, c.reason)
			}
		})
	}
}
