package ops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func snap(seconds int) time.Time { return testStart.Add(time.Duration(seconds) * time.Second) }

func TestNewChainOrdersRestorePointsAndFindsTheLastCopied(t *testing.T) {
	h := copyjob.History{
		{SourceSnapshot: snap(20), DestinationSnapshot: "2026-11-24T10:00:25.0000000Z"},
		{SourceSnapshot: snap(0), DestinationSnapshot: "2026-11-24T10:00:05Z"}, // short layout, normalized
	}
	d := copyjob.Destination{Exists: true, Incremental: true, CopyID: "c3", CopyStatus: copyjob.StatusPending, CopySourceSnapshot: snap(40)}
	c := newChain("https://dst.blob.core.windows.net/b/vm.vhd", d, h)
	if c.LastCopiedSnapshot != copyjob.FormatSnapshot(snap(20)) {
		t.Errorf("last copied %s: a pending copy is not copied yet", c.LastCopiedSnapshot)
	}
	if got := c.RestorePoints[0].DestinationSnapshot; got != "2026-11-24T10:00:05.0000000Z" {
		t.Errorf("first restore point %s", got)
	}
	// A copy that succeeded after the listing still counts.
	d.CopyStatus = copyjob.StatusSuccess
	if c := newChain("", d, h); c.LastCopiedSnapshot != copyjob.FormatSnapshot(snap(40)) {
		t.Errorf("last copied %s after success", c.LastCopiedSnapshot)
	}
}

func TestNewChainRedactsSourceAndDescription(t *testing.T) {
	d := copyjob.Destination{Exists: true, Incremental: true, CopyID: "c", CopyStatus: copyjob.StatusFailed,
		CopySource:        "https://src.blob.core.windows.net/disks/vm.vhd?sv=1&sig=SECRET",
		StatusDescription: "403 reading https://src.blob.core.windows.net/disks/vm.vhd?sig=SECRET"}
	c := newChain("https://dst.blob.core.windows.net/b/vm.vhd", d, nil)
	if strings.Contains(c.Source+c.Copy.Description, "SECRET") {
		t.Fatalf("secret kept: %q %q", c.Source, c.Copy.Description)
	}
	if c.RestorePoints == nil {
		t.Error("restorePoints must encode as [], not null")
	}
}

// meterFunc is a changeMeter from a function.
type meterFunc func(snapshot, previous string) (int64, error)

func (f meterFunc) ChangedBytes(_ context.Context, _ copyjob.BlobRef, snapshot, previous string) (int64, error) {
	return f(snapshot, previous)
}

func TestChainMeasureDiffsEachRestorePointFromTheOneBefore(t *testing.T) {
	h := copyjob.History{
		{SourceSnapshot: snap(20), DestinationSnapshot: "2026-11-24T10:00:25.0000000Z"},
		{SourceSnapshot: snap(0), DestinationSnapshot: "2026-11-24T10:00:05.0000000Z"},
	}
	var asked []string
	c := newChain("", copyjob.Destination{Exists: true, Incremental: true}, h)
	c.measure(context.Background(), meterFunc(func(s, prev string) (int64, error) {
		asked = append(asked, s+" since "+prev)
		return int64(len(asked)) * 512, nil
	}), copyjob.BlobRef{})
	want := []string{"2026-11-24T10:00:05.0000000Z since ", "2026-11-24T10:00:25.0000000Z since 2026-11-24T10:00:05.0000000Z"}
	if strings.Join(asked, "|") != strings.Join(want, "|") {
		t.Fatalf("asked %v, want %v", asked, want)
	}
	if *c.RestorePoints[0].BytesChanged != 512 || *c.RestorePoints[1].BytesChanged != 1024 || *c.BytesChangedTotal != 1536 {
		t.Fatalf("figures %+v total %v", c.RestorePoints, *c.BytesChangedTotal)
	}

	c.measure(context.Background(), meterFunc(func(string, string) (int64, error) {
		return 0, errors.New("403 on https://dst.blob.core.windows.net/b/vm.vhd?sig=SECRET")
	}), copyjob.BlobRef{})
	if c.RestorePoints[0].BytesChanged != nil || strings.Contains(c.CostUnknown, "SECRET") || c.CostUnknown == "" {
		t.Fatalf("after a failure: %+v, %q", c.RestorePoints[0], c.CostUnknown)
	}
}
