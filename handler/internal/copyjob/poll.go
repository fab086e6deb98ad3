package copyjob

import (
	"fmt"
	"time"
)

// PollMessageVersion is the current poll message schema.
const PollMessageVersion = 1

// PollMessage is the body of a scheduled CopyPoll message. It never carries
// a SAS: only what is needed to recognise and judge the running copy.
type PollMessage struct {
	Version int `json:"v"`
	Job     Job `json:"job"`
	// CopyID is x-ms-copy-id of the copy this job started.
	CopyID string `json:"copyId"`
	// Attempt is the number of this poll, from 1.
	Attempt int `json:"attempt"`
	// StartedAt is when the copy was started; Deadline when it times out.
	StartedAt time.Time `json:"startedAt"`
	Deadline  time.Time `json:"deadline"`
	// Policy is the polling policy's memory (last progress seen, last delay).
	Policy PolicyState `json:"policy"`
	// CorrelationID ties the job to the producer's message.
	CorrelationID string `json:"correlationId,omitempty"`
}

// Validate reports a poll message that cannot have been written by snapcopy.
func (m PollMessage) Validate() error {
	switch {
	case m.Version != PollMessageVersion:
		return fmt.Errorf("poll message version %d, expected %d", m.Version, PollMessageVersion)
	case m.Job.Key == "" || m.Job.DestinationBlobURL == "" || m.Job.SourceBlobURL == "" || m.Job.Snapshot == "":
		return fmt.Errorf("poll message lacks job fields")
	case m.Job.Key != JobKey(m.Job.DestinationBlobURL, m.Job.Snapshot):
		return fmt.Errorf("poll message job key %q does not match its destination and snapshot", m.Job.Key)
	case m.CopyID == "":
		return fmt.Errorf("poll message has no copy id")
	case m.Attempt < 1:
		return fmt.Errorf("poll message attempt %d < 1", m.Attempt)
	case m.Deadline.Before(m.StartedAt):
		return fmt.Errorf("poll message deadline precedes its start")
	}
	return nil
}

// maxStartSkew is how far in the future a poll's start may lie: the clocks
// of two instances differ by seconds, never by this much.
const maxStartSkew = 5 * time.Minute

// CheckPoll checks a poll message as the untrusted input it is, before any
// request is made: it must be one snapcopy could have written, its source
// and destination must pass the rules of a trigger (storage hosts,
// allow-lists) as snapcopy writes them, and its start may not lie in the
// future. Its deadline is held to copyDeadline after its start, so that no
// poll, forged or not, is rescheduled for longer than a copy may take. It
// returns the message so bounded and its destination. Every failure is an
// *InputError.
func CheckPoll(m PollMessage, rules Rules, now time.Time, copyDeadline time.Duration) (PollMessage, BlobRef, error) {
	if err := m.Validate(); err != nil {
		return m, BlobRef{}, rejectf(InputMalformed, "poll message: %v", err)
	}
	src, err := jobBlob("source", m.Job.SourceBlobURL)
	if err != nil {
		return m, BlobRef{}, err
	}
	dst, err := jobBlob("destination", m.Job.DestinationBlobURL)
	if err != nil {
		return m, BlobRef{}, err
	}
	if snapshot, err := ParseSnapshot(m.Job.Snapshot); err != nil || FormatSnapshot(snapshot) != m.Job.Snapshot {
		return m, BlobRef{}, rejectf(InputInvalidField, "poll message: job snapshot %q is not a snapshot time as snapcopy writes it", m.Job.Snapshot)
	}
	if dst.URL == src.URL {
		return m, BlobRef{}, rejectf(InputInvalidField, "poll message: destination is the source blob itself")
	}
	if err := rules.checkBlob("source", src, rules.AllowedSources); err != nil {
		return m, BlobRef{}, err
	}
	if err := rules.checkBlob("destination", dst, rules.AllowedDestinations); err != nil {
		return m, BlobRef{}, err
	}
	if m.StartedAt.After(now.Add(maxStartSkew)) {
		return m, BlobRef{}, rejectf(InputInvalidField, "poll message: the copy starts at %s, in the future", m.StartedAt.Format(time.RFC3339))
	}
	if limit := m.StartedAt.Add(copyDeadline); m.Deadline.After(limit) {
		m.Deadline = limit
	}
	return m, dst, nil
}

// jobBlob parses a job's blob URL, which snapcopy writes as a base blob
// URL in ParseBlobURL's form: anything else was not written by snapcopy.
func jobBlob(role, raw string) (BlobRef, error) {
	ref, query, err := ParseBlobURL(raw)
	if err != nil {
		return BlobRef{}, rejectf(InputInvalidField, "poll message: %s: %v", role, err)
	}
	if len(query) > 0 || ref.URL != raw {
		return BlobRef{}, rejectf(InputInvalidField, "poll message: the %s is not a base blob URL as snapcopy writes it", role)
	}
	return ref, nil
}

// PollAction is what to do after polling a copy.
type PollAction int

// Poll actions.
const (
	// PollAgain: still pending; schedule the next poll.
	PollAgain PollAction = iota + 1
	// PollCompleted: publish Completed with DestinationSnapshot.
	PollCompleted
	// PollFailed: publish Failed with Code (and abort if Abort is set).
	PollFailed
	// PollNeedHistory: another copy replaced ours; look up the
	// destination's snapshots and decide again.
	PollNeedHistory
	// PollUnproven: Storage does not back the poll's claims; reject the
	// message (Reason says why) and publish no outcome of the job.
	PollUnproven
	// PollPruned: the job's restore point is no longer listed while a newer
	// one of the same source is, and retention deletes restore points: the
	// copy succeeded and retention deleted its restore point before this
	// poll came (retention publishes the job's Completed again before it
	// deletes a young restore point). Nothing is published; Reason says why.
	PollPruned
)

