package main

// The live smoke test: the whole chain (producer → Service Bus →
// host → handler → Azure Storage → events) against a real storage account
// and namespace. It deploys nothing:
//
//	SNAPCOPY_LIVE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net' \
//	SNAPCOPY_LIVE_SERVICEBUS_CONNECTION_STRING='Endpoint=sb://….servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…' \
//	go test -v -run Live ./handler/
//
// or, with Azure credentials (DefaultAzureCredential: az login, workload or
// managed identity; the production path, with user-delegation SAS), set
// SNAPCOPY_LIVE_STORAGE_ACCOUNT_URL (https://<account>.blob.core.windows.net;
// the identity needs Storage Blob Data Contributor) instead of the storage
// connection string and SNAPCOPY_LIVE_SERVICEBUS_NAMESPACE
// (<ns>.servicebus.windows.net; Azure Service Bus Data Owner) instead of the
// Service Bus one.
//
// The namespace needs snapcopy's entities as infra creates them (the names
// can be changed with SNAPCOPY_TRIGGER_QUEUE, SNAPCOPY_POLL_QUEUE,
// SNAPCOPY_EVENTS_TOPIC and SNAPCOPY_LIVE_EVENTS_SUBSCRIPTION, default
// "all"), and no function app may listen on it: the test is the host. It
// completes only its own events and abandons others. Two containers with
// unique names are created in the account and deleted afterwards.
// Without a storage and a Service Bus setting the test skips. TestLiveChainOnStandIns runs the
// same scenario against the stand-ins on every `go test`, so the live
// test's own code is never untested.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/syncbuffer"
	"github.com/snapcopy/snapcopy/handler/internal/tools/ops"
)

const (
	liveStorageEnv      = "SNAPCOPY_LIVE_STORAGE_CONNECTION_STRING"
	liveStorageURLEnv   = "SNAPCOPY_LIVE_STORAGE_ACCOUNT_URL"
	liveServiceBusEnv   = "SNAPCOPY_LIVE_SERVICEBUS_CONNECTION_STRING"
	liveNamespaceEnv    = "SNAPCOPY_LIVE_SERVICEBUS_NAMESPACE"
	liveSubscriptionEnv = "SNAPCOPY_LIVE_EVENTS_SUBSCRIPTION"
)

// liveTarget is where the chain runs: each service by connection string,
// or by address with token (Azure credentials).
type liveTarget struct {
	storageConn, storageAccountURL string
	busConn, busNamespace          string
	token                          azcore.TokenCredential
	trigger, poll                  string
	events, subscription           string
	// timeout bounds the scenario; pollMin is SNAPCOPY_POLL_MIN_DELAY.
	timeout time.Duration
	pollMin string
	// binary, when set, is a built handler run as a child process with
	// the settings in its environment, as the Functions host runs it;
	// otherwise the handler is wired in process by app.New.
	binary string
}

func TestLiveChain(t *testing.T) {
	tg := liveTarget{
		storageConn: os.Getenv(liveStorageEnv), storageAccountURL: strings.TrimSuffix(os.Getenv(liveStorageURLEnv), "/"),
		busConn: os.Getenv(liveServiceBusEnv), busNamespace: os.Getenv(liveNamespaceEnv),
	}
	if (tg.storageConn == "" && tg.storageAccountURL == "") || (tg.busConn == "" && tg.busNamespace == "") {
		t.Skipf("live chain skipped: set %s or %s, and %s or %s, to run it", liveStorageEnv, liveStorageURLEnv, liveServiceBusEnv, liveNamespaceEnv)
	}
	if tg.storageConn == "" || tg.busConn == "" {
		var err error
		if tg.token, err = azidentity.NewDefaultAzureCredential(nil); err != nil {
			t.Fatal(err)
		}
	}
	tg.trigger = envOr(config.SettingTriggerQueue, triggerQueue)
	tg.poll = envOr(config.SettingPollQueue, pollQueue)
	tg.events = envOr(config.SettingEventsTopic, eventsTopic)
	tg.subscription = envOr(liveSubscriptionEnv, config.EventsSubscription)
	tg.timeout, tg.pollMin = 20*time.Minute, "5s"
	runLiveChain(t, tg)
}

