package worker

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

const (
	srcURL   = "https://src.blob.core.windows.net/disks/vm1.vhd"
	dstURL   = "https://dst.blob.core.windows.net/backups/vm1.vhd"
	snapshot = "2026-11-24T10:00:00.1234567Z"
)

func triggerBody(extra string) []byte {
	return []byte(`{"specversion":"1.0","type":"Contoso.SnapshotCreated","id":"e-1","source":"/b","data":{"sourceBlobUrl":"` + srcURL + `","snapshot":"` + snapshot + `"` + extra + `}}`)
}

func triggerInv(body []byte) funcproto.Invocation {
	return funcproto.Invocation{Function: "SnapshotCreated", InvocationID: "inv-1", MessageID: "m-1", DeliveryCount: 1, Body: body}
}

func snap(s string) time.Time {
	t, err := copyjob.ParseSnapshot(s)
	if err != nil {
		panic(err)
	}
	return t
}

func incremental(source string, last string, status copyjob.CopyStatus) copyjob.Destination {
	return copyjob.Destination{Exists: true, Incremental: true, CopySource: source, CopySourceSnapshot: snap(last), CopyStatus: status, CopyID: "copy-0", DestinationSnapshot: "2026-11-24T11:00:00.0000000Z"}
}

func TestFirstTriggerStartsFullCopyAndSchedulesFirstPoll(t *testing.T) {
	h := newHarness(t)
	if h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody(""))) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if len(h.store.starts) != 1 {
		t.Fatalf("%d copies started, want 1", len(h.store.starts))
	}
	start := h.store.starts[0]
	if start.dest.URL != dstURL || start.source.URL != srcURL || start.snapshot != snapshot || !start.absent {
		t.Fatalf("start = %+v", start)
	}
	if !strings.Contains(start.sas, "sr=b&") || !strings.Contains(start.sas, "sp=r") {
		t.Fatalf("minted SAS %q is not sr=b read-only", start.sas)
	}
	m, s := h.poll(t, 0)
	key := copyjob.JobKey(dstURL, snapshot)
	if *s.msg.MessageID != copyjob.PollMessageID(key, "copy-1", 1) || m.Attempt != 1 || m.CopyID != "copy-1" || m.Job.Key != key {
		t.Fatalf("poll = %s %+v", *s.msg.MessageID, m)
	}
	if !s.at.After(testNow) || s.at.After(testNow.Add(h.w.Policy.MaxDelay)) {
		t.Fatalf("first poll at %v", s.at)
	}
	if !m.Deadline.Equal(testNow.Add(24 * time.Hour)) {
		t.Fatalf("deadline %v", m.Deadline)
	}
	if len(h.events.sent) != 0 {
		t.Fatalf("events published: %d", len(h.events.sent))
	}
}

