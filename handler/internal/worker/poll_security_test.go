package worker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

// TestSecurityPollNamingAForeignHostMakesNoRequest: a poll whose
// destination is not a storage host is Rejected before any storage call,
// even past its deadline with abort configured.
func TestSecurityPollNamingAForeignHostMakesNoRequest(t *testing.T) {
	h := newHarness(t)
	h.w.AbortOnTimeout = true
	h.store.dest = running(copyjob.StatusPending)
	m := pollMessage(9)
	m.Job = copyjob.NewJob(srcURL, snapshot, "https://evil.example/backups/vm1.vhd")
	m.Deadline = testNow.Add(-1)
	if h.w.CopyPoll(context.Background(), pollInv(t, m)) != copyjob.Complete {
		t.Fatal("want 2xx")
	}
	if h.store.reads != 0 || h.store.listing != 0 || len(h.store.aborts) != 0 || len(h.polls.scheduled) != 0 {
		t.Fatalf("acted on the poll: %d reads, %d listings, aborts %v, %d polls", h.store.reads, h.store.listing, h.store.aborts, len(h.polls.scheduled))
	}
	if _, _, data := h.event(t, 0); data["failureCode"] != string(copyjob.InputNotAllowed) {
		t.Fatalf("event data %v, want Rejected NotAllowed", data)
	}
}

// TestSecurityUnreadableDestinationPastDeadlineEnds: past the deadline a
// poll whose destination cannot be read (an account that does not exist),
// or whose destination shows another copy and whose snapshot list cannot
// be read, is not rescheduled at once for ever (each poll due the moment
// it is sent); it ends as Rejected, not as an outcome of the job.
func TestSecurityUnreadableDestinationPastDeadlineEnds(t *testing.T) {
	for name, script := range map[string]func(*fakeStorage){
		"destination unreadable": func(s *fakeStorage) {
			s.destErr = errors.New("dial tcp: lookup nosuchaccount.blob.core.windows.net: no such host")
		},
		"snapshot list unreadable": func(s *fakeStorage) {
			s.dest = laterCopy()
			s.historyErr = errors.New("403 AuthorizationPermissionMismatch")
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			script(h.store)
			m := pollMessage(9)
			m.Deadline = testNow.Add(-1)
			if h.w.CopyPoll(context.Background(), pollInv(t, m)) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if len(h.polls.scheduled) != 0 {
				t.Fatalf("%d polls scheduled past the deadline", len(h.polls.scheduled))
			}
			msg, _, data := h.event(t, 0)
			if strings.HasPrefix(*msg.MessageID, m.Job.Key) || data["failureCode"] != string(copyjob.InputUnproven) {
				t.Fatalf("event %s %v, want Rejected UnprovenPoll under the message's own id", *msg.MessageID, data)
			}
		})
	}
}

// TestSecurityForgedPollTakesNoEventID: a forged poll naming a real job
// (an older copy's id, a made-up source) is Rejected under an id of its
// own, which also differs from that of another message that borrows the
// same MessageId.
func TestSecurityForgedPollTakesNoEventID(t *testing.T) {
	h := newHarness(t)
	// The destination's last copy is of an older snapshot, done.
	older := incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusSuccess)
	older.CopyID, older.DestinationSnapshot = "copy-older", "2026-11-24T09:05:00.0000000Z"
	h.store.dest = older
	forged := pollMessage(1)
	forged.CopyID = "copy-older"
	forged.Job.SourceBlobURL = "https://src.blob.core.windows.net/disks/made-up.vhd"
	inv := pollInv(t, forged)
	other := inv
	other.Body = append([]byte(nil), inv.Body...)
	other.Body = []byte(strings.Replace(string(other.Body), `"attempt":1`, `"attempt":2`, 1))
	for _, i := range []funcproto.Invocation{inv, other} {
		if h.w.CopyPoll(context.Background(), i) != copyjob.Complete {
			t.Fatal("want 2xx")
		}
	}
	first, _, data := h.event(t, 0)
	second, _, _ := h.event(t, 1)
	if strings.HasPrefix(*first.MessageID, forged.Job.Key) || data["failureCode"] != string(copyjob.InputUnproven) {
		t.Fatalf("event %s %v, want Rejected UnprovenPoll, not an event of job %s", *first.MessageID, data, forged.Job.Key)
	}
	if *first.MessageID == *second.MessageID {
		t.Fatalf("two different messages with MessageId %s share the Rejected id %s", inv.MessageID, *first.MessageID)
	}
}
