package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

func pollInv(t *testing.T, m copyjob.PollMessage) funcproto.Invocation {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return funcproto.Invocation{Function: "CopyPoll", InvocationID: "inv-2", MessageID: copyjob.PollMessageID(m.Job.Key, m.CopyID, m.Attempt), DeliveryCount: 1, Body: body}
}

func pollMessage(attempt int) copyjob.PollMessage {
	return copyjob.PollMessage{
		Version:   copyjob.PollMessageVersion,
		Job:       copyjob.NewJob(srcURL, snapshot, dstURL),
		CopyID:    "copy-1",
		Attempt:   attempt,
		StartedAt: testNow.Add(-time.Minute),
		Deadline:  testNow.Add(time.Hour),
		Policy:    copyjob.PolicyState{LastDelay: 10 * time.Second},
	}
}

func running(status copyjob.CopyStatus) copyjob.Destination {
	d := incremental(srcURL, snapshot, status)
	d.CopyID = "copy-1"
	d.Progress = copyjob.Progress{Known: true, Bytes: 512, Total: 1024}
	d.StatusDescription = "500 InternalError during copy"
	return d
}

// laterCopy is the destination after a later snapshot's copy started:
// its base blob's properties describe that copy, no longer ours.
func laterCopy() copyjob.Destination {
	d := incremental(srcURL, "2026-11-24T11:30:00.0000000Z", copyjob.StatusPending)
	d.CopyID = "copy-2"
	d.Progress = copyjob.Progress{Known: true, Bytes: 10, Total: 1024}
	return d
}

func TestPollDecisions(t *testing.T) {
	key := copyjob.JobKey(dstURL, snapshot)
	cases := []struct {
		name      string
		dest      copyjob.Destination
		message   copyjob.PollMessage
		history   copyjob.History
		abort     bool
		wantNext  bool
		wantEvent copyjob.Outcome
		wantCode  string
		wantAbort bool
		// wantBytes is Completed's bytesCopied as decoded JSON: nil when unknown.
		wantBytes any
	}{
		{name: "pending", dest: running(copyjob.StatusPending), message: pollMessage(3), wantNext: true},
		{name: "success", dest: running(copyjob.StatusSuccess), message: pollMessage(3), wantEvent: copyjob.Completed, wantBytes: float64(512)},
		{name: "success without progress", dest: func() copyjob.Destination {
			d := running(copyjob.StatusSuccess)
			d.Progress = copyjob.Progress{}
			return d
		}(),
			message: pollMessage(3), wantEvent: copyjob.Completed},
		{name: "failed", dest: running(copyjob.StatusFailed), message: pollMessage(3), wantEvent: copyjob.Failed, wantCode: "CopyFailed"},
		{name: "aborted", dest: running(copyjob.StatusAborted), message: pollMessage(3), wantEvent: copyjob.Failed, wantCode: "CopyAborted"},
		{name: "deleted", dest: copyjob.Destination{}, message: pollMessage(3), wantEvent: copyjob.Rejected, wantCode: "UnprovenPoll"},
		{name: "deadline", dest: running(copyjob.StatusPending), message: func() copyjob.PollMessage { m := pollMessage(9); m.Deadline = testNow; return m }(),
			wantEvent: copyjob.Failed, wantCode: "TimedOut"},
		{name: "deadline with abort", dest: running(copyjob.StatusPending), abort: true, message: func() copyjob.PollMessage { m := pollMessage(9); m.Deadline = testNow; return m }(),
			wantEvent: copyjob.Failed, wantCode: "TimedOut", wantAbort: true},
		{name: "replaced, ours in history", dest: laterCopy(), message: pollMessage(3),
			history: copyjob.History{{SourceBlobURL: srcURL, SourceSnapshot: snap(snapshot), DestinationSnapshot: "2026-11-24T11:59:00.0000000Z",
				CopyID: "copy-1", Progress: copyjob.Progress{Known: true, Bytes: 300, Total: 1024}}},
			wantEvent: copyjob.Completed, wantBytes: float64(300)},
		{name: "replaced, ours in history without progress", dest: laterCopy(), message: pollMessage(3),
			history: copyjob.History{{SourceBlobURL: srcURL, SourceSnapshot: snap(snapshot), DestinationSnapshot: "2026-11-24T11:59:00.0000000Z"}}, wantEvent: copyjob.Completed},
		{name: "replaced, lost", dest: func() copyjob.Destination { d := running(copyjob.StatusPending); d.CopyID = "copy-2"; return d }(), message: pollMessage(3),
			wantEvent: copyjob.Rejected, wantCode: "UnprovenPoll"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.w.AbortOnTimeout = c.abort
			h.store.dest, h.store.history = c.dest, c.history
			if h.w.CopyPoll(context.Background(), pollInv(t, c.message)) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if got := len(h.store.aborts) == 1; got != c.wantAbort {
				t.Errorf("aborted = %v, want %v", got, c.wantAbort)
			}
			if c.wantNext {
				next, s := h.poll(t, 0)
				if next.Attempt != c.message.Attempt+1 || *s.msg.MessageID != copyjob.PollMessageID(key, c.message.CopyID, c.message.Attempt+1) {
					t.Errorf("next poll %s attempt %d", *s.msg.MessageID, next.Attempt)
				}
				if next.Policy.LastBytes != 512 || !s.at.After(testNow) || s.at.After(c.message.Deadline) {
					t.Errorf("next poll at %v with policy %+v", s.at, next.Policy)
				}
				if len(h.events.sent) != 0 {
					t.Errorf("event published while pending")
				}
				return
			}
			if len(h.polls.scheduled) != 0 {
				t.Errorf("poll scheduled after the end")
			}
			msg, _, data := h.event(t, 0)
			wantID := key + "/" + string(c.wantEvent)
			if c.wantEvent == copyjob.Rejected {
				// Unproven: an id of the message's own, never the job's.
				wantID, _ = data["jobKey"].(string)
				wantID += "/Rejected"
			}
			if *msg.MessageID != wantID || (c.wantEvent == copyjob.Rejected && strings.HasPrefix(wantID, key)) || data["failureCode"] != nilIfEmpty(c.wantCode) {
				t.Errorf("event %s data %v", *msg.MessageID, data)
			}
			if c.wantEvent == copyjob.Completed && (data["destinationSnapshot"] == nil || data["polls"] != float64(3)) {
				t.Errorf("Completed data %v", data)
			}
			if c.wantEvent == copyjob.Completed && data["bytesCopied"] != c.wantBytes {
				t.Errorf("bytesCopied %v, want %v", data["bytesCopied"], c.wantBytes)
			}
			// The listing read to decide serves the cost figure too.
			if c.wantEvent == copyjob.Completed && h.store.listing != 1 {
				t.Errorf("the destination was listed %d times, want once", h.store.listing)
			}
			if c.wantCode == "CopyFailed" && data["failureDescription"] != "500 InternalError during copy" {
				t.Errorf("description %v", data["failureDescription"])
			}
		})
	}
}

