package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/storageemu"
)

// TestStatusShowsChainAndETA starts a copy on the emulator and reads the
// chain while it is pending; the ETA comes from two readings on the fake
// clock.
func TestStatusShowsChainAndETA(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm1.vhd")
	first := s.writeAndSnapshot(src, 0, 1)
	s.sendSnapshot("e1", src, first)
	s.run()
	second := s.writeAndSnapshot(src, 4096, 2)
	s.sendSnapshot("e2", src, second)
	// Deliver the trigger only: the copy starts and stays pending.
	s.host.Dispatch(context.Background())

	savedClock, savedSleep := statusClock, sleepFor
	statusClock = s.clock
	sleepFor = func(_ context.Context, d time.Duration) error { s.clock.Advance(d); return nil }
	t.Cleanup(func() { statusClock, sleepFor = savedClock, savedSleep })
	dest := s.blobURL + "/backups/vm1.vhd"
	conn := storageemu.ConnectionString(strings.TrimSuffix(s.blobURL, "/"+storageemu.DevAccountName), storageemu.DevAccount)

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"status", "-connection", conn, "-sample", "4s", dest}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"last copied   " + second, "copy          pending", "ETA ", "1 destination snapshots", "← source " + first} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"status", "-connection", conn, "-sample", "0", "-json", dest}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var st struct {
		CopyStatus string `json:"copyStatus"`
		Snapshots  []any  `json:"destinationSnapshots"`
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || st.CopyStatus != "pending" || len(st.Snapshots) != 1 {
		t.Fatalf("json %s: %v", out.String(), err)
	}
	if strings.Contains(text+out.String(), "sig=") {
		t.Fatal("status printed a SAS")
	}
}

func TestSendBuildsAValidSnapshotCreated(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f := sendFlags{source: "https://src.blob.core.windows.net/disks/vm1.vhd", snapshot: "2026-11-24T10:00:00.1234567Z", id: "id-1", eventType: "Snapcopy.SnapshotCreated"}
	body, err := buildSnapshotCreated(f, now)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := copyjob.ParseTrigger(body, copyjob.Rules{DestinationContainerURL: "https://dst.blob.core.windows.net/backups"}, now)
	if err != nil || tr.Source.URL != f.source || tr.EventID != "id-1" || tr.Destination.URL != "https://dst.blob.core.windows.net/backups/vm1.vhd" {
		t.Fatalf("trigger %+v, %v", tr, err)
	}
	rec := &sendRecorder{}
	if err := sendMessage(context.Background(), rec, "id-1", body); err != nil {
		t.Fatal(err)
	}
	m := rec.sent[0]
	if *m.MessageID != "id-1" || *m.ContentType != "application/cloudevents+json" || string(m.Body) != string(body) {
		t.Fatalf("message %+v", m)
	}

	for name, bad := range map[string]sendFlags{
		"no source":      {snapshot: f.snapshot, id: "x", eventType: f.eventType},
		"bad snapshot":   {source: f.source, snapshot: "yesterday", id: "x", eventType: f.eventType},
		"sr=bs sas":      {source: f.source, snapshot: f.snapshot, sas: "sv=1&sr=bs&sp=r&sig=x", id: "x", eventType: f.eventType},
		"wrong type":     {source: f.source, snapshot: f.snapshot, id: "x", eventType: "Other"},
		"not a blob url": {source: "https://example.com/", snapshot: f.snapshot, id: "x", eventType: f.eventType},
	} {
		if _, err := buildSnapshotCreated(bad, now); err == nil {
			t.Errorf("%s: accepted", name)
		} else if _, ok := copyjob.AsInputError(err); !ok {
			t.Errorf("%s: %v is not an input error", name, err)
		}
	}
}

type sendRecorder struct{ sent []*azservicebus.Message }

func (r *sendRecorder) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	r.sent = append(r.sent, m)
	return nil
}

func (r *sendRecorder) ScheduleMessages(context.Context, []*azservicebus.Message, time.Time, *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	return nil, nil
}
