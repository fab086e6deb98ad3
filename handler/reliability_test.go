package main

// TestReliability is the fault-injection suite: hundreds of
// randomized copy jobs through the real handler, the host simulator (its
// listeners and the handler's senders are real azservicebus clients talking
// AMQP to busemu) and the storage emulator on a simulated clock, with storage faults, bus faults,
// process crashes at step boundaries, duplicate and shuffled deliveries and
// bad inputs, then checks that nothing was lost, nothing happened twice and
// nothing leaked. See reliability_harness_test.go for the fault model and
// reliability_workload_test.go for the workload.
//
//	go test -v -run Reliability ./handler/                  # a random seed, printed
//	SNAPCOPY_RELIABILITY_SEED=42 go test -run Reliability ./handler/   # replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"

	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

const relSeedEnv = "SNAPCOPY_RELIABILITY_SEED"

func relSeed(t *testing.T) uint64 {
	if v := os.Getenv(relSeedEnv); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not an unsigned integer", relSeedEnv, v)
		}
		return seed
	}
	return rand.Uint64() % 1_000_000_000
}

func TestReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("reliability suite: skipped in -short mode")
	}
	seed := relSeed(t)
	wallStart := time.Now()
	t.Logf("reliability seed %d (replay with %s=%d go test -run Reliability ./handler/)", seed, relSeedEnv, seed)

	h := newRelHarness(t, seed, defaultRelRates)
	w := newRelWorkload(seed)
	h.createDisks(w, 20+w.rng.IntN(5))

	// Generations per disk: 8-12, at least 200 jobs in all.
	gens := make([]int, len(w.disks))
	total := 0
	for i := range gens {
		gens[i] = 8 + w.rng.IntN(5)
		total += gens[i]
	}
	for i := 0; total < 200; i = (i + 1) % len(gens) {
		gens[i]++
		total++
	}
	// Wave 0 starts every chain with its first snapshot (a new chain starts
	// at the first snapshot it is asked for: README). Waves 1 and 2 write
	// the rest, and their triggers arrive in any order.
	waves := make([][]int, 3)
	for _, g := range gens {
		first := 1 + w.rng.IntN(g-2)
		waves[0] = append(waves[0], 1)
		waves[1] = append(waves[1], first)
		waves[2] = append(waves[2], g-1-first)
	}
	windows := []time.Duration{5 * time.Minute, 20 * time.Minute, 20 * time.Minute}
	for wave, counts := range waves {
		var snaps []*relSnap
		for i, d := range w.disks {
			for range counts[i] {
				snaps = append(snaps, h.generation(w, d))
			}
		}
		sends := h.triggers(w, snaps, windows[wave])
		sends = append(sends, h.badInputs(w, 8+w.rng.IntN(5), windows[wave])...)
		if wave == len(waves)-1 {
			sends = append(sends, h.hugeTwins(w)...)
		}
		w.rng.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })
		h.clearBusFaults()
		// Scripted faults on every storage operation the handler performs,
		// on top of the chaos and of the faults armed during the run.
		for _, op := range relHandlerOps {
			for k := range 3 {
				f := h.storageFault(op, []any{"wave", wave, op, k})
				h.emu.InjectFault(f)
				h.stats.StorageFaultsInjected[string(op)]++
			}
		}
		now := h.clock.Now()
		for _, s := range sends {
			h.produce(s.id, s.body, now.Add(s.delay))
		}
		h.run()
		h.emu.ClearFaults()
	}
	h.clearBusFaults()

	r := h.check(w)
	h.checkFaultsFired(r)
	r.wall = time.Since(wallStart)
	t.Logf("\n%s", h.table(w, r))
	t.Logf("%s", h.summary(w, r))
	for _, f := range r.failures {
		t.Errorf("seed %d: %s", seed, f)
	}
	t.Run("EscapedSigKeyScrubbed", func(t *testing.T) {
		if len(r.escapedLeaks) > 0 {
			t.Errorf("seed %d: a SAS whose key is JSON-escaped (\\u0073ig=) passes the scrubber: %d leak(s), e.g. %s",
				seed, len(r.escapedLeaks), r.escapedLeaks[0])
		}
	})
}

