package copyjob

import (
	"testing"
	"time"
)

func TestBytesCopied(t *testing.T) {
	withProgress := func(d Destination, bytes int64) Destination {
		d.Progress = Progress{Known: true, Bytes: bytes, Total: 4096}
		return d
	}
	listed := History{
		{SourceBlobURL: otherURL, SourceSnapshot: snapOld, DestinationSnapshot: "dst-other", Progress: Progress{Known: true, Bytes: 99, Total: 4096}},
		{SourceBlobURL: srcURL, SourceSnapshot: snapOld, DestinationSnapshot: "dst-old", Progress: Progress{Known: true, Bytes: 4096, Total: 4096}},
		{SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid", Progress: Progress{Known: true, Bytes: 0, Total: 4096}},
		{SourceBlobURL: srcURL, SourceSnapshot: snapNew, DestinationSnapshot: "dst-new"},
	}
	cases := []struct {
		name    string
		dst     Destination
		history History
		s       time.Time
		want    int64 // -1: unknown
	}{
		{"base blob's last copy is this one", withProgress(copyOf(snapMid, StatusSuccess), 2048), nil, snapMid, 2048},
		{"base blob's copy still pending: not a final figure", withProgress(copyOf(snapMid, StatusPending), 2048), nil, snapMid, -1},
		{"base blob's copy failed", withProgress(copyOf(snapMid, StatusFailed), 2048), nil, snapMid, -1},
		{"base blob's last copy is of another source", func() Destination {
			d := withProgress(copyOf(snapMid, StatusSuccess), 2048)
			d.CopySource = otherURL
			return d
		}(), nil, snapMid, -1},
		{"a later copy replaced the base blob's properties: the listing", withProgress(copyOf(snapNew, StatusPending), 512), listed, snapOld, 4096},
		{"the listing says zero bytes: zero, not unknown", withProgress(copyOf(snapNew, StatusSuccess), 512), listed, snapMid, 0},
		{"listed without progress", copyOf(snapNew, StatusSuccess), listed, snapNew, -1},
		{"not listed (history not read)", withProgress(copyOf(snapNew, StatusSuccess), 512), nil, snapOld, -1},
		{"base blob without progress, listing has it", copyOf(snapOld, StatusSuccess), listed, snapOld, 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := BytesCopied(c.dst, c.history, srcURL, c.s)
			switch {
			case c.want < 0 && got != nil:
				t.Fatalf("got %d, want unknown", *got)
			case c.want >= 0 && (got == nil || *got != c.want):
				t.Fatalf("got %v, want %d", got, c.want)
			}
		})
	}
}

// TestDecideStartCompletedAgainCarriesTheFigure: a Completed published
// again from the trigger (the poll's may never have been sent) carries
// what the copy moved, from the base blob or the destination's listing.
func TestDecideStartCompletedAgainCarriesTheFigure(t *testing.T) {
	base := copyOf(snapMid, StatusSuccess)
	base.Progress = Progress{Known: true, Bytes: 2048, Total: 4096}
	got := DecideStart(StartInput{Source: srcURL, Snapshot: snapMid, Destination: base})
	if got.Action != AlreadyCompleted || got.BytesCopied == nil || *got.BytesCopied != 2048 {
		t.Fatalf("from the base blob: got %+v", got)
	}
	history := History{{SourceBlobURL: srcURL, SourceSnapshot: snapMid, DestinationSnapshot: "dst-mid", Progress: Progress{Known: true, Bytes: 1024, Total: 4096}}}
	got = DecideStart(StartInput{Source: srcURL, Snapshot: snapMid, Destination: copyOf(snapNew, StatusPending), History: history, HistoryKnown: true})
	if got.Action != AlreadyCompleted || got.BytesCopied == nil || *got.BytesCopied != 1024 {
		t.Fatalf("from the listing: got %+v", got)
	}
}
