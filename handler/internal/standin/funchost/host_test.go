package funchost

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

// recorder is a custom handler that decodes with the project's decoder and
// answers what the test says.
type recorder struct {
	mu       sync.Mutex
	got      []funcproto.Invocation
	answer   func(funcproto.Invocation) (int, string)
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	release  chan struct{}
	// entered, when set, is told about every call as it starts.
	entered chan struct{}
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for {
		m := r.maxSeen.Load()
		if n <= m || r.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if r.entered != nil {
		r.entered <- struct{}{}
	}
	if r.release != nil {
		<-r.release
	}
	payload, _ := io.ReadAll(req.Body)
	inv := funcproto.Decode(req.URL.Path[1:], req.Header.Get("X-Azure-Functions-InvocationId"), payload)
	r.mu.Lock()
	r.got = append(r.got, inv)
	r.mu.Unlock()
	status, body := http.StatusOK, `{"Outputs":{}}`
	if r.answer != nil {
		status, body = r.answer(inv)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// TestInvocationPayloadDecodes checks the encoding against the project's
// decoder for both string layerings the real host has been seen using.
func TestInvocationPayloadDecodes(t *testing.T) {
	for _, layers := range []int{1, 2} {
		q := newEmulatedQueue(t)
		m := msg("m-1")
		m.CorrelationID, m.ContentType = strPtr("corr"), strPtr("application/json")
		m.ApplicationProperties = map[string]any{"k": "v"}
		q.sendNow(t, m)
		rec := &recorder{}
		if n, err := q.host(t, rec, HostOptions{StringLayers: layers}).Dispatch(context.Background()); n != 1 || err != nil {
			t.Fatalf("dispatched %d: %v", n, err)
		}
		inv := rec.got[0]
		if inv.DecodeErr != nil || string(inv.Body) != `{"n":1}` || inv.MessageID != "m-1" || inv.DeliveryCount != 1 ||
			inv.CorrelationID != "corr" || inv.ContentType != "application/json" || inv.Subject != "s" || inv.ApplicationProperties["k"] != "v" || inv.InvocationID == "" {
			t.Fatalf("layers %d: decoded %+v", layers, inv)
		}
	}
}

// TestSettlementByAnswer: 2xx with a JSON body completes the message;
// anything else abandons it, and the queue redelivers it at once.
func TestSettlementByAnswer(t *testing.T) {
	cases := map[string]struct {
		status       int
		body         string
		wantComplete bool
	}{
		"200 json":     {200, `{}`, true},
		"200 not json": {200, `oops`, false},
		"500":          {500, `{}`, false},
		"404":          {404, `{}`, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			q := newEmulatedQueue(t)
			q.sendNow(t, msg("m"))
			var results []InvocationResult
			rec := &recorder{answer: func(funcproto.Invocation) (int, string) { return c.status, c.body }}
			host := q.host(t, rec, HostOptions{OnInvocation: func(r InvocationResult) { results = append(results, r) }})
			if _, err := host.Dispatch(context.Background()); err != nil {
				t.Fatal(err)
			}
			left, err := q.broker.Messages(queueName)
			if err != nil {
				t.Fatal(err)
			}
			if c.wantComplete {
				if len(results) != 1 || results[0].Settlement != copyjob.Complete || len(left) != 0 {
					t.Fatalf("results %+v, %d left; want one Complete and nothing left", results, len(left))
				}
				return
			}
			// Abandoned: redelivered at once (within this round or the
			// next), counted, and still in the queue.
			if len(rec.got) == 1 {
				if _, err := host.Dispatch(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			for i, inv := range rec.got {
				if inv.DeliveryCount != i+1 || results[i].Settlement != copyjob.Retry {
					t.Fatalf("delivery %d: count %d, settlement %v", i+1, inv.DeliveryCount, results[i].Settlement)
				}
			}
			if len(rec.got) < 2 || len(left) != 1 {
				t.Fatalf("%d deliveries, %d left; want a redelivery and the message kept", len(rec.got), len(left))
			}
		})
	}
}

// TestConcurrencyLimit: with MaxConcurrentCalls 3 and ten messages, the
// host runs exactly three calls at once, never more, and a host that ran
// them one at a time fails here (the handler holds every call until three
// are in flight).
func TestConcurrencyLimit(t *testing.T) {
	q := newEmulatedQueue(t)
	for i := 0; i < 10; i++ {
		q.sendNow(t, msg(string(rune('a'+i))))
	}
	const limit = 3
	rec := &recorder{release: make(chan struct{}), entered: make(chan struct{}, 10)}
	host := q.host(t, rec, HostOptions{MaxConcurrentCalls: limit})
	done := make(chan int, 1)
	go func() { n, _ := host.Dispatch(context.Background()); done <- n }()
	bound := time.After(20 * time.Second)
	for i := 0; i < 10; i++ {
		// Release one call only while the limit is reached (or when the
		// last calls drain).
		for want := min(limit, 10-i); rec.inFlight.Load() < int64(want); {
			select {
			case <-rec.entered:
			case <-bound:
				close(rec.release) // let the held calls end before the test stops
				t.Fatalf("only %d calls in flight after %d released, want %d at once", rec.inFlight.Load(), i, want)
			}
		}
		rec.release <- struct{}{}
	}
	if n := <-done; n != 10 {
		t.Fatalf("dispatched %d", n)
	}
	if m := rec.maxSeen.Load(); m != limit {
		t.Fatalf("max in flight %d, limit %d", m, limit)
	}
}

func TestRunUntilIdleReportsEndlessChains(t *testing.T) {
	q := newEmulatedQueue(t)
	q.sendNow(t, msg("0"))
	var n atomic.Int64
	rec := &recorder{answer: func(funcproto.Invocation) (int, string) {
		m := msg(time.Duration(n.Add(1)).String())
		_, _ = q.send.ScheduleMessages(context.Background(), []*azservicebus.Message{m}, q.clock.Now().Add(time.Hour), nil)
		return 200, `{}`
	}}
	err := q.host(t, rec, HostOptions{}).RunUntilIdle(context.Background(), q.clock, Limits{MaxSimulated: 10 * time.Hour})
	if !errors.Is(err, ErrNotIdle) {
		t.Fatalf("an endless chain must hit the limit: %v", err)
	}
}

func strPtr(s string) *string { return &s }

// failingSource is a listener whose connection is gone.
type failingSource struct{ err error }

func (f failingSource) Receive(context.Context, int, bool) ([]*Message, error)     { return nil, f.err }
func (f failingSource) Settle(context.Context, *Message, copyjob.Settlement) error { return nil }
func (f failingSource) NextDue() (time.Time, bool)                                 { return time.Time{}, false }

// TestRunStopsWhenASourceFails: Run reports a listener's failure (and stops
// the others) instead of serving on with one function deaf.
func TestRunStopsWhenASourceFails(t *testing.T) {
	q := newEmulatedQueue(t)
	lost := errors.New("connection lost")
	host, err := NewHost(HostOptions{BaseURL: "http://127.0.0.1:1", Functions: map[string]Source{"Fine": q.source, "Deaf": failingSource{lost}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := host.Run(ctx); !errors.Is(err, lost) || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v), want the source's error before the deadline", err, ctx.Err())
	}
}

// TestStartReportsOnlyAStopOnItsOwn: Start's onStop hears a failed source,
// and nothing when the host is stopped.
func TestStartReportsOnlyAStopOnItsOwn(t *testing.T) {
	lost := errors.New("connection lost")
	t.Run("a source fails", func(t *testing.T) {
		host, err := NewHost(HostOptions{BaseURL: "http://127.0.0.1:1", Functions: map[string]Source{"Deaf": failingSource{lost}}})
		if err != nil {
			t.Fatal(err)
		}
		stopped := make(chan error, 1)
		stop := host.Start(context.Background(), func(err error) { stopped <- err })
		defer stop()
		select {
		case err := <-stopped:
			if !errors.Is(err, lost) {
				t.Fatalf("onStop(%v), want the source's error", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("onStop not called within 30s")
		}
	})
	t.Run("stopped", func(t *testing.T) {
		q := newEmulatedQueue(t)
		host, err := NewHost(HostOptions{BaseURL: "http://127.0.0.1:1", Functions: map[string]Source{"Fine": q.source}})
		if err != nil {
			t.Fatal(err)
		}
		stop := host.Start(context.Background(), func(err error) { t.Errorf("onStop(%v) for a host that was stopped", err) })
		stop()
	})
}
