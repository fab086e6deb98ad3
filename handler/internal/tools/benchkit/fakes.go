package benchkit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// NopSender is a bus.Sender that accepts everything at once and keeps only
// counts and the last message, so that it costs next to nothing per call
// and holds no memory however long a benchmark runs. Safe for concurrent
// use.
type NopSender struct {
	mu    sync.Mutex
	calls int64
	last  *azservicebus.Message
}

var _ bus.Sender = (*NopSender)(nil)

// SendMessage implements bus.Sender.
func (s *NopSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	s.record(m)
	return nil
}

// ScheduleMessages implements bus.Sender.
func (s *NopSender) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, _ time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	for _, m := range ms {
		s.record(m)
	}
	return make([]int64, len(ms)), nil
}

func (s *NopSender) record(m *azservicebus.Message) {
	s.mu.Lock()
	s.calls++
	s.last = m
	s.mu.Unlock()
}

// Calls is how many messages were sent or scheduled.
func (s *NopSender) Calls() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Last is the last message sent or scheduled.
func (s *NopSender) Last() *azservicebus.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// errNotScripted is what PendingStorage answers to calls a poll of a
// pending copy never makes.
var errNotScripted = errors.New("benchkit: PendingStorage only answers Destination")

// PendingStorage implements worker.Storage with a destination that is
// always Dest, a copy in progress, so every CopyPoll takes the pending →
// schedule path. (The benchmarks assert the interface: the worker's tests
// import this package, so it does not import worker.) Safe for concurrent
// use.
type PendingStorage struct {
	Dest  copyjob.Destination
	reads atomic.Int64
}

// Destination implements worker.Storage.
func (s *PendingStorage) Destination(context.Context, copyjob.BlobRef) (copyjob.Destination, error) {
	s.reads.Add(1)
	return s.Dest, nil
}

// Reads is how many times Destination was called.
func (s *PendingStorage) Reads() int64 { return s.reads.Load() }

// History implements worker.Storage.
func (s *PendingStorage) History(context.Context, copyjob.BlobRef) (copyjob.History, error) {
	return nil, errNotScripted
}

// StartCopy implements worker.Storage.
func (s *PendingStorage) StartCopy(context.Context, copyjob.BlobRef, copyjob.BlobRef, string, copyjob.SAS, bool) (string, error) {
	return "", errNotScripted
}

// AbortCopy implements worker.Storage.
func (s *PendingStorage) AbortCopy(context.Context, copyjob.BlobRef, string) error {
	return errNotScripted
}

// SourceSAS implements worker.Storage.
func (s *PendingStorage) SourceSAS(context.Context, copyjob.BlobRef) (copyjob.SAS, error) {
	return copyjob.SAS{}, errNotScripted
}

// SourceSnapshots implements worker.Storage.
func (s *PendingStorage) SourceSnapshots(context.Context, copyjob.BlobRef) ([]time.Time, error) {
	return nil, errNotScripted
}

// ChangedBytes implements worker.Storage.
func (s *PendingStorage) ChangedBytes(context.Context, copyjob.BlobRef, string, string) (int64, error) {
	return 0, errNotScripted
}

// DeleteSnapshot implements worker.Storage.
func (s *PendingStorage) DeleteSnapshot(context.Context, copyjob.BlobRef, string) (bool, error) {
	return false, errNotScripted
}
