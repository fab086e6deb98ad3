package copyjob

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Outcome is the last segment of an event type.
type Outcome string

// Outcomes published to the events topic.
const (
	Completed  Outcome = "Completed"
	Failed     Outcome = "Failed"
	Superseded Outcome = "Superseded"
	Rejected   Outcome = "Rejected"
	// GapUnchecked: the source's snapshots could not be listed (no
	// permission), so snapshots between the last copied one and the
	// requested one, if any, were not copied.
	GapUnchecked Outcome = "GapUnchecked"
	// Pruned: a retention run deleted the restore points the retention
	// policy drops (and, with source pruning, the source snapshots proven
	// copied), and says why each survivor was kept.
	Pruned Outcome = "Pruned"
)

// Terminal reports whether the outcome ends its job: every job gets exactly
// one of Completed, Failed or Superseded.
func (o Outcome) Terminal() bool { return o == Completed || o == Failed || o == Superseded }

// EventType is the CloudEvents type of an outcome, also the message's
// Subject so subscriptions can filter on it: "<prefix>.<Outcome>".
func EventType(prefix string, o Outcome) string { return prefix + "." + string(o) }

// FailureCode says why a job Failed.
type FailureCode string

// Failure codes carried by Failed events.
const (
	// DestinationConflict: the destination is not an incremental copy of
	// this source; snapcopy never modifies it.
	DestinationConflict FailureCode = "DestinationConflict"
	// ChainBroken: the source was re-created or the last copied snapshot is
	// gone, so no further incremental copy is possible.
	ChainBroken FailureCode = "ChainBroken"
	// SourceUnauthorized: the service could not read the source with the SAS.
	SourceUnauthorized FailureCode = "SourceUnauthorized"
	// InvalidSource: the source is not a page-blob snapshot the service accepts.
	InvalidSource FailureCode = "InvalidSource"
	// CopyFailed and CopyAborted: the service ended the copy unsuccessfully.
	CopyFailed  FailureCode = "CopyFailed"
	CopyAborted FailureCode = "CopyAborted"
	// TimedOut: the copy was still pending at its deadline.
	TimedOut FailureCode = "TimedOut"
	// CopyLost: the service reported our copy successful, but no
	// destination snapshot of it exists.
	CopyLost FailureCode = "CopyLost"
	// RetriesExhausted: a transient error outlasted the retry budget.
	RetriesExhausted FailureCode = "RetriesExhausted"
	// PruneIncomplete: a retention run met storage faults on every
	// delivery; what it deleted is listed, the rest waits for the chain's
	// next Completed event.
	PruneIncomplete FailureCode = "PruneIncomplete"
	// CopyRejected: the service refused the copy for another reason.
	CopyRejected FailureCode = "CopyRejected"
)

// ChainBrokenRemedy is what a Failed ChainBroken event tells the operator.
const ChainBrokenRemedy = "the source blob was re-created or the last copied source snapshot was deleted, so the destination can no longer be updated incrementally: " +
	"delete the destination blob (its snapshots are complete restore points; keep them by copying them elsewhere first) or choose a new destination, then send the snapshot again to start a new chain with a full copy"

// EventData is the data of every outcome event. Fields that do not apply
// to an outcome, or that the service did not report, are omitted;
// BytesCopied is a pointer so that a copy that moved nothing still says 0.
type EventData struct {
	JobKey              string `json:"jobKey,omitempty"`
	SourceBlobURL       string `json:"sourceBlobUrl,omitempty"`
	SourceSnapshot      string `json:"sourceSnapshot,omitempty"`
	DestinationBlobURL  string `json:"destinationBlobUrl,omitempty"`
	DestinationSnapshot string `json:"destinationSnapshot,omitempty"`
	PreviousSnapshot    string `json:"previousSnapshot,omitempty"`
	CopyID              string `json:"copyId,omitempty"`
	BytesCopied         *int64 `json:"bytesCopied,omitempty"`
	// BytesChanged is what a Completed restore point added: the bytes of
	// the page ranges that differ from the previous restore point (all of
	// its page ranges for the first one). Absent when it could not be
	// measured.
	BytesChanged       *int64          `json:"bytesChanged,omitempty"`
	StartedAt          *time.Time      `json:"startedAt,omitempty"`
	CompletedAt        *time.Time      `json:"completedAt,omitempty"`
	Polls              int             `json:"polls,omitempty"`
	FailureCode        string          `json:"failureCode,omitempty"`
	FailureDescription string          `json:"failureDescription,omitempty"`
	MessageID          string          `json:"messageId,omitempty"`
	OriginalBody       json.RawMessage `json:"originalBody,omitempty"`
	OriginalText       string          `json:"originalText,omitempty"`
	// Deleted, AlreadyDeleted, Kept and SourceSnapshotsDeleted report a
	// retention run (Pruned).
	Deleted                []PrunedPoint `json:"deleted,omitempty"`
	AlreadyDeleted         []PrunedPoint `json:"alreadyDeleted,omitempty"`
	Kept                   []PrunedPoint `json:"kept,omitempty"`
	SourceSnapshotsDeleted []string      `json:"sourceSnapshotsDeleted,omitempty"`
}

// Event is an outcome to publish. ID is deterministic, so a re-publish after
// a crash is dropped by duplicate detection and consumers can dedupe on it.
type Event struct {
	ID      string
	Outcome Outcome
	// Subject is the destination blob path (container/blob), or empty.
	Subject string
	Time    time.Time
	Data    EventData
}

// ReceivedEvent is an outcome event as a subscriber decodes it from the
// events topic: the CloudEvent attributes snapcopy sets and its data.
type ReceivedEvent struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
	Data    EventData `json:"data"`
}

// Outcome is the outcome the event's type names.
func (e ReceivedEvent) Outcome() Outcome { return OutcomeOf(e.Type) }

// OutcomeOf is the outcome an event type (or a message Subject) names, its
// last segment, whatever prefix the app settings chose.
func OutcomeOf(eventType string) Outcome {
	return Outcome(eventType[strings.LastIndex(eventType, ".")+1:])
}

// JobEvent builds an event for job with the job's fields filled in.
func JobEvent(job Job, outcome Outcome, now time.Time, data EventData) Event {
	data.JobKey = job.Key
	data.SourceBlobURL = job.SourceBlobURL
	data.SourceSnapshot = job.Snapshot
	data.DestinationBlobURL = job.DestinationBlobURL
	return Event{ID: EventID(job.Key, outcome), Outcome: outcome, Subject: blobPath(job.DestinationBlobURL), Time: now, Data: data}
}

// FailedEvent builds a Failed event.
func FailedEvent(job Job, code FailureCode, description string, now time.Time, data EventData) Event {
	data.FailureCode = string(code)
	data.FailureDescription = description
	return JobEvent(job, Failed, now, data)
}

func blobPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path
}
