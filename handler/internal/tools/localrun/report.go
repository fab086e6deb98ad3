package localrun

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// JobResult is one snapshot's journey, as the summary shows it.
type JobResult struct {
	Blob                string
	Generation          int
	SourceSnapshot      string
	Outcome             string
	DestinationSnapshot string
	BytesWritten        int64
	// BytesCopied, Polls and Duration are nil when the outcome event did
	// not carry them (a Completed published again from a redelivered
	// trigger knows no polls or start time): shown as unknown, never as 0.
	BytesCopied *int64
	Polls       *int
	Duration    *time.Duration
	Verified    bool
	// Pruned: retention deleted the restore point, as the policy says.
	Pruned bool
	Detail string
}

// RestoreResult is the demo's last step: the newest restore point of a
// disk restored into a new blob and compared with its source snapshot.
type RestoreResult struct {
	Blob, Target, SourceSnapshot string
	Verified                     bool
	Detail                       string
}

// Summary is the result of a local run.
type Summary struct {
	Jobs    []JobResult
	Elapsed time.Duration
	// Invocations, Deferrals and DeadLettered count what the host saw.
	Invocations, Deferrals, DeadLettered int
	// Restores are the newest restore points restored at the end.
	Restores []RestoreResult
}

// OK reports whether every snapshot was copied and verified.
func (s Summary) OK() bool {
	if len(s.Jobs) == 0 {
		return false
	}
	for _, j := range s.Jobs {
		if !j.Verified {
			return false
		}
	}
	if len(s.Restores) == 0 {
		return false
	}
	for _, r := range s.Restores {
		if !r.Verified {
			return false
		}
	}
	return s.DeadLettered == 0
}

// Print writes the summary table.
func (s Summary) Print(w io.Writer) {
	jobs := append([]JobResult(nil), s.Jobs...)
	sort.Slice(jobs, func(i, k int) bool {
		if jobs[i].Blob != jobs[k].Blob {
			return jobs[i].Blob < jobs[k].Blob
		}
		return jobs[i].Generation < jobs[k].Generation
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BLOB\tGEN\tSOURCE SNAPSHOT\tWRITTEN\tCOPIED\tPOLLS\tDURATION\tDESTINATION SNAPSHOT\tVERIFIED")
	for _, j := range jobs {
		verified := "yes"
		switch {
		case !j.Verified:
			verified = "NO: " + j.Detail
		case j.Pruned:
			verified = "pruned (policy)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Blob, j.Generation, j.SourceSnapshot, mib(j.BytesWritten), known(j.BytesCopied, mib),
			known(j.Polls, strconv.Itoa), known(j.Duration, roundDuration), orDash(j.DestinationSnapshot), verified)
	}
	_ = tw.Flush()
	for _, r := range s.Restores {
		if r.Verified {
			fmt.Fprintf(w, "\n%s: newest restore point restored into %s, equal byte for byte to source snapshot %s: restore verified\n", r.Blob, r.Target, r.SourceSnapshot)
		} else {
			fmt.Fprintf(w, "\n%s: RESTORE FAILED: %s\n", r.Blob, r.Detail)
		}
	}
	status := "every restore point left equals its source snapshot"
	if !s.OK() {
		status = "VERIFICATION FAILED"
	}
	fmt.Fprintf(w, "\n%d snapshots, %d invocations, %d deferred triggers, %d dead-lettered, %s: %s\n",
		len(s.Jobs), s.Invocations, s.Deferrals, s.DeadLettered, s.Elapsed.Round(time.Millisecond), status)
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// unknown stands for a figure nobody reported.
const unknown = "—"

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return unknown
	}
	return s
}

// known formats *v, or shows unknown when v is nil.
func known[T any](v *T, format func(T) string) string {
	if v == nil {
		return unknown
	}
	return format(*v)
}

func roundDuration(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
