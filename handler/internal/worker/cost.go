package worker

import (
	"context"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// bytesChanged measures what restore point snapshot adds to the chain: its
// page-range diff from the restore point listed before it, or all its page
// ranges when it is the first. A caller that has already listed the
// destination passes the listing (known), so it is not listed twice. The
// figure is informative, so a fault leaves it out of the event (logged)
// rather than delaying the outcome.
func (w *Worker) bytesChanged(ctx context.Context, in *invocation, dest copyjob.BlobRef, snapshot string, history copyjob.History, known bool) *int64 {
	if !known {
		var err error
		if history, err = w.Storage.History(ctx, dest); err != nil {
			in.log.Warn().Err(err).Msg("listing destination snapshots failed; the event goes without bytesChanged")
			return nil
		}
	}
	previous, _ := history.Previous(snapshot)
	n, err := w.Storage.ChangedBytes(ctx, dest, snapshot, previous.DestinationSnapshot)
	if err != nil {
		in.log.Warn().Err(err).Msg("measuring the restore point's page ranges failed; the event goes without bytesChanged")
		return nil
	}
	return &n
}
