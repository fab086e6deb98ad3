package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func jobKey(source, snapshot string) string { return source + "@" + snapshot }

// awaitOutcomes waits until every job has a terminal event, printing events
// as they arrive; with pruning, also until the Pruned event of each chain's
// newest restore point, whose run leaves what the policy keeps.
func (s *stack) awaitOutcomes(ctx context.Context, jobs []*job, pruning bool) error {
	s.outcomes = map[string]copyjob.ReceivedEvent{}
	pruned := map[string]bool{} // destination snapshots a Pruned event names
	want := map[string]bool{}
	for _, j := range jobs {
		want[jobKey(j.disk.client.URL(), j.snapshot)] = true
	}
	for {
		events, err := s.bus.events(ctx, 50*time.Millisecond)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("read events: %w", err)
		}
		for _, body := range events {
			var o copyjob.ReceivedEvent
			if err := json.Unmarshal(body, &o); err != nil {
				return fmt.Errorf("undecodable event %.200q: %w", body, err)
			}
			if o.Outcome() == copyjob.Pruned {
				fmt.Fprintf(s.out, "event    %-36s newest %s: %d restore points deleted, %d kept, %d source snapshots deleted %s\n", "Pruned", o.Data.DestinationSnapshot,
					len(o.Data.Deleted), len(o.Data.Kept), len(o.Data.SourceSnapshotsDeleted), o.Data.FailureCode)
				pruned[o.Data.DestinationSnapshot] = true
				continue
			}
			fmt.Fprintf(s.out, "event    %-36s source %s → destination %s %s\n", o.Outcome(), o.Data.SourceSnapshot, orDash(o.Data.DestinationSnapshot), o.Data.FailureCode)
			if o.Outcome().Terminal() {
				s.outcomes[jobKey(o.Data.SourceBlobURL, o.Data.SourceSnapshot)] = o
			}
		}
		done := 0
		for k := range want {
			if _, ok := s.outcomes[k]; ok {
				done++
			}
		}
		if done == len(want) && (!pruning || s.newestPruned(jobs, pruned)) {
			fmt.Fprintln(s.out)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%d of %d snapshots have an outcome when the run ended: %w", done, len(want), context.Cause(ctx))
		}
	}
}

// newestPruned reports whether each disk's newest Completed restore point
// has its Pruned event.
func (s *stack) newestPruned(jobs []*job, pruned map[string]bool) bool {
	for _, j := range s.newestCompleted(jobs) {
		if !pruned[s.outcomes[jobKey(j.disk.client.URL(), j.snapshot)].Data.DestinationSnapshot] {
			return false
		}
	}
	return true
}

// newestCompleted is the newest job of each disk that Completed.
func (s *stack) newestCompleted(jobs []*job) map[*disk]*job {
	out := map[*disk]*job{}
	for _, j := range jobs {
		if s.outcomes[jobKey(j.disk.client.URL(), j.snapshot)].Outcome() != copyjob.Completed {
			continue
		}
		if prev, ok := out[j.disk]; !ok || j.generation > prev.generation {
			out[j.disk] = j
		}
	}
	return out
}

// verify compares every restore point left with its source snapshot, and
// checks that the ones gone are the ones the retention policy drops.
func (s *stack) verify(ctx context.Context, jobs []*job, policy copyjob.RetentionPolicy) Summary {
	var sum Summary
	dest, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/backups", s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
	dropped := s.droppedByPolicy(jobs, policy)
	for _, j := range jobs {
		o := s.outcomes[jobKey(j.disk.client.URL(), j.snapshot)]
		r := JobResult{Blob: j.disk.name, Generation: j.generation, SourceSnapshot: j.snapshot, BytesWritten: j.written,
			Outcome: o.Type, DestinationSnapshot: o.Data.DestinationSnapshot, BytesCopied: o.Data.BytesCopied, Polls: knownPolls(o.Data.Polls)}
		if o.Data.StartedAt != nil {
			// From the start of the copy to the Completed event: what the
			// next workflow step waits for.
			d := o.Time.Sub(*o.Data.StartedAt)
			r.Duration = &d
		}
		switch {
		case err != nil:
			r.Detail = err.Error()
		case o.Outcome() != copyjob.Completed:
			r.Detail = fmt.Sprintf("%s %s %s", o.Type, o.Data.FailureCode, o.Data.FailureDescription)
		case dropped[o.Data.DestinationSnapshot]:
			r.Pruned = true
			if r.Verified = !s.listed(ctx, dest, j.disk.name, o.Data.DestinationSnapshot); !r.Verified {
				r.Detail = "the policy drops it, but it is still there"
			}
		default:
			r.Verified, r.Detail = s.compare(ctx, j, dest, o.Data.DestinationSnapshot)
		}
		sum.Jobs = append(sum.Jobs, r)
	}
	return sum
}

// droppedByPolicy lists the destination snapshots of Completed jobs that
// the policy drops from their disk's chain.
func (s *stack) droppedByPolicy(jobs []*job, policy copyjob.RetentionPolicy) map[string]bool {
	chains := map[*disk][]copyjob.RestorePoint{}
	for _, j := range jobs {
		o := s.outcomes[jobKey(j.disk.client.URL(), j.snapshot)]
		if o.Outcome() != copyjob.Completed {
			continue
		}
		t, _ := copyjob.ParseSnapshot(j.snapshot)
		chains[j.disk] = append(chains[j.disk], copyjob.RestorePoint{SourceSnapshot: t, DestinationSnapshot: o.Data.DestinationSnapshot})
	}
	out := map[string]bool{}
	for _, points := range chains {
		for _, p := range copyjob.PlanRetention(points, policy).Delete {
			out[p.DestinationSnapshot] = true
		}
	}
	return out
}

// listed reports whether the destination still has snapshot.
func (s *stack) listed(ctx context.Context, dest *container.Client, name, snapshot string) bool {
	c, err := dest.NewPageBlobClient(name).WithSnapshot(snapshot)
	if err != nil {
		return true
	}
	_, err = c.GetProperties(ctx, nil)
	return err == nil
}

func (s *stack) compare(ctx context.Context, j *job, dest *container.Client, destSnapshot string) (bool, string) {
	dst, err := dest.NewPageBlobClient(j.disk.name).WithSnapshot(destSnapshot)
	if err != nil {
		return false, err.Error()
	}
	if j.digest != nil {
		// Source pruning may have deleted the source snapshot: compare
		// with the digest of its bytes taken when it was made.
		sum, err := digestOf(ctx, dst, j.disk.size)
		switch {
		case err != nil:
			return false, err.Error()
		case sum != *j.digest:
			return false, "bytes differ"
		}
		return true, ""
	}
	src, err := j.disk.client.WithSnapshot(j.snapshot)
	if err != nil {
		return false, err.Error()
	}
	same, err := sameBytes(ctx, src, dst, j.disk.size)
	switch {
	case err != nil:
		return false, err.Error()
	case !same:
		return false, "bytes differ"
	}
	return true, ""
}

// knownPolls is nil for an event that reports no polls: omitted in the
// event, it reads as 0.
func knownPolls(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
