package worker

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

// SnapshotCreated handles one SnapshotCreated message: decide from the
// destination's state (the decision table), then start a copy and schedule its first
// poll, or publish an outcome, or defer the trigger.
func (w *Worker) SnapshotCreated(ctx context.Context, inv funcproto.Invocation) copyjob.Settlement {
	ctx, cancel, in := w.begin(ctx, inv)
	defer cancel()
	if in.DecodeErr != nil {
		return w.settle(in, w.reject(ctx, in, decodeInputError(in.DecodeErr)))
	}
	t, err := copyjob.ParseTrigger(in.Body, w.Rules, in.now)
	if ie, ok := copyjob.AsInputError(err); ok {
		return w.settle(in, w.reject(ctx, in, ie))
	}
	job := t.Job()
	w.withJob(in, job.Key)
	in.log.Info().Str("source", job.SourceBlobURL).Str("snapshot", job.Snapshot).Str("destination", job.DestinationBlobURL).Msg("snapshot created")
	return w.settle(in, w.trigger(ctx, in, t, job))
}

// trigger decides and acts; the error is non-nil only when nothing durable
// could be written.
func (w *Worker) trigger(ctx context.Context, in *invocation, t copyjob.Trigger, job copyjob.Job) error {
	dst, err := w.Storage.Destination(ctx, t.Destination)
	if err != nil {
		return w.deferTrigger(ctx, in, job, deferWait{transient: true}, copyjob.RetriesExhausted, "reading the destination failed: "+err.Error())
	}
	dec := w.decideStart(ctx, t, dst)
	if dec.Action != copyjob.StartCopy {
		return w.carryOut(ctx, in, job, dec)
	}
	unchecked := false
	if dst.Exists && dst.CopySourceSnapshot.Before(t.Snapshot) {
		snapshots, err := w.Storage.SourceSnapshots(ctx, t.Source)
		switch {
		case errors.Is(err, copyjob.ErrListForbidden):
			unchecked = true
		case err != nil:
			return w.carryOut(ctx, in, job, copyjob.StartDecision{Action: copyjob.RetryLater, Code: copyjob.RetriesExhausted, Reason: "listing source snapshots failed: " + err.Error()})
		default:
			if missing, ok := copyjob.NextMissing(dst.CopySourceSnapshot, t.Snapshot, snapshots); ok {
				return w.catchUp(ctx, in, t, job, dst, missing)
			}
		}
	}
	dec = w.startCopy(ctx, in, t, job, dst)
	if err := w.carryOut(ctx, in, job, dec); err != nil || !unchecked || dec.Action != copyjob.AlreadyPending {
		return err
	}
	reason := "the source's snapshots could not be listed, so snapshots taken between " + copyjob.FormatSnapshot(dst.CopySourceSnapshot) + " and " + job.Snapshot + ", if any, were not copied"
	return w.publish(ctx, in, copyjob.JobEvent(job, copyjob.GapUnchecked, in.now, copyjob.EventData{PreviousSnapshot: copyjob.FormatSnapshot(dst.CopySourceSnapshot), FailureDescription: reason}))
}

// catchUp copies a snapshot the chain missed, then defers the requested
// one: it is seen again when the missed copy is done, and copied (or the
// next missed one is) in ascending order, so no restore point is skipped.
func (w *Worker) catchUp(ctx context.Context, in *invocation, t copyjob.Trigger, job copyjob.Job, dst copyjob.Destination, missing time.Time) error {
	gap := t
	gap.Snapshot = missing
	gapJob := gap.Job()
	in.log.Info().Str("missingSnapshot", gapJob.Snapshot).Str("catchUpJobKey", gapJob.Key).Msg("copying a missed snapshot first")
	dec := w.startCopy(ctx, in, gap, gapJob, dst)
	switch dec.Action {
	case copyjob.AlreadyPending, copyjob.Fail, copyjob.Supersede:
		// The missed snapshot's job gets its own poll or outcome event.
		if err := w.carryOut(ctx, in, gapJob, dec); err != nil {
			return err
		}
	}
	if dec.Action == copyjob.AlreadyPending {
		// Progress: the wait budget starts again.
		return w.deferTrigger(ctx, in, job, deferWait{progressed: true}, copyjob.RetriesExhausted, "copying missed snapshot "+gapJob.Snapshot+" first")
	}
	return w.deferTrigger(ctx, in, job, deferWait{transient: true}, copyjob.RetriesExhausted, "the copy of missed snapshot "+gapJob.Snapshot+" could not start")
}

