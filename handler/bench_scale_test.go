package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/benchkit"
)

// Benchmark 4: scale, and no per-job state in the worker.

// releasableSender lets the run drop the broker while the app that sent to
// it stays alive, so that what the app itself retains can be measured.
type releasableSender struct {
	mu sync.Mutex
	s  bus.Sender
}

func (r *releasableSender) sender() (bus.Sender, error) {
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
	sb := newStandinBus(b, clk)
	var senders []*releasableSender
	senderFor := func(entity string) (bus.Sender, error) {
		s := &releasableSender{s: sb.sender(entity)}
		senders = append(senders, s)
		return s, nil
	}
	settings := standinSettings(storage.URL)
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
	onInvocation := func(inv funchost.InvocationResult) {
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
			done := len(sb.messages(eventsSubscription))
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
	host, err := funchost.NewHost(funchost.HostOptions{Functions: sb.sources(), BaseURL: handler.URL, Clock: clk, OnInvocation: onInvocation})
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
	trigger := sb.sender(triggerQueue)
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
	for _, m := range sb.messages(eventsSubscription) {
		f.events[copyjob.OutcomeOf(m.Subject)]++
	}
	for _, q := range []string{triggerQueue, pollQueue} {
		f.deadLettered += len(sb.deadLettered(q))
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
	sb.close()
	storage.Close()
	handler.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections() // the host's client
	disks, host, sb, emu = nil, nil, nil, nil
	_, _, _, _ = disks, host, sb, emu
	f.retained = int64(benchkit.HeapAfterGC()) - int64(f.heapBase)
	runtime.KeepAlive(current.Load())
	current.Load().Close()
	return f
}

func printScale(name string, f scaleFigures) {
	out := &strings.Builder{}
	fmt.Fprintf(out, "\nscale %s: %d jobs at once through funchost on busemu + the real handler + storageemu, fake clock (%s)\n", name, f.jobs, machine())
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
