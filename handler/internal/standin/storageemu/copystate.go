package storageemu

import (
	"net/http"
	"strconv"
	"time"
)

// Copy statuses as x-ms-copy-status reports them.
const (
	copyPending = "pending"
	copySuccess = "success"
	copyFailed  = "failed"
	copyAborted = "aborted"
)

// sourceRef identifies a copy source blob (not a snapshot of it).
type sourceRef struct{ account, container, blob string }

// copyState is a copy destination's latest copy attempt and, for Incremental
// Copy Blob, its binding to its source. Progress is not stored: it is a
// function of the clock, applied by settle whenever the destination is
// observed.
type copyState struct {
	// incremental marks an Incremental Copy Blob destination, bound to source
	// for good; Copy Blob destinations are ordinary blobs.
	incremental bool
	source      sourceRef
	// lastCopied is the source snapshot time of the last successful copy;
	// lastGeneration the source generation it belonged to. Zero before any.
	lastCopied     time.Time
	lastGeneration uint64

	id          string
	sourceURL   string // x-ms-copy-source as the client gave it
	snapshot    time.Time
	generation  uint64
	status      string
	description string
	started     time.Time
	completed   time.Time
	total       int64 // bytes this copy moves: changed (incremental) or stored pages
	copied      int64 // bytes moved by the last settle
	// reportedTotal is the total x-ms-copy-progress shows: the moved bytes
	// for an incremental copy, the source's length for Copy Blob (which
	// skips unwritten pages, so its progress is scaled to the length).
	reportedTotal int64
	destSnapshot  string
	target        pageSet // the source snapshot's pages, applied on success
	targetSize    int64
	rate          int64
	fault         *copyFaultPlan
}

// progressAt is how many bytes the copy has moved by now at its rate.
func (c *copyState) progressAt(now time.Time) int64 {
	elapsed := now.Sub(c.started)
	if elapsed <= 0 {
		return 0
	}
	moved := float64(c.rate) * elapsed.Seconds()
	if moved >= float64(c.total) {
		return c.total
	}
	return int64(moved)
}

// timeToMove is when the copy will have moved n bytes.
func (c *copyState) timeToMove(n int64) time.Time {
	return c.started.Add(time.Duration(float64(n) / float64(c.rate) * float64(time.Second)))
}

// progress is x-ms-copy-progress: "copied/total" in reported bytes.
func (c *copyState) progress() string {
	copied := c.copied
	switch {
	case c.copied >= c.total:
		copied = c.reportedTotal
	case c.reportedTotal != c.total:
		copied = int64(float64(c.copied) / float64(c.total) * float64(c.reportedTotal))
	}
	return strconv.FormatInt(copied, 10) + "/" + strconv.FormatInt(c.reportedTotal, 10)
}

// settle brings a destination's pending copy up to date with the clock: on
// completion the destination takes the source's pages and, for an
// incremental copy, gains a destination snapshot; a fault ends it as failed
// or holds it as stalled.
func (e *Emulator) settle(f *blobFamily, now time.Time) {
	if !f.base.copyPending() {
		return
	}
	c := f.base.copy
	c.copied = c.progressAt(now)
	if p := c.fault; p != nil {
		stop := min(p.atBytes, c.total)
		switch {
		case p.fails && c.copied >= stop:
			c.status, c.description, c.copied = copyFailed, p.description, stop
			c.completed, c.target = c.timeToMove(stop), nil
			f.base.endUnfinishedCopy()
			return
		case !p.fails:
			c.copied = min(c.copied, stop) // stalled: progress stops there
			return
		}
	}
	if c.copied < c.total {
		return
	}
	finished := c.timeToMove(c.total)
	b := f.base
	b.pages, b.ownsPages, b.size = c.target, false, c.targetSize
	b.lastModified, b.etag = finished, newETag()
	c.status, c.completed, c.target = copySuccess, finished, nil
	if !c.incremental {
		return
	}
	c.lastCopied, c.lastGeneration = c.snapshot, c.generation
	snap := b.takeSnapshot(nextSnapshotTime(finished, f.lastSnapshotTime()))
	c.destSnapshot = snap.snapshot
	snap.copy.destSnapshot = snap.snapshot
	f.snapshots = append(f.snapshots, snap)
}

// endUnfinishedCopy leaves what an aborted or failed copy leaves: an
// incremental-copy destination keeps its last successful copy; a Copy Blob
// destination is left with zero length and its metadata, as Abort Copy Blob
// documents.
func (b *pageBlob) endUnfinishedCopy() {
	if b.isIncrementalCopy() {
		return
	}
	b.size, b.pages, b.ownsPages = 0, pageSet{}, true
}

// writeCopyHeaders sets the x-ms-copy-* headers of a copy destination.
func writeCopyHeaders(h http.Header, c *copyState) {
	if c.incremental {
		h.Set("x-ms-incremental-copy", "true")
	}
	if c.id == "" {
		return
	}
	h.Set("x-ms-copy-id", c.id)
	h.Set("x-ms-copy-source", c.sourceURL)
	h.Set("x-ms-copy-status", c.status)
	h.Set("x-ms-copy-progress", c.progress())
	if c.status != copyPending {
		h.Set("x-ms-copy-completion-time", httpTime(c.completed))
	}
	if c.description != "" {
		h.Set("x-ms-copy-status-description", c.description)
	}
	if c.incremental && c.status == copySuccess {
		h.Set("x-ms-copy-destination-snapshot", c.destSnapshot)
	}
}
