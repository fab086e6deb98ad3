// Package worker carries out snapcopy's two functions: it observes storage,
// asks the pure core (copyjob) what to do, and does it through the storage
// and bus ports. It keeps no state between invocations.
package worker

import (
	"context"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Storage is what the worker needs from Blob Storage.
type Storage interface {
	Destination(ctx context.Context, dest copyjob.BlobRef) (copyjob.Destination, error)
	History(ctx context.Context, dest copyjob.BlobRef) (copyjob.History, error)
	StartCopy(ctx context.Context, dest, source copyjob.BlobRef, snapshot string, sas copyjob.SAS, destinationAbsent bool) (copyID string, err error)
	AbortCopy(ctx context.Context, dest copyjob.BlobRef, copyID string) error
	SourceSAS(ctx context.Context, source copyjob.BlobRef) (copyjob.SAS, error)
	// SourceSnapshots lists the source blob's snapshots; an error wrapping
	// copyjob.ErrListForbidden means gaps cannot be detected.
	SourceSnapshots(ctx context.Context, source copyjob.BlobRef) ([]time.Time, error)
	// DeleteSnapshot deletes one snapshot of a blob; deleted is false when
	// it was already gone.
	DeleteSnapshot(ctx context.Context, blob copyjob.BlobRef, snapshot string) (deleted bool, err error)
	// ChangedBytes measures the page ranges of a blob's snapshot that
	// differ from its snapshot previous (all of them when previous is "").
	ChangedBytes(ctx context.Context, blob copyjob.BlobRef, snapshot, previous string) (int64, error)
}

// Bus is what the worker needs from Service Bus. Every method is a durable
// write: when it fails, the message must be retried.
type Bus interface {
	SchedulePoll(ctx context.Context, m copyjob.PollMessage, at time.Time) error
	DeferTrigger(ctx context.Context, d copyjob.Deferred, at time.Time) error
	Publish(ctx context.Context, ev copyjob.Event) error
}
