package main

// The reliability suite's harness: the real handler wired by app.New, behind
// the host simulator, against the storage emulator, on a fake clock, with
// fault injection at every boundary the handler crosses:
//
//   - storage: scripted faults (InjectFault), seeded chaos (transient 500/503
//     and timeouts on any request), latency through the emulator's Sleep
//     (recorded, never waited), and lost answers to Incremental Copy (the
//     copy starts, the connection drops before the 202 arrives);
//   - bus: the next sends or schedules to the poll queue, the trigger queue
//     or the topic refused (server-busy over AMQP, which the SDK retries
//     once);
//   - process: a crash at a step boundary (the invocation's durable steps so
//     far stand, nothing after them happens, and the host sees a 500 or a
//     dropped connection).
//
// Every random decision taken inside a concurrent invocation is a pure
// function of the seed and the message (id, delivery count, step), so a
// seed replays the same faults whatever the goroutine schedule.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// relRates are the fault probabilities. Per-invocation failure stays far
// below what MaxDeliveryCount (10) consecutive failures would need, so a
// dead letter means a bug, not bad luck.
type relRates struct {
	// CrashBeforePoll1: the process dies after the copy started and before
	// poll 1 was scheduled.
	CrashBeforePoll1 float64
	// CrashAfterSend: the process dies right after a successful send
	// (schedule poll, defer trigger, publish).
	CrashAfterSend float64
	// BusFail: after an invocation, the next 1-2 sends to a random entity fail.
	BusFail float64
	// StorageFault: after an invocation, a scripted storage fault is added.
	StorageFault float64
	// DropCopyAnswer: Incremental Copy is served but its answer is lost.
	DropCopyAnswer float64
	// MaxDroppedCopyAnswers bounds lost answers: each costs the SDK's real
	// retry delay (no Retry-After on a dropped connection).
	MaxDroppedCopyAnswers int64
	// SleepTimeout: injected latency ends in the emulator's own timeout.
	SleepTimeout float64
}

var defaultRelRates = relRates{
	CrashBeforePoll1:      0.10,
	CrashAfterSend:        0.06,
	BusFail:               0.03,
	StorageFault:          0.04,
	DropCopyAnswer:        0.04,
	MaxDroppedCopyAnswers: 6,
	SleepTimeout:          0.004,
}

// relHarness is the stack under test plus its fault injectors and counters.
type relHarness struct {
	t     *testing.T
	seed  uint64
	rates relRates

	clock   *clock.Fake
	emu     *storageemu.Emulator
	blobURL string // emulator account URL
	key     *blob.SharedKeyCredential
	bus     *standinBus
	host    *funchost.Host
	logs    *bytes.Buffer // written under logging's own lock; read after runs

	// running is set while the host runs: only the handler talks to storage then.
	running atomic.Bool

	// retention is the policy the handler runs with (source pruning on).
	retention copyjob.RetentionPolicy

	mu      sync.Mutex
	sent    []relSent // every send the handler attempted, in order
	stats   relStats  // guarded by mu
	ops     map[string]*relOpStats
	deletes map[string]*relDeletes // by blob path?snapshot=
}

// relDeletes counts the Delete Blob requests for one snapshot.
type relDeletes struct {
	// Deleted and Gone count 202 and 404 answers; InFlight the requests
	// being served now, MaxInFlight the most at once.
	Deleted, Gone, InFlight, MaxInFlight int
}

// relSent is one send by the handler, before duplicate detection.
type relSent struct {
	Entity string
	ID     string
	Body   []byte
	Props  map[string]any
	At     time.Time
	OK     bool
}

type relOpStats struct {
	Requests, Faults5xx, Dropped int
}

// relStats are the harness's counters (the figures of the run).
type relStats struct {
	Invocations            map[string]int
	Abandoned              map[string]int
	MaxDelivery            int
	CrashBeforePoll1       int
	CrashAfter             map[string]int
	CrashDrops, Crash500s  int
	BusFailsInjected       map[string]int
	StorageFaultsInjected  map[string]int
	SleepTimeouts          int
	Latency                time.Duration
	DroppedCopyAnswers     int64
	SendsAfterCrashDropped int
	ProducerSendRetries    int
	SimulatedStart, SimEnd time.Time
}

