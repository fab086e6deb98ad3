package copyjob

import (
	"testing"
	"time"
)

// TestSecurityCheckPoll: a poll message is checked by the rules of a
// trigger before any request is made, in the form snapcopy writes it, and
// its deadline cannot keep it polling longer than a copy may take.
func TestSecurityCheckPoll(t *testing.T) {
	started := snapMid.Add(time.Minute)
	now := started.Add(10 * time.Minute)
	const copyDeadline = 24 * time.Hour
	rules := Rules{AllowedDestinations: []string{"https://dst.blob.core.windows.net/backups"}}
	// rekeyed spoils a field the job key covers and recomputes the key, so
	// that the spoiled field is all that is wrong.
	rekeyed := func(spoil func(m *PollMessage)) func(*PollMessage) {
		return func(m *PollMessage) {
			spoil(m)
			m.Job.Key = JobKey(m.Job.DestinationBlobURL, m.Job.Snapshot)
		}
	}
	cases := []struct {
		name  string
		rules Rules
		spoil func(m *PollMessage)
		want  InputCode // empty: accepted
	}{
		{"as snapcopy writes it", rules, func(*PollMessage) {}, ""},
		{"destination on a foreign host", Rules{}, rekeyed(func(m *PollMessage) { m.Job.DestinationBlobURL = "https://evil.example/backups/vm1.vhd" }), InputNotAllowed},
		{"destination on loopback, no emulator configured", Rules{}, rekeyed(func(m *PollMessage) { m.Job.DestinationBlobURL = "http://127.0.0.1:9/devstoreaccount1/backups/vm1.vhd" }), InputNotAllowed},
		{"source on a foreign host", Rules{}, func(m *PollMessage) { m.Job.SourceBlobURL = "https://src.evil.example/disks/vm1.vhd" }, InputNotAllowed},
		{"destination outside the allow-list", rules, rekeyed(func(m *PollMessage) { m.Job.DestinationBlobURL = "https://other.blob.core.windows.net/backups/vm1.vhd" }), InputNotAllowed},
		{"destination with a query", Rules{}, rekeyed(func(m *PollMessage) { m.Job.DestinationBlobURL += "?sig=x" }), InputInvalidField},
		{"destination not in canonical form", Rules{}, rekeyed(func(m *PollMessage) { m.Job.DestinationBlobURL = "https://DST.blob.core.windows.net/backups/vm1.vhd" }), InputInvalidField},
		{"snapshot not in canonical form", Rules{}, rekeyed(func(m *PollMessage) { m.Job.Snapshot = "2026-11-24T09:00:00Z" }), InputInvalidField},
		{"destination is the source", Rules{}, rekeyed(func(m *PollMessage) { m.Job.DestinationBlobURL = m.Job.SourceBlobURL }), InputInvalidField},
		{"start in the future", Rules{}, func(m *PollMessage) {
			m.StartedAt = now.Add(time.Hour)
			m.Deadline = m.StartedAt.Add(time.Hour)
		}, InputInvalidField},
		{"not written by snapcopy", Rules{}, func(m *PollMessage) { m.Version = 7 }, InputMalformed},
	}
	for _, c := range cases {
		m := pollOf("copy-1", started)
		c.spoil(&m)
		got, dst, err := CheckPoll(m, c.rules, now, copyDeadline)
		if c.want == "" {
			if err != nil || dst.URL != m.Job.DestinationBlobURL || got != m {
				t.Errorf("%s: %v, %+v", c.name, err, got)
			}
			continue
		}
		if ie, ok := AsInputError(err); !ok || ie.Code != c.want {
			t.Errorf("%s: got %v, want Rejected %s", c.name, err, c.want)
		}
	}

	m := pollOf("copy-1", started)
	m.Deadline = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	got, _, err := CheckPoll(m, Rules{}, now, copyDeadline)
	if err != nil || !got.Deadline.Equal(started.Add(copyDeadline)) {
		t.Fatalf("a deadline in 9999: %v, deadline %s; want it held to start + %s", err, got.Deadline, copyDeadline)
	}
}

