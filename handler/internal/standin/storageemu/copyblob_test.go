package storageemu

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
)

// snapshotURL is a snapshot's URL with an optional SAS query.
func snapshotURL(base, snapshot, sasQuery string) string {
	q := url.Values{"snapshot": {snapshot}}
	u := base + "?" + q.Encode()
	if sasQuery != "" {
		u += "&" + sasQuery
	}
	return u
}

func (f *copyFixture) startBlobCopy(target *pageblob.Client, source string, opts *blob.StartCopyFromURLOptions) (blob.StartCopyFromURLResponse, error) {
	return target.BlobClient().StartCopyFromURL(context.Background(), source, opts)
}

func TestCopyBlobFromSnapshotWithSAS(t *testing.T) {
	f := newCopyFixture(t, Options{})
	f.uploadPages(f.source, 65536, pattern(7, 4096))
	s1 := f.snapshot(f.source)
	f.uploadPages(f.source, 0, pattern(8, 512)) // after the snapshot: not copied
	source := snapshotURL(f.blobURL(f.src, "disks", "vm.vhd"), s1, f.blobSAS(f.src, "disks", "vm.vhd", "", "r", testStart.Add(-time.Hour), testStart.Add(time.Hour)))
	target := f.pageBlob(f.dst, "copies", "restored.vhd")
	resp, err := f.startBlobCopy(target, source, &blob.StartCopyFromURLOptions{Metadata: map[string]*string{"origin": to.Ptr("s1")}})
	if err != nil {
		t.Fatal(err)
	}
	if *resp.CopyStatus != blob.CopyStatusTypePending || resp.CopyID == nil || resp.ETag == nil {
		t.Fatalf("start response %+v", resp)
	}
	p, err := target.GetProperties(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *p.CopyStatus != blob.CopyStatusTypePending || *p.CopyProgress != "0/1048576" || p.IsIncrementalCopy != nil || *p.CopyID != *resp.CopyID {
		t.Fatalf("pending: status %v progress %v incremental %v", *p.CopyStatus, *p.CopyProgress, p.IsIncrementalCopy)
	}
	// 8 KiB written at 4 KiB/s: half-way after a second, scaled to the length.
	f.clock.Advance(time.Second)
	if p, _ := target.GetProperties(context.Background(), nil); *p.CopyProgress != "524288/1048576" {
		t.Fatalf("half-way progress %s", *p.CopyProgress)
	}
	listed := listCopy(t, f.env, f.dst, "copies")["restored.vhd"]
	if listed.CopyStatus == nil || *listed.CopyStatus != blob.CopyStatusTypePending || *listed.CopyProgress != "524288/1048576" || *listed.CopyID != *resp.CopyID {
		t.Fatalf("listed while pending: %+v", listed)
	}
	f.clock.Advance(time.Second)
	p, err = target.GetProperties(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *p.CopyStatus != blob.CopyStatusTypeSuccess || *p.CopyProgress != "1048576/1048576" || p.CopyCompletionTime == nil || p.DestinationSnapshot != nil || *p.CopySource != source {
		t.Fatalf("after copy: %v %v %v", *p.CopyStatus, *p.CopyProgress, p.DestinationSnapshot)
	}
	if metaValue(p.Metadata, "origin") != "s1" {
		t.Fatalf("metadata %v", p.Metadata)
	}
	if !bytes.Equal(blobtest.Download(f.t, target, ""), blobtest.Download(f.t, f.source, s1)) {
		t.Fatal("copy differs from the source snapshot")
	}
	// An ordinary blob: writable, and it can be snapshotted.
	f.uploadPages(target, 0, pattern(9, 512))
	f.snapshot(target)
}

// TestCopyBlobRestoresIncrementalDestinationSnapshot copies a snapshot of an
// incremental-copy destination into a new blob of the same account,
// authorized by the request's own Shared Key: the restore of a backup.
func TestCopyBlobRestoresIncrementalDestinationSnapshot(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	p := f.copied(s1)
	destURL := f.blobURL(f.dst, "copies", "vm.vhd")
	target := f.pageBlob(f.dst, "copies", "restored.vhd")
	if _, err := f.startBlobCopy(target, snapshotURL(destURL, *p.DestinationSnapshot, ""), nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if !bytes.Equal(blobtest.Download(f.t, target, ""), blobtest.Download(f.t, f.source, s1)) {
		t.Fatal("restored blob differs from the source snapshot")
	}
	tp, _ := target.GetProperties(context.Background(), nil)
	if *tp.CopyStatus != blob.CopyStatusTypeSuccess || tp.IsIncrementalCopy != nil {
		t.Fatalf("restored blob: %v incremental %v", *tp.CopyStatus, tp.IsIncrementalCopy)
	}

	// Neither end may be the incremental-copy base blob itself.
	_, err := f.startBlobCopy(target, destURL, nil)
	wantError(t, err, http.StatusConflict, "CopySourceCannotBeIncrementalCopyBlob")
	_, err = f.startBlobCopy(f.dest, snapshotURL(destURL, *p.DestinationSnapshot, ""), nil)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	// The next incremental copy still works: the restore did not touch the chain.
	f.uploadPages(f.source, 4096, pattern(3, 512))
	f.copied(f.snapshot(f.source))
}

func TestCopyBlobSourceAuthorization(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	base := f.blobURL(f.src, "disks", "vm.vhd")
	// Each successful copy advances the clock by an hour to finish it; the
	// SAS tokens outlive all of them, so only what a case names can fail it.
	expiry := testStart.Add(24 * time.Hour)
	good := f.blobSAS(f.src, "disks", "vm.vhd", "", "r", testStart.Add(-time.Hour), expiry)
	snapshotSAS := f.blobSAS(f.src, "disks", "vm.vhd", s1, "r", testStart.Add(-time.Hour), expiry)
	forged := f.blobSAS(backupAccount, "disks", "vm.vhd", "", "r", testStart.Add(-time.Hour), expiry)
	target := f.pageBlob(f.dst, "copies", "t.vhd")
	for _, c := range []struct {
		name   string
		source string
		status int
		code   string
	}{
		{"sr=b SAS", snapshotURL(base, s1, good), 0, ""},
		{"another account, no SAS", snapshotURL(base, s1, ""), http.StatusForbidden, "CannotVerifyCopySource"},
		{"forged SAS", snapshotURL(base, s1, forged), http.StatusForbidden, "CannotVerifyCopySource"},
		{"sr=bs SAS", snapshotURL(base, s1, snapshotSAS), 0, ""},
		{"missing snapshot, SAS", snapshotURL(base, "2020-01-01T00:00:00.0000000Z", good), http.StatusNotFound, "CannotVerifyCopySource"},
		{"not a blob URL", "http://127.0.0.1/only-account", http.StatusConflict, "InvalidSourceBlobUrl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.startBlobCopy(target, c.source, nil)
			if c.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				f.clock.Advance(time.Hour)
				return
			}
			wantError(t, err, c.status, c.code)
		})
	}
	// Within one account the request's Shared Key reads the source.
	own := f.pageBlob(f.src, "disks", "own.vhd")
	if _, err := f.startBlobCopy(own, snapshotURL(base, s1, ""), nil); err != nil {
		t.Fatalf("same-account copy with Shared Key: %v", err)
	}
	_, err := f.startBlobCopy(f.pageBlob(f.src, "disks", "other.vhd"), snapshotURL(base, "2020-01-01T00:00:00.0000000Z", ""), nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
}

func TestCopyBlobPendingAbortAndFailure(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	source := snapshotURL(f.blobURL(f.src, "disks", "vm.vhd"), s1, f.blobSAS(f.src, "disks", "vm.vhd", "", "r", testStart.Add(-time.Hour), testStart.Add(time.Hour)))
	target := f.pageBlob(f.dst, "copies", "t.vhd")
	resp, err := f.startBlobCopy(target, source, &blob.StartCopyFromURLOptions{Metadata: map[string]*string{"keep": to.Ptr("me")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.startBlobCopy(target, source, nil)
	wantError(t, err, http.StatusConflict, "PendingCopyOperation")
	_, err = target.UploadPages(context.Background(), nopCloser{bytes.NewReader(make([]byte, 512))}, rangeAt(0, 512), nil)
	wantError(t, err, http.StatusConflict, "PendingCopyOperation")
	if _, err := target.BlobClient().AbortCopyFromURL(context.Background(), *resp.CopyID, nil); err != nil {
		t.Fatal(err)
	}
	p, _ := target.GetProperties(context.Background(), nil)
	if *p.CopyStatus != blob.CopyStatusTypeAborted || *p.ContentLength != 0 || metaValue(p.Metadata, "keep") != "me" {
		t.Fatalf("aborted copy: %v length %d metadata %v", *p.CopyStatus, *p.ContentLength, p.Metadata)
	}
	_, err = target.BlobClient().AbortCopyFromURL(context.Background(), *resp.CopyID, nil)
	wantError(t, err, http.StatusConflict, "NoPendingCopyOperation")

	f.emu.InjectCopyFault(CopyFault{Account: f.dst.Name, Path: "copies/t.vhd", AtBytes: 1024, Description: "500 InternalError \"boom\"", Times: 1})
	if _, err := f.startBlobCopy(target, source, nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	p, _ = target.GetProperties(context.Background(), nil)
	if *p.CopyStatus != blob.CopyStatusTypeFailed || *p.CopyStatusDescription != "500 InternalError \"boom\"" || *p.ContentLength != 0 {
		t.Fatalf("failed copy: %v %v length %d", *p.CopyStatus, p.CopyStatusDescription, *p.ContentLength)
	}

	putBlockBlob(t, f.env, f.dst, "copies", "block", []byte("abc"))
	_, err = f.startBlobCopy(f.pageBlob(f.dst, "copies", "block"), source, nil)
	wantError(t, err, http.StatusConflict, "InvalidBlobType")
}

// TestCopyBlobOverItsBase copies a snapshot over its own base blob (the
// service's way to promote a snapshot); the base counts as re-created.
func TestCopyBlobOverItsBase(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	f.uploadPages(f.source, 0, pattern(5, 4096))
	s2 := f.snapshot(f.source)
	if _, err := f.startBlobCopy(f.source, snapshotURL(f.blobURL(f.src, "disks", "vm.vhd"), s1, ""), nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if !bytes.Equal(blobtest.Download(f.t, f.source, ""), blobtest.Download(f.t, f.source, s1)) {
		t.Fatal("base does not hold the promoted snapshot")
	}
	_, err := f.source.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: to.Ptr(s2)}).NextPage(context.Background())
	wantError(t, err, http.StatusConflict, "BlobOverwritten")
}

// metaValue finds a metadata value whatever the case of its name (HTTP
// canonicalizes header names on the way).
func metaValue(md map[string]*string, name string) string {
	for k, v := range md {
		if strings.EqualFold(k, name) && v != nil {
			return *v
		}
	}
	return ""
}

func listCopy(t *testing.T, e *env, acct Account, containerName string) map[string]*container.BlobProperties {
	t.Helper()
	pager := e.service(acct).NewContainerClient(containerName).NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Copy: true}})
	out := map[string]*container.BlobProperties{}
	for _, page := range blobtest.AllPages(t, pager) {
		for _, b := range page.Segment.BlobItems {
			out[*b.Name] = b.Properties
		}
	}
	return out
}

func TestDeleteSnapshotRules(t *testing.T) {
	f := newCopyFixture(t, Options{})
	ctx := context.Background()
	s1 := f.snapshot(f.source)
	p1 := f.copied(s1)
	f.uploadPages(f.source, 8192, pattern(4, 512))
	p2 := f.copied(f.snapshot(f.source))

	snap1, _ := f.dest.WithSnapshot(*p1.DestinationSnapshot)
	_, err := snap1.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	wantError(t, err, http.StatusBadRequest, "InvalidOperation")
	missing, _ := f.dest.WithSnapshot("2020-01-01T00:00:00.0000000Z")
	_, err = missing.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
	_, err = f.dest.Delete(ctx, nil)
	wantError(t, err, http.StatusConflict, "SnapshotsPresent")

	// A destination snapshot is ordinary: delete it, the chain goes on.
	if _, err := snap1.Delete(ctx, nil); err != nil {
		t.Fatalf("delete destination snapshot: %v", err)
	}
	_, err = snap1.GetProperties(ctx, nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
	snap2, _ := f.dest.WithSnapshot(*p2.DestinationSnapshot)
	if _, err := snap2.GetProperties(ctx, nil); err != nil {
		t.Fatalf("the other destination snapshot: %v", err)
	}
	f.uploadPages(f.source, 0, pattern(6, 512))
	f.copied(f.snapshot(f.source))

	if _, err := f.dest.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeOnly)}); err != nil {
		t.Fatalf("delete only the snapshots: %v", err)
	}
	if p := f.props(); !*p.IsIncrementalCopy {
		t.Fatal("deleting the snapshots removed the destination")
	}
	if _, err := f.dest.Delete(ctx, nil); err != nil {
		t.Fatalf("delete the destination: %v", err)
	}
}