// TestLiveChainOnStandIns is the live scenario against the storage
// emulator and busemu over loopback HTTP and AMQP, on the real clock: with
// the handler in process, and as the built binary in a child process that
// reads its settings from the environment (runServe, the deployed path).
func TestLiveChainOnStandIns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in real time")
	}
	for _, mode := range []string{"in-process", "child-process"} {
		t.Run(mode, func(t *testing.T) {
			storage := httptest.NewServer(storageemu.New(storageemu.Options{CopyRate: 64 << 20}))
			t.Cleanup(storage.Close)
			b, err := busemu.ListenLoopback(busemu.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			tg := liveTarget{
				storageConn: storageemu.ConnectionString(storage.URL, storageemu.DevAccount), busConn: b.ConnectionString(),
				trigger: triggerQueue, poll: pollQueue, events: eventsTopic, subscription: config.EventsSubscription,
				timeout: 2 * time.Minute, pollMin: "1s",
			}
			if mode == "child-process" {
				tg.binary = buildHandler(t)
			}
			runLiveChain(t, tg)
		})
	}
}

// buildHandler builds this package's binary into a temporary directory.
func buildHandler(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "handler")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (tg liveTarget) container(name string) (*container.Client, error) {
	if tg.storageConn != "" {
		return container.NewClientFromConnectionString(tg.storageConn, name, nil)
	}
	return container.NewClient(tg.storageAccountURL+"/"+name, tg.token, nil)
}

