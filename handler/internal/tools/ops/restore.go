package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// Restore defaults: polls far enough apart to cost nothing, often enough
// for a live progress bar; a deadline as long as a copy's.
const (
	defaultRestorePoll    = 2 * time.Second
	defaultRestoreTimeout = 24 * time.Hour
	// abortTimeout bounds aborting a copy after an interrupt.
	abortTimeout = 30 * time.Second
)

// Restore failures a script may want to tell apart.
var (
	ErrNoRestorePoint = errors.New("no such restore point")
	ErrTargetExists   = errors.New("the target blob exists (give -overwrite to replace it)")
	ErrCopyFailed     = errors.New("the restore copy did not succeed")
	ErrVerifyMismatch = errors.New("the restored blob differs from the restore point")
)

// RunRestore is `handler restore`: a server-side Copy Blob from the
// destination snapshot that holds a restore point into a new, ordinary
// page blob, followed to its end, optionally verified.
func RunRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return restoreCommand{realSurroundings()}.run(ctx, args, stdout, stderr)
}

// restoreCommand is `restore` in its surroundings; sleep waits between two
// readings of the copy.
type restoreCommand struct{ storageCommand }

// restoreFlags are the parsed command line.
type restoreFlags struct {
	destination, target copyjob.BlobRef
	// at is the source snapshot time of the restore point; zero with latest.
	at                time.Time
	latest            bool
	overwrite, verify bool
	json              bool
	storageConnection string
	poll, timeout     time.Duration
}

func (c restoreCommand) parse(args []string, stdout, stderr io.Writer) (restoreFlags, error) {
	var f restoreFlags
	var at, to string
	fs := cli.NewFlagSet("restore", "<destination blob URL> (-at <source snapshot time> | -latest) -to <new page blob URL> [flags]",
		"Copies a restore point (a destination snapshot) into a new, ordinary page blob with Copy Blob, follows the copy to its end and, with -verify, compares the result with the restore point.",
		"Storage: -connection (Shared Key, e.g. the emulator's; the restore point and the new blob in that account), else $"+config.SettingStorageConnectionString+", else Azure credentials (az login, a managed identity), which need Storage Blob Delegator on the destination account, read on its container and write where the new blob goes.")
	fs.StringVar(&at, "at", "", "restore the restore point of this source snapshot time, e.g. 2026-11-24T10:00:00.1234567Z")
	fs.BoolVar(&f.latest, "latest", false, "restore the newest restore point")
	fs.StringVar(&to, "to", "", "the page blob to create (base blob URL, no query)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace the -to blob if it exists")
	fs.BoolVar(&f.verify, "verify", false, "afterwards, compare the restored blob with the restore point: page ranges and bytes")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON instead of text (no progress bar)")
	fs.DurationVar(&f.poll, "poll", defaultRestorePoll, "time between two readings of the copy")
	fs.DurationVar(&f.timeout, "timeout", defaultRestoreTimeout, "abort the copy if it is still pending after this")
	destination, err := c.parseDestination(fs, args, &f.storageConnection, stdout, stderr)
	if err != nil {
		return f, err
	}
	switch {
	case to == "":
		return f, cli.Refuse(fs, stderr, errors.New("give -to, the new blob to restore into"))
	case (at == "") == !f.latest:
		return f, cli.Refuse(fs, stderr, errors.New("give either -at <source snapshot time> or -latest"))
	case f.poll <= 0 || f.timeout <= 0:
		return f, cli.Refuse(fs, stderr, fmt.Errorf("-poll %s and -timeout %s must be positive", f.poll, f.timeout))
	}
	if at != "" {
		if f.at, err = copyjob.ParseSnapshot(at); err != nil {
			return f, cli.Refuse(fs, stderr, fmt.Errorf("-at: %w", err))
		}
	}
	if f.destination, err = baseBlob("destination", destination); err != nil {
		return f, cli.Refuse(fs, stderr, err)
	}
	if f.target, err = baseBlob("-to", to); err != nil {
		return f, cli.Refuse(fs, stderr, err)
	}
	if copyjob.SameBlob(f.destination.URL, f.target.URL) {
		return f, cli.Refuse(fs, stderr, errors.New("-to names the destination blob itself; restore into a new blob"))
	}
	return f, nil
}