// newRelHarness wires the stack for seed and fault rates.
func newRelHarness(t *testing.T, seed uint64, rates relRates) *relHarness {
	t.Helper()
	h := &relHarness{
		t: t, seed: seed, rates: rates,
		clock: clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)),
		logs:  &bytes.Buffer{},
		ops:   map[string]*relOpStats{},
		// Keep the last 2-4 restore points and the newest of 0-2 days: the
		// run spans hours of one simulated day, so the last-n rule decides.
		retention: copyjob.RetentionPolicy{Last: 2 + int(seed%3), Daily: int(seed / 3 % 3)},
		deletes:   map[string]*relDeletes{},
		stats: relStats{
			Invocations: map[string]int{}, Abandoned: map[string]int{}, CrashAfter: map[string]int{},
			BusFailsInjected: map[string]int{}, StorageFaultsInjected: map[string]int{},
		},
	}
	h.stats.SimulatedStart = h.clock.Now()
	h.emu = storageemu.New(storageemu.Options{
		Clock: h.clock,
		// 2 KiB/s: a generation's few written pages take seconds to a minute,
		// so polls see copies pending and triggers wait behind them.
		CopyRate: 2 << 10,
		Sleep:    h.sleep,
		Chaos:    &storageemu.Chaos{Seed: seed, ErrorRate: 0.01, MaxLatency: 3 * time.Second},
	})
	storage := httptest.NewServer(h.wrapStorage(h.emu))
	t.Cleanup(storage.Close)
	h.blobURL = storage.URL + "/" + storageemu.DevAccountName

	h.bus = newStandinBus(t, h.clock)
	env := standinSettings(storage.URL)
	maps.Copy(env, map[string]string{
		config.SettingAllowedSources:      h.blobURL + "/disks",
		config.SettingAllowedDestinations: h.blobURL + "/backups",
		config.SettingAllowMessageSAS:     "true",
		config.SettingMaxMessageBytes:     fmt.Sprint(relMaxMessageBytes),
		config.SettingLogLevel:            "debug",
		config.SettingRetainLast:          fmt.Sprint(h.retention.Last),
		config.SettingRetainDaily:         fmt.Sprint(h.retention.Daily),
		config.SettingPruneSource:         "true",
	})
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: logging.New(h.logs, h.logs, cfg.LogLevel), Clock: h.clock,
		Senders: func(entity string) (bus.Sender, error) {
			return &relSender{h: h, entity: entity, inner: h.bus.sender(entity)}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	handler := httptest.NewServer(h.wrapHandler(a.Handler))
	t.Cleanup(handler.Close)
	h.host, err = funchost.NewHost(funchost.HostOptions{
		Functions:    h.bus.sources(),
		BaseURL:      handler.URL,
		Clock:        h.clock,
		OnInvocation: h.onInvocation,
		// The host's client must not keep retrying on its own.
		Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.key, _ = blob.NewSharedKeyCredential(storageemu.DevAccountName, storageemu.DevAccountKey)
	for _, c := range []string{"disks", "backups", "other", "elsewhere"} {
		if _, err := h.container(c).Create(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// clientOptions retry fast: the harness's own requests meet chaos too.
var relClientOptions = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 6, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}}

func (h *relHarness) container(name string) *container.Client {
	c, err := container.NewClientWithSharedKeyCredential(h.blobURL+"/"+name, h.key, &container.ClientOptions{ClientOptions: relClientOptions})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// chance is a uniform value in [0,1) determined by the seed and parts.
func (h *relHarness) chance(parts ...any) float64 {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%v", h.seed, parts))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// sleep is the emulator's latency: recorded, not waited; rarely it ends
// in the service's own timeout (500 OperationTimedOut).
func (h *relHarness) sleep(ctx context.Context, d time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Latency += d
	if h.running.Load() && h.chance("sleep-timeout", h.stats.Latency) < h.rates.SleepTimeout {
		h.stats.SleepTimeouts++
		return context.DeadlineExceeded
	}
	return ctx.Err()
}

// run delivers until idle, with faults on.
func (h *relHarness) run() {
	h.t.Helper()
	h.running.Store(true)
	defer h.running.Store(false)
	err := h.host.RunUntilIdle(context.Background(), h.clock, funchost.Limits{MaxSimulated: 24 * time.Hour})
	if err != nil {
		h.t.Fatalf("seed %d: %v", h.seed, err)
	}
	h.stats.SimEnd = h.clock.Now()
}

// clearBusFaults resets pending FailNextSends before the producer sends.
func (h *relHarness) clearBusFaults() {
	for _, e := range []string{triggerQueue, pollQueue, eventsTopic} {
		h.bus.failNextSends(e, 0)
	}
}

// produce schedules a producer's message on the trigger queue at at,
// retrying like a producer would if the bus refuses (injected faults are
// cleared before producing, so a refusal here means a broken bus).
func (h *relHarness) produce(id string, body []byte, at time.Time) {
	h.t.Helper()
	m := &azservicebus.Message{Body: body, ContentType: ptr("application/cloudevents+json")}
	if id != "" {
		m.MessageID = ptr(id)
	}
	for try := 0; ; try++ {
		_, err := h.bus.sender(triggerQueue).ScheduleMessages(context.Background(), []*azservicebus.Message{m}, at, nil)
		if err == nil {
			return
		}
		if try > 5 {
			h.t.Fatalf("seed %d: produce %s: %v", h.seed, id, err)
		}
		h.stats.ProducerSendRetries++
	}
}

func ptr[T any](v T) *T { return &v }

// onInvocation counts and, now and then, arms bus and storage faults for
// what follows.
func (h *relHarness) onInvocation(inv funchost.InvocationResult) {
	key := []any{inv.Function, inv.MessageID, inv.DeliveryCount}
	h.mu.Lock()
	h.stats.Invocations[inv.Function]++
	if inv.Settlement != copyjob.Complete {
		h.stats.Abandoned[inv.Function]++
	}
	h.stats.MaxDelivery = max(h.stats.MaxDelivery, inv.DeliveryCount)
	var busEntity string
	var busN int
	if c := h.chance(append([]any{"bus-fail"}, key...)...); c < h.rates.BusFail {
		entities := []string{pollQueue, triggerQueue, eventsTopic}
		busEntity = entities[int(c/h.rates.BusFail*3)%3]
		busN = 1 + int(h.chance(append([]any{"bus-fail-n"}, key...)...)*2)
		h.stats.BusFailsInjected[busEntity] += busN
	}
	var fault *storageemu.Fault
	if c := h.chance(append([]any{"storage-fault"}, key...)...); c < h.rates.StorageFault {
		f := h.storageFault("", key)
		fault = &f
		h.stats.StorageFaultsInjected[string(f.Op)]++
	}
	h.mu.Unlock()
	if busEntity != "" {
		h.bus.failNextSends(busEntity, busN)
	}
	if fault != nil {
		h.emu.InjectFault(*fault)
	}
}

// checkFaultsFired: a run whose faults never struck proves nothing about
// them, so the stand-ins' own counters must show every kind of fault.
func (h *relHarness) checkFaultsFired(r *relReport) {
	fired := h.emu.FaultCounts()
	if fired.Requests == 0 || fired.ChaosErrors == 0 {
		r.failf("storage faults did not fire: %+v", fired)
	}
	injected := 0
	for _, n := range h.stats.BusFailsInjected {
		injected += n
	}
	if busFired := h.bus.faultsFired(); injected > 0 && busFired == 0 {
		r.failf("%d bus faults injected, none fired", injected)
	}
}

// relHandlerOps are the storage operations the handler performs.
var relHandlerOps = []storageemu.Operation{storageemu.OpGetBlobProperties, storageemu.OpListBlobs, storageemu.OpIncrementalCopy}

// storageFault draws a transient fault: 500/503/timeout, or latency, on one
// of the handler's operations, for 1-5 requests (5 outlasts the SDK's 3
// retries, so the handler itself sees the error).
// op "" picks one at random.
func (h *relHarness) storageFault(op storageemu.Operation, key []any) storageemu.Fault {
	pick := func(what string, n int) int {
		return int(h.chance(append([]any{what}, key...)...) * float64(n))
	}
	if op == "" {
		op = relHandlerOps[pick("fault-op", len(relHandlerOps))]
	}
	f := storageemu.Fault{Op: op, Times: 1 + pick("fault-times", 5)}
	switch pick("fault-kind", 4) {
	case 0:
		f.Status, f.Code = http.StatusServiceUnavailable, "ServerBusy"
	case 1:
		f.Status, f.Code = http.StatusInternalServerError, "InternalError"
	case 2:
		f.Status, f.Code = http.StatusInternalServerError, "OperationTimedOut"
	default:
		f.Latency = time.Duration(1+pick("fault-latency", 30)) * time.Second
	}
	return f
}

// --- process crashes -------------------------------------------------------

type relPlanKey struct{}

// relPlan is one invocation as the crash model sees it.
type relPlan struct {
	fn, messageID string
	delivery      int

	mu      sync.Mutex
	steps   int
	crashed string // "" while the process lives; else the step it died after
}

var errRelCrashed = errors.New("reliability harness: the process has crashed")

// wrapHandler runs the real handler and, when the invocation "crashed",
// answers like a dead process: 500 or a dropped connection.
func (h *relHarness) wrapHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fn := strings.TrimPrefix(r.URL.Path, "/")
		inv := funcproto.Decode(fn, "", body)
		plan := &relPlan{fn: fn, messageID: inv.MessageID, delivery: inv.DeliveryCount}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), relPlanKey{}, plan)))
		plan.mu.Lock()
		crashed := plan.crashed
		plan.mu.Unlock()
		if crashed == "" {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		drop := h.chance("crash-drop", fn, inv.MessageID, inv.DeliveryCount) < 0.5
		h.mu.Lock()
		if drop {
			h.stats.CrashDrops++
		} else {
			h.stats.Crash500s++
		}
		h.mu.Unlock()
		if drop && dropConnection(w) {
			return
		}
		http.Error(w, "process crashed", http.StatusInternalServerError)
	})
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// relSender is the bus.Sender given to app.New: it records every send and
// crashes the process at step boundaries.
type relSender struct {
	h      *relHarness
	entity string
	inner  bus.Sender
}