func (w *Worker) decideStart(ctx context.Context, t copyjob.Trigger, dst copyjob.Destination) copyjob.StartDecision {
	input := copyjob.StartInput{Source: t.Source.URL, Snapshot: t.Snapshot, Destination: dst}
	dec := copyjob.DecideStart(input)
	if dec.Action != copyjob.NeedHistory {
		return dec
	}
	history, err := w.Storage.History(ctx, t.Destination)
	if err != nil {
		return copyjob.StartDecision{Action: copyjob.RetryLater, Code: copyjob.RetriesExhausted, Reason: "listing destination snapshots failed: " + err.Error()}
	}
	input.History, input.HistoryKnown = history, true
	return copyjob.DecideStart(input)
}

// startCopy starts the copy; on success the decision becomes "poll it".
func (w *Worker) startCopy(ctx context.Context, in *invocation, t copyjob.Trigger, job copyjob.Job, dst copyjob.Destination) copyjob.StartDecision {
	sas := t.SAS
	if sas.IsZero() {
		var err error
		if sas, err = w.Storage.SourceSAS(ctx, t.Source); err != nil {
			return copyjob.StartDecision{Action: copyjob.RetryLater, Code: copyjob.SourceUnauthorized, Reason: "minting the source SAS failed: " + err.Error()}
		}
	}
	copyID, err := w.Storage.StartCopy(ctx, t.Destination, t.Source, job.Snapshot, sas, !dst.Exists)
	var se *copyjob.StartError
	switch {
	case err == nil:
		in.log.Info().Str("copyId", copyID).Bool("full", !dst.Exists).Msg("incremental copy started")
		return copyjob.StartDecision{Action: copyjob.AlreadyPending, CopyID: copyID}
	case errors.As(err, &se):
		dec := copyjob.DecideStartError(se)
		// Another copy running and transient refusals are expected waits.
		level := zerolog.WarnLevel
		if dec.Action == copyjob.AlreadyPending || dec.Action == copyjob.RetryLater {
			level = zerolog.InfoLevel
		}
		in.log.WithLevel(level).Str("code", se.Code).Int("status", se.Status).Msg("incremental copy refused")
		if dec.Action == copyjob.AlreadyPending {
			// A redelivery or an SDK retry already started it: find out
			// whether the pending copy is ours.
			return w.pendingCopy(ctx, t)
		}
		return dec
	default:
		return copyjob.StartDecision{Action: copyjob.RetryLater, Code: copyjob.RetriesExhausted, Reason: err.Error()}
	}
}

// pendingCopy re-reads the destination after PendingCopyOperation.
func (w *Worker) pendingCopy(ctx context.Context, t copyjob.Trigger) copyjob.StartDecision {
	dst, err := w.Storage.Destination(ctx, t.Destination)
	if err != nil {
		return copyjob.StartDecision{Action: copyjob.RetryLater, Code: copyjob.RetriesExhausted, Reason: "reading the destination failed: " + err.Error()}
	}
	dec := w.decideStart(ctx, t, dst)
	if dec.Action == copyjob.StartCopy {
		// The pending copy ended between the two reads: try again later.
		return copyjob.StartDecision{Action: copyjob.RetryLater, Code: copyjob.RetriesExhausted, Reason: "a copy was pending a moment ago"}
	}
	return dec
}

