package worker

import (
	"context"
	"encoding/json"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

// CopyPoll handles one scheduled poll: read the destination, then publish
// the outcome or schedule the next poll after the policy's delay.
func (w *Worker) CopyPoll(ctx context.Context, inv funcproto.Invocation) copyjob.Settlement {
	ctx, cancel, in := w.begin(ctx, inv)
	defer cancel()
	// Anyone who can send to the poll queue can write this message: it is
	// checked like a trigger before any request is made.
	m, dest, err := w.decodePoll(in)
	if ie, ok := copyjob.AsInputError(err); ok {
		return w.settle(in, w.reject(ctx, in, ie))
	}
	w.withJob(in, m.Job.Key)
	return w.settle(in, w.poll(ctx, in, m, dest))
}

// decodePoll returns the checked poll message; every error is an
// *copyjob.InputError.
func (w *Worker) decodePoll(in *invocation) (copyjob.PollMessage, copyjob.BlobRef, error) {
	var m copyjob.PollMessage
	if in.DecodeErr != nil {
		return m, copyjob.BlobRef{}, &copyjob.InputError{Code: copyjob.InputMalformed, Reason: "poll message: " + in.DecodeErr.Error()}
	}
	if err := json.Unmarshal(in.Body, &m); err != nil {
		return m, copyjob.BlobRef{}, &copyjob.InputError{Code: copyjob.InputMalformed, Reason: "poll message: not JSON: " + err.Error()}
	}
	return copyjob.CheckPoll(m, w.Rules, in.now, w.CopyDeadline)
}

func (w *Worker) poll(ctx context.Context, in *invocation, m copyjob.PollMessage, dest copyjob.BlobRef) error {
	dst, err := w.Storage.Destination(ctx, dest)
	if err != nil {
		return w.unreadable(ctx, in, m, copyjob.Destination{}, "reading the destination", err)
	}
	input := copyjob.PollInput{Message: m, Destination: dst, Now: in.now, AbortOnTimeout: w.AbortOnTimeout, RetentionDeletes: w.Retain.Policy.Enabled()}
	dec := copyjob.DecidePoll(input)
	if dec.Action == copyjob.PollNeedHistory {
		history, err := w.Storage.History(ctx, dest)
		if err != nil {
			return w.unreadable(ctx, in, m, dst, "listing destination snapshots", err)
		}
		input.History, input.HistoryKnown = history, true
		dec = copyjob.DecidePoll(input)
	}
	// The copy id is Storage's; StartedAt and Polls come from the message,
	// which may be forged only where Storage proved the outcome true.
	data := copyjob.EventData{CopyID: dec.CopyID, StartedAt: &m.StartedAt, Polls: m.Attempt}
	switch dec.Action {
	case copyjob.PollUnproven:
		return w.reject(ctx, in, &copyjob.InputError{Code: copyjob.InputUnproven, Reason: dec.Reason})
	case copyjob.PollPruned:
		in.log.Info().Str("reason", dec.Reason).Msg("restore point already pruned; nothing to publish")
		return nil
	case copyjob.PollAgain:
		in.log.Debug().Int64("bytes", dst.Progress.Bytes).Int64("total", dst.Progress.Total).Int("attempt", m.Attempt).Msg("copy pending")
		return w.nextPoll(ctx, in, m, dst)
	case copyjob.PollCompleted:
		data.DestinationSnapshot = dec.DestinationSnapshot
		// Once a later copy has started, the base blob's properties describe
		// that one; the destination snapshot's listing still has our figure.
		if snapshot, err := copyjob.ParseSnapshot(m.Job.Snapshot); err == nil {
			data.BytesCopied = copyjob.BytesCopied(dst, input.History, m.Job.SourceBlobURL, snapshot)
		}
		if dst.CopyID == m.CopyID && !dst.CompletedAt.IsZero() {
			data.CompletedAt = &dst.CompletedAt
		}
		data.BytesChanged = w.bytesChanged(ctx, in, dest, dec.DestinationSnapshot, input.History, input.HistoryKnown)
		in.log.Info().Str("destinationSnapshot", dec.DestinationSnapshot).Int("polls", m.Attempt).Msg("copy completed")
		return w.publish(ctx, in, copyjob.JobEvent(m.Job, copyjob.Completed, in.now, data))
	default: // copyjob.PollFailed
		if dec.Abort {
			if err := w.Storage.AbortCopy(ctx, dest, m.CopyID); err != nil {
				in.log.Warn().Err(err).Msg("aborting the timed-out copy failed")
			}
		}
		in.log.Warn().Str("code", string(dec.Code)).Str("reason", dec.Reason).Msg("copy failed")
		return w.publish(ctx, in, copyjob.FailedEvent(m.Job, dec.Code, dec.Reason, in.now, data))
	}
}

// unreadable handles a storage read (what) that failed: poll again later,
// unless the deadline has passed. Then the next poll would be due at once,
// for as long as the read keeps failing (for ever, for a forged poll naming
// an account that does not exist), so the poll ends as Rejected: nothing
// proves what became of the copy.
func (w *Worker) unreadable(ctx context.Context, in *invocation, m copyjob.PollMessage, dst copyjob.Destination, what string, err error) error {
	if in.now.Before(m.Deadline) {
		in.log.Warn().Err(err).Msg(what + " failed; polling again later")
		return w.nextPoll(ctx, in, m, dst)
	}
	in.log.Warn().Err(err).Msg(what + " failed past the copy's deadline")
	return w.reject(ctx, in, &copyjob.InputError{Code: copyjob.InputUnproven,
		Reason: what + " failed until the copy's deadline " + m.Deadline.Format(time.RFC3339) + ", so nothing proves what became of copy " + m.CopyID})
}

// nextPoll schedules poll n+1 after the policy's delay, but never later
// than the deadline, so a stuck copy is reported on time.
func (w *Worker) nextPoll(ctx context.Context, in *invocation, m copyjob.PollMessage, dst copyjob.Destination) error {
	delay, state := w.Policy.Next(m.Policy, copyjob.Observation{
		Now:         in.now,
		StartedAt:   m.StartedAt,
		Attempt:     m.Attempt,
		HasProgress: dst.Progress.Known,
		Bytes:       dst.Progress.Bytes,
		Total:       dst.Progress.Total,
		Rand:        w.Rand(),
	})
	at := in.now.Add(delay)
	if at.After(m.Deadline) {
		at = m.Deadline
	}
	next := m
	next.Attempt++
	next.Policy = state
	return w.Bus.SchedulePoll(ctx, next, at)
}