// baseBlob parses a base blob URL that must carry no query (no SAS on the
// command line: credentials come from -connection or Azure).
func baseBlob(what, raw string) (copyjob.BlobRef, error) {
	ref, query, err := copyjob.ParseBlobURL(raw)
	if err != nil {
		return copyjob.BlobRef{}, fmt.Errorf("%s: %w", what, err)
	}
	if len(query) > 0 {
		return copyjob.BlobRef{}, fmt.Errorf("%s: give the base blob URL without a query; authenticate with -connection or Azure credentials", what)
	}
	return ref, nil
}

func (c restoreCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := c.parse(args, stdout, stderr)
	if err != nil {
		return scrub(err)
	}
	out := redactingWriter{stdout}
	res, err := c.restore(ctx, f, out)
	if err != nil {
		return scrub(explainStorageError(err, "restore into "+f.target.URL, "Storage Blob Delegator on the destination account, read on its container and write where the new blob goes", "check the destination and -to URLs"))
	}
	if f.json {
		return writeJSON(out, res)
	}
	res.writeText(out)
	return nil
}

// restoreResult is what a restore did; it is also the -json output.
type restoreResult struct {
	Destination  string        `json:"destination"`
	RestorePoint restorePoint  `json:"restorePoint"`
	Target       string        `json:"target"`
	CopyID       string        `json:"copyId"`
	Status       string        `json:"status"`
	Bytes        int64         `json:"bytes"`
	Seconds      float64       `json:"seconds"`
	Verified     *verification `json:"verified,omitempty"`
}

// restore finds the restore point, copies it into the target, follows the
// copy to its end and verifies it when asked.
func (c restoreCommand) restore(ctx context.Context, f restoreFlags, out io.Writer) (restoreResult, error) {
	auth, store, err := c.open(f.storageConnection, f.destination, f.target)
	if err != nil {
		return restoreResult{}, err
	}
	point, err := findRestorePoint(ctx, store, f)
	if err != nil {
		return restoreResult{}, err
	}
	res := restoreResult{Destination: f.destination.URL, RestorePoint: point, Target: f.target.URL}
	target, err := store.Destination(ctx, f.target)
	if err != nil {
		return res, err
	}
	if target.Exists && !f.overwrite {
		return res, fmt.Errorf("%w: %s", ErrTargetExists, f.target.URL)
	}
	// The SAS must outlive the copy: the service reads the source while
	// the copy runs.
	sas, err := store.SnapshotSAS(ctx, f.destination, point.DestinationSnapshot, f.timeout+time.Hour)
	if err != nil {
		return res, err
	}
	started := c.clock.Now()
	source := f.destination.URL + "?snapshot=" + point.DestinationSnapshot + "&" + sas.Encode()
	res.CopyID, err = store.StartBlobCopy(ctx, f.target, source, f.overwrite)
	if errors.Is(err, blobstore.ErrBlobExists) {
		return res, fmt.Errorf("%w: %s", ErrTargetExists, f.target.URL)
	}
	if err != nil {
		return res, err
	}
	final, err := c.follow(ctx, store, f, res.CopyID, out)
	res.Status, res.Bytes, res.Seconds = string(final.CopyStatus), final.Progress.Bytes, c.clock.Now().Sub(started).Seconds()
	if err != nil {
		return res, err
	}
	if f.verify {
		v, err := auth.verify(ctx, f.destination, point.DestinationSnapshot, f.target)
		if err != nil {
			return res, err
		}
		res.Verified = &v
	}
	return res, nil
}

// findRestorePoint picks the restore point from the destination's
// snapshot list.
func findRestorePoint(ctx context.Context, store *blobstore.Store, f restoreFlags) (restorePoint, error) {
	history, err := store.History(ctx, f.destination)
	if err != nil {
		return restorePoint{}, err
	}
	var c copyjob.CopiedSnapshot
	found := false
	if f.latest {
		c, found = history.Newest()
	} else {
		for _, h := range history {
			if h.SourceSnapshot.Equal(f.at) {
				c, found = h, true
			}
		}
	}
	if !found {
		what := "any restore point"
		if !f.latest {
			what = "a restore point of source snapshot " + copyjob.FormatSnapshot(f.at)
		}
		return restorePoint{}, fmt.Errorf("%w: %s has no %s (%d restore points; `handler status` lists them)", ErrNoRestorePoint, f.destination.URL, what, len(history))
	}
	points := restorePoints(copyjob.History{c})
	return points[0], nil
}

