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
		name   string
		setup  func(h *harness)
		invoke func(h *harness, t *testing.T) copyjob.Settlement
		want   copyjob.Settlement
	}{
		{"copy started, poll scheduled", func(h *harness) {}, trigger, copyjob.Complete},
		{"copy started, poll schedule failed", func(h *harness) { h.polls.err = errBusDown }, trigger, copyjob.Retry},
		{"waiting on other copy, deferral written", func(h *harness) {
			h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending)
		}, trigger, copyjob.Complete},
		{"waiting on other copy, deferral failed", func(h *harness) {
			h.store.dest = incremental(srcURL, "2026-11-24T09:00:00.0000000Z", copyjob.StatusPending)
			h.triggers.err = errBusDown
		}, trigger, copyjob.Retry},
		{"storage down, deferral written", func(h *harness) { h.store.destErr = errors.New("timeout") }, trigger, copyjob.Complete},
		{"conflict, Failed published", func(h *harness) { h.store.dest = copyjob.Destination{Exists: true} }, trigger, copyjob.Complete},
		{"conflict, publish failed", func(h *harness) { h.store.dest = copyjob.Destination{Exists: true}; h.events.err = errBusDown }, trigger, copyjob.Retry},
		{"already copied, Completed published again", func(h *harness) {
			h.store.dest = incremental(srcURL, snapshot, copyjob.StatusSuccess)
		}, trigger, copyjob.Complete},
		{"newer snapshot already copied, Superseded published", func(h *harness) {
			h.store.dest = incremental(srcURL, "2026-11-24T11:00:00.0000000Z", copyjob.StatusSuccess)
		}, trigger, copyjob.Complete},
		{"bad input, Rejected published", func(h *harness) {}, badTrigger, copyjob.Complete},
		{"bad input, publish failed", func(h *harness) { h.events.err = errBusDown }, badTrigger, copyjob.Retry},
		{"poll pending, next scheduled", func(h *harness) { h.store.dest = running(copyjob.StatusPending) }, poll, copyjob.Complete},
		{"poll pending, schedule failed", func(h *harness) { h.store.dest = running(copyjob.StatusPending); h.polls.err = errBusDown }, poll, copyjob.Retry},
		{"copy failed, Failed published", func(h *harness) { h.store.dest = running(copyjob.StatusFailed) }, poll, copyjob.Complete},
		{"copy succeeded, publish failed", func(h *harness) { h.store.dest = running(copyjob.StatusSuccess); h.events.err = errBusDown }, poll, copyjob.Retry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c.setup(h)
			if got := c.invoke(h, t); got != c.want {
				t.Fatalf("settlement = %v, want %v", got, c.want)
			}
			if c.want == copyjob.Retry && !strings.Contains(h.logs.String(), `"level":"error"`) {
				t.Fatalf("abandoned without an error log line:\n%s", h.logs)
			}
		})
	}
}

func trigger(h *harness, t *testing.T) copyjob.Settlement {
	return h.w.SnapshotCreated(context.Background(), triggerInv(triggerBody("")))
}

func badTrigger(h *harness, t *testing.T) copyjob.Settlement {
	return h.w.SnapshotCreated(context.Background(), triggerInv([]byte("{")))
}

func poll(h *harness, t *testing.T) copyjob.Settlement {
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
