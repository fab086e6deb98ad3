package ops

import (
	"context"
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
	// BytesChangedTotal is the sum of the restore points' BytesChanged:
	// what the chain's snapshots hold beyond nothing, its footprint.
	BytesChangedTotal *int64 `json:"bytesChangedTotal,omitempty"`
	// CostUnknown says why the figures are missing, if they are.
	CostUnknown string `json:"costUnknown,omitempty"`
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
	// BytesChanged is what this restore point adds to the one before it
	// (page-range diff; all its page ranges for the oldest).
	BytesChanged *int64 `json:"bytesChanged,omitempty"`
}

// changeMeter measures page-range diffs between a blob's snapshots.
type changeMeter interface {
	ChangedBytes(ctx context.Context, blob copyjob.BlobRef, snapshot, previous string) (int64, error)
}

// measure fills in what each restore point costs, against the restore
// point before it as the chain stands now (after any pruning), and the
// chain's total. A failure leaves the figures out and says why.
func (c *chain) measure(ctx context.Context, m changeMeter, dest copyjob.BlobRef) {
	var total int64
	previous := ""
	for i := range c.RestorePoints {
		p := &c.RestorePoints[i]
		n, err := m.ChangedBytes(ctx, dest, p.DestinationSnapshot, previous)
		if err != nil {
			for j := range c.RestorePoints {
				c.RestorePoints[j].BytesChanged = nil
			}
			c.BytesChangedTotal = nil
			c.CostUnknown = redact.Text(err.Error())
			return
		}
		p.BytesChanged = &n
		total += n
		previous = p.DestinationSnapshot
	}
	if len(c.RestorePoints) > 0 {
		c.BytesChangedTotal = &total
	}
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
