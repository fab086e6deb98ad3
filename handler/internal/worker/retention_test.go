package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

const completedType = "Snapcopy.IncrementalCopy.Completed"

// chainOf lists n restore points of srcURL, one a day from day one: source
// snapshot at 10:00, destination snapshot at 10:05.
func chainOf(n int) copyjob.History {
	h := make(copyjob.History, n)
	for i := range h {
		s := time.Date(2026, 11, 1+i, 10, 0, 0, 0, time.UTC)
		h[i] = copyjob.CopiedSnapshot{SourceBlobURL: srcURL, SourceSnapshot: s, DestinationSnapshot: copyjob.FormatSnapshot(s.Add(5 * time.Minute))}
	}
	return h
}

func completedInv(destinationSnapshot string, delivery int) funcproto.Invocation {
	body := `{"specversion":"1.0","type":"` + completedType + `","id":"k/Completed","source":"/snapcopy","data":{"destinationBlobUrl":"` + dstURL + `","destinationSnapshot":"` + destinationSnapshot + `"}}`
	return funcproto.Invocation{Function: "Retention", InvocationID: "inv-r", MessageID: "k/Completed", DeliveryCount: delivery, Body: []byte(body)}
}

func retentionHarness(t *testing.T, policy copyjob.RetentionPolicy, history copyjob.History) *harness {
	t.Helper()
	h := newHarness(t)
	h.w.Retain = RetentionConfig{Policy: policy, CompletedType: completedType}
	h.store.dest = incremental(srcURL, copyjob.FormatSnapshot(history[len(history)-1].SourceSnapshot), copyjob.StatusSuccess)
	h.store.history = history
	return h
}

