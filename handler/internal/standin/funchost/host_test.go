package funchost

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func sourceOf(t *testing.T, b *Broker, entity string) Source {
	t.Helper()
	src, err := b.Source(entity)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func hostFor(t *testing.T, b *Broker, h http.Handler, layers int) *Host {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host, err := NewHost(HostOptions{BaseURL: srv.URL, Functions: map[string]Source{"Fn": sourceOf(t, b, "q")}, StringLayers: layers, FunctionTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return host
}

// TestInvocationPayloadDecodes checks the encoding against the project's
// decoder for both string layerings the real host has been seen using.
func TestInvocationPayloadDecodes(t *testing.T) {
	for _, layers := range []int{1, 2} {
		b, _ := newTestBroker(t)
		m := msg("m-1")
		m.CorrelationID, m.ContentType = strPtr("corr"), strPtr("application/json")
		m.ApplicationProperties = map[string]any{"k": "v"}
		_ = b.Sender("q").SendMessage(context.Background(), m, nil)
		rec := &recorder{}
		if n, err := hostFor(t, b, rec, layers).Dispatch(context.Background()); n != 1 || err != nil {
			t.Fatalf("dispatched %d: %v", n, err)
		}
		inv := rec.got[0]
		if inv.DecodeErr != nil || string(inv.Body) != `{"n":1}` || inv.MessageID != "m-1" || inv.DeliveryCount != 1 ||
			inv.CorrelationID != "corr" || inv.ContentType != "application/json" || inv.Subject != "s" || inv.ApplicationProperties["k"] != "v" || inv.InvocationID == "" {
			t.Fatalf("layers %d: decoded %+v", layers, inv)
		}
	}
}

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
			b, _ := newTestBroker(t)
			_ = b.Sender("q").SendMessage(context.Background(), msg("m"), nil)
			rec := &recorder{answer: func(funcproto.Invocation) (int, string) { return c.status, c.body }}
			if _, err := hostFor(t, b, rec, 1).Dispatch(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := b.Stats("q")
			if got := st.Completed == 1; got != c.wantComplete {
				t.Fatalf("completed = %v, want %v (%+v)", got, c.wantComplete, st)
			}
			if !c.wantComplete {
				if m, ok := b.receive("q"); !ok || m.DeliveryCount != 2 {
					t.Fatalf("not redelivered at once: %+v %v", m, ok)
				}
			}
		})
	}
}

func TestConcurrencyLimit(t *testing.T) {
	b, _ := newTestBroker(t)
	for i := 0; i < 10; i++ {
		_ = b.Sender("q").SendMessage(context.Background(), msg(string(rune('a'+i))), nil)
	}
	rec := &recorder{release: make(chan struct{})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	host, err := NewHost(HostOptions{BaseURL: srv.URL, Functions: map[string]Source{"Fn": sourceOf(t, b, "q")}, MaxConcurrentCalls: 3})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() { n, _ := host.Dispatch(context.Background()); done <- n }()
	for i := 0; i < 10; i++ {
		rec.release <- struct{}{}
	}
	if n := <-done; n != 10 {
		t.Fatalf("dispatched %d", n)
	}
	if m := rec.maxSeen.Load(); m > 3 || m < 1 {
		t.Fatalf("max in flight %d, limit 3", m)
	}
}

func TestRunUntilIdleReportsEndlessChains(t *testing.T) {
	b, clk := newTestBroker(t)
	_ = b.Sender("q").SendMessage(context.Background(), msg("0"), nil)
	var n atomic.Int64
	rec := &recorder{answer: func(funcproto.Invocation) (int, string) {
		m := msg(time.Duration(n.Add(1)).String())
		_, _ = b.Sender("q").ScheduleMessages(context.Background(), []*azservicebus.Message{m}, clk.Now().Add(time.Hour), nil)
		return 200, `{}`
	}}
	err := hostFor(t, b, rec, 1).RunUntilIdle(context.Background(), clk, Limits{MaxSimulated: 10 * time.Hour})
	if err == nil {
		t.Fatal("an endless chain must hit the limit")
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
	b, _ := newTestBroker(t)
	lost := errors.New("connection lost")
	host, err := NewHost(HostOptions{BaseURL: "http://127.0.0.1:1", Functions: map[string]Source{"Fine": sourceOf(t, b, "q"), "Deaf": failingSource{lost}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := host.Run(ctx); !errors.Is(err, lost) || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v), want the source's error before the deadline", err, ctx.Err())
	}
}
