package ops

import (
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