var _ bus.Sender = (*relSender)(nil)

func (s *relSender) SendMessage(ctx context.Context, m *azservicebus.Message, o *azservicebus.SendMessageOptions) error {
	return s.send(ctx, m, func() error { return s.inner.SendMessage(ctx, m, o) })
}

func (s *relSender) ScheduleMessages(ctx context.Context, ms []*azservicebus.Message, at time.Time, o *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	if len(ms) != 1 {
		return s.inner.ScheduleMessages(ctx, ms, at, o)
	}
	var seqs []int64
	err := s.send(ctx, ms[0], func() (err error) {
		seqs, err = s.inner.ScheduleMessages(ctx, ms, at, o)
		return err
	})
	return seqs, err
}

// stepOf names the durable step a send is.
func (s *relSender) stepOf() string {
	switch s.entity {
	case pollQueue:
		return "schedule-poll"
	case triggerQueue:
		return "defer-trigger"
	default:
		return "publish"
	}
}

func (s *relSender) send(ctx context.Context, m *azservicebus.Message, do func() error) error {
	h := s.h
	id := ""
	if m.MessageID != nil {
		id = *m.MessageID
	}
	plan, _ := ctx.Value(relPlanKey{}).(*relPlan)
	if plan == nil {
		return do()
	}
	plan.mu.Lock()
	defer plan.mu.Unlock()
	if plan.crashed != "" {
		h.mu.Lock()
		h.stats.SendsAfterCrashDropped++
		h.mu.Unlock()
		return errRelCrashed
	}
	plan.steps++
	step := s.stepOf()
	// Poll 1 is what follows Start Copy: dying here leaves a running copy
	// that nobody polls until the trigger comes back.
	if pid := copyjob.ParseMessageID(id); step == "schedule-poll" && pid.Kind == copyjob.KindPoll && pid.N == 1 &&
		h.chance("crash-before-poll1", plan.fn, plan.messageID, plan.delivery, plan.steps) < h.rates.CrashBeforePoll1 {
		plan.crashed = "start-copy"
		h.mu.Lock()
		h.stats.CrashBeforePoll1++
		h.mu.Unlock()
		return errRelCrashed
	}
	err := do()
	body := append([]byte(nil), m.Body...)
	h.mu.Lock()
	h.sent = append(h.sent, relSent{Entity: s.entity, ID: id, Body: body, Props: m.ApplicationProperties, At: h.clock.Now(), OK: err == nil})
	if err == nil && h.chance("crash-after", plan.fn, plan.messageID, plan.delivery, plan.steps) < h.rates.CrashAfterSend {
		plan.crashed = step
		h.stats.CrashAfter[step]++
	}
	h.mu.Unlock()
	return err
}