// relReport is what the checks found.
type relReport struct {
	jobs, destinations       int
	destSnapshots, verified  int
	eventsByType             map[string]int
	terminalEvents           int
	completedWithBytes       int
	rejected                 int
	deadLettered             int
	panics                   int
	leaks, escapedLeaks      []string
	republishes              int
	maxRepublishGap          time.Duration
	deferredTriggersWithSAS  int
	handlerSends             map[string]int
	handlerSendsFailed       int
	duplicateEventDeliveries int
	queuesLeft               int
	// Retention figures.
	keptAsPolicy, prunedByPolicy int
	supersededAfterPruning       int
	prunedEvents                 int
	sourceSnapshotsPruned        int
	deleteRequests, deletesGone  int
	failures                     []string
	wall                         time.Duration
}

func (r *relReport) failf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// relEvent is an outcome event as a subscriber sees it, and the message
// that carried it.
type relEvent struct {
	copyjob.ReceivedEvent
	msg busMessage
}

// relJob is a job the workload expects: one source snapshot to its destination.
type relJob struct {
	key, dest, snapshot string
	snap                *relSnap
}

func (h *relHarness) check(w *relWorkload) *relReport {
	r := &relReport{eventsByType: map[string]int{}, handlerSends: map[string]int{}}
	subscription := eventsSubscription

	// Expected jobs, by key.
	jobs := map[string]*relJob{}
	for _, d := range w.disks {
		dest, _, err := copyjob.ParseBlobURL(h.blobURL + "/backups/" + d.name)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, s := range d.snaps {
			st, _ := copyjob.ParseSnapshot(s.snapshot)
			snap := copyjob.FormatSnapshot(st)
			j := &relJob{key: copyjob.JobKey(dest.URL, snap), dest: dest.URL, snapshot: snap, snap: s}
			jobs[j.key] = j
		}
	}
	r.jobs, r.destinations = len(jobs), len(w.disks)

	// Dead letters and leftovers.
	for _, e := range []string{triggerQueue, pollQueue, retentionSubscription, subscription} {
		for _, m := range h.bus.deadLettered(e) {
			r.deadLettered++
			r.failf("dead-lettered on %s: message %s after %d deliveries (%s: %s); body %.200s", e, m.ID, m.DeliveryCount, m.DeadLetterReason, m.DeadLetterError, m.Body)
		}
		if n := h.bus.waiting(e); e != subscription && n > 0 {
			r.queuesLeft += n
			r.failf("%s still holds %d messages after the run", e, n)
		}
	}

	// Panics.
	logs := h.logs.String()
	if r.panics = strings.Count(logs, "panicked"); r.panics > 0 {
		i := strings.Index(logs, "panicked")
		r.failf("%d handler panic(s) logged, first: %s", r.panics, lineAround(logs, i))
	}

	// Events, after duplicate detection.
	var events []relEvent
	for _, m := range h.bus.messages(subscription) {
		var e relEvent
		if err := json.Unmarshal(m.Body, &e); err != nil {
			r.failf("event %s is not JSON: %v", m.ID, err)
			continue
		}
		e.msg = m
		if m.ID != e.ID || m.Subject != e.Type {
			r.failf("event %s: MessageId %q and Subject %q must equal the CloudEvent id and type %q", e.ID, m.ID, m.Subject, e.Type)
		}
		r.eventsByType[string(e.Outcome())]++
		events = append(events, e)
	}
	deliveriesByID := map[string]int{}
	for _, e := range events {
		deliveriesByID[e.ID]++
	}
	terminal := map[string][]relEvent{}
	rejectedByMsg := map[string][]relEvent{}
	for _, e := range events {
		switch e.Outcome() {
		case "Completed", "Failed", "Superseded":
			terminal[e.Data.JobKey] = append(terminal[e.Data.JobKey], e)
			r.terminalEvents++
			if jobs[e.Data.JobKey] == nil {
				r.failf("terminal event %s (%s) for a job nobody asked for: %s %s", e.ID, e.Type, e.Data.DestinationBlobURL, e.Data.SourceSnapshot)
			}
		case "Rejected":
			r.rejected++
			rejectedByMsg[e.Data.MessageID] = append(rejectedByMsg[e.Data.MessageID], e)
		case "Pruned":
			r.prunedEvents++
			if e.Data.FailureCode != "" {
				r.failf("Pruned %s: %s %s", e.ID, e.Data.FailureCode, e.Data.FailureDescription)
			}
		default:
			r.failf("unexpected event %s of type %s: %s", e.ID, e.Type, e.Data.FailureDescription)
		}
	}
	sentAt := map[string][]time.Time{}
	for _, s := range h.sent {
		if s.Entity == eventsTopic && s.OK {
			sentAt[s.ID] = append(sentAt[s.ID], s.At)
		}
	}
	for _, at := range sentAt {
		r.republishes += len(at) - 1
		r.maxRepublishGap = max(r.maxRepublishGap, at[len(at)-1].Sub(at[0]))
	}
	keys := slices.Sorted(mapsKeys(jobs))
	for _, k := range keys {
		j := jobs[k]
		evs := terminal[k]
		switch {
		case len(evs) == 0:
			r.failf("job %s (%s gen %d, snapshot %s): no terminal event; want exactly one Completed", k, j.snap.disk.name, j.snap.gen, j.snapshot)
		case len(evs) == 2 && h.supersededAfterPruning(j, evs):
			// Retention pruned the restore point (after publishing its
			// Completed), then a late trigger found no copy of it: README.
			r.supersededAfterPruning++
		case len(evs) > 1:
			r.duplicateEventDeliveries += len(evs) - 1
			var desc []string
			for _, e := range evs {
				desc = append(desc, fmt.Sprintf("%s (%s %s)", e.ID, e.Data.FailureCode, e.Data.FailureDescription))
			}
			r.failf("job %s (%s gen %d, snapshot %s): %d terminal events after duplicate detection, want exactly one: %s; published at %v",
				k, j.snap.disk.name, j.snap.gen, j.snapshot, len(evs), strings.Join(desc, "; "), sentAt[evs[0].ID])
		case len(evs) == 1 && evs[0].Outcome() != "Completed":
			e := evs[0]
			r.failf("job %s (%s gen %d, snapshot %s): %s %s %q, want Completed", k, j.snap.disk.name, j.snap.gen, j.snapshot, e.Outcome(), e.Data.FailureCode, e.Data.FailureDescription)
		}
		for _, e := range evs {
			if e.Data.SourceSnapshot != j.snapshot || e.Data.DestinationBlobURL != j.dest || e.ID != copyjob.EventID(k, e.Outcome()) {
				r.failf("event %s names %s %s, want job %s = %s %s", e.ID, e.Data.DestinationBlobURL, e.Data.SourceSnapshot, k, j.dest, j.snapshot)
			}
		}
	}
	// Rejected: one per bad message id, with the right code.
	for _, b := range w.bad {
		evs := rejectedByMsg[b.id]
		switch {
		case len(evs) != 1:
			r.failf("bad message %s (%s): %d Rejected events, want 1", b.id, b.kind, len(evs))
		case evs[0].Data.FailureCode != string(b.code):
			r.failf("bad message %s (%s): Rejected %s (%s), want %s", b.id, b.kind, evs[0].Data.FailureCode, evs[0].Data.FailureDescription, b.code)
		}
		delete(rejectedByMsg, b.id)
	}
	for id, evs := range rejectedByMsg {
		r.failf("message %s was Rejected (%s: %s) but is a good trigger", id, evs[0].Data.FailureCode, evs[0].Data.FailureDescription)
	}

	// Destinations: every source snapshot copied exactly once, in
	// ascending order, with the same bytes; what retention keeps.
	h.checkDestinations(w, jobs, terminal, r)
	h.checkDeletes(r)

	// Secrets.
	h.checkSecrets(w, logs, events, r)
	for _, s := range h.sent {
		r.handlerSends[s.Entity]++
		if !s.OK {
			r.handlerSendsFailed++
		}
	}
	return r
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// relDestSnap is a destination snapshot and the source snapshot it was copied from.
type relDestSnap struct {
	snapshot string
	source   time.Time
	raw      string
	// progress is the copy progress listed with the snapshot: what the
	// copy that created it moved.
	progress copyjob.Progress
}

func (h *relHarness) checkDestinations(w *relWorkload, jobs map[string]*relJob, terminal map[string][]relEvent, r *relReport) {
	ctx := context.Background()
	listed := map[string][]relDestSnap{}
	base := map[string]*container.BlobItem{}
	pager := h.container("backups").NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Snapshots: true, Copy: true}})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			h.t.Fatalf("seed %d: list destinations: %v", h.seed, err)
		}
		for _, item := range page.Segment.BlobItems {
			name := *item.Name
			if item.Snapshot == nil || *item.Snapshot == "" {
				base[name] = item
				continue
			}
			ds := relDestSnap{snapshot: *item.Snapshot}
			if item.Properties != nil && item.Properties.CopySource != nil {
				ds.raw = *item.Properties.CopySource
				if u, err := url.Parse(ds.raw); err == nil {
					ds.source, _ = copyjob.ParseSnapshot(u.Query().Get("snapshot"))
				}
			}
			if item.Properties != nil && item.Properties.CopyProgress != nil {
				ds.progress, _ = copyjob.ParseProgress(*item.Properties.CopyProgress)
			}
			listed[name] = append(listed[name], ds)
		}
	}
	for name := range base {
		if !slices.ContainsFunc(w.disks, func(d *relDisk) bool { return d.name == name }) {
			r.failf("destination %s exists but no good trigger named it", name)
		}
	}
	type pair struct {
		d    *relDisk
		s    *relSnap
		dest string
	}
	var pairs []pair
	for _, d := range w.disks {
		got := listed[d.name]
		r.destSnapshots += len(got)
		if b := base[d.name]; b == nil {
			r.failf("destination %s does not exist", d.name)
			continue
		} else if b.Properties.CopyStatus == nil || *b.Properties.CopyStatus != "success" {
			r.failf("destination %s: copy status %v, want success", d.name, deref(b.Properties.CopyStatus))
		}
		// Retention: the restore points are exactly what the policy keeps
		// of every source snapshot sent (each was copied: one Completed
		// per job, checked above), oldest first, each once.
		points := make([]copyjob.RestorePoint, len(d.snaps))
		bySource := map[time.Time]*relSnap{}
		for i, s := range d.snaps {
			st, _ := copyjob.ParseSnapshot(s.snapshot)
			points[i] = copyjob.RestorePoint{SourceSnapshot: st, DestinationSnapshot: s.snapshot}
			bySource[st] = s
		}
		plan := copyjob.PlanRetention(points, h.retention)
		r.prunedByPolicy += len(plan.Delete)
		kept := map[time.Time]bool{}
		for _, k := range plan.Keep {
			kept[k.SourceSnapshot] = true
		}
		ok := len(got) == len(kept)
		for i, g := range got {
			if i > 0 && !g.source.After(got[i-1].source) {
				ok = false
				r.failf("destination %s: snapshot %s copies source snapshot %s, not after the previous one's %s (order broken or copied twice)",
					d.name, g.snapshot, copyjob.FormatSnapshot(g.source), copyjob.FormatSnapshot(got[i-1].source))
			}
			switch s := bySource[g.source]; {
			case s == nil:
				ok = false
				r.failf("destination %s: holds a copy of source snapshot %s, which was never sent", d.name, copyjob.FormatSnapshot(g.source))
			case !kept[g.source]:
				ok = false
				r.failf("destination %s: restore point of %s (gen %d) survives, but the policy %+v drops it", d.name, s.snapshot, s.gen, h.retention)
			default:
				pairs = append(pairs, pair{d, s, g.snapshot})
				// The Completed event names this destination snapshot.
				key := copyjob.JobKey(h.blobURL+"/backups/"+d.name, copyjob.FormatSnapshot(g.source))
				for _, e := range terminal[key] {
					if e.Outcome() != "Completed" {
						continue
					}
					if e.Data.DestinationSnapshot != g.snapshot {
						r.failf("job %s: Completed names destination snapshot %s, but the copy of %s is %s", key, e.Data.DestinationSnapshot, s.snapshot, g.snapshot)
					}
					// Completed carries what the copy moved whenever the
					// destination's listing knows it.
					listed := got[i].progress
					switch {
					case !listed.Known:
					case e.Data.BytesCopied == nil:
						r.failf("job %s: Completed carries no bytesCopied, but the listing of destination snapshot %s says %d bytes", key, got[i].snapshot, listed.Bytes)
					case *e.Data.BytesCopied != listed.Bytes:
						r.failf("job %s: Completed says bytesCopied %d, but the listing of destination snapshot %s says %d", key, *e.Data.BytesCopied, got[i].snapshot, listed.Bytes)
					default:
						r.completedWithBytes++
					}
				}
			}
			delete(kept, g.source)
		}
		for st := range kept {
			ok = false
			r.failf("destination %s: the policy %+v keeps the restore point of %s (gen %d), but it is gone", d.name, h.retention, copyjob.FormatSnapshot(st), bySource[st].gen)
		}
		if ok {
			r.keptAsPolicy += len(got)
		}
		h.checkSourcePruned(d, r)
	}
	_ = jobs
	// Bytes, a few disks at a time.
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, 6)
	for _, p := range pairs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			// Source pruning leaves only the newest source snapshot; the
			// others are compared with what was written into them.
			src, err1 := p.s.content, error(nil)
			if p.s == p.d.snaps[len(p.d.snaps)-1] {
				src, err1 = h.download("disks", p.d.name, p.s.snapshot)
			}
			dst, err2 := h.download("backups", p.d.name, p.dest)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err1 != nil || err2 != nil:
				r.failf("download %s gen %d: %v %v", p.d.name, p.s.gen, err1, err2)
			case !bytes.Equal(src, p.s.content):
				r.failf("source %s snapshot %s differs from what was written (emulator bug)", p.d.name, p.s.snapshot)
			case !bytes.Equal(dst, src):
				r.failf("destination %s snapshot %s differs from source snapshot %s (gen %d): first difference at byte %d",
					p.d.name, p.dest, p.s.snapshot, p.s.gen, firstDiff(dst, src))
			default:
				r.verified++
			}
		}()
	}
	wg.Wait()
}