func (tg liveTarget) serviceBus() (*azservicebus.Client, error) {
	if tg.busConn != "" {
		return azservicebus.NewClientFromConnectionString(tg.busConn, nil)
	}
	return azservicebus.NewClient(tg.busNamespace, tg.token, nil)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// runLiveChain copies three generations of a small disk through the real
// handler and checks each Completed event against the bytes in storage,
// then reads the chain with `handler status`.
func runLiveChain(t *testing.T, tg liveTarget) {
	// A host whose listener fails ends the scenario with that cause.
	ctx, fail := context.WithCancelCause(context.Background())
	defer fail(nil)
	ctx, cancel := context.WithTimeout(ctx, tg.timeout)
	defer cancel()
	lc := newLiveChain(t, ctx, tg, fail)
	disk := lc.createDisk(ctx, "vm1.vhd", 1<<20)
	for gen := 1; gen <= 3; gen++ {
		snapshot := lc.writeAndSnapshot(ctx, disk, gen)
		lc.send(ctx, disk.URL(), snapshot)
		e := lc.awaitOutcome(ctx, snapshot)
		if e.Outcome() != copyjob.Completed {
			t.Fatalf("generation %d: %s %s: %s", gen, e.Type, e.Data.FailureCode, e.Data.FailureDescription)
		}
		lc.verify(ctx, disk, snapshot, e.Data.DestinationSnapshot)
		t.Logf("generation %d: snapshot %s copied to %s (%d bytes, %d polls)", gen, snapshot, e.Data.DestinationSnapshot, e.Data.BytesCopied, e.Data.Polls)
		lc.lastSnapshot = snapshot
	}
	lc.checkStatus(ctx)
	lc.checkNoSecrets()
}

// liveChain is one run: its containers, the handler and host, the events.
type liveChain struct {
	t            *testing.T
	tg           liveTarget
	src, dst     *container.Client
	logs         *syncbuffer.Buffer
	events       *azservicebus.Receiver
	lastSnapshot string
}

func newLiveChain(t *testing.T, ctx context.Context, tg liveTarget, fail context.CancelCauseFunc) *liveChain {
	lc := &liveChain{t: t, tg: tg, logs: &syncbuffer.Buffer{}}
	prefix := "snapcopy-live-" + strings.ToLower(rand.Text()[:10])
	for _, c := range []struct {
		client **container.Client
		suffix string
	}{{&lc.src, "-src"}, {&lc.dst, "-dst"}} {
		client, err := tg.container(prefix + c.suffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Create(ctx, nil); err != nil {
			t.Fatalf("create container %s: %v", client.URL(), err)
		}
		t.Cleanup(func() { _, _ = client.Delete(context.WithoutCancel(ctx), nil) })
		*c.client = client
	}

	env := map[string]string{
		// Empty connection strings: the handler uses Azure credentials.
		config.SettingServiceBusConnection:    tg.busConn,
		config.SettingServiceBusNamespace:     tg.busNamespace,
		config.SettingStorageConnectionString: tg.storageConn,
		config.SettingTriggerQueue:            tg.trigger,
		config.SettingPollQueue:               tg.poll,
		config.SettingEventsTopic:             tg.events,
		config.SettingDestinationContainerURL: lc.dst.URL(),
		config.SettingAllowedSources:          lc.src.URL(),
		config.SettingAllowedDestinations:     lc.dst.URL(),
		config.SettingPollMinDelay:            tg.pollMin,
		config.SettingPollMaxDelay:            "30s",
		config.SettingCopyDeadline:            "30m",
		config.SettingLogLevel:                "debug",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	handlerURL := lc.startHandler(ctx, cfg, env)

	client, err := tg.serviceBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	sources, err := funchost.NewReceiverSources(client, map[string]string{"SnapshotCreated": tg.trigger, "CopyPoll": tg.poll}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lc.events, err = client.NewReceiverForSubscription(tg.events, tg.subscription, nil); err != nil {
		t.Fatal(err)
	}
	host, err := funchost.NewHost(funchost.HostOptions{Functions: sources, BaseURL: handlerURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Start(ctx, func(err error) { fail(fmt.Errorf("the host simulator stopped: %w", err)) }))
	return lc
}

// startHandler runs the handler with the settings and returns its URL.
func (lc *liveChain) startHandler(ctx context.Context, cfg config.Config, env map[string]string) string {
	t := lc.t
	if lc.tg.binary == "" {
		// senders nil: the handler dials Service Bus from its settings.
		a, err := app.New(ctx, cfg, app.Options{Log: logging.New(lc.logs, lc.logs, cfg.LogLevel)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		handler := httptest.NewServer(a.Handler)
		t.Cleanup(handler.Close)
		return handler.URL
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	proc, err := funchost.StartProcess(ctx, lc.tg.binary, environ, lc.logs, lc.logs)
	if err != nil {
		t.Fatalf("start %s: %v\n%s", lc.tg.binary, err, lc.logs.String())
	}
	t.Cleanup(func() {
		// The host stops an instance with SIGTERM: the handler drains and exits 0.
		if err := proc.Stop(30 * time.Second); err != nil {
			t.Errorf("handler process: %v\n%s", err, lc.logs.String())
		}
	})
	return proc.BaseURL
}

func (lc *liveChain) createDisk(ctx context.Context, name string, size int64) *pageblob.Client {
	disk := lc.src.NewPageBlobClient(name)
	if _, err := disk.Create(ctx, size, nil); err != nil {
		lc.t.Fatalf("create %s: %v", name, err)
	}
	return disk
}

// writeAndSnapshot writes 64 KiB of random bytes at a place that depends
// on the generation, then snapshots the disk.
func (lc *liveChain) writeAndSnapshot(ctx context.Context, disk *pageblob.Client, gen int) string {
	page := make([]byte, 64<<10)
	_, _ = rand.Read(page)
	offset := int64(gen%8) * (128 << 10)
	if _, err := disk.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(page)), blob.HTTPRange{Offset: offset, Count: int64(len(page))}, nil); err != nil {
		lc.t.Fatalf("write generation %d: %v", gen, err)
	}
	snap, err := disk.CreateSnapshot(ctx, nil)
	if err != nil {
		lc.t.Fatalf("snapshot generation %d: %v", gen, err)
	}
	return *snap.Snapshot
}

// send is `handler send`, as an operator or producer would run it.
func (lc *liveChain) send(ctx context.Context, source, snapshot string) {
	var out, errOut bytes.Buffer
	args := []string{"-connection", lc.tg.busConn, "-namespace", lc.tg.busNamespace, "-queue", lc.tg.trigger, "-source", source, "-snapshot", snapshot}
	if lc.tg.storageConn != "" {
		// Its endpoint is a storage host for the check, as for the handler.
		args = append(args, "-storage-connection", lc.tg.storageConn)
	}
	if err := ops.RunSend(ctx, args, &out, &errOut); err != nil {
		lc.t.Fatalf("handler send: %v\n%s", err, errOut.String())
	}
	lc.logs.Write(out.Bytes())
}

// awaitOutcome receives events until the terminal one of snapshot, and
// completes the events of this run, abandoning anyone else's.
func (lc *liveChain) awaitOutcome(ctx context.Context, snapshot string) copyjob.ReceivedEvent {
	for {
		msgs, err := lc.events.ReceiveMessages(ctx, 10, nil)
		if err != nil {
			lc.t.Fatalf("waiting for the outcome of %s: %v (%v)\nhandler log:\n%s", snapshot, err, context.Cause(ctx), lc.logs.String())
		}
		for _, m := range msgs {
			var e copyjob.ReceivedEvent
			ours := json.Unmarshal(m.Body, &e) == nil && strings.HasPrefix(e.Data.DestinationBlobURL, lc.dst.URL()+"/")
			if !ours {
				_ = lc.events.AbandonMessage(ctx, m, nil)
				continue
			}
			if err := lc.events.CompleteMessage(ctx, m, nil); err != nil {
				lc.t.Fatal(err)
			}
			if e.Data.SourceSnapshot == snapshot && e.Outcome() != copyjob.GapUnchecked {
				return e
			}
		}
	}
}

// verify compares the destination snapshot with its source, byte for byte.
func (lc *liveChain) verify(ctx context.Context, disk *pageblob.Client, snapshot, destSnapshot string) {
	src, err := disk.WithSnapshot(snapshot)
	if err != nil {
		lc.t.Fatal(err)
	}
	dst, err := lc.dst.NewPageBlobClient(blobName(disk.URL())).WithSnapshot(destSnapshot)
	if err != nil {
		lc.t.Fatal(err)
	}
	if a, b := lc.download(ctx, src), lc.download(ctx, dst); !bytes.Equal(a, b) {
		lc.t.Errorf("destination snapshot %s (%d bytes) differs from source snapshot %s (%d bytes)", destSnapshot, len(b), snapshot, len(a))
	}
}

func (lc *liveChain) download(ctx context.Context, c *pageblob.Client) []byte {
	resp, err := c.DownloadStream(ctx, nil)
	if err != nil {
		lc.t.Fatalf("download %s: %v", c.URL(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		lc.t.Fatal(err)
	}
	return data
}

func blobName(blobURL string) string { return blobURL[strings.LastIndex(blobURL, "/")+1:] }

// checkStatus is `handler status` on the destination: it must name the
// last copied snapshot.
func (lc *liveChain) checkStatus(ctx context.Context) {
	var out, errOut bytes.Buffer
	dest := lc.dst.URL() + "/vm1.vhd"
	if err := ops.RunStatus(ctx, []string{dest, "-connection", lc.tg.storageConn, "-json", "-sample", "0"}, &out, &errOut); err != nil {
		lc.t.Fatalf("handler status: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), lc.lastSnapshot) {
		lc.t.Errorf("handler status does not name the last copied snapshot %s:\n%s", lc.lastSnapshot, out.String())
	}
	lc.logs.Write(out.Bytes())
}

// checkNoSecrets greps the handler's log and the commands' output for
// SAS signatures and account keys.
func (lc *liveChain) checkNoSecrets() {
	logs := lc.logs.String()
	for _, l := range redacttest.Leaks(logs) {
		lc.t.Errorf("a secret was logged: %s", l)
	}
	for _, secret := range []string{connectionValue(lc.tg.storageConn, "AccountKey"), connectionValue(lc.tg.busConn, "SharedAccessKey")} {
		if secret != "" && strings.Contains(logs, secret) {
			lc.t.Errorf("a key from a connection string was logged")
		}
	}
}

// connectionValue is the value of key in a connection string.
func connectionValue(conn, key string) string {
	for _, part := range strings.Split(conn, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return v
		}
	}
	return ""
}
