package storageemu

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
)

// TestConcurrentChains runs independent copy chains in parallel (go test
// -race checks the locking) and checks every destination snapshot's bytes.
func TestConcurrentChains(t *testing.T) {
	f := newCopyFixture(t, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("disk%d.vhd", i)
			src := f.pageBlob(f.src, "disks", name)
			dst := f.pageBlob(f.dst, "copies", name)
			srcURL := f.blobURL(f.src, "disks", name) + "?" + f.blobSAS(f.src, "disks", name, "", "r", testStart.Add(-time.Hour), testStart.Add(48*time.Hour))
			ctx := context.Background()
			if _, err := src.Create(ctx, diskSize, nil); err != nil {
				t.Error(err)
				return
			}
			for round := range 3 {
				if _, err := src.UploadPages(ctx, nopCloser{bytes.NewReader(pattern(byte(i+round), 1024))}, rangeAt(int64(round)*4096, 1024), nil); err != nil {
					t.Error(err)
					return
				}
				snap, err := src.CreateSnapshot(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := dst.StartCopyIncremental(ctx, srcURL, *snap.Snapshot, nil); err != nil {
					t.Error(err)
					return
				}
				f.clock.Advance(time.Second)
				for {
					p, err := dst.GetProperties(ctx, nil)
					if err != nil {
						t.Error(err)
						return
					}
					if *p.CopyStatus == "success" {
						srcSnap, _ := src.WithSnapshot(*snap.Snapshot)
						dstSnap, _ := dst.WithSnapshot(*p.DestinationSnapshot)
						if !bytes.Equal(blobtest.Download(f.t, srcSnap, ""), blobtest.Download(f.t, dstSnap, "")) {
							t.Errorf("%s round %d: destination snapshot differs", name, round)
						}
						break
					}
					f.clock.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
}
