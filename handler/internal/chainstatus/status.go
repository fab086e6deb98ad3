// Package chainstatus renders the state of one destination chain for
// `handler status`: what it copies from, what it has copied, and how the
// current copy is doing, with an ETA estimated from two progress readings.
package chainstatus

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// Status is the chain at a glance.
type Status struct {
	Destination        string            `json:"destination"`
	Exists             bool              `json:"exists"`
	Incremental        bool              `json:"incremental"`
	Source             string            `json:"source,omitempty"`
	LastCopiedSnapshot string            `json:"lastCopiedSnapshot,omitempty"`
	CopyStatus         string            `json:"copyStatus,omitempty"`
	CopyID             string            `json:"copyId,omitempty"`
	StatusDescription  string            `json:"statusDescription,omitempty"`
	BytesCopied        int64             `json:"bytesCopied,omitempty"`
	BytesTotal         int64             `json:"bytesTotal,omitempty"`
	ETA                string            `json:"eta,omitempty"`
	Snapshots          []SnapshotSummary `json:"destinationSnapshots"`
}

// SnapshotSummary is one destination snapshot.
type SnapshotSummary struct {
	DestinationSnapshot string `json:"destinationSnapshot"`
	SourceSnapshot      string `json:"sourceSnapshot"`
}

// Reading is one observation of a pending copy's progress.
type Reading struct {
	At       time.Time
	Progress copyjob.Progress
}

// EstimateRemaining extrapolates the rate between two readings of the same
// copy. It reports false when the rate is unknown (no progress between the
// readings, a restart, or a single reading).
func EstimateRemaining(first, second Reading) (time.Duration, bool) {
	a, b := first.Progress, second.Progress
	elapsed := second.At.Sub(first.At)
	if !a.Known || !b.Known || a.Total != b.Total || b.Bytes <= a.Bytes || elapsed <= 0 {
		return 0, false
	}
	rate := float64(b.Bytes-a.Bytes) / elapsed.Seconds()
	return time.Duration(float64(b.Total-b.Bytes) / rate * float64(time.Second)), true
}

// New builds a Status from the destination's properties and history. The
// source URL is redacted: x-ms-copy-source may carry a SAS.
func New(dest string, d copyjob.Destination, h copyjob.History) Status {
	s := Status{Destination: dest, Exists: d.Exists, Incremental: d.Incremental, CopyStatus: string(d.CopyStatus), CopyID: d.CopyID,
		StatusDescription: redact.Text(d.StatusDescription), BytesCopied: d.Progress.Bytes, BytesTotal: d.Progress.Total, Snapshots: []SnapshotSummary{}}
	if d.CopySource != "" {
		s.Source = redact.URL(d.CopySource)
	}
	if !d.CopySourceSnapshot.IsZero() {
		s.LastCopiedSnapshot = copyjob.FormatSnapshot(d.CopySourceSnapshot)
	}
	for _, c := range h {
		s.Snapshots = append(s.Snapshots, SnapshotSummary{DestinationSnapshot: c.DestinationSnapshot, SourceSnapshot: copyjob.FormatSnapshot(c.SourceSnapshot)})
	}
	sort.Slice(s.Snapshots, func(i, j int) bool { return s.Snapshots[i].DestinationSnapshot < s.Snapshots[j].DestinationSnapshot })
	return s
}

// WriteJSON writes s as indented JSON.
func (s Status) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText writes s for a person.
func (s Status) WriteText(w io.Writer) {
	fmt.Fprintf(w, "destination   %s\n", s.Destination)
	if !s.Exists {
		fmt.Fprintln(w, "              does not exist: the first copy will be full")
		return
	}
	if !s.Incremental {
		fmt.Fprintln(w, "              exists and is NOT an incremental copy: snapcopy will refuse it (DestinationConflict)")
		return
	}
	fmt.Fprintf(w, "source        %s\n", s.Source)
	fmt.Fprintf(w, "last copied   %s\n", s.LastCopiedSnapshot)
	fmt.Fprintf(w, "copy          %s %s\n", s.CopyStatus, s.CopyID)
	if s.BytesTotal > 0 {
		fmt.Fprintf(w, "progress      %s %5.1f%%  %s / %s", bar(s.BytesCopied, s.BytesTotal, 30), 100*float64(s.BytesCopied)/float64(s.BytesTotal), size(s.BytesCopied), size(s.BytesTotal))
		if s.ETA != "" {
			fmt.Fprintf(w, "  ETA %s", s.ETA)
		}
		fmt.Fprintln(w)
	}
	if s.StatusDescription != "" {
		fmt.Fprintf(w, "description   %s\n", s.StatusDescription)
	}
	fmt.Fprintf(w, "\n%d destination snapshots (restore points):\n", len(s.Snapshots))
	for _, snap := range s.Snapshots {
		fmt.Fprintf(w, "  %s  ← source %s\n", snap.DestinationSnapshot, snap.SourceSnapshot)
	}
}

func bar(done, total int64, width int) string {
	filled := int(float64(width) * float64(done) / float64(total))
	filled = max(0, min(width, filled))
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
