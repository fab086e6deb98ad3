package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// TestEndToEndBytesChanged checks each Completed event's bytesChanged
// against the test's own account of what it wrote: the pages written in
// that generation (all pages written so far for the first restore point),
// extents overlapping at random within and across generations.
func TestEndToEndBytesChanged(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm1.vhd")
	rng := rand.New(rand.NewPCG(3, 13))
	const page = 512
	want := map[string]int64{} // source snapshot → bytes changed
	everWritten := map[int64]bool{}
	for gen := range 4 {
		written := map[int64]bool{}
		for range 1 + rng.IntN(6) {
			first, n := rng.Int64N(1<<20/page-16), 1+rng.Int64N(16)
			data := bytes.Repeat([]byte{byte(gen + 1)}, int(n*page))
			if _, err := src.UploadPages(context.Background(), streaming.NopCloser(bytes.NewReader(data)), blob.HTTPRange{Offset: first * page, Count: n * page}, nil); err != nil {
				t.Fatal(err)
			}
			for p := first; p < first+n; p++ {
				written[p], everWritten[p] = true, true
			}
		}
		resp, err := src.CreateSnapshot(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		snap := *resp.Snapshot
		if gen == 0 {
			want[snap] = int64(len(everWritten)) * page
		} else {
			want[snap] = int64(len(written)) * page
		}
		s.sendSnapshot("e"+snap, src, snap)
		s.run()
	}
	seen := 0
	for _, e := range s.events() {
		if e.Type != completedSubject {
			t.Fatalf("event %s %v", e.Type, e.Data)
		}
		seen++
		snap := e.Data["sourceSnapshot"].(string)
		if got := e.Data["bytesChanged"]; got != float64(want[snap]) {
			t.Errorf("restore point of %s: bytesChanged %v, want %d", snap, got, want[snap])
		}
	}
	if seen != len(want) {
		t.Fatalf("%d Completed events, want %d", seen, len(want))
	}
}