// --- storage wrapper ---------------------------------------------------------

// wrapStorage counts requests per operation, loses some Incremental Copy
// answers, and adds x-ms-retry-after-ms to transient errors so that the
// SDK's retries do not wait real time.
func (h *relHarness) wrapStorage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := relOperation(r)
		running := h.running.Load()
		if running && op == string(storageemu.OpIncrementalCopy) && h.maybeDropCopyAnswer(r) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code == http.StatusAccepted && dropConnection(w) {
				h.mu.Lock()
				h.opStats(op).Requests++
				h.opStats(op).Dropped++
				h.mu.Unlock()
				return
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		rw := &relRetryAfterWriter{ResponseWriter: w}
		if r.Method == http.MethodDelete {
			done := h.deleting(r)
			defer func() { done(rw.status) }()
		}
		next.ServeHTTP(rw, r)
		if running {
			h.mu.Lock()
			h.opStats(op).Requests++
			if rw.status >= 500 {
				h.opStats(op).Faults5xx++
			}
			h.mu.Unlock()
		}
	})
}

func (h *relHarness) maybeDropCopyAnswer(r *http.Request) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stats.DroppedCopyAnswers >= h.rates.MaxDroppedCopyAnswers {
		return false
	}
	n := h.opStats(string(storageemu.OpIncrementalCopy)).Requests
	if h.chance("drop-copy-answer", r.URL.Path, n) >= h.rates.DropCopyAnswer {
		return false
	}
	h.stats.DroppedCopyAnswers++
	return true
}

