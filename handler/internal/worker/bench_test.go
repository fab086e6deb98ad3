package worker

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/tools/benchkit"
)

var _ Storage = (*benchkit.PendingStorage)(nil)

// BenchmarkCopyPoll is the worker's own share of a CopyPoll of a pending
// copy: the invocation already decoded, storage and
// bus behind fakes that cost next to nothing, no HTTP. At the production
// log level (info) nothing is written on this path; at debug two lines are.
//
//	go test -run '^$' -bench . -benchmem ./handler/internal/worker/
func BenchmarkCopyPoll(b *testing.B) {
	for _, level := range []string{"info", "debug"} {
		b.Run("log="+level, func(b *testing.B) {
			polls := &benchkit.NopSender{}
			w := &Worker{
				Storage:           &benchkit.PendingStorage{Dest: running(copyjob.StatusPending)},
				Bus:               bus.New(bus.Senders{Polls: polls, Triggers: &benchkit.NopSender{}, Events: &benchkit.NopSender{}}, bus.Options{EventSource: "/snapcopy", EventTypePrefix: "Snapcopy.IncrementalCopy"}),
				Clock:             clock.NewFake(testNow),
				Log:               logging.New(io.Discard, io.Discard, level),
				Rand:              rand.Float64,
				Policy:            copyjob.DefaultPollPolicy(),
				CopyDeadline:      24 * time.Hour,
				InvocationTimeout: time.Minute,
			}
			inv := benchInvocation(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if w.CopyPoll(ctx, inv) != copyjob.Complete {
					b.Fatal("not completed")
				}
			}
			if polls.Calls() == 0 {
				b.Fatal("no poll scheduled")
			}
		})
	}
}

// benchInvocation is the third poll of a pending copy, decoded from the
// host simulator's envelope as funcproto.Server would.
func benchInvocation(b *testing.B) funcproto.Invocation {
	m := pollMessage(3)
	m.Policy = copyjob.PolicyState{LastBytes: 256, LastTotal: 1024, LastAt: testNow.Add(-30 * time.Second), LastDelay: 30 * time.Second, Rate: 8}
	req, err := benchkit.PollRequest(clock.NewFake(testNow), m)
	if err != nil {
		b.Fatal(err)
	}
	inv := funcproto.Decode("CopyPoll", "bench", req.Body)
	if inv.DecodeErr != nil {
		b.Fatal(inv.DecodeErr)
	}
	return inv
}
