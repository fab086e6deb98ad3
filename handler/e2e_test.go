package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
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
	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// stack is the real handler wired by app.New, behind the host simulator,
// against the storage emulator, on a fake clock.
type stack struct {
	t       *testing.T
	clock   *clock.Fake
	emu     *storageemu.Emulator
	blobURL string // emulator account URL
	bus     *standinBus
	host    *funchost.Host
	logs    *bytes.Buffer
	key     *blob.SharedKeyCredential
}

// standinSettings are the app settings the handler's tests and benchmarks
// start from: the storage emulator at storageURL (its development account,
// destination container backups), a Service Bus connection string that is
// only dialled where a test points it at busemu (elsewhere injected senders
// replace it) and the production log level.
func standinSettings(storageURL string) map[string]string {
	return map[string]string{
		config.SettingServiceBusConnection:    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
		config.SettingStorageConnectionString: storageemu.ConnectionString(storageURL, storageemu.DevAccount),
		config.SettingDestinationContainerURL: storageURL + "/" + storageemu.DevAccountName + "/backups",
	}
}

// newStack wires the stack with the settings on top of the defaults.
func newStack(t *testing.T, settings map[string]string) *stack {
	t.Helper()
	s := &stack{t: t, clock: clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)), logs: &bytes.Buffer{}}
	// 256 B/s: a 4 KiB page takes 16 simulated seconds, so copies are
	// seen pending by a few polls.
	s.emu = storageemu.New(storageemu.Options{Clock: s.clock, CopyRate: 256})
	storage := httptest.NewServer(s.emu)
	t.Cleanup(storage.Close)
	s.blobURL = storage.URL + "/" + storageemu.DevAccountName
	s.bus = newStandinBus(t, s.clock)
	// The Service Bus connection string is not dialled: the senders come
	// from s.bus.
	env := standinSettings(storage.URL)
	env[config.SettingLogLevel] = "debug"
	maps.Copy(env, settings)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: logging.New(s.logs, s.logs, cfg.LogLevel), Clock: s.clock,
		Senders: func(entity string) (bus.Sender, error) { return s.bus.sender(entity), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	handler := httptest.NewServer(a.Handler)
	t.Cleanup(handler.Close)
	s.host, err = funchost.NewHost(funchost.HostOptions{Functions: s.bus.sources(), BaseURL: handler.URL, Clock: s.clock})
	if err != nil {
		t.Fatal(err)
	}
	s.key, _ = blob.NewSharedKeyCredential(storageemu.DevAccountName, storageemu.DevAccountKey)
	for _, c := range []string{"disks", "backups"} {
		if _, err := s.container(c).Create(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *stack) container(name string) *container.Client {
	c, err := container.NewClientWithSharedKeyCredential(s.blobURL+"/"+name, s.key, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *stack) pageBlob(containerName, name string) *pageblob.Client {
	return s.container(containerName).NewPageBlobClient(name)
}

// disk creates a 1 MiB source page blob.
func (s *stack) disk(name string) *pageblob.Client {
	pb := s.pageBlob("disks", name)
	if _, err := pb.Create(context.Background(), 1<<20, nil); err != nil {
		s.t.Fatal(err)
	}
	return pb
}

func (s *stack) writeAndSnapshot(pb *pageblob.Client, offset int64, fill byte) string {
	s.t.Helper()
	page := bytes.Repeat([]byte{fill}, 4096)
	if _, err := pb.UploadPages(context.Background(), streaming.NopCloser(bytes.NewReader(page)), blob.HTTPRange{Offset: offset, Count: 4096}, nil); err != nil {
		s.t.Fatal(err)
	}
	resp, err := pb.CreateSnapshot(context.Background(), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return *resp.Snapshot
}

// triggerType is the CloudEvents type of the tests' triggers.
const triggerType = "Contoso.SnapshotCreated"

// send is the producer: a SnapshotCreated CloudEvent on the trigger queue.
func (s *stack) send(id, data string) {
	s.t.Helper()
	s.sendTyped(id, triggerType, data)
}

// sendTyped sends a CloudEvent of the given type on the trigger queue,
// under its event id as MessageId.
func (s *stack) sendTyped(id, eventType, data string) {
	s.t.Helper()
	err := s.bus.sender(triggerQueue).SendMessage(context.Background(), &azservicebus.Message{MessageID: to.Ptr(id), Body: cloudEvent(id, eventType, json.RawMessage(data)), ContentType: to.Ptr("application/cloudevents+json")}, nil)
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) sendSnapshot(id string, pb *pageblob.Client, snapshot string) {
	s.send(id, snapshotData(pb, snapshot))
}

func snapshotData(pb *pageblob.Client, snapshot string) string {
	return fmt.Sprintf(`{"sourceBlobUrl":%q,"snapshot":%q}`, pb.URL(), snapshot)
}

func (s *stack) run() {
	s.t.Helper()
	if err := s.host.RunUntilIdle(context.Background(), s.clock, funchost.Limits{}); err != nil {
		s.t.Fatal(err)
	}
}

type event struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

func (s *stack) events() []event {
	var out []event
	for _, m := range s.bus.messages(eventsSubscription) {
		var e event
		if err := json.Unmarshal(m.Body, &e); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func (s *stack) checkNoSecretsOrDeadLetters() {
	s.t.Helper()
	for _, l := range redacttest.Leaks(s.logs.String()) {
		s.t.Errorf("a secret was logged: %s", l)
	}
	for _, m := range append(s.bus.messages(eventsSubscription), s.bus.messages(pollQueue)...) {
		for _, l := range redacttest.Leaks(string(m.Body)) {
			s.t.Errorf("message %s holds a secret: %s", m.ID, l)
		}
	}
	for _, e := range []string{triggerQueue, pollQueue, retentionSubscription} {
		if dl := s.bus.deadLettered(e); len(dl) > 0 {
			s.t.Errorf("%s dead-lettered %d messages: %s", e, len(dl), dl[0].DeadLetterReason)
		}
	}
}

func TestEndToEndChain(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm1.vhd")
	snaps := []string{s.writeAndSnapshot(src, 0, 1)}
	s.sendSnapshot("e1", src, snaps[0])
	s.run()
	// Two more generations, sent back to back and delivered concurrently:
	// whichever trigger runs first, the other waits (a deferral) or the
	// gap is caught up, and the copies happen in ascending order.
	snaps = append(snaps, s.writeAndSnapshot(src, 8192, 2))
	snaps = append(snaps, s.writeAndSnapshot(src, 65536, 3))
	s.sendSnapshot("e2", src, snaps[1])
	s.sendSnapshot("e3", src, snaps[2])
	s.run()

	events := s.events()
	if len(events) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(events), events)
	}
	dest := s.pageBlob("backups", "vm1.vhd")
	for i, e := range events {
		if e.Type != "Snapcopy.IncrementalCopy.Completed" || e.Data["sourceSnapshot"] != snaps[i] {
			t.Fatalf("event %d: %s for %v, want Completed for %s", i, e.Type, e.Data["sourceSnapshot"], snaps[i])
		}
		dst, _ := e.Data["destinationSnapshot"].(string)
		if !bytes.Equal(blobtest.Download(s.t, dest, dst), blobtest.Download(s.t, src, snaps[i])) {
			t.Errorf("destination snapshot %s differs from source snapshot %s", dst, snaps[i])
		}
	}
	if !strings.Contains(s.logs.String(), "trigger deferred") || !strings.Contains(s.logs.String(), `"message":"copy pending"`) {
		t.Errorf("expected the third trigger to be deferred and copies to be polled while pending")
	}
	s.checkNoSecretsOrDeadLetters()
}

func TestEndToEndOutcomes(t *testing.T) {
	cases := []struct {
		name     string
		scenario func(s *stack)
		wantType string
		wantCode string
	}{
		{"destination conflict", func(s *stack) {
			src := s.disk("vm.vhd")
			if _, err := s.pageBlob("backups", "vm.vhd").Create(context.Background(), 1<<20, nil); err != nil {
				t.Fatal(err)
			}
			s.sendSnapshot("e1", src, s.writeAndSnapshot(src, 0, 1))
		}, "Failed", "DestinationConflict"},
		{"superseded", func(s *stack) {
			src := s.disk("vm.vhd")
			old := s.writeAndSnapshot(src, 0, 1)
			s.sendSnapshot("e2", src, s.writeAndSnapshot(src, 4096, 2))
			s.run()
			s.send("e1", fmt.Sprintf(`{"snapshotUrl":%q}`, src.URL()+"?snapshot="+old))
		}, "Superseded", ""},
		{"rejected", func(s *stack) {
			s.send("bad", `{"sourceBlobUrl":"ftp://nowhere/x","snapshot":"yesterday"}`)
		}, "Rejected", "InvalidField"},
		{"chain broken", func(s *stack) {
			src := s.disk("vm.vhd")
			s.sendSnapshot("e1", src, s.writeAndSnapshot(src, 0, 1))
			s.run()
			if _, err := src.Create(context.Background(), 1<<20, nil); err != nil { // re-created
				t.Fatal(err)
			}
			s.sendSnapshot("e2", src, s.writeAndSnapshot(src, 0, 2))
		}, "Failed", "ChainBroken"},
		{"copy failed", func(s *stack) {
			src := s.disk("vm.vhd")
			s.emu.InjectCopyFault(storageemu.CopyFault{Description: "500 InternalError: injected"})
			s.sendSnapshot("e1", src, s.writeAndSnapshot(src, 0, 1))
		}, "Failed", "CopyFailed"},
		{"timed out", func(s *stack) {
			src := s.disk("vm.vhd")
			s.emu.InjectCopyFault(storageemu.CopyFault{Stall: true})
			s.sendSnapshot("e1", src, s.writeAndSnapshot(src, 0, 1))
		}, "Failed", "TimedOut"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, map[string]string{config.SettingCopyDeadline: "1h"})
			c.scenario(s)
			s.run()
			events := s.events()
			if len(events) == 0 {
				t.Fatal("no events")
			}
			last := events[len(events)-1]
			if last.Type != "Snapcopy.IncrementalCopy."+c.wantType || (c.wantCode != "" && last.Data["failureCode"] != c.wantCode) {
				t.Fatalf("last event %s %v, want %s %s", last.Type, last.Data["failureCode"], c.wantType, c.wantCode)
			}
			// The copy faults some scenarios inject must be what ended the
			// copy: each struck exactly one copy.
			wantFired := 0
			if c.wantCode == "CopyFailed" || c.wantCode == "TimedOut" {
				wantFired = 1
			}
			if fired := s.emu.FaultCounts().Copies; fired != wantFired {
				t.Fatalf("%d copy faults fired, want %d", fired, wantFired)
			}
			s.checkNoSecretsOrDeadLetters()
		})
	}
}

// TestEndToEndTriggerEventTypes sends triggers named the CloudEvents way
// (reverse DNS, lower case) through the real handler: copied by default,
// Rejected with what is accepted when the setting lists other types.
func TestEndToEndTriggerEventTypes(t *testing.T) {
	const cloudEventsStyle = "com.contoso.backup.snapshot.created"
	cases := []struct {
		name, setting, wantType string
	}{
		{"default", "", "Completed"},
		{"setting lists it", cloudEventsStyle, "Completed"},
		{"setting lists others", "Contoso.Backup.*", "Rejected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, map[string]string{config.SettingTriggerEventTypes: c.setting})
			src := s.disk("vm.vhd")
			snap := s.writeAndSnapshot(src, 0, 1)
			s.sendTyped("e1", cloudEventsStyle, fmt.Sprintf(`{"sourceBlobUrl":%q,"snapshot":%q}`, src.URL(), snap))
			s.run()
			events := s.events()
			if len(events) != 1 || events[0].Type != "Snapcopy.IncrementalCopy."+c.wantType {
				t.Fatalf("events %+v, want one %s", events, c.wantType)
			}
			e := events[0]
			switch c.wantType {
			case "Completed":
				dst, _ := e.Data["destinationSnapshot"].(string)
				if !bytes.Equal(blobtest.Download(s.t, s.pageBlob("backups", "vm.vhd"), dst), blobtest.Download(s.t, src, snap)) {
					t.Errorf("destination snapshot %s differs from source snapshot %s", dst, snap)
				}
			case "Rejected":
				reason, _ := e.Data["failureDescription"].(string)
				if e.Data["failureCode"] != "UnknownEventType" || !strings.Contains(reason, "Contoso.Backup.*") {
					t.Errorf("Rejected %v %q, want UnknownEventType naming the accepted types", e.Data["failureCode"], reason)
				}
			}
			s.checkNoSecretsOrDeadLetters()
		})
	}
}
