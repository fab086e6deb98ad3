package worker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
)

// TestSettlementRules checks the settlement rule end to end: 2xx whenever the next
// step is durably written (even when the copy failed or the input was bad),
// non-2xx only when the bus write failed, and always a log line first.
func TestSettlementRules(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(h *harness)
		invoke  func(h *harness, t *testing.T) bool
		want2xx bool
	}{
		{"copy started, poll scheduled", func(h *harness) {}, trigger, true},
		{"copy started, poll schedule failed", func(h *harness) { h.polls.err = errBusDown }, trigger, false},
		{"waiting on other copy, deferral written", func(h *harness) {
			h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending)
		}, trigger, true},
		{"waiting on other copy, deferral failed", func(h *harness) {
			h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending)
			h.triggers.err = errBusDown
		}, trigger, false},
		{"storage down, deferral written", func(h *harness) { h.store.destErr = errors.New("timeout") }, trigger, true},
		{"conflict, Failed published", func(h *harness) { h.store.dest = copyjob.Destination{Exists: true} }, trigger, true},
		{"conflict, publish failed", func(h *harness) { h.store.dest = copyjob.Destination{Exists: true}; h.events.err = errBusDown }, trigger, false},
		{"bad input, Rejected published", func(h *harness) {}, func(h *harness, t *testing.T) bool {
			return h.w.SnapshotCreated(context.Background(), triggerInv([]byte("{")))
		}, true},
		{"bad input, publish failed", func(h *harness) { h.events.err = errBusDown }, func(h *harness, t *testing.T) bool {
			return h.w.SnapshotCreated(context.Background(), triggerInv([]byte("{")))
		}, false},
		{"poll pending, next scheduled", func(h *harness) { h.store.dest = running(copyjob.StatusPending) }, poll, true},
		{"poll pending, schedule failed", func(h *harness) { h.store.dest = running(copyjob.StatusPending); h.polls.err = errBusDown }, poll, false},
		{"copy failed, Failed published", func(h *harness) { h.store.dest = running(copyjob.StatusFailed) }, poll, true},
		{"copy succeeded, publish failed", func(h *harness) { h.store.dest = running(copyjob.StatusSuccess); h.events.err = errBusDown }, poll, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c.setup(h)
			if got := c.invoke(h, t); got != c.want2xx {
				t.Fatalf("complete = %v, want %v", got, c.want2xx)
			}
			if !c.want2xx && !strings.Contains(h.logs.String(), `"level":"error"`) {
				t.Fatalf("abandoned without an error log line:\n%s", h.logs)
			}
		})
	}
}

func trigger(h *harness, t *testing.T) bool {
	return h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody("")))
}

func poll(h *harness, t *testing.T) bool {
	return h.w.CopyPoll(context.Background(), pollInv(t, pollMessage(2)))
}

// TestSecretsNeverLeave drives jobs whose SAS came in the message through
// every path and greps everything that left the worker for the signature.
func TestSecretsNeverLeave(t *testing.T) {
	const secret = "c2VjcmV0U2lnbmF0dXJl"
	sasField := `,"sourceSas":"sv=2026-12-06&sr=b&sp=r&se=2026-11-30T00:00:00Z&sig=` + secret + `"`
	scenarios := map[string]func(h *harness){
		"started": func(h *harness) {},
		"pending": func(h *harness) {
			h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending)
		},
		"refused":    func(h *harness) { h.store.startErr = classifiedStartError("CannotVerifyCopySource", 403) },
		"conflict":   func(h *harness) { h.store.dest = copyjob.Destination{Exists: true} },
		"bad sas":    func(h *harness) { h.w.Rules.AllowMessageSAS = false },
		"bus failed": func(h *harness) { h.polls.err = errors.New("send failed for https://src/disks/vm1.vhd?sig=" + secret) },
		"storage failed": func(h *harness) {
			h.store.destErr = errors.New("GET https://dst/backups/vm1.vhd?sig=" + secret + ": 503")
		},
	}
	for name, setup := range scenarios {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.w.Rules.AllowMessageSAS = true
			setup(h)
			h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody(sasField)))
			// Deferred triggers are excluded: they are the producer's own
			// message, re-scheduled unchanged on the queue it came from.
			var out strings.Builder
			out.WriteString(h.logs.String())
			for _, s := range []*recordingSender{h.polls, h.events} {
				for _, m := range s.sent {
					out.Write(m.Body)
				}
				for _, m := range s.scheduled {
					out.Write(m.msg.Body)
				}
			}
			if strings.Contains(out.String(), secret) {
				t.Fatalf("secret left the worker:\n%s", out.String())
			}
			if leaks := redacttest.Leaks(out.String()); len(leaks) > 0 {
				t.Fatalf("secrets left the worker: %v", leaks)
			}
			for _, start := range h.store.starts {
				if !strings.Contains(start.sas, "sig="+secret) {
					t.Fatalf("the message SAS was not used for the copy: %q", start.sas)
				}
			}
		})
	}
}