// TestDecisionsOnTrigger runs each row of the decision table through the worker and
// checks what it writes: a copy, a poll, a deferral or which event.
func TestDecisionsOnTrigger(t *testing.T) {
	older, newer := "2026-11-24T09:00:00.0000000Z", "2026-11-24T11:00:00.0000000Z"
	cases := []struct {
		name        string
		dest        copyjob.Destination
		history     copyjob.History
		wantStart   bool
		wantPoll    bool
		wantDefer   bool
		wantOutcome copyjob.Outcome
		wantCode    string
		// wantBytes is Completed's bytesCopied as decoded JSON: nil when unknown.
		wantBytes any
	}{
		{name: "absent", dest: copyjob.Destination{}, wantStart: true, wantPoll: true},
		{name: "diff after success", dest: incremental(srcURL, older, copyjob.StatusSuccess), wantStart: true, wantPoll: true},
		{name: "same snapshot copied", dest: incremental(srcURL, snapshot, copyjob.StatusSuccess), wantOutcome: copyjob.Completed},
		{name: "same snapshot pending", dest: incremental(srcURL, snapshot, copyjob.StatusPending), wantPoll: true},
		{name: "other snapshot pending", dest: incremental(srcURL, older, copyjob.StatusPending), wantDefer: true},
		{name: "newer copied", dest: incremental(srcURL, newer, copyjob.StatusSuccess), wantOutcome: copyjob.Superseded},
		{name: "newer copied, ours in history", dest: incremental(srcURL, newer, copyjob.StatusSuccess),
			history: copyjob.History{{SourceBlobURL: srcURL, SourceSnapshot: snap(snapshot), DestinationSnapshot: "2026-11-24T10:30:00.0000000Z",
				Progress: copyjob.Progress{Known: true, Bytes: 4096, Total: 8192}}}, wantOutcome: copyjob.Completed, wantBytes: float64(4096)},
		{name: "not incremental", dest: copyjob.Destination{Exists: true}, wantOutcome: copyjob.Failed, wantCode: "DestinationConflict"},
		{name: "other source", dest: incremental("https://src.blob.core.windows.net/disks/vm2.vhd", older, copyjob.StatusSuccess), wantOutcome: copyjob.Failed, wantCode: "DestinationConflict"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.store.dest, h.store.history = c.dest, c.history
			if h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody(""))) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if got := len(h.store.starts) == 1; got != c.wantStart {
				t.Errorf("copy started = %v, want %v", got, c.wantStart)
			}
			if got := len(h.polls.scheduled) == 1; got != c.wantPoll {
				t.Errorf("poll scheduled = %v, want %v", got, c.wantPoll)
			}
			if got := len(h.triggers.scheduled) == 1; got != c.wantDefer {
				t.Errorf("deferred = %v, want %v", got, c.wantDefer)
			}
			if c.wantOutcome == "" {
				if len(h.events.sent) != 0 {
					t.Fatalf("unexpected event %s", h.events.sent[0].Body)
				}
				return
			}
			msg, ce, data := h.event(t, 0)
			key := copyjob.JobKey(dstURL, snapshot)
			if *msg.MessageID != key+"/"+string(c.wantOutcome) || ce["id"] != *msg.MessageID {
				t.Errorf("event id %s / %v", *msg.MessageID, ce["id"])
			}
			if *msg.Subject != "Snapcopy.IncrementalCopy."+string(c.wantOutcome) || ce["type"] != *msg.Subject {
				t.Errorf("subject %s type %v", *msg.Subject, ce["type"])
			}
			if *msg.ContentType != "application/cloudevents+json" || ce["subject"] != "/backups/vm1.vhd" || ce["specversion"] != "1.0" {
				t.Errorf("content type %s, ce %v", *msg.ContentType, ce)
			}
			if data["failureCode"] != nilIfEmpty(c.wantCode) {
				t.Errorf("failureCode = %v, want %q", data["failureCode"], c.wantCode)
			}
			if c.wantOutcome == copyjob.Completed && data["destinationSnapshot"] == nil {
				t.Errorf("Completed without destinationSnapshot: %v", data)
			}
			if c.wantOutcome == copyjob.Completed && data["bytesCopied"] != c.wantBytes {
				t.Errorf("bytesCopied %v, want %v", data["bytesCopied"], c.wantBytes)
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestDeferralCarriesCountersAndBody(t *testing.T) {
	h := newHarness(t)
	h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending)
	inv := triggerInv(triggerBody(""))
	inv.ApplicationProperties = map[string]any{"snapcopyWaits": float64(2), "origin": "x"}
	if h.w.SnapshotCreated(context.Background(), inv) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	d := h.triggers.scheduled[0]
	key := copyjob.JobKey(dstURL, snapshot)
	if *d.msg.MessageID != copyjob.DeferMessageID(key, 3, inv.MessageID, inv.Body) {
		t.Errorf("defer id %s", *d.msg.MessageID)
	}
	if string(d.msg.Body) != string(inv.Body) {
		t.Errorf("deferred body changed")
	}
	if d.msg.ApplicationProperties["snapcopyWaits"] != int64(3) || d.msg.ApplicationProperties["origin"] != "x" {
		t.Errorf("properties %v", d.msg.ApplicationProperties)
	}
	if !d.at.After(testNow) {
		t.Errorf("deferred to %v", d.at)
	}
}

func TestStartErrors(t *testing.T) {
	cases := []struct {
		name      string
		code      string
		status    int
		props     map[string]any
		wantDefer bool
		wantPoll  bool
		wantEvent copyjob.Outcome
		wantCode  string
	}{
		{name: "chain broken", code: "BlobOverwritten", status: 409, wantEvent: copyjob.Failed, wantCode: "ChainBroken"},
		{name: "earlier (historic spelling)", code: "IncrementalCopyOfEralierVersionSnapshotNotAllowed", status: 409, wantEvent: copyjob.Superseded},
		{name: "earlier (fixed spelling)", code: "IncrementalCopyOfEarlierVersionSnapshotNotAllowed", status: 409, wantEvent: copyjob.Superseded},
		{name: "earlier (new code)", code: "IncrementalCopyOfEarlierSnapshotNotAllowed", status: 409, wantEvent: copyjob.Superseded},
		{name: "mismatch", code: "IncrementalCopyBlobMismatch", status: 409, wantEvent: copyjob.Failed, wantCode: "DestinationConflict"},
		{name: "source denied", code: "CannotVerifyCopySource", status: 403, wantEvent: copyjob.Failed, wantCode: "SourceUnauthorized"},
		{name: "source verify timeout", code: "CannotVerifyCopySource", status: 500, wantDefer: true},
		{name: "source verify timeout, budget spent", code: "CannotVerifyCopySource", status: 500,
			props: map[string]any{"snapcopyRetries": float64(copyjob.MaxTransientRetries)}, wantEvent: copyjob.Failed, wantCode: "SourceUnauthorized"},
		{name: "throttled", code: "ServerBusy", status: 503, wantDefer: true},
		{name: "not a snapshot", code: "IncrementalCopySourceMustBeSnapshot", status: 409, wantEvent: copyjob.Failed, wantCode: "InvalidSource"},
		{name: "unknown", code: "SomethingNew", status: 400, wantEvent: copyjob.Failed, wantCode: "CopyRejected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.store.startErr = classifiedStartError(c.code, c.status)
			inv := triggerInv(triggerBody(""))
			inv.ApplicationProperties = c.props
			if h.w.SnapshotCreated(context.Background(), inv) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if got := len(h.triggers.scheduled) == 1; got != c.wantDefer {
				t.Errorf("deferred = %v, want %v", got, c.wantDefer)
			}
			if got := len(h.polls.scheduled) == 1; got != c.wantPoll {
				t.Errorf("polled = %v, want %v", got, c.wantPoll)
			}
			if c.wantEvent == "" {
				if len(h.events.sent) > 0 {
					t.Fatalf("unexpected event %s", h.events.sent[0].Body)
				}
				return
			}
			msg, _, data := h.event(t, 0)
			if !strings.HasSuffix(*msg.MessageID, "/"+string(c.wantEvent)) || data["failureCode"] != nilIfEmpty(c.wantCode) {
				t.Errorf("event %s code %v", *msg.MessageID, data["failureCode"])
			}
		})
	}
}

