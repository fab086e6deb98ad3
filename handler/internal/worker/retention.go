package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

// RetentionConfig configures the Retention function.
type RetentionConfig struct {
	// Policy says which restore points survive; the zero policy keeps
	// every one.
	Policy copyjob.RetentionPolicy
	// PruneSource deletes the source snapshots that the destination's
	// snapshot list proves copied, except the newest copied one. With
	// neither, the function does nothing.
	PruneSource bool
	// CompletedType is the CloudEvents type of Completed events
	// ("<prefix>.Completed"); other events are ignored.
	CompletedType string
}

func (c RetentionConfig) enabled() bool { return c.Policy.Enabled() || c.PruneSource }

func (c RetentionConfig) validate() error {
	if err := c.Policy.Validate(); err != nil {
		return err
	}
	if c.enabled() && c.CompletedType == "" {
		return errors.New("worker.Retain.CompletedType is empty")
	}
	return nil
}

// maxPruneDeliveries bounds the redeliveries a storage fault may cost: the
// entities dead-letter at 10, and after 5 the run reports what it did and
// leaves the rest to the chain's next Completed event, which plans the
// whole chain again.
const maxPruneDeliveries = 5

// Retention handles one event of the events topic's retention subscription:
// after a Completed event it deletes the restore points the policy drops
// (and, with source pruning, the source snapshots proven copied) and
// publishes Pruned. It runs apart from the copy functions, on its own
// subscription, so a pruning fault never delays a copy.
//
// Repeating a run is harmless: what it deletes is planned from the
// destination's snapshot list at that moment, a deleted snapshot is gone
// from the next listing, and deleting one that is already gone is a no-op.
// Runs of different events of a chain cannot undo each other: only the run
// of the chain's newest restore point acts, and the policy drops from an
// older listing only what it also drops from a newer one.
func (w *Worker) Retention(ctx context.Context, inv funcproto.Invocation) copyjob.Settlement {
	ctx, cancel, in := w.begin(ctx, inv)
	defer cancel()
	if !w.Retain.enabled() {
		in.log.Debug().Msg("retention is off: every restore point is kept")
		return w.settle(in, nil)
	}
	// The subscription's filter admits only the Completed subject; where
	// it is missing, everything else is skipped unread. That includes our
	// own Rejected events: rejecting one would publish another, forever.
	if in.Subject != "" && in.Subject != w.Retain.CompletedType {
		in.log.Debug().Str("subject", in.Subject).Msg("not a Completed event; nothing to prune")
		return w.settle(in, nil)
	}
	if in.DecodeErr != nil {
		return w.settle(in, w.reject(ctx, in, decodeInputError(in.DecodeErr)))
	}
	ev, err := copyjob.ParseCompleted(in.Body, w.Retain.CompletedType, w.Rules)
	if errors.Is(err, copyjob.ErrNotCompleted) {
		in.log.Debug().Msg("not a Completed event; nothing to prune")
		return w.settle(in, nil)
	}
	if ie, ok := copyjob.AsInputError(err); ok {
		return w.settle(in, w.reject(ctx, in, ie))
	}
	in.log = in.log.With().Str("destination", ev.Destination.URL).Str("destinationSnapshot", ev.DestinationSnapshot).Logger()
	return w.settle(in, w.prune(ctx, in, ev))
}

// prune carries out one retention run; the error is non-nil when the
// message must be delivered again.
func (w *Worker) prune(ctx context.Context, in *invocation, ev copyjob.ChainEvent) error {
	dst, err := w.Storage.Destination(ctx, ev.Destination)
	if err != nil {
		return w.pruneFault(ctx, in, nil, fmt.Errorf("reading the destination: %w", err))
	}
	switch {
	case !dst.Exists:
		in.log.Info().Msg("the destination no longer exists; nothing to prune")
		return nil
	case !dst.Incremental:
		return w.reject(ctx, in, &copyjob.InputError{Code: copyjob.InputInvalidField,
			Reason: "destination " + ev.Destination.URL + " is not an incremental copy: retention only prunes snapcopy's chains"})
	}
	history, err := w.Storage.History(ctx, ev.Destination)
	if err != nil {
		return w.pruneFault(ctx, in, nil, fmt.Errorf("listing destination snapshots: %w", err))
	}
	input := copyjob.PruneInput{Event: ev, History: history, Policy: w.Retain.Policy, PruneSource: w.Retain.PruneSource, Rules: w.Rules}
	if w.Retain.PruneSource {
		if input.SourceSnapshots, err = w.sourceSnapshotsOf(ctx, in, history); err != nil {
			return w.pruneFault(ctx, in, nil, err)
		}
	}
	dec := copyjob.DecidePrune(input)
	if dec.Skip != "" {
		in.log.Info().Str("reason", dec.Skip).Msg("nothing to prune")
		return nil
	}
	r := &pruneRun{job: copyjob.NewJob(dec.Newest.SourceBlobURL, copyjob.FormatSnapshot(dec.Newest.SourceSnapshot), ev.Destination.URL)}
	w.withJob(in, r.job.Key)
	r.data.DestinationSnapshot = dec.Newest.DestinationSnapshot
	for _, k := range dec.Plan.Keep {
		r.data.Kept = append(r.data.Kept, k.Pruned(k.Reasons))
	}
	// Source snapshots first: if the run stops half-way, the listing that
	// proves them copied is still whole for the redelivery.
	if dec.Source.Skip != "" {
		in.log.Warn().Str("reason", dec.Source.Skip).Msg("source snapshots not pruned")
	}
	for _, t := range dec.Source.Snapshots {
		snapshot := copyjob.FormatSnapshot(t)
		deleted, err := w.Storage.DeleteSnapshot(ctx, dec.Source.Source, snapshot)
		if err != nil {
			return w.pruneFault(ctx, in, r, fmt.Errorf("deleting source snapshot %s: %w", snapshot, err))
		}
		if deleted {
			r.data.SourceSnapshotsDeleted = append(r.data.SourceSnapshotsDeleted, snapshot)
		}
	}
	for _, p := range dec.Plan.Delete {
		if err := w.completedBeforePruning(ctx, in, ev.Destination, history, p); err != nil {
			return err
		}
		deleted, err := w.Storage.DeleteSnapshot(ctx, ev.Destination, p.DestinationSnapshot)
		if err != nil {
			return w.pruneFault(ctx, in, r, fmt.Errorf("deleting destination snapshot %s: %w", p.DestinationSnapshot, err))
		}
		r.record(deleted, p.Pruned(nil))
	}
	in.log.Info().Int("deleted", len(r.data.Deleted)).Int("alreadyDeleted", len(r.data.AlreadyDeleted)).Int("kept", len(r.data.Kept)).
		Int("sourceSnapshotsDeleted", len(r.data.SourceSnapshotsDeleted)).Msg("restore points pruned")
	return w.publish(ctx, in, copyjob.JobEvent(r.job, copyjob.Pruned, in.now, r.data))
}

