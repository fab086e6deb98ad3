package ops

import (
	"sort"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// chain is one destination chain at a glance; it is also the -json output.
type chain struct {
	Destination string `json:"destination"`
	Exists      bool   `json:"exists"`
	// Incremental is false for a blob snapcopy will refuse to touch.
	Incremental bool `json:"incrementalCopy"`
	// Source is the base blob the chain copies from, SAS removed.
	Source string `json:"source,omitempty"`
	// LastCopiedSnapshot is the newest source snapshot that is a restore
	// point at the destination.
	LastCopiedSnapshot string `json:"lastCopiedSnapshot,omitempty"`
	// Copy is the latest copy attempt, if any.
	Copy *copyAttempt `json:"copy,omitempty"`
	// RestorePoints are the destination snapshots, oldest first.
	RestorePoints []restorePoint `json:"restorePoints"`
}

// copyAttempt is the destination's latest copy (x-ms-copy-*).
type copyAttempt struct {
	ID             string     `json:"id"`
	Status         string     `json:"status"`
	SourceSnapshot string     `json:"sourceSnapshot,omitempty"`
	Description    string     `json:"description,omitempty"`
	CompletedAt    *time.Time `json:"completedAt,omitempty"`
	BytesCopied    int64      `json:"bytesCopied"`
	BytesTotal     int64      `json:"bytesTotal"`
	// Percent is BytesCopied/BytesTotal; 100 for an empty copy.
	Percent float64 `json:"percent"`
	// ETA is set for a pending copy that moved between two readings;
	// otherwise ETAUnknown says why there is none.
	ETA        *etaView `json:"eta,omitempty"`
	ETAUnknown string   `json:"etaUnknown,omitempty"`
}

// etaView is an eta as printed.
type etaView struct {
	RemainingSeconds float64   `json:"remainingSeconds"`
	At               time.Time `json:"at"`
	BytesPerSecond   float64   `json:"bytesPerSecond"`
}

// restorePoint is one destination snapshot and the source snapshot it holds.
type restorePoint struct {
	DestinationSnapshot string `json:"destinationSnapshot"`
	SourceSnapshot      string `json:"sourceSnapshot"`
}

// newChain describes dest from its properties and snapshot history.
func newChain(destURL string, d copyjob.Destination, h copyjob.History) chain {
	c := chain{Destination: destURL, Exists: d.Exists, Incremental: d.Incremental, RestorePoints: restorePoints(h)}
	if d.CopySource != "" {
		c.Source = redact.URL(d.CopySource)
	}
	last := time.Time{}
	for _, p := range h {
		if p.SourceSnapshot.After(last) {
			last = p.SourceSnapshot
		}
	}
	// The restore point of a copy that just succeeded may be missing from a
	// listing taken a moment earlier.
	if d.CopyStatus == copyjob.StatusSuccess && d.CopySourceSnapshot.After(last) {
		last = d.CopySourceSnapshot
	}
	if !last.IsZero() {
		c.LastCopiedSnapshot = copyjob.FormatSnapshot(last)
	}
	if d.CopyID != "" {
		c.Copy = newCopyAttempt(d)
	}
	return c
}

func newCopyAttempt(d copyjob.Destination) *copyAttempt {
	a := &copyAttempt{ID: d.CopyID, Status: string(d.CopyStatus), Description: redact.Text(d.StatusDescription),
		BytesCopied: d.Progress.Bytes, BytesTotal: d.Progress.Total, Percent: percent(d.Progress)}
	if !d.CopySourceSnapshot.IsZero() {
		a.SourceSnapshot = copyjob.FormatSnapshot(d.CopySourceSnapshot)
	}
	if !d.CompletedAt.IsZero() {
		at := d.CompletedAt.UTC()
		a.CompletedAt = &at
	}
	return a
}

func percent(p copyjob.Progress) float64 {
	if p.Total == 0 {
		return 100
	}
	return 100 * float64(p.Bytes) / float64(p.Total)
}

// setETA records an estimate, or why there is none.
func (a *copyAttempt) setETA(e eta, err error) {
	if err != nil {
		a.ETAUnknown = err.Error()
		return
	}
	a.ETA = &etaView{RemainingSeconds: e.Remaining.Seconds(), At: e.At.UTC(), BytesPerSecond: e.BytesPerSecond}
}

// restorePoints lists h oldest first. Destination snapshot times are
// normalized to the service's fixed layout so that they sort as strings.
func restorePoints(h copyjob.History) []restorePoint {
	points := make([]restorePoint, 0, len(h))
	for _, c := range h {
		dest := c.DestinationSnapshot
		if t, err := copyjob.ParseSnapshot(dest); err == nil {
			dest = copyjob.FormatSnapshot(t)
		}
		points = append(points, restorePoint{DestinationSnapshot: dest, SourceSnapshot: copyjob.FormatSnapshot(c.SourceSnapshot)})
	}
	sort.Slice(points, func(i, j int) bool {
		if points[i].DestinationSnapshot != points[j].DestinationSnapshot {
			return points[i].DestinationSnapshot < points[j].DestinationSnapshot
		}
		return points[i].SourceSnapshot < points[j].SourceSnapshot
	})
	return points
}
