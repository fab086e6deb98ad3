package copyjob

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Job is one copy of one source snapshot to one destination. It carries no
// secret, so it may appear in logs, events and poll messages.
type Job struct {
	// Key is a short stable hash of (destination, snapshot); every log line
	// and message of the job carries it.
	Key string `json:"key"`
	// SourceBlobURL is the source base blob, no query.
	SourceBlobURL string `json:"sourceBlobUrl"`
	// Snapshot is the source snapshot time in SnapshotLayout.
	Snapshot string `json:"snapshot"`
	// DestinationBlobURL is the incremental-copy destination, no query.
	DestinationBlobURL string `json:"destinationBlobUrl"`
}

// NewJob builds a Job and its key.
func NewJob(source, snapshot, destination string) Job {
	return Job{Key: JobKey(destination, snapshot), SourceBlobURL: source, Snapshot: snapshot, DestinationBlobURL: destination}
}

// JobKey is a short stable hash of the destination URL and source snapshot.
// 64 bits keep collisions negligible for any realistic number of jobs.
func JobKey(destination, snapshot string) string {
	sum := sha256.Sum256([]byte(destination + "\n" + snapshot))
	return hex.EncodeToString(sum[:8])
}

// Message ids are deterministic so that every send can be repeated after a
// crash and Service Bus duplicate detection drops the copy; they differ per
// iteration so that detection never eats the next poll.

// PollMessageID is the id of the n-th poll message of a job.
func PollMessageID(jobKey string, n int) string { return jobKey + "/poll/" + strconv.Itoa(n) }

// DeferMessageID is the id of the n-th deferral of a job's trigger.
func DeferMessageID(jobKey string, n int) string { return jobKey + "/defer/" + strconv.Itoa(n) }

// EventID is the id of a job's outcome event.
func EventID(jobKey string, outcome Outcome) string { return jobKey + "/" + string(outcome) }

// MessageKind says which of snapcopy's own messages an id names.
type MessageKind int

// Message kinds, one per id format above.
const (
	// KindForeign is an id snapcopy did not write: a producer's trigger.
	KindForeign MessageKind = iota
	KindPoll
	KindDeferral
	KindEvent
)

// MessageID is an id snapcopy wrote, taken apart.
type MessageID struct {
	Kind   MessageKind
	JobKey string
	// N is the poll attempt or the deferral count; 0 for events.
	N int
	// Outcome is an event's outcome.
	Outcome Outcome
}

// ParseMessageID takes apart an id written by PollMessageID, DeferMessageID
// or EventID; any other id is KindForeign.
func ParseMessageID(id string) MessageID {
	key, rest, _ := strings.Cut(id, "/")
	kind, n, numbered := strings.Cut(rest, "/")
	switch {
	case key == "":
		return MessageID{}
	case !numbered:
		switch o := Outcome(rest); o {
		case Completed, Failed, Superseded, Rejected, GapUnchecked:
			return MessageID{Kind: KindEvent, JobKey: key, Outcome: o}
		}
		return MessageID{}
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || strconv.Itoa(count) != n {
		return MessageID{}
	}
	switch kind {
	case "poll":
		return MessageID{Kind: KindPoll, JobKey: key, N: count}
	case "defer":
		return MessageID{Kind: KindDeferral, JobKey: key, N: count}
	}
	return MessageID{}
}
