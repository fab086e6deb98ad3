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
)

// PollDecision is the result of DecidePoll.
type PollDecision struct {
	Action              PollAction
	Code                FailureCode
	Reason              string
	DestinationSnapshot string
	// Abort asks to abort the copy (timed out, and configured to abort).
	Abort bool
}

// PollInput is everything DecidePoll looks at.
type PollInput struct {
	Message      PollMessage
	Destination  Destination
	Now          time.Time
	History      History
	HistoryKnown bool
	// AbortOnTimeout aborts copies that pass their deadline.
	AbortOnTimeout bool
}

// DecidePoll judges one poll of a running copy.
func DecidePoll(in PollInput) PollDecision {
	m, d := in.Message, in.Destination
	if !d.Exists {
		return PollDecision{Action: PollFailed, Code: DestinationMissing, Reason: "the destination blob was deleted while its copy ran"}
	}
	if d.CopyID != m.CopyID {
		// Ours ended and a later snapshot's copy started before this poll,
		// or ours was replaced. The destination snapshots tell which.
		if !in.HistoryKnown {
			return PollDecision{Action: PollNeedHistory}
		}
		snapshot, err := ParseSnapshot(m.Job.Snapshot)
		if err == nil {
			if dst, ok := in.History.Find(snapshot); ok {
				return PollDecision{Action: PollCompleted, DestinationSnapshot: dst}
			}
		}
		return PollDecision{Action: PollFailed, Code: CopyLost,
			Reason: fmt.Sprintf("the destination's copy id changed from %s to %s and no destination snapshot of this source snapshot exists", m.CopyID, d.CopyID)}
	}
	switch d.CopyStatus {
	case StatusSuccess:
		if d.DestinationSnapshot == "" && !in.HistoryKnown {
			return PollDecision{Action: PollNeedHistory}
		}
		snap := d.DestinationSnapshot
		if snap == "" {
			snapshot, _ := ParseSnapshot(m.Job.Snapshot)
			var found bool
			if snap, found = in.History.Find(snapshot); !found {
				return PollDecision{Action: PollFailed, Code: CopyLost, Reason: missingSnapshotReason}
			}
		}
		return PollDecision{Action: PollCompleted, DestinationSnapshot: snap}
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
