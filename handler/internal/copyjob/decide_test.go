package copyjob

import (
	"errors"
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

// TestDecideStart covers every row of design §3 that DecideStart decides,
// for a SnapshotCreated of snapMid.
func TestDecideStart(t *testing.T) {
	notIncremental := Destination{Exists: true}
	otherSource := copyOf(snapOld, StatusSuccess)
	otherSource.CopySource = otherURL
	noSnapshot := copyOf(snapOld, StatusSuccess)
	noSnapshot.CopySourceSnapshot = time.Time{}
	upperHost := copyOf(snapOld, StatusSuccess)
	upperHost.CopySource = "https://SRC.blob.core.windows.net/disks/vm1.vhd"
	history := History{{SourceSnapshot: snapOld, DestinationSnapshot: "dst-old"}, {SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}

	cases := []struct {
		row          string
		dst          Destination
		history      History
		historyKnown bool
		want         StartDecision
	}{
		{"does not exist: first copy, full", Destination{}, nil, false, StartDecision{Action: StartCopy}},
		{"not an incremental-copy blob: DestinationConflict", notIncremental, nil, false, StartDecision{Action: Fail, Code: DestinationConflict}},
		{"incremental copy of another source: DestinationConflict", otherSource, nil, false, StartDecision{Action: Fail, Code: DestinationConflict}},
		{"incremental copy without a source snapshot: DestinationConflict", noSnapshot, nil, false, StartDecision{Action: Fail, Code: DestinationConflict}},
		{"same source, host in other case: diff copy", upperHost, nil, false, StartDecision{Action: StartCopy}},
		{"same source, last copied < requested, not pending: diff copy", copyOf(snapOld, StatusSuccess), nil, false, StartDecision{Action: StartCopy}},
		{"same source, last copied < requested, that copy failed: diff copy", copyOf(snapOld, StatusFailed), nil, false, StartDecision{Action: StartCopy}},
		{"same source, another snapshot pending: wait", copyOf(snapOld, StatusPending), nil, false, StartDecision{Action: WaitForOtherCopy}},
		{"last copied == requested, success: Completed again", copyOf(snapMid, StatusSuccess), nil, false,
			StartDecision{Action: AlreadyCompleted, DestinationSnapshot: "dst-" + FormatSnapshot(snapMid)}},
		{"requested pending: already ours, poll", copyOf(snapMid, StatusPending), nil, false,
			StartDecision{Action: AlreadyPending, CopyID: "copy-" + FormatSnapshot(snapMid)}},
		{"requested failed before: try again", copyOf(snapMid, StatusFailed), nil, false, StartDecision{Action: StartCopy}},
		{"requested aborted before: try again", copyOf(snapMid, StatusAborted), nil, false, StartDecision{Action: StartCopy}},
		{"last copied > requested, history not read: read it", copyOf(snapNew, StatusSuccess), nil, false, StartDecision{Action: NeedHistory}},
		{"last copied > requested, requested in history: Completed again", copyOf(snapNew, StatusSuccess), history, true,
			StartDecision{Action: AlreadyCompleted, DestinationSnapshot: "dst-mid"}},
		{"last copied > requested, not in history: Superseded", copyOf(snapNew, StatusSuccess), history[:1], true, StartDecision{Action: Supersede}},
		{"last copied > requested and pending, not in history: Superseded", copyOf(snapNew, StatusPending), nil, true, StartDecision{Action: Supersede}},
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
		})
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
		{"source re-created: ChainBroken with the remedy", StartError{Kind: StartErrChainBroken, Code: "IncrementalCopySourceMustBeSnapshot", Status: 409}, Fail, ChainBroken, ChainBrokenRemedy},
		{"source refused: SourceUnauthorized", StartError{Kind: StartErrSourceDenied, Code: "CannotVerifyCopySource", Status: 403}, Fail, SourceUnauthorized, "SAS"},
		{"source not a page-blob snapshot: InvalidSource", StartError{Kind: StartErrInvalidSource, Code: "InvalidSourceBlobType", Status: 409}, Fail, InvalidSource, "InvalidSourceBlobType"},
		{"throttled: retry, then RetriesExhausted", StartError{Kind: StartErrTransient, Code: "ServerBusy", Status: 503}, RetryLater, RetriesExhausted, "503 ServerBusy"},
		{"source not yet readable (RBAC propagating): retry, then SourceUnauthorized", StartError{Kind: StartErrTransient, Code: "CannotVerifyCopySource", Status: 403}, RetryLater, SourceUnauthorized, "CannotVerifyCopySource"},
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

// TestSettle: 2xx exactly when nothing is left to hand on; non-2xx only
// when nothing durable could be written.
func TestSettle(t *testing.T) {
	if s := Settle(nil); s != Complete || s.HTTPStatus() != 200 || s.String() != "complete" {
		t.Fatalf("Settle(nil) = %v (%d)", s, s.HTTPStatus())
	}
	if s := Settle(errors.New("Service Bus unreachable")); s != Retry || s.HTTPStatus() != 500 || s.String() != "retry" {
		t.Fatalf("Settle(err) = %v (%d)", s, s.HTTPStatus())
	}
}
