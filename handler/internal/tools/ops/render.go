package ops

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// barWidth is the number of cells in the progress bar.
const barWidth = 30

// writeJSON writes v for machines.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeText writes c for people, one labelled line per fact.
func (c chain) writeText(w io.Writer) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("destination", "%s", c.Destination)
	switch {
	case !c.Exists:
		line("", "does not exist yet: the first SnapshotCreated starts a full copy")
		return
	case !c.Incremental:
		line("", "exists but is not an incremental copy: snapcopy refuses it (DestinationConflict)")
		return
	}
	line("source", "%s", orNone(c.Source))
	line("last copied", "%s", orNone(c.LastCopiedSnapshot))
	if a := c.Copy; a != nil {
		line("copy", "%s  source snapshot %s  id %s", a.Status, orNone(a.SourceSnapshot), a.ID)
		line("progress", "%s %5.1f%%  %s / %s%s", progressBar(a.Percent, barWidth), a.Percent, byteSize(a.BytesCopied), byteSize(a.BytesTotal), a.etaText())
		if a.CompletedAt != nil {
			line("completed", "%s", a.CompletedAt.Format(time.RFC3339))
		}
		if a.Description != "" {
			line("description", "%s", a.Description)
		}
	}
	fmt.Fprintf(w, "\nrestore points: %d", len(c.RestorePoints))
	switch {
	case c.BytesChangedTotal != nil:
		fmt.Fprintf(w, ", %s in total", byteSize(*c.BytesChangedTotal))
	case c.CostUnknown != "":
		fmt.Fprintf(w, " (cost unknown: %s)", c.CostUnknown)
	}
	fmt.Fprintln(w)
	if len(c.RestorePoints) > 0 {
		fmt.Fprintf(w, "  %-28s    %-28s  %s\n", "destination snapshot", "source snapshot", "changed")
	}
	for _, p := range c.RestorePoints {
		changed := "?"
		if p.BytesChanged != nil {
			changed = byteSize(*p.BytesChanged)
		}
		fmt.Fprintf(w, "  %-28s ←  %-28s  %s\n", p.DestinationSnapshot, p.SourceSnapshot, changed)
	}
}

func (a *copyAttempt) etaText() string {
	switch {
	case a.ETA != nil:
		remaining := time.Duration(a.ETA.RemainingSeconds * float64(time.Second)).Round(time.Second)
		return fmt.Sprintf("  ETA %s (%s, %s/s)", remaining, a.ETA.At.Format(time.RFC3339), byteSize(int64(a.ETA.BytesPerSecond)))
	case a.ETAUnknown != "":
		return "  ETA unknown: " + a.ETAUnknown
	default:
		return ""
	}
}

// progressBar draws percent (0–100) in width cells.
func progressBar(percent float64, width int) string {
	filled := max(0, min(width, int(percent/100*float64(width))))
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

// byteSize writes n in binary units with one decimal.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, prefix := float64(n)/unit, 0
	for value >= unit && prefix < 4 {
		value /= unit
		prefix++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTP"[prefix])
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