// deleting counts a Delete Blob request of a snapshot while it is served,
// so that two deletions of one snapshot at once are seen; done records the
// answer.
func (h *relHarness) deleting(r *http.Request) (done func(status int)) {
	key := r.URL.Path + "?snapshot=" + r.URL.Query().Get("snapshot")
	h.mu.Lock()
	d := h.deletes[key]
	if d == nil {
		d = &relDeletes{}
		h.deletes[key] = d
	}
	d.InFlight++
	d.MaxInFlight = max(d.MaxInFlight, d.InFlight)
	h.mu.Unlock()
	return func(status int) {
		h.mu.Lock()
		defer h.mu.Unlock()
		d.InFlight--
		switch status {
		case http.StatusAccepted:
			d.Deleted++
		case http.StatusNotFound:
			d.Gone++
		}
	}
}

func (h *relHarness) opStats(op string) *relOpStats {
	s := h.ops[op]
	if s == nil {
		s = &relOpStats{}
		h.ops[op] = s
	}
	return s
}

// relOperation names a storage request roughly like the emulator does.
func relOperation(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodHead:
		return string(storageemu.OpGetBlobProperties)
	case q.Get("comp") == "list":
		return string(storageemu.OpListBlobs)
	case q.Get("comp") == "incrementalcopy":
		return string(storageemu.OpIncrementalCopy)
	case q.Get("comp") == "copy":
		return string(storageemu.OpAbortCopy)
	case r.Method == http.MethodGet:
		return string(storageemu.OpGetBlob)
	}
	return r.Method + " " + q.Get("comp")
}

// relRetryAfterWriter adds a 1 ms Retry-After to 429/5xx answers: the SDK
// honours it instead of sleeping its own back-off on the real clock.
type relRetryAfterWriter struct {
	http.ResponseWriter
	status int
}

func (w *relRetryAfterWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if code == http.StatusTooManyRequests || code >= 500 {
			w.Header().Set("x-ms-retry-after-ms", "1")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *relRetryAfterWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming downloads streaming.
func (w *relRetryAfterWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