// sourceSnapshotsOf lists the snapshots of the chain's source blob (as the
// newest restore point names it), so that source pruning deletes only what
// is still there. A disallowed source lists nothing, and the decision says
// why; so does a source the handler may not list, here.
func (w *Worker) sourceSnapshotsOf(ctx context.Context, in *invocation, history copyjob.History) ([]time.Time, error) {
	src, skip := copyjob.ChainSource(history, w.Rules)
	if skip != "" {
		return nil, nil
	}
	snapshots, err := w.Storage.SourceSnapshots(ctx, src)
	if errors.Is(err, copyjob.ErrListForbidden) {
		// Nothing proves a snapshot is still there, so none is deleted;
		// without this line the operator who turned pruning on would see
		// none pruned and not know why.
		in.log.Warn().Err(err).Str("reason", "the source's snapshots cannot be listed (no permission)").Msg("source snapshots not pruned")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing source snapshots: %w", err)
	}
	return snapshots, nil
}

// completedRepublishWindow is the events topic's duplicate-detection window
// in infra: a Completed event published again within it is dropped.
const completedRepublishWindow = 24 * time.Hour

// completedBeforePruning publishes the Completed event of a restore point
// about to be deleted, under its job's own id. Once the restore point is
// gone nothing proves the copy any more, and a copy whose poll was lost
// (the process died right after starting it) gets its Completed only from
// its trigger, which may come back later; so the event goes out first.
// When the copy functions already published it, duplicate detection drops
// this one; restore points older than the window are assumed announced, so
// subscribers are not sent a copy of an old Completed.
func (w *Worker) completedBeforePruning(ctx context.Context, in *invocation, dest copyjob.BlobRef, history copyjob.History, p copyjob.RestorePoint) error {
	if t, err := copyjob.ParseSnapshot(p.DestinationSnapshot); err != nil || in.now.Sub(t) > completedRepublishWindow {
		return nil
	}
	for _, c := range history {
		if c.DestinationSnapshot != p.DestinationSnapshot {
			continue
		}
		job := copyjob.NewJob(c.SourceBlobURL, copyjob.FormatSnapshot(c.SourceSnapshot), dest.URL)
		data := copyjob.EventData{DestinationSnapshot: c.DestinationSnapshot, CopyID: c.CopyID}
		if c.Progress.Known {
			data.BytesCopied = &c.Progress.Bytes
		}
		data.BytesChanged = w.bytesChanged(ctx, in, dest, c.DestinationSnapshot, history, true)
		return w.Bus.Publish(ctx, copyjob.JobEvent(job, copyjob.Completed, in.now, data))
	}
	return nil
}

// pruneRun is what a run has done so far, for its Pruned event.
type pruneRun struct {
	job  copyjob.Job
	data copyjob.EventData
}

func (r *pruneRun) record(deleted bool, p copyjob.PrunedPoint) {
	if deleted {
		r.data.Deleted = append(r.data.Deleted, p)
	} else {
		r.data.AlreadyDeleted = append(r.data.AlreadyDeleted, p)
	}
}

// pruneFault asks for a redelivery after a storage fault (the run is
// repeated from a fresh listing), until maxPruneDeliveries: then the run
// publishes what it did with PruneIncomplete, or, when it could not even
// list the chain, completes with an error logged, because the chain's next
// Completed event prunes it again.
func (w *Worker) pruneFault(ctx context.Context, in *invocation, r *pruneRun, err error) error {
	if in.DeliveryCount < maxPruneDeliveries {
		in.log.Warn().Err(err).Int("deliveryCount", in.DeliveryCount).Msg("pruning met a storage fault; the redelivered message prunes again")
		return err
	}
	if r == nil {
		in.log.Error().Err(err).Msg("pruning gave up: the chain's next Completed event prunes it")
		return nil
	}
	r.data.FailureCode = string(copyjob.PruneIncomplete)
	r.data.FailureDescription = err.Error() + "; the chain's next Completed event prunes the rest"
	in.log.Error().Err(err).Msg("pruning incomplete")
	return w.publish(ctx, in, copyjob.JobEvent(r.job, copyjob.Pruned, in.now, r.data))
}