// supersededAfterPruning reports a Completed and a Superseded for a job
// whose restore point the policy drops.
func (h *relHarness) supersededAfterPruning(j *relJob, evs []relEvent) bool {
	outcomes := []copyjob.Outcome{evs[0].Outcome(), evs[1].Outcome()}
	slices.Sort(outcomes)
	if outcomes[0] != "Completed" || outcomes[1] != "Superseded" {
		return false
	}
	d := j.snap.disk
	points := make([]copyjob.RestorePoint, len(d.snaps))
	for i, s := range d.snaps {
		points[i].SourceSnapshot, _ = copyjob.ParseSnapshot(s.snapshot)
	}
	own, _ := copyjob.ParseSnapshot(j.snapshot)
	for _, p := range copyjob.PlanRetention(points, h.retention).Delete {
		if p.SourceSnapshot.Equal(own) {
			return true
		}
	}
	return false
}

// checkSourcePruned: with source pruning, every source snapshot older than
// the newest copied one is gone, and the newest copied one is still there
// (every snapshot sent was copied, so the newest sent is the newest copied).
func (h *relHarness) checkSourcePruned(d *relDisk, r *relReport) {
	pager := h.container("disks").NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &d.name, Include: container.ListBlobsInclude{Snapshots: true}})
	var left []string
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			h.t.Fatalf("seed %d: list source snapshots: %v", h.seed, err)
		}
		for _, item := range page.Segment.BlobItems {
			if *item.Name == d.name && item.Snapshot != nil && *item.Snapshot != "" {
				left = append(left, *item.Snapshot)
			}
		}
	}
	newest := d.snaps[len(d.snaps)-1].snapshot
	if len(left) != 1 || left[0] != newest {
		r.failf("source %s: snapshots %v left, want only the newest copied %s", d.name, left, newest)
	}
	r.sourceSnapshotsPruned += len(d.snaps) - len(left)
}