func TestPollNeverScheduledPastDeadline(t *testing.T) {
	h := newHarness(t)
	h.store.dest = running(copyjob.StatusPending)
	m := pollMessage(2)
	m.Deadline = testNow.Add(2 * time.Second)
	m.Policy.LastDelay = 5 * time.Minute
	if h.w.CopyPoll(context.Background(), pollInv(t, m)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if _, s := h.poll(t, 0); !s.at.Equal(m.Deadline) {
		t.Fatalf("next poll at %v, deadline %v", s.at, m.Deadline)
	}
}

func TestStorageErrorOnPollPollsAgain(t *testing.T) {
	h := newHarness(t)
	h.store.destErr = errors.New("503 ServerBusy")
	if h.w.CopyPoll(context.Background(), pollInv(t, pollMessage(4))) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if next, _ := h.poll(t, 0); next.Attempt != 5 {
		t.Fatalf("attempt %d", next.Attempt)
	}
}

func TestInvalidPollMessageIsRejected(t *testing.T) {
	for name, body := range map[string]string{
		"not json":    "garbage",
		"no copy id":  `{"v":1,"job":{"key":"k","sourceBlobUrl":"s","snapshot":"x","destinationBlobUrl":"d"},"attempt":1}`,
		"wrong key":   strings.Replace(string(mustJSON(pollMessage(1))), copyjob.JobKey(dstURL, snapshot), "0000000000000000", 1),
		"old version": strings.Replace(string(mustJSON(pollMessage(1))), `"v":1`, `"v":0`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			inv := funcproto.Invocation{Function: "CopyPoll", MessageID: "p-1", Body: []byte(body)}
			if h.w.CopyPoll(context.Background(), inv) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if h.store.reads != 0 || len(h.polls.scheduled) != 0 {
				t.Fatal("acted on an invalid poll")
			}
			if msg, _, _ := h.event(t, 0); !strings.HasSuffix(*msg.MessageID, "/Rejected") {
				t.Fatalf("event %s", *msg.MessageID)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestPollOfPrunedRestorePoint: with retention deleting restore points, a
// poll that comes after a later copy replaced ours and retention deleted
// our restore point is neither an outcome nor a Rejected event (the copy
// succeeded; retention published its Completed again before deleting it):
// it completes with an info line. Without retention the same listing is
// unproven.
func TestPollOfPrunedRestorePoint(t *testing.T) {
	newer := copyjob.History{{SourceBlobURL: srcURL, SourceSnapshot: snap("2026-11-24T11:30:00.0000000Z"), DestinationSnapshot: "2026-11-24T11:59:00.0000000Z", CopyID: "copy-2"}}
	for _, retain := range []bool{true, false} {
		h := newHarness(t)
		if retain {
			h.w.Retain = RetentionConfig{Policy: copyjob.RetentionPolicy{Last: 1}, CompletedType: "Snapcopy.IncrementalCopy.Completed"}
		}
		h.store.dest, h.store.history = laterCopy(), newer
		if h.w.CopyPoll(context.Background(), pollInv(t, pollMessage(3))) != copyjob.Complete {
			t.Fatal("want 2xx")
		}
		if len(h.polls.scheduled) != 0 {
			t.Errorf("retention %v: poll scheduled", retain)
		}
		if !retain {
			if _, _, data := h.event(t, 0); data["failureCode"] != "UnprovenPoll" {
				t.Errorf("without retention: %v, want Rejected UnprovenPoll", data)
			}
			continue
		}
		if len(h.events.sent) != 0 {
			t.Errorf("with retention: %d events published, want none", len(h.events.sent))
		}
		if !strings.Contains(h.logs.String(), `"level":"info"`) || !strings.Contains(h.logs.String(), "already pruned") {
			t.Errorf("with retention: no info line saying why:\n%s", h.logs.String())
		}
	}
}
