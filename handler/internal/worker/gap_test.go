package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func TestGapCatchUp(t *testing.T) {
	s0, s1, s2 := "2026-11-24T07:00:00.0000000Z", "2026-11-24T08:00:00.0000000Z", "2026-11-24T09:00:00.0000000Z"
	requestedKey := copyjob.JobKey(dstURL, snapshot)
	cases := []struct {
		name         string
		snapshots    []string
		listErr      error
		startErr     error
		wantCopied   string // snapshot the started copy is of
		wantPollJob  string // job key of the scheduled poll
		wantDeferred bool
		wantEvents   []string // event ids
	}{
		{name: "no gap", snapshots: []string{s0, snapshot}, wantCopied: snapshot, wantPollJob: requestedKey},
		{name: "two missed, oldest first", snapshots: []string{s2, s0, snapshot, s1}, wantCopied: s1, wantPollJob: copyjob.JobKey(dstURL, s1), wantDeferred: true},
		{name: "listing forbidden", listErr: fmt.Errorf("%w: 403", copyjob.ErrListForbidden), wantCopied: snapshot, wantPollJob: requestedKey,
			wantEvents: []string{requestedKey + "/GapUnchecked"}},
		{name: "listing failed", listErr: errors.New("503"), wantDeferred: true},
		{name: "missed one cannot be copied", snapshots: []string{s0, s1, snapshot}, startErr: classifiedStartError("BlobOverwritten", 409),
			wantCopied: s1, wantDeferred: true, wantEvents: []string{copyjob.JobKey(dstURL, s1) + "/Failed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.store.dest = incremental(srcURL, s0, copyjob.StatusSuccess)
			for _, s := range c.snapshots {
				h.store.sourceSnapshots = append(h.store.sourceSnapshots, snap(s))
			}
			h.store.listErr, h.store.startErr = c.listErr, c.startErr
			if h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody(""))) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if c.wantCopied == "" && len(h.store.starts) != 0 || c.wantCopied != "" && (len(h.store.starts) != 1 || h.store.starts[0].snapshot != c.wantCopied) {
				t.Fatalf("starts %+v, want one of %q", h.store.starts, c.wantCopied)
			}
			if c.wantPollJob != "" {
				if m, _ := h.poll(t, 0); m.Job.Key != c.wantPollJob {
					t.Errorf("poll for job %s, want %s", m.Job.Key, c.wantPollJob)
				}
			} else if len(h.polls.scheduled) != 0 {
				t.Errorf("unexpected poll")
			}
			if got := len(h.triggers.scheduled) == 1; got != c.wantDeferred {
				t.Fatalf("deferred = %v, want %v", got, c.wantDeferred)
			}
			if c.wantDeferred && *h.triggers.scheduled[0].msg.MessageID != copyjob.DeferMessageID(requestedKey, 1, "m-1", triggerBody("")) {
				t.Errorf("deferral id %s", *h.triggers.scheduled[0].msg.MessageID)
			}
			if len(h.events.sent) != len(c.wantEvents) {
				t.Fatalf("%d events, want %v", len(h.events.sent), c.wantEvents)
			}
			for i, id := range c.wantEvents {
				if got := *h.events.sent[i].MessageID; got != id {
					t.Errorf("event %d = %s, want %s", i, got, id)
				}
			}
		})
	}
}

// A catch-up makes progress, so the requested trigger's wait budget starts
// again instead of running out during a long catch-up.
func TestCatchUpRestartsTheWaitBudget(t *testing.T) {
	h := newHarness(t)
	h.store.dest = incremental(srcURL, "2026-11-24T07:00:00.0000000Z", copyjob.StatusSuccess)
	h.store.sourceSnapshots = []time.Time{snap("2026-11-24T08:00:00.0000000Z"), snap(snapshot)}
	inv := triggerInv(triggerBody(""))
	longAgo := testNow.Add(-3 * h.w.CopyDeadline).Format(time.RFC3339Nano)
	inv.ApplicationProperties = map[string]any{"snapcopyWaits": float64(40), "snapcopyFirstDeferredAt": longAgo}
	if h.w.SnapshotCreated(context.Background(), inv) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if len(h.events.sent) != 0 || len(h.triggers.scheduled) != 1 {
		t.Fatalf("events %d deferrals %d: the wait budget should have restarted", len(h.events.sent), len(h.triggers.scheduled))
	}
	if first := h.triggers.scheduled[0].msg.ApplicationProperties["snapcopyFirstDeferredAt"]; first != testNow.Format(time.RFC3339Nano) {
		t.Fatalf("first deferred at %v", first)
	}
}