// checkDeletes: each snapshot deleted at most once (not even a second
// request that finds it gone), never by two requests at once.
func (h *relHarness) checkDeletes(r *relReport) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, key := range slices.Sorted(mapsKeys(h.deletes)) {
		d := h.deletes[key]
		r.deleteRequests += d.Deleted + d.Gone
		r.deletesGone += d.Gone
		if d.Deleted+d.Gone > 1 {
			r.failf("snapshot %s deleted %d times (%d found it gone)", key, d.Deleted+d.Gone, d.Gone)
		}
		if d.MaxInFlight > 1 {
			r.failf("snapshot %s: %d deletions at once", key, d.MaxInFlight)
		}
	}
}

func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func (h *relHarness) download(containerName, name, snapshot string) ([]byte, error) {
	c, err := h.container(containerName).NewBlobClient(name).WithSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	resp, err := c.DownloadStream(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// checkSecrets greps everything the handler wrote for the signatures.
func (h *relHarness) checkSecrets(w *relWorkload, logs string, events []relEvent, r *relReport) {
	type haystack struct{ where, text string }
	var hay []haystack
	hay = append(hay, haystack{"handler log", logs})
	for _, e := range events {
		hay = append(hay, haystack{"event " + e.ID, string(e.msg.Body) + fmt.Sprint(e.msg.Properties)})
	}
	for _, s := range h.sent {
		if s.Entity == triggerQueue {
			// A deferred trigger is the producer's message re-scheduled
			// unchanged (README, Security): a SAS the producer put there
			// stays there. Counted, not a leak.
			if len(redacttest.Leaks(string(s.Body))) > 0 {
				r.deferredTriggersWithSAS++
			}
			continue
		}
		hay = append(hay, haystack{s.Entity + " message " + s.ID, string(s.Body) + fmt.Sprint(s.Props)})
	}
	secrets := append(slices.Clone(w.secrets), secretFragment(storageemu.DevAccountKey))
	for _, hs := range hay {
		for _, sec := range secrets {
			if i := strings.Index(hs.text, sec); i >= 0 {
				r.leaks = append(r.leaks, fmt.Sprintf("%s contains secret %q: %s", hs.where, sec, snippet(hs.text, i)))
			}
		}
		for _, l := range redacttest.Leaks(hs.text) {
			r.leaks = append(r.leaks, fmt.Sprintf("%s contains a secret: %s", hs.where, l))
		}
		for _, sec := range w.escapedCanaries {
			if i := strings.Index(hs.text, sec); i >= 0 {
				r.escapedLeaks = append(r.escapedLeaks, fmt.Sprintf("%s contains %q: %s", hs.where, sec, snippet(hs.text, i)))
			}
		}
	}
	for _, l := range r.leaks {
		r.failf("secret leaked: %s", l)
	}
}

func snippet(s string, i int) string {
	from, to := max(0, i-80), min(len(s), i+60)
	return strconv.Quote(s[from:to])
}

func lineAround(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		end = len(s) - i
	}
	return s[start : i+end]
}

// --- figures -----------------------------------------------------------------

func (h *relHarness) table(w *relWorkload, r *relReport) string {
	st := h.stats
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k string, v ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprint(v...)) }
	sortedMap := func(m map[string]int) string {
		var parts []string
		for _, k := range slices.Sorted(mapsKeys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		if len(parts) == 0 {
			return "0"
		}
		return strings.Join(parts, ", ")
	}
	fmt.Fprintf(tw, "FIGURE\tVALUE\n")
	row("seed", h.seed)
	row("destinations (source disks)", r.destinations)
	row("jobs (source snapshots)", r.jobs, fmt.Sprintf(" (%s written)", mib(w.written)))
	row("trigger deliveries", fmt.Sprintf("%d: %d first, %d duplicate same MessageId, %d duplicate new MessageId; %d with a message SAS",
		w.first+w.sameID+w.newID, w.first, w.sameID, w.newID, w.sasTriggers))
	row("bad inputs", fmt.Sprintf("%d messages sent, %d distinct MessageIds", w.badSends, len(w.bad)))
	row("invocations", sortedMap(st.Invocations))
	row("abandoned (non-2xx)", sortedMap(st.Abandoned), fmt.Sprintf("; max delivery count %d", st.MaxDelivery))
	row("crashes", fmt.Sprintf("after start-copy (before poll 1) %d; after %s; answered 500 %d, connection dropped %d; later sends dropped %d",
		st.CrashBeforePoll1, sortedMap(st.CrashAfter), st.Crash500s, st.CrashDrops, st.SendsAfterCrashDropped))
	row("bus failures injected", sortedMap(st.BusFailsInjected), fmt.Sprintf("; handler sends failed %d; producer retries %d", r.handlerSendsFailed, st.ProducerSendRetries))
	row("storage faults scripted", sortedMap(st.StorageFaultsInjected), fmt.Sprintf("; chaos 1%% of requests; %d injected timeouts; %s simulated latency", st.SleepTimeouts, st.Latency.Round(time.Second)))
	ops := make([]string, 0, len(h.ops))
	for _, op := range slices.Sorted(mapsKeys(h.ops)) {
		o := h.ops[op]
		ops = append(ops, fmt.Sprintf("%s %d (%d 5xx, %d answers lost)", op, o.Requests, o.Faults5xx, o.Dropped))
	}
	row("handler storage requests", strings.Join(ops, ", "))
	row("handler sends", sortedMap(r.handlerSends))
	logs := h.logs.String()
	row("handler paths", fmt.Sprintf("%d copies started, %d missed snapshots caught up first, %d triggers deferred, %d polls saw a copy pending, %d start refusals",
		strings.Count(logs, `"message":"incremental copy started"`), strings.Count(logs, `"message":"copying a missed snapshot first"`),
		strings.Count(logs, `"message":"trigger deferred"`), strings.Count(logs, `"message":"copy pending"`), strings.Count(logs, `"message":"incremental copy refused"`)))
	row("terminal re-publishes", fmt.Sprintf("%d sends of an already published event id, latest %s after the first (duplicate window %s)",
		r.republishes, r.maxRepublishGap.Round(time.Second), time.Hour))
	row("events (after dedup)", sortedMap(r.eventsByType))
	row("terminal events / jobs", fmt.Sprintf("%d / %d (%d Superseded after the restore point was pruned); %d Completed carry the bytesCopied the destination's listing shows", r.terminalEvents, r.jobs, r.supersededAfterPruning, r.completedWithBytes))
	row("destination snapshots", fmt.Sprintf("%d listed, %d exactly as retention %+v keeps them (oldest first, each once), %d byte-identical to their source", r.destSnapshots, r.keptAsPolicy, h.retention, r.verified))
	row("retention", fmt.Sprintf("%d restore points pruned as the policy says, %d Pruned events, %d source snapshots pruned, %d delete requests (%d found the snapshot gone)",
		r.prunedByPolicy, r.prunedEvents, r.sourceSnapshotsPruned, r.deleteRequests, r.deletesGone))
	row("dead-lettered", r.deadLettered, " (poison by design: none)")
	row("handler panics", r.panics)
	row("secrets leaked", len(r.leaks), fmt.Sprintf(" (%d signatures searched); escaped-key canaries leaked %d; deferred triggers carrying the producer's SAS %d",
		len(w.secrets)+1, len(r.escapedLeaks), r.deferredTriggersWithSAS))
	row("simulated time", st.SimEnd.Sub(st.SimulatedStart).Round(time.Second))
	row("wall time", r.wall.Round(time.Millisecond))
	_ = tw.Flush()
	return b.String()
}

