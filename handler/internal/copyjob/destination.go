package copyjob

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CopyStatus is x-ms-copy-status.
type CopyStatus string

// Copy states reported by the service.
const (
	StatusNone    CopyStatus = ""
	StatusPending CopyStatus = "pending"
	StatusSuccess CopyStatus = "success"
	StatusFailed  CopyStatus = "failed"
	StatusAborted CopyStatus = "aborted"
)

// Destination is what Get Blob Properties says about a destination blob.
type Destination struct {
	// Exists is false when the blob is absent (404).
	Exists bool
	// Incremental is x-ms-incremental-copy.
	Incremental bool
	// CopySource is the base URL of x-ms-copy-source (query removed);
	// CopySourceSnapshot is its snapshot parameter.
	CopySource         string
	CopySourceSnapshot time.Time
	// CopyStatus, CopyID and StatusDescription describe the last copy.
	CopyStatus        CopyStatus
	CopyID            string
	StatusDescription string
	// Progress is x-ms-copy-progress, if present.
	Progress Progress
	// DestinationSnapshot is x-ms-copy-destination-snapshot: the snapshot
	// the last successful copy created.
	DestinationSnapshot string
	// CompletedAt is x-ms-copy-completion-time.
	CompletedAt time.Time
}

// Progress is a parsed x-ms-copy-progress ("bytes/total").
type Progress struct {
	Known        bool
	Bytes, Total int64
}

// ParseProgress parses x-ms-copy-progress.
func ParseProgress(s string) (Progress, error) {
	b, t, ok := strings.Cut(s, "/")
	bytes, err1 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	total, err2 := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if !ok || err1 != nil || err2 != nil || bytes < 0 || total < 0 {
		return Progress{}, fmt.Errorf("copy progress %q is not bytes/total", s)
	}
	return Progress{Known: true, Bytes: bytes, Total: total}, nil
}

// CopiedSnapshot is one destination snapshot and the source snapshot it was
// copied from, as List Blobs (include=snapshots,copy) reports it.
type CopiedSnapshot struct {
	// SourceBlobURL is the base URL of the snapshot's x-ms-copy-source
	// (query removed) and SourceSnapshot its snapshot parameter.
	SourceBlobURL       string
	SourceSnapshot      time.Time
	DestinationSnapshot string
	// CopyID and Progress are the copy properties listed with the
	// snapshot: the copy that created it and how many bytes it moved.
	CopyID   string
	Progress Progress
}

// History is the destination's snapshots, used when the base blob's
// properties no longer describe an older copy.
type History []CopiedSnapshot

// Find returns the destination snapshot copied from snapshot s of the
// source base blob at sourceURL.
func (h History) Find(sourceURL string, s time.Time) (CopiedSnapshot, bool) {
	for _, c := range h {
		if c.SourceSnapshot.Equal(s) && SameBlob(c.SourceBlobURL, sourceURL) {
			return c, true
		}
	}
	return CopiedSnapshot{}, false
}

// HasNewer reports whether a destination snapshot was copied from a
// snapshot of the source base blob at sourceURL that is newer than s.
func (h History) HasNewer(sourceURL string, s time.Time) bool {
	for _, c := range h {
		if c.SourceSnapshot.After(s) && SameBlob(c.SourceBlobURL, sourceURL) {
			return true
		}
	}
	return false
}
