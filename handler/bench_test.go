package main

// Handler benchmarks: overhead, scale and memory (see BENCHMARKS.md for the commands and the
// latest figures). They only run with -bench; they print figures and
// never assert on time.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/benchkit"
	"github.com/snapcopy/snapcopy/handler/internal/tools/packager"
	"github.com/snapcopy/snapcopy/handler/internal/worker"
)

var _ worker.Storage = (*benchkit.PendingStorage)(nil)

// benchEpoch is the fake clocks' start.
var benchEpoch = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// benchSettings are the app settings every benchmark starts from: a
// Service Bus connection string that is never dialled (the in-process
// broker's senders replace it) and the production log level.
func benchSettings(storageURL string) map[string]string {
	return map[string]string{
		config.SettingServiceBusConnection:    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
		config.SettingStorageConnectionString: storageemu.ConnectionString(storageURL, storageemu.DevAccount),
		config.SettingDestinationContainerURL: storageURL + "/" + storageemu.DevAccountName + "/backups",
	}
}

func benchApp(tb testing.TB, settings map[string]string, clk clock.Clock, senders func(string) (bus.Sender, error)) *app.App {
	tb.Helper()
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		tb.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: logging.New(io.Discard, io.Discard, cfg.LogLevel), Clock: clk, Senders: senders})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func nopSenders(string) (bus.Sender, error) { return &benchkit.NopSender{}, nil }

// ---------------------------------------------------------------------------
// Benchmark 2: handler overhead of POST /CopyPoll (pending → schedule).

// copyPollVariant is one handler under load and the CopyPoll request it is
// sent, again and again (the worker keeps no state, so the same poll of a
// pending copy always takes the same path).
type copyPollVariant struct {
	name, what string
	// setup fails b on error and hands what must be closed to cleanup,
	// which runs when the whole benchmark ends (b's own Cleanup would run
	// when the first sub-benchmark using the variant ends).
	setup func(b *testing.B, cleanup func(func())) (baseURL string, req benchkit.Request)
}