// TestSecurityForgedPollPublishesNoOutcome: a poll that names a real job
// but whose claims Storage does not back decides no outcome (it would take
// the job's event id) and never an abort.
func TestSecurityForgedPollPublishesNoOutcome(t *testing.T) {
	started := snapMid.Add(time.Minute)
	past := started.Add(48 * time.Hour)
	// The destination last copied snapOld (copy id copyOf's), successfully.
	olderCopied := copyOf(snapOld, StatusSuccess)
	olderPending := copyOf(snapOld, StatusPending)
	plainCopy := copyOf(snapMid, StatusPending)
	plainCopy.Incremental = false
	otherSourceHistory := History{{SourceBlobURL: otherURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-other", CopyID: "copy-other"}}

	// forged is a poll of the job (srcURL, snapMid) with copyID and source.
	forged := func(copyID, source string) PollMessage {
		m := pollOf(copyID, started)
		m.Job.SourceBlobURL = source
		return m
	}
	cases := []struct {
		name    string
		msg     PollMessage
		dst     Destination
		history History
		now     time.Time
	}{
		{"the job of a snapshot never copied, an older copy's id, a made-up source", forged(olderCopied.CopyID, otherURL), olderCopied, nil, started},
		{"the job of a snapshot never copied, an older copy's id, the right source", forged(olderCopied.CopyID, srcURL), olderCopied, nil, started},
		{"right copy id, wrong source URL", forged(copyOf(snapMid, StatusSuccess).CopyID, otherURL), copyOf(snapMid, StatusSuccess), nil, started},
		{"right copy id, failed, wrong source URL", forged(copyOf(snapMid, StatusFailed).CopyID, otherURL), copyOf(snapMid, StatusFailed), nil, started},
		{"an older copy's id, failed", forged(copyOf(snapOld, StatusFailed).CopyID, srcURL), copyOf(snapOld, StatusFailed), nil, started},
		{"made-up copy id past the deadline", forged("copy-made-up", srcURL), olderPending, nil, past},
		{"older pending copy's id past the deadline", forged(olderPending.CopyID, srcURL), olderPending, nil, past},
		{"right copy id past the deadline, wrong source", forged(copyOf(snapMid, StatusPending).CopyID, otherURL), copyOf(snapMid, StatusPending), nil, past},
		{"copy id of a plain Copy Blob", forged(plainCopy.CopyID, srcURL), plainCopy, nil, past},
		{"no destination", forged("copy-made-up", srcURL), Destination{}, nil, past},
		{"history shows the snapshot copied from another source", forged("copy-made-up", srcURL), copyOf(snapNew, StatusSuccess), otherSourceHistory, started},
	}
	for _, c := range cases {
		in := PollInput{Message: c.msg, Destination: c.dst, Now: c.now, AbortOnTimeout: true}
		got := DecidePoll(in)
		if got.Action == PollNeedHistory {
			in.History, in.HistoryKnown = c.history, true
			got = DecidePoll(in)
		}
		if got.Action != PollUnproven || got.Abort || got.Reason == "" {
			t.Errorf("%s: got %+v, want unproven with a reason, no abort", c.name, got)
		}
	}
}

// TestSecurityProvenPollOutcomes: what Storage proves still ends the job,
// with the copy id Storage reports, and an abort only of the job's copy.
func TestSecurityProvenPollOutcomes(t *testing.T) {
	started := snapMid.Add(time.Minute)
	past := started.Add(48 * time.Hour)
	ours := copyOf(snapMid, StatusPending)
	history := History{{SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid", CopyID: "copy-listed"}}

	got := DecidePoll(PollInput{Message: pollOf(ours.CopyID, started), Destination: ours, Now: past, AbortOnTimeout: true})
	if got.Action != PollFailed || got.Code != TimedOut || !got.Abort || got.CopyID != ours.CopyID {
		t.Errorf("the job's own copy past its deadline: %+v, want TimedOut with abort", got)
	}
	got = DecidePoll(PollInput{Message: pollOf("copy-made-up", started), Destination: copyOf(snapNew, StatusPending), Now: started, History: history, HistoryKnown: true})
	if got.Action != PollCompleted || got.DestinationSnapshot != "dst-mid" || got.CopyID != "copy-listed" {
		t.Errorf("the snapshot list shows the job's snapshot: %+v, want Completed with the listed copy id", got)
	}
}