// carryOut executes a start decision.
func (w *Worker) carryOut(ctx context.Context, in *invocation, job copyjob.Job, dec copyjob.StartDecision) error {
	switch dec.Action {
	case copyjob.AlreadyPending:
		return w.firstPoll(ctx, in, job, dec.CopyID)
	case copyjob.AlreadyCompleted:
		in.log.Info().Str("destinationSnapshot", dec.DestinationSnapshot).Msg("already copied; publishing Completed again")
		data := copyjob.EventData{DestinationSnapshot: dec.DestinationSnapshot, BytesCopied: dec.BytesCopied}
		// The job's destination was validated when the job was made.
		if dest, _, err := copyjob.ParseBlobURL(job.DestinationBlobURL); err == nil {
			data.BytesChanged = w.bytesChanged(ctx, in, dest, dec.DestinationSnapshot, nil, false)
		}
		return w.publish(ctx, in, copyjob.JobEvent(job, copyjob.Completed, in.now, data))
	case copyjob.WaitForOtherCopy:
		return w.deferTrigger(ctx, in, job, deferWait{}, copyjob.RetriesExhausted, dec.Reason)
	case copyjob.RetryLater:
		return w.deferTrigger(ctx, in, job, deferWait{transient: true}, dec.Code, dec.Reason)
	case copyjob.Supersede:
		in.log.Warn().Str("reason", dec.Reason).Msg("superseded")
		return w.publish(ctx, in, copyjob.JobEvent(job, copyjob.Superseded, in.now, copyjob.EventData{FailureDescription: dec.Reason}))
	default: // copyjob.Fail
		in.log.Warn().Str("code", string(dec.Code)).Str("reason", dec.Reason).Msg("failed")
		return w.publish(ctx, in, copyjob.FailedEvent(job, dec.Code, dec.Reason, in.now, copyjob.EventData{}))
	}
}

// firstPoll schedules poll 1 of a started (or already running) copy.
func (w *Worker) firstPoll(ctx context.Context, in *invocation, job copyjob.Job, copyID string) error {
	m := copyjob.PollMessage{
		Version:       copyjob.PollMessageVersion,
		Job:           job,
		CopyID:        copyID,
		Attempt:       1,
		StartedAt:     in.now,
		Deadline:      in.now.Add(w.CopyDeadline),
		CorrelationID: in.MessageID,
	}
	delay, state := w.Policy.First(w.Rand())
	m.Policy = state
	return w.Bus.SchedulePoll(ctx, m, in.now.Add(delay))
}

// deferWait says why a trigger is deferred.
type deferWait struct {
	// transient: a refusal worth retrying (counts against the retry
	// budget); otherwise the trigger waits behind another copy.
	transient bool
	// progressed: the chain moved on, so the wait budget starts again.
	progressed bool
}

// deferTrigger schedules the trigger again with back-off, or publishes
// Failed when its budget is spent.
func (w *Worker) deferTrigger(ctx context.Context, in *invocation, job copyjob.Job, why deferWait, code copyjob.FailureCode, reason string) error {
	state := copyjob.ReadDeferState(in.ApplicationProperties)
	if why.progressed {
		state.FirstAt = time.Time{}
	}
	bounds := copyjob.DeferralBounds{MinDelay: w.Policy.MinDelay, MaxDelay: w.Policy.MaxDelay, MaxWait: 2 * w.CopyDeadline}
	plan := copyjob.PlanDeferral(copyjob.DeliveredTrigger{JobKey: job.Key, MessageID: in.MessageID, Body: in.Body}, state, why.transient, in.now, bounds, w.Rand())
	if plan.GiveUp {
		in.log.Warn().Str("code", string(code)).Str("reason", reason).Msg("deferral budget spent")
		return w.publish(ctx, in, copyjob.FailedEvent(job, code, reason, in.now, copyjob.EventData{}))
	}
	in.log.Info().Str("reason", reason).Dur("delay", plan.Delay).Str("deferId", plan.MessageID).Msg("trigger deferred")
	return w.Bus.DeferTrigger(ctx, copyjob.Deferred{
		Body:          in.Body,
		ContentType:   in.ContentType,
		CorrelationID: in.CorrelationID,
		Properties:    in.ApplicationProperties,
		State:         plan.Next,
		MessageID:     plan.MessageID,
		JobKey:        job.Key,
	}, in.now.Add(plan.Delay))
}

func (w *Worker) publish(ctx context.Context, in *invocation, ev copyjob.Event) error {
	if err := w.Bus.Publish(ctx, ev); err != nil {
		return err
	}
	in.log.Info().Str("eventId", ev.ID).Str("outcome", string(ev.Outcome)).Msg("event published")
	return nil
}