// BenchmarkCopyPoll measures invocations/s, p50/p99 latency and
// allocations per invocation of POST /CopyPoll over loopback HTTP, with 1
// and 16 (the host's MaxConcurrentCalls in the simulator) requests in
// flight, for: the echo custom handler (the ceiling), the real handler over
// in-process fakes, over the loopback stand-ins with the in-process broker,
// and over the stand-ins with Service Bus over AMQP.
//
//	go test -run '^$' -bench CopyPoll -benchmem ./handler/
func BenchmarkCopyPoll(b *testing.B) {
	variants := []copyPollVariant{
		{"echo", "(c) echo custom handler: read body, answer 200 {}", setupEcho},
		{"echo-decode", "(c') echo that decodes the host envelope (funcproto.Decode)", func(b *testing.B, cleanup func(func())) (string, benchkit.Request) {
			srv := httptest.NewServer(benchkit.DecodingEcho{})
			cleanup(srv.Close)
			_, req := fakesRequest(b)
			return srv.URL, req
		}},
		{"fakes", "(a) handler, fakes behind storage and bus ports", setupFakes},
		{"stand-ins", "(b) handler, storage emulator over HTTP + funchost broker senders", func(b *testing.B, cleanup func(func())) (string, benchkit.Request) {
			return setupStandIns(b, cleanup, false)
		}},
		{"amqp", "(b') handler, storage emulator over HTTP + busemu over AMQP", func(b *testing.B, cleanup func(func())) (string, benchkit.Request) {
			return setupStandIns(b, cleanup, true)
		}},
	}
	type figures struct {
		res           benchkit.Result
		allocs, bytes float64
	}
	var (
		mu      sync.Mutex
		results = map[string]figures{}
	)
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	cleanup := func(f func()) {
		mu.Lock()
		cleanups = append(cleanups, f)
		mu.Unlock()
	}
	for _, v := range variants {
		var (
			once    sync.Once
			baseURL string
			req     benchkit.Request
		)
		for _, conc := range []int{1, 16} {
			name := fmt.Sprintf("%s/c%d", v.name, conc)
			b.Run(name, func(b *testing.B) {
				once.Do(func() { baseURL, req = v.setup(b, cleanup) })
				if baseURL == "" {
					b.Fatal("set-up failed in an earlier sub-benchmark")
				}
				client := benchkit.Client(conc)
				defer client.CloseIdleConnections()
				ctx := context.Background()
				benchkit.Report(b, benchkit.Load(ctx, client, baseURL, req, 200, conc)) // warm connections and pools
				b.ReportAllocs()
				m0 := memStats()
				b.ResetTimer()
				res := benchkit.Load(ctx, client, baseURL, req, b.N, conc)
				b.StopTimer()
				m1 := memStats()
				benchkit.Report(b, res)
				mu.Lock()
				results[name] = figures{res, float64(m1.Mallocs-m0.Mallocs) / float64(b.N), float64(m1.TotalAlloc-m0.TotalAlloc) / float64(b.N)}
				mu.Unlock()
			})
		}
	}
	out := &strings.Builder{}
	fmt.Fprintf(out, "\nPOST /CopyPoll, pending → schedule next poll (%s)\n", machine())
	fmt.Fprintf(out, "%-16s %9s %9s %9s %11s %9s %9s  %s\n", "variant", "inv/s", "p50 µs", "p99 µs", "allocs/inv", "KiB/inv", "vs echo", "what")
	for _, conc := range []int{1, 16} {
		echo, haveEcho := results[fmt.Sprintf("echo/c%d", conc)]
		for _, v := range variants {
			name := fmt.Sprintf("%s/c%d", v.name, conc)
			f, ok := results[name]
			if !ok {
				continue
			}
			ratio := "-"
			if haveEcho && echo.res.Throughput() > 0 {
				ratio = fmt.Sprintf("%.2f", f.res.Throughput()/echo.res.Throughput())
			}
			fmt.Fprintf(out, "%-16s %9.0f %9.1f %9.1f %11.1f %9.1f %9s  %s\n", name, f.res.Throughput(),
				micros(f.res.Quantile(0.5)), micros(f.res.Quantile(0.99)), f.allocs, f.bytes/1024, ratio, v.what)
		}
	}
	fmt.Fprint(out, "allocs/inv and KiB/inv count the whole process: load client, handler and, for (b), the stand-ins.\n")
	fmt.Print(out.String())
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func machine() string {
	return fmt.Sprintf("%d CPUs, %s %s/%s", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// pendingPoll is the third poll of a 4 GiB copy a quarter done, as the
// worker itself would have scheduled it.
func pendingPoll(now time.Time, job copyjob.Job, copyID string) copyjob.PollMessage {
	return copyjob.PollMessage{
		Version:   copyjob.PollMessageVersion,
		Job:       job,
		CopyID:    copyID,
		Attempt:   3,
		StartedAt: now.Add(-time.Minute),
		Deadline:  now.Add(24 * time.Hour),
		Policy: copyjob.PolicyState{LastBytes: 512 << 20, LastTotal: 4 << 30, LastAt: now.Add(-30 * time.Second),
			LastDelay: 30 * time.Second, Rate: 16 << 20},
		CorrelationID: "7b0c8c1e-2b9b-4d5e-9f5e-0d7f3f1b2a11",
	}
}

func setupEcho(b *testing.B, cleanup func(func())) (string, benchkit.Request) {
	srv := httptest.NewServer(benchkit.Echo{})
	cleanup(srv.Close)
	_, req := fakesRequest(b)
	return srv.URL, req
}

// fakesRequest is the poll the fakes variant answers, and its destination.
func fakesRequest(b *testing.B) (*benchkit.PendingStorage, benchkit.Request) {
	clk := clock.NewFake(benchEpoch)
	job := copyjob.NewJob("https://srcacct.blob.core.windows.net/disks/vm1.vhd", "2026-11-24T10:00:00.1234567Z",
		"https://dracct.blob.core.windows.net/backups/vm1.vhd")
	snap, err := copyjob.ParseSnapshot(job.Snapshot)
	if err != nil {
		b.Fatal(err)
	}
	const copyID = "c9d2a6d4-5f1e-4f5e-8a43-0d8a7a3f6b21"
	req, err := benchkit.PollRequest(clk, pendingPoll(clk.Now(), job, copyID))
	if err != nil {
		b.Fatal(err)
	}
	store := &benchkit.PendingStorage{Dest: copyjob.Destination{Exists: true, Incremental: true, CopySource: job.SourceBlobURL,
		CopySourceSnapshot: snap, CopyStatus: copyjob.StatusPending, CopyID: copyID,
		Progress: copyjob.Progress{Known: true, Bytes: 1 << 30, Total: 4 << 30}}}
	return store, req
}

// setupFakes wires the app exactly as serve does (app.New), with the bus
// senders and then the storage port replaced by fakes.
func setupFakes(b *testing.B, cleanup func(func())) (string, benchkit.Request) {
	store, req := fakesRequest(b)
	a := benchApp(b, benchSettings("http://127.0.0.1:9"), clock.NewFake(benchEpoch), nopSenders)
	cleanup(a.Close)
	a.Worker.Storage = store
	srv := httptest.NewServer(a.Handler)
	cleanup(srv.Close)
	return srv.URL, req
}

// setupStandIns starts a copy on the storage emulator (its clock never
// moves, so it stays pending) through the real handler, and returns the
// poll of that copy. With amqp the handler's Service Bus client talks to
// busemu over AMQP on loopback; otherwise it uses the funchost broker's
// in-process senders.
func setupStandIns(b *testing.B, cleanup func(func()), amqp bool) (string, benchkit.Request) {
	clk := clock.NewFake(benchEpoch)
	emu := storageemu.New(storageemu.Options{Clock: clk, CopyRate: 1})
	storage := httptest.NewServer(emu)
	cleanup(storage.Close)
	settings := benchSettings(storage.URL)
	var senders func(string) (bus.Sender, error)
	if amqp {
		broker, err := busemu.ListenLoopback(busemu.Options{Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
		cleanup(func() { _ = broker.Close() })
		settings[config.SettingServiceBusConnection] = broker.ConnectionString()
	} else {
		broker, err := funchost.NewBroker(funchost.BrokerOptions{Clock: clk, Queues: []string{triggerQueue, pollQueue},
			Topics: map[string][]string{eventsTopic: {config.EventsSubscription}}})
		if err != nil {
			b.Fatal(err)
		}
		senders = func(entity string) (bus.Sender, error) { return broker.Sender(entity), nil }
	}
	a := benchApp(b, settings, clk, senders)
	cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	cleanup(srv.Close)

	accountURL := storage.URL + "/" + storageemu.DevAccountName
	src, snapshot := sourceBlob(b, accountURL, "vm1.vhd", 16<<10, 4<<10)
	trigger, err := benchkit.HostRequest(clk, "SnapshotCreated", snapshotCreated("trigger-1", src, snapshot))
	if err != nil {
		b.Fatal(err)
	}
	if res := benchkit.Load(context.Background(), benchkit.Client(1), srv.URL, trigger, 1, 1); res.Failures > 0 {
		b.Fatalf("SnapshotCreated: %s", res.FirstFailure)
	}
	job := copyjob.NewJob(src, snapshot, settings[config.SettingDestinationContainerURL]+"/vm1.vhd")
	ref, _, err := copyjob.ParseBlobURL(job.DestinationBlobURL)
	if err != nil {
		b.Fatal(err)
	}
	dst, err := a.Worker.Storage.Destination(context.Background(), ref)
	if err != nil || dst.CopyStatus != copyjob.StatusPending {
		b.Fatalf("destination after SnapshotCreated: %+v, %v", dst, err)
	}
	req, err := benchkit.PollRequest(clk, pendingPoll(clk.Now(), job, dst.CopyID))
	if err != nil {
		b.Fatal(err)
	}
	return srv.URL, req
}

// snapshotCreated is a producer's SnapshotCreated CloudEvent.
func snapshotCreated(id, sourceBlobURL, snapshot string) *azservicebus.Message {
	body := fmt.Sprintf(`{"specversion":"1.0","type":"Contoso.SnapshotCreated","source":"/bench","id":%q,"data":{"sourceBlobUrl":%q,"snapshot":%q}}`,
		id, sourceBlobURL, snapshot)
	return &azservicebus.Message{MessageID: to.Ptr(id), Body: []byte(body), ContentType: to.Ptr(bus.ContentTypeCloudEvents)}
}

var devKey = func() *blob.SharedKeyCredential {
	k, err := blob.NewSharedKeyCredential(storageemu.DevAccountName, storageemu.DevAccountKey)
	if err != nil {
		panic(err)
	}
	return k
}()

// ensureContainers creates the source and destination containers.
func ensureContainers(tb testing.TB, accountURL string) {
	tb.Helper()
	for _, name := range []string{"disks", "backups"} {
		c, err := container.NewClientWithSharedKeyCredential(accountURL+"/"+name, devKey, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := c.Create(context.Background(), nil); err != nil && !strings.Contains(err.Error(), "ContainerAlreadyExists") {
			tb.Fatal(err)
		}
	}
}

// sourceBlob creates a page blob of size bytes in container disks, writes
// written bytes at its start, snapshots it and returns its URL and the
// snapshot.
func sourceBlob(tb testing.TB, accountURL, name string, size, written int64) (string, string) {
	tb.Helper()
	ensureContainers(tb, accountURL)
	url, snap, err := makeSourceBlob(accountURL, name, size, written)
	if err != nil {
		tb.Fatal(err)
	}
	return url, snap
}

func makeSourceBlob(accountURL, name string, size, written int64) (string, string, error) {
	ctx := context.Background()
	pb, err := pageblob.NewClientWithSharedKeyCredential(accountURL+"/disks/"+name, devKey, nil)
	if err != nil {
		return "", "", err
	}
	if _, err := pb.Create(ctx, size, nil); err != nil {
		return "", "", err
	}
	page := bytes.Repeat([]byte{byte(len(name))}, int(written))
	if _, err := pb.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(page)), blob.HTTPRange{Offset: 0, Count: written}, nil); err != nil {
		return "", "", err
	}
	resp, err := pb.CreateSnapshot(ctx, nil)
	if err != nil {
		return "", "", err
	}
	return pb.URL(), *resp.Snapshot, nil
}

// BenchmarkCopyPollParts splits the fakes variant's cost without the
// network: decoding the host's envelope, and the whole server (decode,
// worker, answer) called in process.
//
//	go test -run '^$' -bench CopyPollParts -benchmem ./handler/
func BenchmarkCopyPollParts(b *testing.B) {
	b.Run("decode", func(b *testing.B) {
		_, req := fakesRequest(b)
		b.ReportAllocs()
		for b.Loop() {
			if inv := funcproto.Decode("CopyPoll", "id", req.Body); inv.DecodeErr != nil {
				b.Fatal(inv.DecodeErr)
			}
		}
	})
	b.Run("server", func(b *testing.B) {
		store, req := fakesRequest(b)
		a := benchApp(b, benchSettings("http://127.0.0.1:9"), clock.NewFake(benchEpoch), nopSenders)
		b.Cleanup(a.Close)
		a.Worker.Storage = store
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, req.Path, bytes.NewReader(req.Body))
			r.Header = req.Header
			w := httptest.NewRecorder()
			a.Handler.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// Flags of the start-up and scale benchmarks (after -args).
var (
	startupRuns = flag.Int("startup-runs", 10, "BenchmarkStartup: how many times the binary is started")
	loadFor     = flag.Duration("startup-load", 3*time.Second, "BenchmarkStartup: how long the started binary is put under load")
	scaleJobs   = flag.Int("scale-jobs", 10000, "BenchmarkScale: concurrent jobs")
)

// ---------------------------------------------------------------------------
// Benchmark 3: start-up and footprint of the deployed binary.

// child is the handler binary started as the Functions host starts it.
type child struct {
	cmd    *exec.Cmd
	url    string
	exited chan error
	stderr *bytes.Buffer
	// ready is the time from exec to the first 200 to GET /, and atReady
	// the process's memory then.
	ready   time.Duration
	atReady benchkit.ProcStatus
}

// startHandler execs bin with only FUNCTIONS_CUSTOMHANDLER_PORT and
// settings in its environment and polls GET / on loopback every 100 µs
// until it answers 200 (bounded by 10 s).
func startHandler(b *testing.B, bin string, settings map[string]string) *child {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	env := []string{config.SettingPort + "=" + strconv.Itoa(port)}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	c := &child{cmd: exec.Command(bin), url: "http://" + funcproto.ListenAddress(port), exited: make(chan error, 1), stderr: &bytes.Buffer{}}
	c.cmd.Env, c.cmd.Stderr = env, c.stderr
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	if err := c.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	for {
		if resp, err := probe.Get(c.url + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-c.exited:
			b.Fatalf("handler exited before answering GET /: %v\n%s", err, c.stderr)
		default:
		}
		if time.Since(start) > 10*time.Second {
			c.stop()
			b.Fatalf("handler did not answer GET / within 10 s\n%s", c.stderr)
		}
		time.Sleep(100 * time.Microsecond)
	}
	c.ready = time.Since(start)
	if c.atReady, err = benchkit.ReadProcStatus(c.cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	return c
}

func (c *child) status(b *testing.B) benchkit.ProcStatus {
	b.Helper()
	st, err := benchkit.ReadProcStatus(c.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// stop sends SIGTERM (the handler drains and exits) and kills it after 5 s.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// BenchmarkStartup builds the deployable binary as `handler package` does
// (static, -trimpath -ldflags=-s -w), starts it -startup-runs times and
// measures exec → first 200 to GET / and RSS at readiness and 500 ms
// later; then starts it once more against the storage emulator and busemu
// (AMQP) and measures RSS while CopyPoll is posted with 16 in flight for
// -startup-load.
//
//	go test -run '^$' -bench Startup -benchtime 1x ./handler/
func BenchmarkStartup(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/<pid>/status")
	}
	ctx := context.Background()
	bin := filepath.Join(b.TempDir(), "handler")
	t0 := time.Now()
	if err := packager.GoBuild(ctx, "..", bin); err != nil {
		b.Fatal(err)
	}
	built := time.Since(t0)
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	// Real clocks; copies crawl at 1 B/s so the one started stays pending.
	emu := storageemu.New(storageemu.Options{CopyRate: 1})
	storage := httptest.NewServer(emu)
	defer storage.Close()
	settings := benchSettings(storage.URL)
	// Nothing listens on port 1: the handler must not dial Service Bus
	// (nor storage) before it answers the readiness probe.
	settings[config.SettingServiceBusConnection] = "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true"

	var ready []time.Duration
	var readyRSS, idleRSS []int64
	for range *startupRuns {
		c := startHandler(b, bin, settings)
		time.Sleep(500 * time.Millisecond)
		idle := c.status(b)
		c.stop()
		ready = append(ready, c.ready)
		readyRSS = append(readyRSS, c.atReady.RSS)
		idleRSS = append(idleRSS, idle.RSS)
	}

	// Under load: CopyPoll of a pending copy, Get Blob Properties on the
	// emulator over HTTP and the next poll scheduled on busemu over AMQP.
	broker, err := busemu.ListenLoopback(busemu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	settings[config.SettingServiceBusConnection] = broker.ConnectionString()
	c := startHandler(b, bin, settings)
	defer c.stop()
	accountURL := storage.URL + "/" + storageemu.DevAccountName
	src, snapshot := sourceBlob(b, accountURL, "vm1.vhd", 16<<10, 4<<10)
	trigger, err := benchkit.HostRequest(clock.Real{}, "SnapshotCreated", snapshotCreated("trigger-1", src, snapshot))
	if err != nil {
		b.Fatal(err)
	}
	if res := benchkit.Load(ctx, benchkit.Client(1), c.url, trigger, 1, 1); res.Failures > 0 {
		b.Fatalf("SnapshotCreated: %s\n%s", res.FirstFailure, c.stderr)
	}
	job := copyjob.NewJob(src, snapshot, settings[config.SettingDestinationContainerURL]+"/vm1.vhd")
	dst, err := blob.NewClientWithSharedKeyCredential(job.DestinationBlobURL, devKey, nil)
	if err != nil {
		b.Fatal(err)
	}
	props, err := dst.GetProperties(ctx, nil)
	if err != nil || props.CopyID == nil || props.CopyStatus == nil || *props.CopyStatus != blob.CopyStatusTypePending {
		b.Fatalf("destination after SnapshotCreated: %v", err)
	}
	poll, err := benchkit.PollRequest(clock.Real{}, pendingPoll(time.Now().UTC(), job, *props.CopyID))
	if err != nil {
		b.Fatal(err)
	}
	beforeLoad := c.status(b)
	stopSampling := make(chan struct{})
	var peakRSS int64
	var sampled sync.WaitGroup
	sampled.Go(func() {
		for {
			if st, err := benchkit.ReadProcStatus(c.cmd.Process.Pid); err == nil {
				peakRSS = max(peakRSS, st.RSS)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	loadCtx, cancel := context.WithTimeout(ctx, *loadFor)
	res := benchkit.Load(loadCtx, benchkit.Client(16), c.url, poll, -1, 16)
	cancel()
	close(stopSampling)
	sampled.Wait()
	afterLoad := c.status(b)
	time.Sleep(time.Second)
	settled := c.status(b)

	med := func(xs []int64) (int64, int64, int64) {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[0], s[len(s)/2], s[len(s)-1]
	}
	readyNs := make([]int64, len(ready))
	for i, d := range ready {
		readyNs[i] = d.Nanoseconds()
	}
	rMin, rMed, rMax := med(readyNs)
	aMin, aMed, aMax := med(readyRSS)
	iMin, iMed, iMax := med(idleRSS)
	ms := func(ns int64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', 1, 64) }
	out := &strings.Builder{}
	fmt.Fprintf(out, "\nstart-up and footprint of the deployable binary (%s), %d starts\n", machine(), len(ready))
	fmt.Fprintf(out, "binary (static, -trimpath -ldflags=-s -w)  %s MiB (%d bytes), built in %s\n", benchkit.MiB(fi.Size()), fi.Size(), built.Round(time.Millisecond))
	fmt.Fprintf(out, "%-40s %9s %9s %9s\n", "", "min", "median", "max")
	fmt.Fprintf(out, "%-40s %9s %9s %9s\n", "exec → first 200 to GET /, ms", ms(rMin), ms(rMed), ms(rMax))
	fmt.Fprintf(out, "%-40s %9s %9s %9s\n", "RSS at readiness, MiB", benchkit.MiB(aMin), benchkit.MiB(aMed), benchkit.MiB(aMax))
	fmt.Fprintf(out, "%-40s %9s %9s %9s\n", "RSS idle (500 ms after ready), MiB", benchkit.MiB(iMin), benchkit.MiB(iMed), benchkit.MiB(iMax))
	fmt.Fprintf(out, "under load: %d CopyPoll in %s with 16 in flight (%.0f inv/s, p50 %.1f ms, p99 %.1f ms; emulator over HTTP, busemu over AMQP)\n",
		res.Requests, res.Elapsed.Round(time.Millisecond), res.Throughput(), micros(res.Quantile(0.5))/1e3, micros(res.Quantile(0.99))/1e3)
	fmt.Fprintf(out, "  RSS before load %s MiB (after one SnapshotCreated), peak sampled %s MiB, VmHWM %s MiB, 1 s after load %s MiB\n",
		benchkit.MiB(beforeLoad.RSS), benchkit.MiB(peakRSS), benchkit.MiB(afterLoad.HWM), benchkit.MiB(settled.RSS))
	fmt.Print(out.String())
	if res.Failures > 0 {
		b.Errorf("%d CopyPoll failed under load; first: %s\n%s", res.Failures, res.FirstFailure, c.stderr)
	}
	b.ReportMetric(float64(rMed)/1e6, "ready-ms-median")
	b.ReportMetric(float64(iMed)/(1<<20), "idle-RSS-MiB")
	b.ReportMetric(float64(afterLoad.HWM)/(1<<20), "load-HWM-MiB")
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
}

// ---------------------------------------------------------------------------
// Benchmark 4: scale, and no per-job state in the worker.

// releasableSender lets the run drop the broker while the app that sent to
// it stays alive, so that what the app itself retains can be measured.
type releasableSender struct {
	mu sync.Mutex
	s  *funchost.Sender
}

func (r *releasableSender) sender() (*funchost.Sender, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s == nil {
		return nil, errors.New("bench: broker released")
	}
	return r.s, nil
}

func (r *releasableSender) release() {
	r.mu.Lock()
	r.s = nil
	r.mu.Unlock()
}

func (r *releasableSender) SendMessage(ctx context.Context, m *azservicebus.Message, o *azservicebus.SendMessageOptions) error {
	s, err := r.sender()
	if err != nil {
		return err
	}
	return s.SendMessage(ctx, m, o)
}

func (r *releasableSender) ScheduleMessages(ctx context.Context, ms []*azservicebus.Message, at time.Time, o *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	s, err := r.sender()
	if err != nil {
		return nil, err
	}
	return s.ScheduleMessages(ctx, ms, at, o)
}

// scaleFigures is one scale run.
type scaleFigures struct {
	jobs                         int
	setup, wall                  time.Duration
	simulated                    time.Duration
	triggers, polls, notComplete int64
	events                       map[copyjob.Outcome]int
	deadLettered                 int
	heapBase, heapLoaded         uint64 // live heap before anything, after the source blobs exist
	peakHeapInuse, peakSys       uint64
	hwm                          int64 // VmHWM during the run (reset before it when the kernel allows)
	hwmReset                     bool
	retained                     int64 // live heap after the run with the app alive and the stand-ins released, minus heapBase
	// With a re-created app: what was done when it was swapped, and by whom.
	completedAtSwap      int
	servedByA, servedByB int64
}

// BenchmarkScale runs -scale-jobs jobs at once (one 16 KiB page blob and one
// snapshot each; 4 KiB written, copied at 256 B/s of the fake clock, so
// each copy takes 16 simulated seconds and a few polls) through the host
// simulator, the real handler and the storage emulator in one process:
// every SnapshotCreated is sent at once, then the host runs until idle.
// "one-app" keeps one handler; "app-recreated" replaces it by a fresh one
// (app.New again, nothing shared) after 2 invocations per job, when every
// job has started and been polled about once.
//
//	go test -run '^$' -bench Scale -benchtime 1x ./handler/
func BenchmarkScale(b *testing.B) {
	for _, recreate := range []bool{false, true} {
		name := "one-app"
		if recreate {
			name = "app-recreated"
		}
		b.Run(name, func(b *testing.B) {
			var f scaleFigures
			for range b.N {
				f = runScale(b, *scaleJobs, recreate)
			}
			printScale(name, f)
			b.ReportMetric(f.wall.Seconds(), "wall-s")
			b.ReportMetric(float64(f.triggers+f.polls)/f.wall.Seconds(), "inv/s")
			b.ReportMetric(float64(f.peakHeapInuse)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(f.retained)/float64(f.jobs), "retained-B/job")
		})
	}
}

func runScale(b *testing.B, jobs int, recreate bool) scaleFigures {
	b.StopTimer()
	ctx := context.Background()
	f := scaleFigures{jobs: jobs, events: map[copyjob.Outcome]int{}}
	f.heapBase = benchkit.HeapAfterGC()

	clk := clock.NewFake(benchEpoch)
	emu := storageemu.New(storageemu.Options{Clock: clk, CopyRate: 256})
	storage := httptest.NewServer(emu)
	broker, err := funchost.NewBroker(funchost.BrokerOptions{Clock: clk, Queues: []string{triggerQueue, pollQueue},
		Topics: map[string][]string{eventsTopic: {config.EventsSubscription}}})
	if err != nil {
		b.Fatal(err)
	}
	var senders []*releasableSender
	senderFor := func(entity string) (bus.Sender, error) {
		s := &releasableSender{s: broker.Sender(entity)}
		senders = append(senders, s)
		return s, nil
	}
	settings := benchSettings(storage.URL)
	first := benchApp(b, settings, clk, senderFor)
	var current atomic.Pointer[app.App]
	current.Store(first)
	var servedBy [2]atomic.Int64
	handler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := current.Load()
		if a == first {
			servedBy[0].Add(1)
		} else {
			servedBy[1].Add(1)
		}
		a.Handler.ServeHTTP(w, r)
	}))
	defer handler.Close()

	var (
		triggers, polls, notComplete, finished atomic.Int64
		swapped                                atomic.Bool
		swapErr                                error
	)
	onInvocation := func(inv funchost.Invocation) {
		if inv.Function == "SnapshotCreated" {
			triggers.Add(1)
		} else {
			polls.Add(1)
		}
		if inv.Settlement != copyjob.Complete {
			notComplete.Add(1)
		}
		// Re-create the app once every job has started and been polled
		// about once: all of them in flight, none of them known to the
		// fresh app.
		if !recreate || finished.Add(1) < int64(2*jobs) || !swapped.CompareAndSwap(false, true) {
			return
		}
		{
			done := broker.Stats(eventsSubscription).Ready
			// A fresh process: config read again, adapters wired again,
			// nothing carried over. In-flight calls end on the old one.
			cfg, err := config.Load(func(k string) string { return settings[k] })
			if err == nil {
				var second *app.App
				if second, err = app.New(ctx, cfg, app.Options{Log: logging.New(io.Discard, io.Discard, cfg.LogLevel), Clock: clk, Senders: senderFor}); err == nil {
					current.Store(second)
					first.Close()
				}
			}
			swapErr, f.completedAtSwap = err, done
		}
	}
	sources, err := broker.Sources(functionQueues)
	if err != nil {
		b.Fatal(err)
	}
	host, err := funchost.NewHost(funchost.HostOptions{Functions: sources, BaseURL: handler.URL, Clock: clk, OnInvocation: onInvocation})
	if err != nil {
		b.Fatal(err)
	}

	// The disks: created over HTTP, 16 at a time.
	t0 := time.Now()
	accountURL := storage.URL + "/" + storageemu.DevAccountName
	ensureContainers(b, accountURL)
	type disk struct{ url, snapshot string }
	disks := make([]disk, jobs)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		setErr  error
	)
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < jobs; i = int(next.Add(1)) - 1 {
				url, snap, err := makeSourceBlob(accountURL, fmt.Sprintf("vm%05d.vhd", i), 16<<10, 4<<10)
				if err != nil {
					errOnce.Do(func() { setErr = err })
					return
				}
				disks[i] = disk{url, snap}
			}
		})
	}
	wg.Wait()
	if setErr != nil {
		b.Fatal(setErr)
	}
	f.setup = time.Since(t0)
	f.heapLoaded = benchkit.HeapAfterGC()

	// The run.
	f.hwmReset = benchkit.ResetPeakRSS()
	sampler := benchkit.SampleHeap(50 * time.Millisecond)
	b.StartTimer()
	t0 = time.Now()
	trigger := broker.Sender(triggerQueue)
	for i, d := range disks {
		if err := trigger.SendMessage(ctx, snapshotCreated(fmt.Sprintf("job-%05d", i), d.url, d.snapshot), nil); err != nil {
			b.Fatal(err)
		}
	}
	runErr := host.RunUntilIdle(ctx, clk, funchost.Limits{MaxRounds: 10_000_000})
	f.wall = time.Since(t0)
	b.StopTimer()
	sampler.Stop()
	if runErr != nil {
		b.Fatal(runErr)
	}
	if swapErr != nil {
		b.Fatal(swapErr)
	}
	f.peakHeapInuse, f.peakSys = sampler.PeakHeapInuse, sampler.PeakSys
	if st, err := benchkit.ReadProcStatus(0); err == nil {
		f.hwm = st.HWM
	}
	f.simulated = clk.Now().Sub(benchEpoch)
	f.triggers, f.polls, f.notComplete = triggers.Load(), polls.Load(), notComplete.Load()
	f.servedByA, f.servedByB = servedBy[0].Load(), servedBy[1].Load()
	for _, m := range broker.Peek(eventsSubscription) {
		f.events[copyjob.OutcomeOf(m.Subject)]++
	}
	for _, q := range []string{triggerQueue, pollQueue} {
		f.deadLettered += len(broker.Stats(q).DeadLettered)
	}
	if f.events["Completed"] != jobs || f.deadLettered > 0 || (recreate && f.servedByB == 0) {
		b.Errorf("%d Completed of %d jobs, events %v, %d dead-lettered, %d invocations on the re-created app",
			f.events["Completed"], jobs, f.events, f.deadLettered, f.servedByB)
	}

	// Release the stand-ins and keep the app: what is still live is what
	// the app holds.
	for _, s := range senders {
		s.release()
	}
	storage.Close()
	handler.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections() // the host's client
	disks, host, broker, emu = nil, nil, nil, nil
	_, _, _, _ = disks, host, broker, emu
	f.retained = int64(benchkit.HeapAfterGC()) - int64(f.heapBase)
	runtime.KeepAlive(current.Load())
	current.Load().Close()
	return f
}

func printScale(name string, f scaleFigures) {
	out := &strings.Builder{}
	fmt.Fprintf(out, "\nscale %s: %d jobs at once through funchost + the real handler + storageemu, fake clock (%s)\n", name, f.jobs, machine())
	fmt.Fprintf(out, "  setup (create, write, snapshot %d page blobs over HTTP)  %s\n", f.jobs, f.setup.Round(time.Millisecond))
	inv := f.triggers + f.polls
	fmt.Fprintf(out, "  run: wall %s, simulated %s; %d invocations (%d SnapshotCreated, %d CopyPoll, %d not completed), %.0f inv/s, %.2f polls/job\n",
		f.wall.Round(time.Millisecond), f.simulated, inv, f.triggers, f.polls, f.notComplete, float64(inv)/f.wall.Seconds(), float64(f.polls)/float64(f.jobs))
	fmt.Fprintf(out, "  events %v, dead-lettered %d\n", f.events, f.deadLettered)
	hwm := "VmHWM (process lifetime: could not reset)"
	if f.hwmReset {
		hwm = "VmHWM (reset before the run)"
	}
	fmt.Fprintf(out, "  memory: live heap before %s MiB, with the source blobs %s MiB; peak HeapInuse %s MiB, peak Sys %s MiB, %s %s MiB\n",
		benchkit.MiB(f.heapBase), benchkit.MiB(f.heapLoaded), benchkit.MiB(f.peakHeapInuse), benchkit.MiB(f.peakSys), hwm, benchkit.MiB(f.hwm))
	fmt.Fprintf(out, "  no per-job state: with the broker and emulator released and the app kept, live heap is %+.1f KiB vs before the run (%+.1f B per job)\n",
		float64(f.retained)/1024, float64(f.retained)/float64(f.jobs))
	if f.servedByB > 0 || f.completedAtSwap > 0 {
		fmt.Fprintf(out, "  app re-created after %d invocations, when %d of %d jobs had completed: the old app served %d invocations, the fresh one %d and completed the other %d jobs\n",
			f.servedByA, f.completedAtSwap, f.jobs, f.servedByA, f.servedByB, f.jobs-f.completedAtSwap)
	}
	fmt.Print(out.String())
}
