package main

// Handler benchmarks: overhead, start-up, scale and memory (see BENCHMARKS.md for the commands
// and the latest figures), one file each; this one holds what they share. They only run with
// -bench; they print figures and never assert on time.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
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
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/benchkit"
	"github.com/snapcopy/snapcopy/handler/internal/worker"
)

var _ worker.Storage = (*benchkit.PendingStorage)(nil)

// benchEpoch is the fake clocks' start.
var benchEpoch = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

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

func memStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func machine() string {
	return fmt.Sprintf("%d CPUs, %s %s/%s", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
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

var (
	startupRuns = flag.Int("startup-runs", 10, "BenchmarkStartup: how many times the binary is started")
	loadFor     = flag.Duration("startup-load", 3*time.Second, "BenchmarkStartup: how long the started binary is put under load")
	scaleJobs   = flag.Int("scale-jobs", 10000, "BenchmarkScale: concurrent jobs")
)