func TestRetentionDeletesWhatThePolicyDropsAndSaysWhy(t *testing.T) {
	history := chainOf(5)
	h := retentionHarness(t, copyjob.RetentionPolicy{Last: 2}, history)
	newest := history[4]
	if h.w.Retention(context.Background(), completedInv(newest.DestinationSnapshot, 1)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	var deleted []string
	for _, d := range h.store.deletes {
		if d.blob != dstURL {
			t.Fatalf("deleted a snapshot of %s", d.blob)
		}
		deleted = append(deleted, d.snapshot)
	}
	want := []string{history[2].DestinationSnapshot, history[1].DestinationSnapshot, history[0].DestinationSnapshot}
	if fmt.Sprint(deleted) != fmt.Sprint(want) {
		t.Fatalf("deleted %v, want %v", deleted, want)
	}
	msg, ce, data := h.event(t, 0)
	job := copyjob.NewJob(srcURL, copyjob.FormatSnapshot(newest.SourceSnapshot), dstURL)
	if ce["id"] != job.Key+"/Pruned" || *msg.Subject != "Snapcopy.IncrementalCopy.Pruned" || data["jobKey"] != job.Key {
		t.Fatalf("event id %v subject %v jobKey %v, want %s/Pruned", ce["id"], *msg.Subject, data["jobKey"], job.Key)
	}
	if n := len(data["deleted"].([]any)); n != 3 {
		t.Fatalf("event lists %d deleted, want 3: %v", n, data)
	}
	kept := data["kept"].([]any)
	first := kept[0].(map[string]any)
	if len(kept) != 2 || first["destinationSnapshot"] != newest.DestinationSnapshot || fmt.Sprint(first["reasons"]) != "[newest last]" {
		t.Fatalf("kept %v", kept)
	}

	// Redelivered after the deletions: the listing still shows them (the
	// fake does not forget), each delete now finds nothing, and the event
	// (same id, so duplicate detection drops it) says so.
	if h.w.Retention(context.Background(), completedInv(newest.DestinationSnapshot, 2)) != copyjob.Complete {
		t.Fatal("want 2xx on redelivery")
	}
	_, ce2, data2 := h.event(t, 1)
	if ce2["id"] != ce["id"] || data2["deleted"] != nil || len(data2["alreadyDeleted"].([]any)) != 3 {
		t.Fatalf("redelivery: id %v, data %v", ce2["id"], data2)
	}
}

func TestRetentionActsOnlyForTheNewestRestorePoint(t *testing.T) {
	history := chainOf(4)
	h := retentionHarness(t, copyjob.RetentionPolicy{Last: 1}, history)
	if h.w.Retention(context.Background(), completedInv(history[2].DestinationSnapshot, 1)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if len(h.store.deletes) != 0 || len(h.events.sent) != 0 {
		t.Fatalf("an older event's run deleted %v and published %d events", h.store.deletes, len(h.events.sent))
	}
	if !strings.Contains(h.logs.String(), "nothing to prune") {
		t.Fatalf("logs do not say why: %s", h.logs)
	}
}

func TestRetentionIgnoresAndRejects(t *testing.T) {
	history := chainOf(3)
	cases := []struct {
		name       string
		policy     copyjob.RetentionPolicy
		inv        funcproto.Invocation
		dest       *copyjob.Destination
		wantReject string
	}{
		{name: "retention off", inv: completedInv("not even checked", 1)},
		{name: "another outcome", policy: copyjob.RetentionPolicy{Last: 1},
			inv: funcproto.Invocation{Function: "Retention", MessageID: "x", DeliveryCount: 1, Body: []byte(`{"specversion":"1.0","type":"Snapcopy.IncrementalCopy.Rejected","id":"x","data":{}}`)}},
		{name: "destination gone", policy: copyjob.RetentionPolicy{Last: 1}, inv: completedInv(history[2].DestinationSnapshot, 1), dest: &copyjob.Destination{}},
		{name: "malformed", policy: copyjob.RetentionPolicy{Last: 1},
			inv:        funcproto.Invocation{Function: "Retention", MessageID: "x", DeliveryCount: 1, Body: []byte(`{"destinationBlobUrl":"` + dstURL + `"}`)},
			wantReject: string(copyjob.InputMalformed)},
		{name: "undecodable", policy: copyjob.RetentionPolicy{Last: 1},
			inv:        funcproto.Invocation{Function: "Retention", MessageID: "x", DeliveryCount: 1, Subject: completedType, DecodeErr: funcproto.ErrTooLarge},
			wantReject: string(copyjob.InputTooLarge)},
		// Without the subscription's filter, a Rejected event (perhaps
		// too large, perhaps carrying a bad body) must not be rejected
		// again: that would loop.
		{name: "our own Rejected event, undecodable", policy: copyjob.RetentionPolicy{Last: 1},
			inv: funcproto.Invocation{Function: "Retention", MessageID: "x", DeliveryCount: 1, Subject: "Snapcopy.IncrementalCopy.Rejected", DecodeErr: funcproto.ErrTooLarge}},
		{name: "not an incremental copy", policy: copyjob.RetentionPolicy{Last: 1}, inv: completedInv(history[2].DestinationSnapshot, 1),
			dest: &copyjob.Destination{Exists: true}, wantReject: string(copyjob.InputInvalidField)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := retentionHarness(t, c.policy, history)
			if c.dest != nil {
				h.store.dest = *c.dest
			}
			if h.w.Retention(context.Background(), c.inv) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if len(h.store.deletes) != 0 {
				t.Fatalf("deleted %v", h.store.deletes)
			}
			if c.wantReject == "" {
				if len(h.events.sent) != 0 {
					t.Fatalf("published %d events", len(h.events.sent))
				}
				return
			}
			msg, _, data := h.event(t, 0)
			if *msg.Subject != "Snapcopy.IncrementalCopy.Rejected" || data["failureCode"] != c.wantReject {
				t.Fatalf("event %s %v, want Rejected %s", *msg.Subject, data["failureCode"], c.wantReject)
			}
		})
	}
}

func TestRetentionFaults(t *testing.T) {
	history := chainOf(3)
	newest := history[2].DestinationSnapshot
	storageDown := errors.New("503 ServerBusy")

	t.Run("listing fails: redelivered, then given up without deleting", func(t *testing.T) {
		h := retentionHarness(t, copyjob.RetentionPolicy{Last: 1}, history)
		h.store.historyErr = storageDown
		if h.w.Retention(context.Background(), completedInv(newest, 1)) == copyjob.Complete {
			t.Fatal("want non-2xx: the message must be delivered again")
		}
		if h.w.Retention(context.Background(), completedInv(newest, maxPruneDeliveries)) != copyjob.Complete {
			t.Fatal("want 2xx at the last delivery")
		}
		if len(h.events.sent) != 0 || len(h.store.deletes) != 0 {
			t.Fatalf("events %d, deletes %v", len(h.events.sent), h.store.deletes)
		}
	})
	t.Run("a delete fails: redelivered, then Pruned PruneIncomplete", func(t *testing.T) {
		h := retentionHarness(t, copyjob.RetentionPolicy{Last: 1}, history)
		h.store.deleteErr = storageDown
		if h.w.Retention(context.Background(), completedInv(newest, maxPruneDeliveries-1)) == copyjob.Complete {
			t.Fatal("want non-2xx")
		}
		if h.w.Retention(context.Background(), completedInv(newest, maxPruneDeliveries)) != copyjob.Complete {
			t.Fatal("want 2xx at the last delivery")
		}
		msg, _, data := h.event(t, 0)
		if *msg.Subject != "Snapcopy.IncrementalCopy.Pruned" || data["failureCode"] != "PruneIncomplete" || !strings.Contains(data["failureDescription"].(string), "next Completed") {
			t.Fatalf("event %s %v", *msg.Subject, data)
		}
	})
	t.Run("publishing fails: retried", func(t *testing.T) {
		h := retentionHarness(t, copyjob.RetentionPolicy{Last: 1}, history)
		h.events.err = errBusDown
		if h.w.Retention(context.Background(), completedInv(newest, 1)) == copyjob.Complete {
			t.Fatal("want non-2xx when the Pruned event cannot be published")
		}
	})
}

func TestRetentionPrunesSourceSnapshotsProvenCopiedFirst(t *testing.T) {
	history := chainOf(4)
	for _, policy := range []copyjob.RetentionPolicy{{}, {Last: 1}} {
		t.Run(fmt.Sprintf("%+v", policy), func(t *testing.T) {
			h := retentionHarness(t, policy, history)
			h.w.Retain.PruneSource = true
			for _, c := range history {
				h.store.sourceSnapshots = append(h.store.sourceSnapshots, c.SourceSnapshot)
			}
			if h.w.Retention(context.Background(), completedInv(history[3].DestinationSnapshot, 1)) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			var source, dest []string
			for i, d := range h.store.deletes {
				switch d.blob {
				case srcURL:
					if len(dest) > 0 {
						t.Fatalf("delete %d: a source snapshot deleted after a restore point", i)
					}
					source = append(source, d.snapshot)
				case dstURL:
					dest = append(dest, d.snapshot)
				}
			}
			want := []string{copyjob.FormatSnapshot(history[0].SourceSnapshot), copyjob.FormatSnapshot(history[1].SourceSnapshot), copyjob.FormatSnapshot(history[2].SourceSnapshot)}
			if fmt.Sprint(source) != fmt.Sprint(want) {
				t.Fatalf("source snapshots deleted %v, want %v (never the newest copied)", source, want)
			}
			if len(dest) != 3*min(policy.Last, 1) {
				t.Fatalf("restore points deleted %v under %+v", dest, policy)
			}
			_, _, data := h.event(t, 0)
			if got := fmt.Sprint(data["sourceSnapshotsDeleted"]); got != fmt.Sprint(want) {
				t.Fatalf("event lists %v", got)
			}
		})
	}
}

// TestRetentionPublishesCompletedBeforeDeleting: a restore point younger
// than the topic's duplicate window gets its Completed event (under its
// job's id) before it is deleted, for copies whose poll was lost.
func TestRetentionPublishesCompletedBeforeDeleting(t *testing.T) {
	history := make(copyjob.History, 3)
	for i := range history {
		s := testNow.Add(time.Duration(i-3) * time.Hour)
		history[i] = copyjob.CopiedSnapshot{SourceBlobURL: srcURL, SourceSnapshot: s, DestinationSnapshot: copyjob.FormatSnapshot(s.Add(time.Minute)), CopyID: fmt.Sprint("copy-", i)}
	}
	h := retentionHarness(t, copyjob.RetentionPolicy{Last: 2}, history)
	h.store.changedBytes = 4096
	if h.w.Retention(context.Background(), completedInv(history[2].DestinationSnapshot, 1)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	msg, ce, data := h.event(t, 0)
	job := copyjob.NewJob(srcURL, copyjob.FormatSnapshot(history[0].SourceSnapshot), dstURL)
	if *msg.Subject != completedType || ce["id"] != job.Key+"/Completed" || data["destinationSnapshot"] != history[0].DestinationSnapshot || data["copyId"] != "copy-0" || data["bytesChanged"] != float64(4096) {
		t.Fatalf("first event %s %v %v", *msg.Subject, ce["id"], data)
	}
	if len(h.store.deletes) != 1 || len(h.events.sent) != 2 {
		t.Fatalf("deletes %v, %d events", h.store.deletes, len(h.events.sent))
	}
	if m, _, _ := h.event(t, 1); *m.Subject != "Snapcopy.IncrementalCopy.Pruned" {
		t.Fatalf("second event %s, want Pruned", *m.Subject)
	}

	h = retentionHarness(t, copyjob.RetentionPolicy{Last: 2}, history)
	h.events.err = errBusDown
	if h.w.Retention(context.Background(), completedInv(history[2].DestinationSnapshot, 1)) == copyjob.Complete || len(h.store.deletes) != 0 {
		t.Fatalf("the Completed could not be published, yet %v was deleted", h.store.deletes)
	}
}

// TestRetentionSaysWhySourceSnapshotsCannotBeListed: with source pruning
// on but no right to list the source, nothing is deleted there and the
// run says so, rather than pruning nothing in silence.
func TestRetentionSaysWhySourceSnapshotsCannotBeListed(t *testing.T) {
	history := chainOf(3)
	h := retentionHarness(t, copyjob.RetentionPolicy{}, history)
	h.w.Retain.PruneSource = true
	h.store.listErr = fmt.Errorf("%w: 403 AuthorizationPermissionMismatch", copyjob.ErrListForbidden)
	if h.w.Retention(context.Background(), completedInv(history[2].DestinationSnapshot, 1)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if len(h.store.deletes) != 0 {
		t.Fatalf("deleted %v", h.store.deletes)
	}
	var warned bool
	for _, line := range strings.Split(h.logs.String(), "\n") {
		warned = warned || (strings.Contains(line, `"level":"warn"`) && strings.Contains(line, "source snapshots not pruned") && strings.Contains(line, "listed"))
	}
	if !warned {
		t.Fatalf("no warning says why no source snapshot was pruned:\n%s", h.logs)
	}
}