func (h *relHarness) summary(w *relWorkload, r *relReport) string {
	st := h.stats
	inv, ab := 0, 0
	for _, n := range st.Invocations {
		inv += n
	}
	for _, n := range st.Abandoned {
		ab += n
	}
	crashes := st.CrashBeforePoll1
	for _, n := range st.CrashAfter {
		crashes += n
	}
	bus := 0
	for _, n := range st.BusFailsInjected {
		bus += n
	}
	storage5xx := 0
	for _, o := range h.ops {
		storage5xx += o.Faults5xx + o.Dropped
	}
	verdict := "PASS"
	if len(r.failures) > 0 {
		verdict = fmt.Sprintf("FAIL (%d findings)", len(r.failures))
	}
	return fmt.Sprintf("reliability seed=%d: %d jobs over %d destinations, %d trigger deliveries + %d bad inputs, %d invocations (%d abandoned), %d crashes, %d bus faults, %d storage faults served -> %d terminal events, %d restore points kept as retention says (%d pruned), %d byte-identical, %d dead-lettered, %d panics, %d secrets leaked; %s simulated in %s: %s",
		h.seed, r.jobs, r.destinations, w.first+w.sameID+w.newID, w.badSends, inv, ab, crashes, bus, storage5xx,
		r.terminalEvents, r.keptAsPolicy, r.prunedByPolicy, r.verified, r.deadLettered, r.panics, len(r.leaks),
		st.SimEnd.Sub(st.SimulatedStart).Round(time.Second), r.wall.Round(100*time.Millisecond), verdict)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
