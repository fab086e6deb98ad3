package copyjob

import (
	"crypto/sha256"
	"encoding/binary"
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
// iteration so that detection never eats the next poll. Detection keeps
// whichever message comes first under an id, so the ids of polls and
// deferrals, sent to queues others can send to, end in a tag an outsider
// cannot compute: a message sent first under a predictable id would have
// the genuine one dropped, and the job would end without an outcome. Event
// ids need no tag: only snapcopy may send to the events topic.

// PollMessageID is the id of the n-th poll of a job's copy. Its tag hashes
// the copy id, a GUID Storage returns to whoever starts the copy; no
// message an outsider can read carries it before the job's outcome event.
// A redelivered poll schedules the next under the same id, and an outsider
// cannot take it first.
func PollMessageID(jobKey, copyID string, n int) string {
	return jobKey + "/" + pollKind + "/" + strconv.Itoa(n) + "/" + idTag(pollKind, []byte(copyID))
}

// DeferMessageID is the id of the n-th deferral of a job's trigger. Its
// tag hashes the delivered trigger's MessageId and body: the producer's
// own for the first deferral, the previous deferral's after it. A
// redelivered trigger defers under the same id; another producer, who
// knows the job but not that MessageId, cannot take it first.
func DeferMessageID(jobKey string, n int, messageID string, body []byte) string {
	return jobKey + "/" + deferKind + "/" + strconv.Itoa(n) + "/" + idTag(deferKind, []byte(messageID), body)
}

const (
	pollKind  = "poll"
	deferKind = "defer"
	// tagLen is the length of an id's tag: 64 bits of a hash in hex.
	tagLen = 16
)

// idTag is a short hash of parts; kind keeps the tags of different id
// kinds apart, and each part is length-prefixed so that no two lists of
// parts hash alike.
func idTag(kind string, parts ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p))))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil)[:tagLen/2])
}

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
	// Tag is a poll's or a deferral's tag; empty for events.
	Tag string
	// Outcome is an event's outcome.
	Outcome Outcome
}

// ParseMessageID takes apart an id written by PollMessageID, DeferMessageID
// or EventID; any other id is KindForeign.
func ParseMessageID(id string) MessageID {
	parts := strings.Split(id, "/")
	if parts[0] == "" {
		return MessageID{}
	}
	if len(parts) == 2 {
		switch o := Outcome(parts[1]); o {
		case Completed, Failed, Superseded, Rejected, GapUnchecked, Pruned:
			return MessageID{Kind: KindEvent, JobKey: parts[0], Outcome: o}
		}
		return MessageID{}
	}
	if len(parts) != 4 {
		return MessageID{}
	}
	key, kind, n, tag := parts[0], parts[1], parts[2], parts[3]
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || strconv.Itoa(count) != n || !isTag(tag) {
		return MessageID{}
	}
	switch kind {
	case pollKind:
		return MessageID{Kind: KindPoll, JobKey: key, N: count, Tag: tag}
	case deferKind:
		return MessageID{Kind: KindDeferral, JobKey: key, N: count, Tag: tag}
	}
	return MessageID{}
}

func isTag(s string) bool {
	return len(s) == tagLen && strings.Trim(s, "0123456789abcdef") == ""
}
