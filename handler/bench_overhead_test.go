package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/benchkit"
)

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
// in-process fakes, and over the loopback stand-ins (Service Bus over
// AMQP).
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
		{"amqp", "(b') handler, storage emulator over HTTP + busemu over AMQP", setupStandIns},
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
	fmt.Fprint(out, "allocs/inv and KiB/inv count the whole process: load client, handler and, for (b'), the stand-ins.\n")
	fmt.Print(out.String())
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
	a := benchApp(b, standinSettings("http://127.0.0.1:9"), clock.NewFake(benchEpoch), nopSenders)
	cleanup(a.Close)
	a.Worker.Storage = store
	srv := httptest.NewServer(a.Handler)
	cleanup(srv.Close)
	return srv.URL, req
}

// setupStandIns starts a copy on the storage emulator (its clock never
// moves, so it stays pending) through the real handler, and returns the
// poll of that copy. The handler's Service Bus client talks to busemu over
// AMQP on loopback.
func setupStandIns(b *testing.B, cleanup func(func())) (string, benchkit.Request) {
	clk := clock.NewFake(benchEpoch)
	emu := storageemu.New(storageemu.Options{Clock: clk, CopyRate: 1})
	storage := httptest.NewServer(emu)
	cleanup(storage.Close)
	settings := standinSettings(storage.URL)
	broker, err := busemu.ListenLoopback(busemu.Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	cleanup(func() { _ = broker.Close() })
	settings[config.SettingServiceBusConnection] = broker.ConnectionString()
	a := benchApp(b, settings, clk, nil)
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
		a := benchApp(b, standinSettings("http://127.0.0.1:9"), clock.NewFake(benchEpoch), nopSenders)
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
