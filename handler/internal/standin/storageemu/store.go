package storageemu

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"time"
)

// account is one storage account's state.
type account struct {
	name       string
	key        []byte
	containers map[string]*blobContainer
}

// Container public-access levels (x-ms-blob-public-access).
const (
	accessPrivate   = ""
	accessBlob      = "blob"
	accessContainer = "container"
)

type blobContainer struct {
	name         string
	created      time.Time
	etag         string
	publicAccess string
	metadata     map[string]string
	blobs        map[string]*blobFamily
}

// blobFamily is a base blob and its snapshots, which share one name.
type blobFamily struct {
	base      *pageBlob
	snapshots []*pageBlob // oldest first; snapshot times strictly increase
}

func (f *blobFamily) snapshot(ts string) *pageBlob {
	for _, s := range f.snapshots {
		if s.snapshot == ts {
			return s
		}
	}
	return nil
}

func (f *blobFamily) removeSnapshot(ts string) {
	f.snapshots = slices.DeleteFunc(f.snapshots, func(s *pageBlob) bool { return s.snapshot == ts })
}

// lastSnapshotTime is the newest snapshot time, zero without snapshots.
func (f *blobFamily) lastSnapshotTime() time.Time {
	if len(f.snapshots) == 0 {
		return time.Time{}
	}
	return f.snapshots[len(f.snapshots)-1].snapshotTime
}

// Blob types as x-ms-blob-type names them.
const (
	typePageBlob  = "PageBlob"
	typeBlockBlob = "BlockBlob"
)

// pageBlob is a base blob or a snapshot. Block blobs exist only so that a
// destination or source of the wrong type can be represented; their bytes are
// kept in pages too.
type pageBlob struct {
	blobType     string
	size         int64
	pages        pageSet
	ownsPages    bool // false while pages are shared with a snapshot or copy
	created      time.Time
	lastModified time.Time
	etag         string
	content      contentProperties
	metadata     map[string]string
	// sequenceNumber is the page blob's x-ms-blob-sequence-number.
	sequenceNumber int64
	// generation identifies one creation of the base blob: re-creating it
	// (Put Blob) takes a new generation, and snapshots keep the one they saw.
	generation uint64
	// snapshot is the snapshot time as the service prints it; "" on a base blob.
	snapshot     string
	snapshotTime time.Time
	// copy is the state of the last copy into this blob (Copy Blob or
	// Incremental Copy Blob), nil when it never was a copy destination.
	copy *copyState
}

func (b *pageBlob) isIncrementalCopy() bool { return b.copy != nil && b.copy.incremental }

// copyPending reports whether a copy into the blob is still running.
func (b *pageBlob) copyPending() bool { return b.copy != nil && b.copy.status == copyPending }

// writablePages returns pages the blob may modify, cloning shared ones first.
func (b *pageBlob) writablePages() pageSet {
	if !b.ownsPages {
		b.pages = b.pages.clone()
		b.ownsPages = true
	}
	return b.pages
}

// takeSnapshot returns a read-only snapshot sharing this blob's pages.
func (b *pageBlob) takeSnapshot(ts time.Time) *pageBlob {
	s := *b
	s.ownsPages = false
	b.ownsPages = false
	s.snapshot = formatSnapshot(ts)
	s.snapshotTime = ts
	s.metadata = maps.Clone(b.metadata)
	if b.copy != nil {
		c := *b.copy
		s.copy = &c
	}
	return &s
}

// snapshotLayout is the service's snapshot time format: 7 fractional digits.
const snapshotLayout = "2006-01-02T15:04:05.0000000Z"

func formatSnapshot(t time.Time) string { return t.UTC().Format(snapshotLayout) }

func parseSnapshot(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}

// nextSnapshotTime is now at the service's 100 ns resolution, moved past after
// when needed so that a blob's snapshot times strictly increase.
func nextSnapshotTime(now, after time.Time) time.Time {
	t := now.UTC().Truncate(100 * time.Nanosecond)
	if !t.After(after) {
		t = after.Add(100 * time.Nanosecond)
	}
	return t
}

func newAccount(a Account) *account {
	key, _ := base64.StdEncoding.DecodeString(a.Key) // Validate checked it
	return &account{name: a.Name, key: key, containers: map[string]*blobContainer{}}
}

// validContainerName applies the service's naming rule (its length, 3-63,
// is checked apart): lowercase letters, digits and single hyphens, starting
// and ending alphanumeric.
func validContainerName(name string) bool {
	if strings.Contains(name, "--") {
		return false
	}
	for i, c := range name {
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && (c != '-' || i == 0 || i == len(name)-1) {
			return false
		}
	}
	return true
}