// classifiedStartError mimics the storage adapter's classification, which
// has its own tests; here it only has to produce the right kind.
func classifiedStartError(code string, status int) error {
	kinds := map[string]copyjob.StartErrorKind{
		"BlobOverwritten": copyjob.StartErrChainBroken,
		"IncrementalCopyOfEralierVersionSnapshotNotAllowed": copyjob.StartErrEarlier,
		"IncrementalCopyOfEarlierVersionSnapshotNotAllowed": copyjob.StartErrEarlier,
		"IncrementalCopyOfEarlierSnapshotNotAllowed":        copyjob.StartErrEarlier,
		"IncrementalCopyBlobMismatch":                       copyjob.StartErrConflict,
		"IncrementalCopySourceMustBeSnapshot":               copyjob.StartErrInvalidSource,
		"PendingCopyOperation":                              copyjob.StartErrPending,
		"ServerBusy":                                        copyjob.StartErrTransient,
	}
	kind, ok := kinds[code]
	switch {
	case code == "CannotVerifyCopySource" && status >= 500:
		kind = copyjob.StartErrTransient
	case code == "CannotVerifyCopySource":
		kind = copyjob.StartErrSourceDenied
	case !ok:
		kind = copyjob.StartErrOther
	}
	return &copyjob.StartError{Kind: kind, Code: code, Status: status, Err: &azcore.ResponseError{ErrorCode: code, StatusCode: status}}
}

