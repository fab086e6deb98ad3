package main

import (
	"bytes"
	"context"
	"fmt"
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
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/benchkit"
	"github.com/snapcopy/snapcopy/handler/internal/tools/packager"
)

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
	settings := standinSettings(storage.URL)
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
