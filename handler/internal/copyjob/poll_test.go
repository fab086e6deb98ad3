package copyjob

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// pollOf is a valid poll message for the copy of snapMid to dst.
func pollOf(copyID string, started time.Time) PollMessage {
	const dst = "https://dst.blob.core.windows.net/backups/vm1.vhd"
	snap := FormatSnapshot(snapMid)
	return PollMessage{Version: PollMessageVersion, Job: Job{Key: JobKey(dst, snap), SourceBlobURL: srcURL, DestinationBlobURL: dst, Snapshot: snap},
		CopyID: copyID, Attempt: 3, StartedAt: started, Deadline: started.Add(time.Hour)}
}

func TestDecidePoll(t *testing.T) {
	started := snapMid.Add(time.Minute)
	before, after := started.Add(30*time.Minute), started.Add(2*time.Hour)
	ours := copyOf(snapMid, StatusPending)
	msg := pollOf(ours.CopyID, started)
	with := func(st CopyStatus, desc, dstSnap string) Destination {
		d := copyOf(snapMid, st)
		d.StatusDescription, d.DestinationSnapshot = desc, dstSnap
		return d
	}
	replaced := copyOf(snapNew, StatusPending)
	history := History{{SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}
	// For the cases where two rules could apply.
	justBefore, past := msg.Deadline.Add(-time.Nanosecond), msg.Deadline.Add(time.Hour)
	sameSnapshotOtherID := copyOf(snapMid, StatusSuccess) // a second copy of our snapshot
	sameSnapshotOtherID.CopyID = "copy-second"
	sameSnapshotOtherID.DestinationSnapshot = "dst-second"
	replacedDone := copyOf(snapNew, StatusSuccess)
	historyMid := History{{SourceBlobURL: srcURL, SourceSnapshot: snapOld, DestinationSnapshot: "dst-old"}, {SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}
	unknownStatus := copyOf(snapMid, CopyStatus("queued"))
	historyNewer := History{{SourceBlobURL: srcURL, SourceSnapshot: snapNew, DestinationSnapshot: "dst-new"}}
	historyNewerElsewhere := History{{SourceBlobURL: otherURL, SourceSnapshot: snapNew, DestinationSnapshot: "dst-new"}}

	cases := []struct {
		name         string
		dst          Destination
		now          time.Time
		history      History
		historyKnown bool
		abort        bool
		retention    bool
		want         PollDecision
		reason       []string // parts the reason must contain
	}{
		{"pending before the deadline: poll again", ours, before, nil, false, false, false, PollDecision{Action: PollAgain}, nil},
		{"success: Completed with the destination snapshot", with(StatusSuccess, "", "dst-1"), before, nil, false, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-1"}, nil},
		{"success past the deadline still counts", with(StatusSuccess, "", "dst-1"), after, nil, false, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-1"}, nil},
		{"success without x-ms-copy-destination-snapshot: read history", with(StatusSuccess, "", ""), before, nil, false, false, false,
			PollDecision{Action: PollNeedHistory}, nil},
		{"success without it, history read: its snapshot", with(StatusSuccess, "", ""), before, history, true, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"success without it, not in history: CopyLost", with(StatusSuccess, "", ""), before, nil, true, false, false,
			PollDecision{Action: PollFailed, Code: CopyLost}, []string{"no snapshot"}},
		{"failed: CopyFailed with the service's description", with(StatusFailed, "500 InternalError", ""), before, nil, false, false, false,
			PollDecision{Action: PollFailed, Code: CopyFailed}, []string{"500 InternalError"}},
		{"failed without a description", with(StatusFailed, "", ""), before, nil, false, false, false,
			PollDecision{Action: PollFailed, Code: CopyFailed}, []string{"failed"}},
		{"aborted: CopyAborted", with(StatusAborted, "", ""), before, nil, false, false, false, PollDecision{Action: PollFailed, Code: CopyAborted}, []string{"aborted"}},
		{"pending at the deadline: TimedOut", ours, msg.Deadline, nil, false, false, false, PollDecision{Action: PollFailed, Code: TimedOut}, []string{"deadline"}},
		{"pending past the deadline, abort configured: TimedOut and abort", ours, after, nil, false, true, false,
			PollDecision{Action: PollFailed, Code: TimedOut, Abort: true}, []string{"3 polls"}},
		{"destination deleted: unproven, no outcome", Destination{}, before, nil, false, false, false, PollDecision{Action: PollUnproven}, []string{"deleted"}},
		{"another copy replaced ours: read history", replaced, before, nil, false, false, false, PollDecision{Action: PollNeedHistory}, nil},
		{"replaced, ours in history: Completed", replaced, before, history, true, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"replaced, ours not in history: unproven, no outcome", replaced, before, nil, true, false, false, PollDecision{Action: PollUnproven}, []string{replaced.CopyID}},
		{"pending: 1 ns before the deadline polls again", ours, justBefore, nil, false, true, false,
			PollDecision{Action: PollAgain}, nil},
		{"pending: a status the service may add later is treated as pending", unknownStatus, justBefore, nil, false, false, false,
			PollDecision{Action: PollAgain}, nil},
		{"deadline: unknown status at the deadline is TimedOut", unknownStatus, msg.Deadline, nil, false, false, false,
			PollDecision{Action: PollFailed, Code: TimedOut}, nil},
		{"deadline without abort: TimedOut naming deadline and polls, no abort", ours, past, nil, false, false, false,
			PollDecision{Action: PollFailed, Code: TimedOut}, []string{"2026-11-24T10:01:00Z", "3 polls"}},
		{"success past the deadline with abort configured: Completed, never aborted", with(StatusSuccess, "", "dst-1"), past, nil, false, true, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-1"}, nil},
		{"failed past the deadline: CopyFailed, not TimedOut, not aborted", with(StatusFailed, "503 ServerBusy", ""), past, nil, false, true, false,
			PollDecision{Action: PollFailed, Code: CopyFailed}, []string{"503 ServerBusy"}},
		{"aborted with a description: CopyAborted quoting it", with(StatusAborted, "aborted by operator", ""), msg.Deadline, nil, false, true, false,
			PollDecision{Action: PollFailed, Code: CopyAborted}, []string{"aborted by operator"}},
		{"destination deleted past the deadline: unproven, not aborted", Destination{}, past, historyMid, true, true, false,
			PollDecision{Action: PollUnproven}, nil},
		{"copy id mismatch past the deadline: read history first, not TimedOut", replacedDone, past, nil, false, true, false,
			PollDecision{Action: PollNeedHistory}, nil},
		{"copy id mismatch, history: our snapshot's destination snapshot from history", replacedDone, past, historyMid, true, true, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"copy id mismatch, same source snapshot copied again: the history's snapshot, not the base blob's", sameSnapshotOtherID, justBefore, historyMid, true, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-mid"}, nil},
		{"copy id mismatch, history lacks ours: unproven, naming both copy ids", replacedDone, justBefore, historyMid[:1], true, true, false,
			PollDecision{Action: PollUnproven}, []string{ours.CopyID, replacedDone.CopyID}},
		{"success without x-ms-copy-destination-snapshot past the deadline: read history, not TimedOut", with(StatusSuccess, "", ""), past, nil, false, true, false,
			PollDecision{Action: PollNeedHistory}, nil},
		{"success: the header wins over history", with(StatusSuccess, "", "dst-header"), justBefore, historyMid, true, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-header"}, nil},
		{"replaced, ours pruned by retention, a newer one listed: pruned, no outcome", replacedDone, justBefore, historyNewer, true, false, true,
			PollDecision{Action: PollPruned}, []string{"retention"}},
		{"replaced, ours missing, newer listed, retention off: unproven", replacedDone, justBefore, historyNewer, true, false, false,
			PollDecision{Action: PollUnproven}, nil},
		{"replaced, ours missing, only another source's newer snapshot: unproven", replacedDone, justBefore, historyNewerElsewhere, true, false, true,
			PollDecision{Action: PollUnproven}, nil},
		{"replaced, ours missing, only older snapshots listed: unproven", replacedDone, justBefore, historyMid[:1], true, false, true,
			PollDecision{Action: PollUnproven}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DecidePoll(PollInput{Message: msg, Destination: c.dst, Now: c.now, History: c.history, HistoryKnown: c.historyKnown, AbortOnTimeout: c.abort, RetentionDeletes: c.retention})
			if got.Action != c.want.Action || got.Code != c.want.Code || got.DestinationSnapshot != c.want.DestinationSnapshot || got.Abort != c.want.Abort {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if (got.Action == PollFailed || got.Action == PollUnproven || got.Action == PollPruned) && got.Reason == "" {
				t.Fatal("Failed, unproven or pruned without a reason")
			}
			for _, part := range c.reason {
				if !strings.Contains(got.Reason, part) {
					t.Errorf("reason %q does not contain %q", got.Reason, part)
				}
			}
		})
	}
}

func TestPollMessageValidate(t *testing.T) {
	started := snapMid.Add(time.Minute)
	if err := pollOf("c", started).Validate(); err != nil {
		t.Fatalf("a message snapcopy writes: %v", err)
	}
	for name, spoil := range map[string]func(*PollMessage){
		"another version":        func(m *PollMessage) { m.Version = 2 },
		"no job key":             func(m *PollMessage) { m.Job.Key = "" },
		"no source":              func(m *PollMessage) { m.Job.SourceBlobURL = "" },
		"key of another job":     func(m *PollMessage) { m.Job.Key = JobKey(m.Job.DestinationBlobURL, FormatSnapshot(snapNew)) },
		"no copy id":             func(m *PollMessage) { m.CopyID = "" },
		"attempt 0":              func(m *PollMessage) { m.Attempt = 0 },
		"deadline before start":  func(m *PollMessage) { m.Deadline = m.StartedAt.Add(-time.Second) },
		"destination of another": func(m *PollMessage) { m.Job.DestinationBlobURL += "x" },
	} {
		m := pollOf("c", started)
		spoil(&m)
		if m.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// testTrigger is the delivered trigger of the deferral plans under test.
var testTrigger = DeliveredTrigger{JobKey: "3f2a9c0d41b7e815", MessageID: "m-1", Body: []byte(`{"data":{}}`)}

// TestPlanDeferral: waits behind another copy and retries after transient
// refusals each have their budget; delays grow exponentially within bounds;
// each deferral has its own deterministic message id.
func TestPlanDeferral(t *testing.T) {
	b := DeferralBounds{MinDelay: 10 * time.Second, MaxDelay: 5 * time.Minute, MaxWait: time.Hour}
	now := snapNew

	t.Run("transient: budget of MaxTransientRetries", func(t *testing.T) {
		var s DeferState
		var delays []time.Duration
		ids := map[string]bool{}
		for i := 1; i <= MaxTransientRetries+1; i++ {
			d := PlanDeferral(testTrigger, s, true, now, b, 0.5)
			if d.GiveUp != (i > MaxTransientRetries) {
				t.Fatalf("retry %d: GiveUp = %v", i, d.GiveUp)
			}
			if d.Next.Retries != i || d.Next.Waits != 0 || !d.Next.FirstAt.Equal(now) {
				t.Fatalf("retry %d: state %+v", i, d.Next)
			}
			if ids[d.MessageID] {
				t.Fatalf("retry %d: message id %s reused", i, d.MessageID)
			}
			ids[d.MessageID] = true
			delays = append(delays, d.Delay)
			s = d.Next
		}
		if delays[0] != b.MinDelay || delays[1] != 2*b.MinDelay || delays[len(delays)-1] != b.MaxDelay {
			t.Fatalf("delays %v: want %s, doubling, capped at %s (jitter 0.5 = none)", delays, b.MinDelay, b.MaxDelay)
		}
	})

	t.Run("waiting: budget of MaxWait since the first deferral", func(t *testing.T) {
		first := PlanDeferral(testTrigger, DeferState{}, false, now, b, 0.5)
		if first.GiveUp || first.Next.Waits != 1 || first.Next.Retries != 0 || first.MessageID != DeferMessageID(testTrigger.JobKey, 1, testTrigger.MessageID, testTrigger.Body) {
			t.Fatalf("first wait: %+v", first)
		}
		within := PlanDeferral(testTrigger, first.Next, false, now.Add(b.MaxWait), b, 0.5)
		past := PlanDeferral(testTrigger, first.Next, false, now.Add(b.MaxWait+time.Second), b, 0.5)
		if within.GiveUp || !past.GiveUp {
			t.Fatalf("at MaxWait GiveUp = %v, past it %v; want false, true", within.GiveUp, past.GiveUp)
		}
	})

	t.Run("jitter stays within ±10% and never below MinDelay", func(t *testing.T) {
		s := DeferState{Retries: 3}
		lo := PlanDeferral(testTrigger, s, true, now, b, 0).Delay
		hi := PlanDeferral(testTrigger, s, true, now, b, 0.999).Delay
		base := 8 * b.MinDelay // the 4th retry
		if lo != time.Duration(float64(base)*0.9) || hi <= base || hi > time.Duration(float64(base)*1.1) {
			t.Fatalf("jitter range [%s, %s] for base %s", lo, hi, base)
		}
		if d := PlanDeferral(testTrigger, DeferState{}, true, now, b, 0).Delay; d != b.MinDelay {
			t.Fatalf("first retry with jitter 0: %s, want the floor %s", d, b.MinDelay)
		}
	})
}

// TestDecidePollUnparseableJobSnapshot: Validate checks the job key but not
// that Job.Snapshot parses (CheckPoll does). DecidePoll on its own still
// decides no outcome for it: a zero time must not match anything.
func TestDecidePollUnparseableJobSnapshot(t *testing.T) {
	started := snapMid.Add(time.Minute)
	msg := pollOf("copy-ours", started)
	msg.Job.Snapshot = "yesterday"
	msg.Job.Key = JobKey(msg.Job.DestinationBlobURL, msg.Job.Snapshot)
	if err := msg.Validate(); err != nil {
		t.Fatalf("precondition: %v", err)
	}
	history := History{{SourceBlobURL: srcURL, SourceSnapshot: time.Time{}, DestinationSnapshot: "dst-zero"}} // what a zero time would match
	got := DecidePoll(PollInput{Message: msg, Destination: copyOf(snapNew, StatusSuccess), Now: started, History: history, HistoryKnown: true})
	if got.Action != PollUnproven || got.DestinationSnapshot != "" {
		t.Fatalf("got %+v, want unproven", got)
	}
}

// TestPollScheduling: row "pending → schedule the next poll". Each poll
// message of a job has its own deterministic id (so a re-sent poll after a
// crash is deduplicated, but poll n+1 is not eaten by poll n), and a message
// whose attempt or deadline the worker advances still validates.
func TestPollScheduling(t *testing.T) {
	started := snapMid.Add(time.Minute)
	ours := copyOf(snapMid, StatusPending)
	m := pollOf(ours.CopyID, started)
	key := m.Job.Key
	if len(key) != 16 || strings.Trim(key, "0123456789abcdef") != "" {
		t.Fatalf("job key %q: want 16 hex digits (64 bits)", key)
	}
	seen := map[string]bool{}
	for n := 1; n <= 3; n++ {
		id := PollMessageID(key, m.CopyID, n)
		if !strings.HasPrefix(id, key+"/poll/"+strconv.Itoa(n)+"/") || seen[id] {
			t.Fatalf("poll %d: id %q", n, id)
		}
		seen[id] = true
		if PollMessageID(key, m.CopyID, n) != id {
			t.Fatalf("poll %d: id not deterministic", n)
		}
	}
	if PollMessageID(key, m.CopyID, 1) == DeferMessageID(key, 1, m.CopyID, nil) {
		t.Fatal("poll and deferral ids collide")
	}
	other := JobKey(m.Job.DestinationBlobURL, FormatSnapshot(snapNew))
	if other == key || PollMessageID(other, m.CopyID, 1) == PollMessageID(key, m.CopyID, 1) {
		t.Fatal("two jobs share a poll id")
	}
	next := m
	next.Attempt++
	if err := next.Validate(); err != nil {
		t.Fatalf("poll %d: %v", next.Attempt, err)
	}
	if got := DecidePoll(PollInput{Message: next, Destination: ours, Now: started}); got.Action != PollAgain {
		t.Fatalf("next poll of a pending copy: %+v", got)
	}
}

// TestSecurityDeferralCountersFromPropertiesAreBounded: the counters ride
// in application properties, which whoever sends the trigger writes. A
// negative retry count or a first deferral in the future must not buy a
// trigger more deferrals than the budgets allow.
func TestSecurityDeferralCountersFromPropertiesAreBounded(t *testing.T) {
	b := DeferralBounds{MinDelay: 10 * time.Second, MaxDelay: 5 * time.Minute, MaxWait: time.Hour}
	now := snapNew

	t.Run("negative retries", func(t *testing.T) {
		s := ReadDeferState(map[string]any{"snapcopyRetries": "-1000000", "snapcopyWaits": float64(-7)})
		for i := 1; ; i++ {
			d := PlanDeferral(testTrigger, s, true, now, b, 0.5)
			if d.GiveUp {
				if i != MaxTransientRetries+1 {
					t.Fatalf("gave up at deferral %d, want %d", i, MaxTransientRetries+1)
				}
				return
			}
			if i > MaxTransientRetries {
				t.Fatalf("deferral %d of a transient refusal still not given up (state %+v)", i, d.Next)
			}
			s = d.Next
		}
	})
	t.Run("retries at the integer limit", func(t *testing.T) {
		s := ReadDeferState(map[string]any{"snapcopyRetries": "9223372036854775807"})
		if d := PlanDeferral(testTrigger, s, true, now, b, 0.5); !d.GiveUp {
			t.Fatalf("a spent budget deferred again (state %+v)", d.Next)
		}
	})
	t.Run("first deferral in the future", func(t *testing.T) {
		s := ReadDeferState(map[string]any{"snapcopyFirstDeferredAt": now.Add(100 * 365 * 24 * time.Hour).Format(time.RFC3339Nano)})
		first := PlanDeferral(testTrigger, s, false, now, b, 0.5)
		past := PlanDeferral(testTrigger, first.Next, false, now.Add(b.MaxWait+time.Second), b, 0.5)
		if !past.GiveUp {
			t.Fatalf("still waiting past MaxWait: first deferral recorded at %s", first.Next.FirstAt)
		}
	})
}