// follow polls the target until the copy ends, drawing a progress bar with
// an ETA; at the deadline or on an interrupt it aborts the copy.
func (c restoreCommand) follow(ctx context.Context, store *blobstore.Store, f restoreFlags, copyID string, out io.Writer) (copyjob.Destination, error) {
	deadline := c.clock.Now().Add(f.timeout)
	var last reading
	for {
		d, err := store.Destination(ctx, f.target)
		if err != nil {
			return d, err
		}
		if d.CopyID != copyID {
			return d, fmt.Errorf("%w: another copy (%s) replaced this one on %s", ErrCopyFailed, d.CopyID, f.target.URL)
		}
		now := reading{At: c.clock.Now(), CopyID: d.CopyID, Progress: d.Progress}
		if !f.json {
			drawProgress(out, d, last, now)
		}
		switch d.CopyStatus {
		case copyjob.StatusSuccess:
			return d, nil
		case copyjob.StatusPending:
		default:
			return d, fmt.Errorf("%w: copy %s is %s: %s", ErrCopyFailed, copyID, d.CopyStatus, d.StatusDescription)
		}
		last = now
		if !now.At.Before(deadline) {
			return d, c.abort(store, f, copyID, fmt.Sprintf("still pending after -timeout %s", f.timeout))
		}
		if err := c.sleep(ctx, min(f.poll, deadline.Sub(now.At))); err != nil {
			return d, c.abort(store, f, copyID, "interrupted")
		}
	}
}

// abort stops the copy, so no half-restored blob looks finished.
func (c restoreCommand) abort(store *blobstore.Store, f restoreFlags, copyID, why string) error {
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	if err := store.AbortCopy(ctx, f.target, copyID); err != nil {
		return fmt.Errorf("%w: %s, and aborting the copy failed: %w", ErrCopyFailed, why, err)
	}
	return fmt.Errorf("%w: %s; the copy was aborted and %s holds no restored data", ErrCopyFailed, why, f.target.URL)
}

// drawProgress redraws one progress line (carriage return, no newline
// until the copy ends).
func drawProgress(w io.Writer, d copyjob.Destination, last, now reading) {
	percent := percent(d.Progress)
	line := fmt.Sprintf("restoring %s %5.1f%%  %s / %s", progressBar(percent, barWidth), percent, byteSize(d.Progress.Bytes), byteSize(d.Progress.Total))
	if d.CopyStatus == copyjob.StatusPending {
		if e, err := estimateETA(last, now); err == nil {
			line += fmt.Sprintf("  ETA %s", e.Remaining.Round(time.Second))
		}
		fmt.Fprintf(w, "\r%-80s", line)
		return
	}
	fmt.Fprintf(w, "\r%-80s\n", line)
}

func (r restoreResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "restored      %s\n", r.Target)
	fmt.Fprintf(w, "from          %s?snapshot=%s\n", r.Destination, r.RestorePoint.DestinationSnapshot)
	fmt.Fprintf(w, "restore point source snapshot %s\n", r.RestorePoint.SourceSnapshot)
	fmt.Fprintf(w, "copy          %s  id %s  %s in %s\n", r.Status, r.CopyID, byteSize(r.Bytes), (time.Duration(r.Seconds * float64(time.Second))).Round(time.Second))
	if v := r.Verified; v != nil {
		fmt.Fprintf(w, "verified      %d page ranges, %s: identical to the restore point\n", v.PageRanges, byteSize(v.Bytes))
		if !v.RangesIdentical {
			fmt.Fprintf(w, "note          the bytes are identical, but the restored blob stores them in %d page ranges, the restore point in %d (pages of zeros written in one and not the other)\n", v.RestoredPageRanges, v.PageRanges)
		}
	}
}