// TestPageRangesDiffBetweenDestinationSnapshots compares two snapshots of an
// incremental-copy destination, one range per page of the answer.
func TestPageRangesDiffBetweenDestinationSnapshots(t *testing.T) {
	f := newCopyFixture(t, Options{})
	p1 := f.copied(f.snapshot(f.source))
	f.uploadPages(f.source, 8192, pattern(4, 1024))
	f.uploadPages(f.source, 65536, pattern(5, 512))
	if _, err := f.source.ClearPages(context.Background(), rangeAt(0, 512), nil); err != nil {
		t.Fatal(err)
	}
	p2 := f.copied(f.snapshot(f.source))
	snap2, _ := f.dest.WithSnapshot(*p2.DestinationSnapshot)
	pager := snap2.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: p1.DestinationSnapshot, MaxResults: to.Ptr[int32](1)})
	var changed, cleared [][2]int64
	pages := blobtest.AllPages(t, pager)
	for _, page := range pages {
		for _, r := range page.PageRange {
			changed = append(changed, [2]int64{*r.Start, *r.End})
		}
		for _, r := range page.ClearRange {
			cleared = append(cleared, [2]int64{*r.Start, *r.End})
		}
	}
	if len(pages) != 3 || !equalRanges(changed, [][2]int64{{8192, 9215}, {65536, 66047}}) || !equalRanges(cleared, [][2]int64{{0, 511}}) {
		t.Fatalf("%d pages: changed %v cleared %v", len(pages), changed, cleared)
	}
}

// TestPageRangesLargeResultPages fragments a blob into more ranges than one
// answer holds: the client must follow NextMarker to see them all.
func TestPageRangesLargeResultPages(t *testing.T) {
	e, pb := newPageEnv(t)
	const ranges = maxPageRangesPerResponse + 5
	e.emu.mu.Lock()
	set := e.emu.accounts[DevAccountName].containers["cont"].blobs["disk"].base.pages
	for i := range int64(ranges) {
		set.write(2*i*pageSize, make([]byte, pageSize)) // every other page: no two ranges touch
	}
	e.emu.mu.Unlock()
	pages := blobtest.AllPages(t, pb.NewGetPageRangesPager(nil))
	got := 0
	for _, page := range pages {
		for i, r := range page.PageRange {
			if want := int64(got+i) * 2 * pageSize; *r.Start != want {
				t.Fatalf("range %d starts at %d, want %d", got+i, *r.Start, want)
			}
		}
		got += len(page.PageRange)
	}
	if got != ranges || len(pages) != 2 {
		t.Fatalf("%d ranges in %d answers, want %d in 2", got, len(pages), ranges)
	}
}