// PollDecision is the result of DecidePoll.
type PollDecision struct {
	Action              PollAction
	Code                FailureCode
	Reason              string
	DestinationSnapshot string
	// CopyID is the copy the outcome is about, as Storage reports it.
	CopyID string
	// Abort asks to abort the copy (timed out, and configured to abort).
	Abort bool
}

// PollInput is everything DecidePoll looks at.
type PollInput struct {
	// Message has passed CheckPoll.
	Message      PollMessage
	Destination  Destination
	Now          time.Time
	History      History
	HistoryKnown bool
	// AbortOnTimeout aborts copies that pass their deadline.
	AbortOnTimeout bool
	// RetentionDeletes is set when the Retention function may delete
	// restore points, so that a missing one may have been pruned.
	RetentionDeletes bool
}

// DecidePoll judges one poll of a running copy. Anyone who can send to the
// poll queue can write a poll message, so an outcome is decided only from
// what Storage proves about the job: the destination's copy id, copy
// source and source snapshot all match the job, or one of its snapshots
// was copied from the job's source snapshot. Anything else is
// PollUnproven, never an outcome: it would take the job's event id, and
// duplicate detection would then drop the genuine outcome.
func DecidePoll(in PollInput) PollDecision {
	m, d := in.Message, in.Destination
	snapshot, err := ParseSnapshot(m.Job.Snapshot)
	if err != nil {
		return PollDecision{Action: PollUnproven, Reason: fmt.Sprintf("the job's snapshot %q is not a snapshot time", m.Job.Snapshot)}
	}
	if !d.Exists {
		return PollDecision{Action: PollUnproven,
			Reason: fmt.Sprintf("the destination blob does not exist, so nothing proves what became of copy %s: the blob was deleted while the copy ran, or the poll was not written by snapcopy", m.CopyID)}
	}
	if d.CopyID != m.CopyID {
		// Ours ended and a later snapshot's copy started before this poll,
		// or ours was replaced. The destination snapshots tell which.
		if !in.HistoryKnown {
			return PollDecision{Action: PollNeedHistory}
		}
		if c, ok := in.History.Find(m.Job.SourceBlobURL, snapshot); ok {
			return PollDecision{Action: PollCompleted, DestinationSnapshot: c.DestinationSnapshot, CopyID: c.CopyID}
		}
		if in.RetentionDeletes && in.History.HasNewer(m.Job.SourceBlobURL, snapshot) {
			return PollDecision{Action: PollPruned,
				Reason: fmt.Sprintf("the destination's copy id is %s, not %s, and its snapshot of this source snapshot is gone while a newer one is listed: retention deleted it after the copy succeeded (its Completed was published again before the deletion)", d.CopyID, m.CopyID)}
		}
		return PollDecision{Action: PollUnproven,
			Reason: fmt.Sprintf("the destination's copy id is %s, not %s, and none of its snapshots was copied from this source snapshot, so nothing proves what became of copy %s: it failed or was aborted before another copy started, or the poll was not written by snapcopy", d.CopyID, m.CopyID, m.CopyID)}
	}
	if !d.Incremental || !SameBlob(d.CopySource, m.Job.SourceBlobURL) || !d.CopySourceSnapshot.Equal(snapshot) {
		return PollDecision{Action: PollUnproven,
			Reason: fmt.Sprintf("copy %s of the destination is from %s at %s, not from the job's source %s at %s", m.CopyID, d.CopySource, FormatSnapshot(d.CopySourceSnapshot), m.Job.SourceBlobURL, m.Job.Snapshot)}
	}
	dec := decideOwnCopy(in, snapshot)
	dec.CopyID = d.CopyID
	return dec
}

// decideOwnCopy judges a destination whose last copy is the job's.
func decideOwnCopy(in PollInput, snapshot time.Time) PollDecision {
	m, d := in.Message, in.Destination
	switch d.CopyStatus {
	case StatusSuccess:
		if d.DestinationSnapshot != "" {
			return PollDecision{Action: PollCompleted, DestinationSnapshot: d.DestinationSnapshot}
		}
		if !in.HistoryKnown {
			return PollDecision{Action: PollNeedHistory}
		}
		c, found := in.History.Find(m.Job.SourceBlobURL, snapshot)
		if !found {
			return PollDecision{Action: PollFailed, Code: CopyLost, Reason: missingSnapshotReason}
		}
		return PollDecision{Action: PollCompleted, DestinationSnapshot: c.DestinationSnapshot}
	case StatusFailed:
		return PollDecision{Action: PollFailed, Code: CopyFailed, Reason: describe(d.StatusDescription, "the service reported the copy failed")}
	case StatusAborted:
		return PollDecision{Action: PollFailed, Code: CopyAborted, Reason: describe(d.StatusDescription, "the copy was aborted")}
	}
	if !in.Now.Before(m.Deadline) {
		return PollDecision{Action: PollFailed, Code: TimedOut, Abort: in.AbortOnTimeout,
			Reason: fmt.Sprintf("the copy was still pending at its deadline %s, %d polls after it started", m.Deadline.Format(time.RFC3339), m.Attempt)}
	}
	return PollDecision{Action: PollAgain}
}

func describe(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
