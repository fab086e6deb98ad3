package copyjob

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestNextMissingBoundaries adds to TestNextMissing (row "gap") the cases at
// the bounds and with untidy listings.
func TestNextMissingBoundaries(t *testing.T) {
	tick := 100 * time.Nanosecond
	a := snapOld.Add(10 * time.Minute)
	b := snapOld.Add(20 * time.Minute)
	cases := []struct {
		name   string
		last   time.Time
		source []time.Time
		want   time.Time
		found  bool
	}{
		{"row gap: nothing listed", snapOld, nil, time.Time{}, false},
		{"row gap: 100 ns after the last copied is missing", snapOld, []time.Time{snapOld, snapOld.Add(tick), snapNew}, snapOld.Add(tick), true},
		{"row gap: 100 ns before the requested is missing", snapOld, []time.Time{snapOld, snapNew.Add(-tick), snapNew}, snapNew.Add(-tick), true},
		{"row gap: listed twice, found once", snapOld, []time.Time{b, a, b, a}, a, true},
		{"row gap: the bounds in another zone are still the bounds", snapOld,
			[]time.Time{snapOld.In(time.FixedZone("UTC+1", 3600)), snapNew.In(time.FixedZone("UTC-3", -3*3600))}, time.Time{}, false},
		{"row gap: older and newer ones around a missing one", snapOld,
			[]time.Time{snapOld.Add(-time.Hour), snapNew.Add(time.Hour), b, snapOld, snapNew}, b, true},
		{"row gap: last copied == requested leaves nothing between", snapNew, []time.Time{a, b}, time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, found := NextMissing(c.last, snapNew, c.source)
			if found != c.found || !got.Equal(c.want) {
				t.Fatalf("NextMissing = %v %v, want %v %v", got, found, c.want, c.found)
			}
		})
	}
}

// TestGapCatchUpChain walks row "gap" through the pure decisions the worker
// combines: with two snapshots missing between the last copied and the
// requested one, the chain copies them oldest first and the requested one
// last, never skipping one; while a catch-up copy is pending the requested
// trigger waits (row "another snapshot pending").
func TestGapCatchUpChain(t *testing.T) {
	a := snapOld.Add(10 * time.Minute)
	b := snapOld.Add(20 * time.Minute)
	source := []time.Time{snapNew, b, snapOld, a} // as listed, unordered
	dst := copyOf(snapOld, StatusSuccess)

	var copied []time.Time
	for step := 0; step < 5; step++ {
		if got := DecideStart(StartInput{Source: srcURL, Snapshot: snapNew, Destination: dst}); got.Action != StartCopy {
			t.Fatalf("step %d: requested snapshot with %s copied last: %+v, want StartCopy", step, FormatSnapshot(dst.CopySourceSnapshot), got)
		}
		next := snapNew
		if missing, ok := NextMissing(dst.CopySourceSnapshot, snapNew, source); ok {
			next = missing
			if got := DecideStart(StartInput{Source: srcURL, Snapshot: missing, Destination: dst}); got.Action != StartCopy {
				t.Fatalf("step %d: missed snapshot %s: %+v, want StartCopy", step, FormatSnapshot(missing), got)
			}
		}
		// The copy of next runs: the requested trigger, seen again, waits.
		dst = copyOf(next, StatusPending)
		if !next.Equal(snapNew) {
			if got := DecideStart(StartInput{Source: srcURL, Snapshot: snapNew, Destination: dst}); got.Action != WaitForOtherCopy {
				t.Fatalf("step %d: while %s is copied: %+v, want WaitForOtherCopy", step, FormatSnapshot(next), got)
			}
		}
		dst = copyOf(next, StatusSuccess)
		copied = append(copied, next)
		if next.Equal(snapNew) {
			break
		}
	}
	want := []time.Time{a, b, snapNew}
	if fmt.Sprint(copied) != fmt.Sprint(want) {
		t.Fatalf("copied %v, want %v", copied, want)
	}
	got := DecideStart(StartInput{Source: srcURL, Snapshot: snapNew, Destination: dst})
	if got.Action != AlreadyCompleted || got.DestinationSnapshot != "dst-"+FormatSnapshot(snapNew) {
		t.Fatalf("requested trigger after the chain caught up: %+v, want AlreadyCompleted", got)
	}
}

// TestGapUncheckedEvent: row "gap … listing forbidden". The storage adapter
// wraps ErrListForbidden (blobstore: "%w: %w"); the worker recognises it
// with errors.Is and publishes a GapUnchecked event whose id is
// deterministic per job, so a redelivered trigger's event is deduplicated.
func TestGapUncheckedEvent(t *testing.T) {
	wrapped := fmt.Errorf("%w: %w", ErrListForbidden, errors.New("403 AuthorizationPermissionMismatch"))
	if !errors.Is(wrapped, ErrListForbidden) {
		t.Fatal("a wrapped ErrListForbidden is not recognised: the gap would be treated as a listing failure")
	}
	if errors.Is(errors.New("listing the source's snapshots is not permitted"), ErrListForbidden) {
		t.Fatal("matched on text rather than identity")
	}

	job := NewJob(srcURL, FormatSnapshot(snapNew), "https://dst.blob.core.windows.net/backups/vm1.vhd")
	at := snapNew.Add(time.Minute)
	ev := JobEvent(job, GapUnchecked, at, EventData{PreviousSnapshot: FormatSnapshot(snapOld), FailureDescription: "not listed"})
	again := JobEvent(job, GapUnchecked, at.Add(time.Hour), EventData{PreviousSnapshot: FormatSnapshot(snapOld)})
	if ev.ID != job.Key+"/GapUnchecked" || again.ID != ev.ID {
		t.Fatalf("ids %q and %q, want both %q", ev.ID, again.ID, job.Key+"/GapUnchecked")
	}
	if ev.Outcome != GapUnchecked || ev.Subject != "/backups/vm1.vhd" {
		t.Fatalf("outcome %q subject %q", ev.Outcome, ev.Subject)
	}
	d := ev.Data
	if d.PreviousSnapshot != "2026-11-24T08:00:00.0000001Z" || d.SourceSnapshot != "2026-11-24T10:00:00.0000003Z" ||
		d.SourceBlobURL != srcURL || d.DestinationBlobURL != "https://dst.blob.core.windows.net/backups/vm1.vhd" || d.JobKey != job.Key {
		t.Fatalf("data %+v", d)
	}
}
