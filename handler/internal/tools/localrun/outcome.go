package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// outcome is the part of an event the demo reads.
type outcome struct {
	Type string `json:"type"`
	// Time is when the handler saw the outcome.
	Time time.Time `json:"time"`
	// Data's pointers are nil when the event omits the figure: the handler
	// did not know it.
	Data struct {
		SourceBlobURL       string     `json:"sourceBlobUrl"`
		SourceSnapshot      string     `json:"sourceSnapshot"`
		DestinationSnapshot string     `json:"destinationSnapshot"`
		BytesCopied         *int64     `json:"bytesCopied"`
		Polls               *int       `json:"polls"`
		StartedAt           *time.Time `json:"startedAt"`
		FailureCode         string     `json:"failureCode"`
		FailureDescription  string     `json:"failureDescription"`
	} `json:"data"`
}

func (o outcome) terminal() bool {
	switch o.Type {
	case "Snapcopy.IncrementalCopy.Completed", "Snapcopy.IncrementalCopy.Failed", "Snapcopy.IncrementalCopy.Superseded":
		return true
	}
	return false
}

func jobKey(source, snapshot string) string { return source + "@" + snapshot }

// awaitOutcomes waits until every job has a terminal event, printing events
// as they arrive.
func (s *stack) awaitOutcomes(ctx context.Context, jobs []*job) error {
	s.outcomes = map[string]outcome{}
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
			var o outcome
			if err := json.Unmarshal(body, &o); err != nil {
				return fmt.Errorf("undecodable event %.200q: %w", body, err)
			}
			fmt.Fprintf(s.out, "event    %-36s source %s → destination %s %s\n", strings.TrimPrefix(o.Type, "Snapcopy.IncrementalCopy."), o.Data.SourceSnapshot, orDash(o.Data.DestinationSnapshot), o.Data.FailureCode)
			if o.terminal() {
				s.outcomes[jobKey(o.Data.SourceBlobURL, o.Data.SourceSnapshot)] = o
			}
		}
		done := 0
		for k := range want {
			if _, ok := s.outcomes[k]; ok {
				done++
			}
		}
		if done == len(want) {
			fmt.Fprintln(s.out)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%d of %d snapshots have an outcome when the run ended: %w", done, len(want), context.Cause(ctx))
		}
	}
}

// verify compares every destination snapshot with its source snapshot.
func (s *stack) verify(ctx context.Context, jobs []*job) Summary {
	var sum Summary
	dest, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/backups", s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
	for _, j := range jobs {
		o := s.outcomes[jobKey(j.disk.client.URL(), j.snapshot)]
		r := JobResult{Blob: j.disk.name, Generation: j.generation, SourceSnapshot: j.snapshot, BytesWritten: j.written,
			Outcome: o.Type, DestinationSnapshot: o.Data.DestinationSnapshot, BytesCopied: o.Data.BytesCopied, Polls: o.Data.Polls}
		if o.Data.StartedAt != nil {
			// From the start of the copy to the Completed event: what the
			// next workflow step waits for.
			d := o.Time.Sub(*o.Data.StartedAt)
			r.Duration = &d
		}
		switch {
		case err != nil:
			r.Detail = err.Error()
		case o.Type != "Snapcopy.IncrementalCopy.Completed":
			r.Detail = fmt.Sprintf("%s %s %s", o.Type, o.Data.FailureCode, o.Data.FailureDescription)
		default:
			r.Verified, r.Detail = s.compare(ctx, j, dest, o.Data.DestinationSnapshot)
		}
		sum.Jobs = append(sum.Jobs, r)
	}
	return sum
}

func (s *stack) compare(ctx context.Context, j *job, dest *container.Client, destSnapshot string) (bool, string) {
	src, err := j.disk.client.WithSnapshot(j.snapshot)
	if err != nil {
		return false, err.Error()
	}
	dst, err := dest.NewPageBlobClient(j.disk.name).WithSnapshot(destSnapshot)
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
