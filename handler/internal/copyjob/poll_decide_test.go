package copyjob

import (
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
	history := History{{SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid"}}

	cases := []struct {
		name         string
		dst          Destination
		now          time.Time
		history      History
		historyKnown bool
		abort        bool
		want         PollDecision
		reason       string
	}{
		{"pending before the deadline: poll again", ours, before, nil, false, false, PollDecision{Action: PollAgain}, ""},
		{"success: Completed with the destination snapshot", with(StatusSuccess, "", "dst-1"), before, nil, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-1"}, ""},
		{"success past the deadline still counts", with(StatusSuccess, "", "dst-1"), after, nil, false, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-1"}, ""},
		{"success without x-ms-copy-destination-snapshot: read history", with(StatusSuccess, "", ""), before, nil, false, false,
			PollDecision{Action: PollNeedHistory}, ""},
		{"success without it, history read: its snapshot", with(StatusSuccess, "", ""), before, history, true, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-mid"}, ""},
		{"failed: CopyFailed with the service's description", with(StatusFailed, "500 InternalError", ""), before, nil, false, false,
			PollDecision{Action: PollFailed, Code: CopyFailed}, "500 InternalError"},
		{"failed without a description", with(StatusFailed, "", ""), before, nil, false, false,
			PollDecision{Action: PollFailed, Code: CopyFailed}, "failed"},
		{"aborted: CopyAborted", with(StatusAborted, "", ""), before, nil, false, false, PollDecision{Action: PollFailed, Code: CopyAborted}, "aborted"},
		{"pending at the deadline: TimedOut", ours, msg.Deadline, nil, false, false, PollDecision{Action: PollFailed, Code: TimedOut}, "deadline"},
		{"pending past the deadline, abort configured: TimedOut and abort", ours, after, nil, false, true,
			PollDecision{Action: PollFailed, Code: TimedOut, Abort: true}, "3 polls"},
		{"destination deleted: DestinationMissing", Destination{}, before, nil, false, false, PollDecision{Action: PollFailed, Code: DestinationMissing}, "deleted"},
		{"another copy replaced ours: read history", replaced, before, nil, false, false, PollDecision{Action: PollNeedHistory}, ""},
		{"replaced, ours in history: Completed", replaced, before, history, true, false,
			PollDecision{Action: PollCompleted, DestinationSnapshot: "dst-mid"}, ""},
		{"replaced, ours not in history: CopyLost", replaced, before, nil, true, false, PollDecision{Action: PollFailed, Code: CopyLost}, replaced.CopyID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DecidePoll(PollInput{Message: msg, Destination: c.dst, Now: c.now, History: c.history, HistoryKnown: c.historyKnown, AbortOnTimeout: c.abort})
			if got.Action != c.want.Action || got.Code != c.want.Code || got.DestinationSnapshot != c.want.DestinationSnapshot || got.Abort != c.want.Abort ||
				!strings.Contains(got.Reason, c.reason) {
				t.Fatalf("got %+v, want %+v with a reason containing %q", got, c.want, c.reason)
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
			d := PlanDeferral("job", s, true, now, b, 0.5)
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
		first := PlanDeferral("job", DeferState{}, false, now, b, 0.5)
		if first.GiveUp || first.Next.Waits != 1 || first.Next.Retries != 0 || first.MessageID != DeferMessageID("job", 1) {
			t.Fatalf("first wait: %+v", first)
		}
		within := PlanDeferral("job", first.Next, false, now.Add(b.MaxWait), b, 0.5)
		past := PlanDeferral("job", first.Next, false, now.Add(b.MaxWait+time.Second), b, 0.5)
		if within.GiveUp || !past.GiveUp {
			t.Fatalf("at MaxWait GiveUp = %v, past it %v; want false, true", within.GiveUp, past.GiveUp)
		}
	})

	t.Run("jitter stays within ±10% and never below MinDelay", func(t *testing.T) {
		s := DeferState{Retries: 3}
		lo := PlanDeferral("job", s, true, now, b, 0).Delay
		hi := PlanDeferral("job", s, true, now, b, 0.999).Delay
		base := 8 * b.MinDelay // the 4th retry
		if lo != time.Duration(float64(base)*0.9) || hi <= base || hi > time.Duration(float64(base)*1.1) {
			t.Fatalf("jitter range [%s, %s] for base %s", lo, hi, base)
		}
		if d := PlanDeferral("job", DeferState{}, true, now, b, 0).Delay; d != b.MinDelay {
			t.Fatalf("first retry with jitter 0: %s, want the floor %s", d, b.MinDelay)
		}
	})
}