func TestRedeliveredStartFindsOwnPendingCopy(t *testing.T) {
	h := newHarness(t)
	h.store.startErr = classifiedStartError("PendingCopyOperation", 409)
	pending := incremental(srcURL, snapshot, copyjob.StatusPending)
	pending.CopyID = "copy-earlier-attempt"
	h.store.afterStart = &pending
	if h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody(""))) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	m, _ := h.poll(t, 0)
	if m.CopyID != "copy-earlier-attempt" {
		t.Fatalf("poll copy id %q", m.CopyID)
	}
}

func TestRejectedInputKeepsBodyWithoutSAS(t *testing.T) {
	cases := map[string][]byte{
		"malformed":          []byte(`{"data": nope`),
		"message sas denied": triggerBody(`,"sourceSas":"sv=2026-12-06&sr=b&sp=r&sig=c2VjcmV0U2ln"`),
		"unknown type":       []byte(`{"specversion":"1.0","type":"Other.Thing","id":"1","source":"/x","data":{}}`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			if h.w.SnapshotCreated(context.Background(), triggerInv(body)) != copyjob.Complete {
				t.Fatal("want 2xx: a bad message must not be redelivered")
			}
			if len(h.store.starts) != 0 {
				t.Fatal("copy started for a rejected message")
			}
			msg, _, data := h.event(t, 0)
			if !strings.HasSuffix(*msg.MessageID, "/Rejected") || data["messageId"] != "m-1" || data["failureCode"] == nil {
				t.Fatalf("event %s data %v", *msg.MessageID, data)
			}
			original, _ := json.Marshal(data["originalBody"])
			if data["originalBody"] == nil {
				original = []byte(data["originalText"].(string))
			}
			if len(original) < 10 || strings.Contains(string(msg.Body), "c2VjcmV0U2ln") {
				t.Fatalf("original body missing or SAS leaked: %s", msg.Body)
			}
		})
	}
}

func TestDecodeErrorIsRejected(t *testing.T) {
	h := newHarness(t)
	inv := triggerInv([]byte("xxxx"))
	inv.DecodeErr = funcproto.ErrTooLarge
	if h.w.SnapshotCreated(context.Background(), inv) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	_, _, data := h.event(t, 0)
	if data["failureCode"] != string(copyjob.InputTooLarge) {
		t.Fatalf("failureCode %v", data["failureCode"])
	}
}

// TestRedeliveryResendsUnderTheSameIDs: a trigger or poll delivered again
// after a crash sends its deferral or next poll under the id of the first
// delivery, so duplicate detection drops the repeat; another producer's
// trigger for the same job, or a poll of another copy, gets ids of its own.
func TestRedeliveryResendsUnderTheSameIDs(t *testing.T) {
	h := newHarness(t)
	h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending) // another copy runs: defer
	trigger := triggerInv(triggerBody(""))
	redelivered := trigger
	redelivered.DeliveryCount = 2
	other := trigger
	other.MessageID = "m-other-producer"
	for _, inv := range []funcproto.Invocation{trigger, redelivered, other} {
		if h.w.SnapshotCreated(context.Background(), inv) != copyjob.Complete {
			t.Fatal("want 2xx")
		}
	}
	ids := func(ss []scheduled) (out []string) {
		for _, s := range ss {
			out = append(out, *s.msg.MessageID)
		}
		return out
	}
	if d := ids(h.triggers.scheduled); len(d) != 3 || d[0] != d[1] || d[2] == d[0] {
		t.Errorf("deferral ids %v: want the redelivery's equal to the first's, the other producer's apart", d)
	}

	h.store.dest = running(copyjob.StatusPending)
	poll := pollInv(t, pollMessage(2))
	redeliveredPoll := poll
	redeliveredPoll.DeliveryCount = 2
	for _, inv := range []funcproto.Invocation{poll, redeliveredPoll} {
		if h.w.CopyPoll(context.Background(), inv) != copyjob.Complete {
			t.Fatal("want 2xx")
		}
	}
	h.store.dest.CopyID = "copy-2"
	otherCopy := pollMessage(2)
	otherCopy.CopyID = "copy-2"
	if h.w.CopyPoll(context.Background(), pollInv(t, otherCopy)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if p := ids(h.polls.scheduled); len(p) != 3 || p[0] != p[1] || p[2] == p[0] {
		t.Errorf("next poll ids %v: want the redelivery's equal to the first's, another copy's apart", p)
	}
}
