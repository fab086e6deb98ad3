package copyjob

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestSettle: Settle sees only the result of the durable write that carried
// a decision out (publish an event, schedule a poll, defer the trigger).
// Every outcome that was written completes the message, including expected
// waits and failures turned into events (the worker's TestSettlementRules
// walks those paths); only a write that did not happen, however its error
// is dressed, keeps the message for redelivery.
func TestSettle(t *testing.T) {
	unreachable := errors.New("amqp: connection refused")
	cases := []struct {
		name     string
		writeErr error
		want     Settlement
	}{
		{"the write succeeded", nil, Complete},
		{"Service Bus unreachable", unreachable, Retry},
		{"unreachable, wrapped by the adapter", fmt.Errorf("publish Completed: %w", unreachable), Retry},
		{"invocation timed out before the write", context.DeadlineExceeded, Retry},
		{"the write and its fallback both failed", errors.Join(unreachable, errors.New("schedule: 503")), Retry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s := Settle(c.writeErr); s != c.want {
				t.Fatalf("Settle(%v) = %v, want %v", c.writeErr, s, c.want)
			}
		})
	}
}

// TestOutcomeEventIDs: rows "last copied == requested, success → publish
// Completed again (same id → deduped)" and "last copied > requested →
// Superseded" rely on one deterministic event id per job and outcome:
// re-publishing after a crash or a redelivery is a Service Bus duplicate,
// publishing a different outcome or another job's is not.
func TestOutcomeEventIDs(t *testing.T) {
	const dst = "https://dst.blob.core.windows.net/backups/vm1.vhd"
	job := NewJob(srcURL, FormatSnapshot(snapMid), dst)
	other := NewJob(srcURL, FormatSnapshot(snapNew), dst)
	t1, t2 := snapNew, snapNew.Add(3*time.Hour)

	fromPoll := JobEvent(job, Completed, t1, EventData{DestinationSnapshot: "dst-mid", CopyID: "copy-1", Polls: 4})
	fromRedelivery := JobEvent(job, Completed, t2, EventData{DestinationSnapshot: "dst-mid"})
	if fromPoll.ID != job.Key+"/Completed" || fromRedelivery.ID != fromPoll.ID {
		t.Fatalf("Completed ids %q, %q: want both %q", fromPoll.ID, fromRedelivery.ID, job.Key+"/Completed")
	}
	if fromRedelivery.Data.DestinationSnapshot != "dst-mid" || fromRedelivery.Subject != "/backups/vm1.vhd" || !fromRedelivery.Time.Equal(t2) {
		t.Fatalf("Completed again: %+v", fromRedelivery)
	}
	superseded := JobEvent(job, Superseded, t1, EventData{FailureDescription: "newer snapshot"})
	if superseded.ID != job.Key+"/Superseded" || superseded.Outcome != Superseded {
		t.Fatalf("Superseded: %+v", superseded)
	}
	failed := FailedEvent(job, DestinationConflict, "bound to another source", t1, EventData{})
	if failed.ID != job.Key+"/Failed" || failed.Outcome != Failed || failed.Data.FailureCode != "DestinationConflict" ||
		failed.Data.FailureDescription != "bound to another source" {
		t.Fatalf("Failed: %+v", failed)
	}
	if JobEvent(other, Completed, t1, EventData{}).ID == fromPoll.ID {
		t.Fatal("two snapshots of one destination share a Completed id")
	}
	if job.Key != JobKey(dst, "2026-11-24T09:00:00.0000002Z") || job.Snapshot != "2026-11-24T09:00:00.0000002Z" {
		t.Fatalf("job %+v", job)
	}
}

// TestReceivedEventOutcome: a subscriber reads the outcome from the type
// whatever prefix the app settings chose, as the bus adapter writes it.
func TestReceivedEventOutcome(t *testing.T) {
	for _, prefix := range []string{"Snapcopy.IncrementalCopy", "Contoso.Backup.Copy"} {
		for _, o := range []Outcome{Completed, Failed, Superseded, Rejected, GapUnchecked} {
			e := ReceivedEvent{Type: EventType(prefix, o)}
			if e.Outcome() != o || e.Outcome().Terminal() != (o == Completed || o == Failed || o == Superseded) {
				t.Errorf("%s: outcome %q, terminal %v", e.Type, e.Outcome(), e.Outcome().Terminal())
			}
		}
	}
}
