package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
)

// fakeStorage scripts what storage answers.
type fakeStorage struct {
	dest       copyjob.Destination
	destErr    error
	afterStart *copyjob.Destination // what Destination returns after StartCopy
	history    copyjob.History
	historyErr error
	startErr   error
	copyID     string
	sasErr     error
	// sourceSnapshots and listErr script SourceSnapshots.
	sourceSnapshots []time.Time
	listErr         error

	// deleteErr fails DeleteSnapshot; gone lists snapshots already deleted.
	deleteErr error
	gone      map[string]bool
	// changedBytes and changedErr script ChangedBytes; measured records
	// each (snapshot, previous) it was asked.
	changedBytes int64
	changedErr   error
	measured     [][2]string

	starts  []startCall
	aborts  []string
	deletes []deleteCall
	reads   int
	listing int
}

type deleteCall struct {
	blob     string
	snapshot string
}

type startCall struct {
	dest, source copyjob.BlobRef
	snapshot     string
	sas          string
	absent       bool
}

var _ Storage = (*fakeStorage)(nil)

func (f *fakeStorage) Destination(context.Context, copyjob.BlobRef) (copyjob.Destination, error) {
	f.reads++
	if len(f.starts) > 0 && f.afterStart != nil {
		return *f.afterStart, nil
	}
	return f.dest, f.destErr
}

func (f *fakeStorage) History(context.Context, copyjob.BlobRef) (copyjob.History, error) {
	f.listing++
	return f.history, f.historyErr
}

func (f *fakeStorage) ChangedBytes(_ context.Context, _ copyjob.BlobRef, snapshot, previous string) (int64, error) {
	f.measured = append(f.measured, [2]string{snapshot, previous})
	return f.changedBytes, f.changedErr
}

func (f *fakeStorage) DeleteSnapshot(_ context.Context, blob copyjob.BlobRef, snapshot string) (bool, error) {
	if f.deleteErr != nil {
		return false, f.deleteErr
	}
	f.deletes = append(f.deletes, deleteCall{blob.URL, snapshot})
	if f.gone == nil {
		f.gone = map[string]bool{}
	}
	already := f.gone[blob.URL+"?"+snapshot]
	f.gone[blob.URL+"?"+snapshot] = true
	return !already, nil
}

func (f *fakeStorage) StartCopy(_ context.Context, dest, source copyjob.BlobRef, snapshot string, sas copyjob.SAS, absent bool) (string, error) {
	f.starts = append(f.starts, startCall{dest, source, snapshot, sas.Encode(), absent})
	if f.startErr != nil {
		return "", f.startErr
	}
	return f.copyID, nil
}

func (f *fakeStorage) AbortCopy(_ context.Context, _ copyjob.BlobRef, copyID string) error {
	f.aborts = append(f.aborts, copyID)
	return nil
}

func (f *fakeStorage) SourceSnapshots(context.Context, copyjob.BlobRef) ([]time.Time, error) {
	return f.sourceSnapshots, f.listErr
}

func (f *fakeStorage) SourceSAS(context.Context, copyjob.BlobRef) (copyjob.SAS, error) {
	if f.sasErr != nil {
		return copyjob.SAS{}, f.sasErr
	}
	return copyjob.ParseSAS("sv=2026-12-06&sr=b&sp=r&se=2026-11-26T10:00:00Z&sig=bWludGVkU2lnbmF0dXJl")
}

// recordingSender records what the bus adapter sends, as Service Bus would
// receive it.
type recordingSender struct {
	mu        sync.Mutex
	sent      []*azservicebus.Message
	scheduled []scheduled
	err       error
}

type scheduled struct {
	msg *azservicebus.Message
	at  time.Time
}

var _ bus.Sender = (*recordingSender)(nil)

func (r *recordingSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *recordingSender) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	seq := make([]int64, len(ms))
	for i, m := range ms {
		r.scheduled = append(r.scheduled, scheduled{m, at})
		seq[i] = int64(len(r.scheduled))
	}
	return seq, nil
}

var errBusDown = errors.New("service bus unreachable")

// harness is a Worker over fakes, on a fake clock, with captured logs.
type harness struct {
	w                       *Worker
	store                   *fakeStorage
	polls, triggers, events *recordingSender
	logs                    *bytes.Buffer
	clock                   *clock.Fake
}

var testNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		store:    &fakeStorage{copyID: "copy-1"},
		polls:    &recordingSender{},
		triggers: &recordingSender{},
		events:   &recordingSender{},
		logs:     &bytes.Buffer{},
		clock:    clock.NewFake(testNow),
	}
	h.w = &Worker{
		Storage:           h.store,
		Bus:               bus.New(bus.Senders{Polls: h.polls, Triggers: h.triggers, Events: h.events}, bus.Options{EventSource: "/snapcopy/test", EventTypePrefix: "Snapcopy.IncrementalCopy"}),
		Clock:             h.clock,
		Log:               logging.New(h.logs, h.logs, "debug"),
		Rand:              func() float64 { return 0.5 },
		Policy:            copyjob.DefaultPollPolicy(),
		Rules:             copyjob.Rules{MaxBytes: 256 * 1024, DestinationContainerURL: "https://dst.blob.core.windows.net/backups"},
		CopyDeadline:      24 * time.Hour,
		InvocationTimeout: time.Minute,
	}
	if err := h.w.Validate(); err != nil {
		t.Fatal(err)
	}
	return h
}

// event decodes the i-th published CloudEvent.
func (h *harness) event(t *testing.T, i int) (msg *azservicebus.Message, ce map[string]any, data map[string]any) {
	t.Helper()
	if len(h.events.sent) <= i {
		t.Fatalf("%d events published, want more than %d", len(h.events.sent), i)
	}
	msg = h.events.sent[i]
	if err := json.Unmarshal(msg.Body, &ce); err != nil {
		t.Fatal(err)
	}
	data, _ = ce["data"].(map[string]any)
	return msg, ce, data
}

// poll decodes the i-th scheduled poll message.
func (h *harness) poll(t *testing.T, i int) (copyjob.PollMessage, scheduled) {
	t.Helper()
	if len(h.polls.scheduled) <= i {
		t.Fatalf("%d polls scheduled, want more than %d", len(h.polls.scheduled), i)
	}
	s := h.polls.scheduled[i]
	var m copyjob.PollMessage
	if err := json.Unmarshal(s.msg.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m, s
}
