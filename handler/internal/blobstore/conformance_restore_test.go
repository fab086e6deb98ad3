package blobstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
)

// The storage operations a backup's restore and retention rely on, run with
// the plain azblob clients against the emulator and, when configured, a real
// account: Copy Blob from a destination snapshot, Delete Blob of snapshots,
// and Get Page Ranges between two destination snapshots.

func scenarioRestoreFromDestinationSnapshot(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	s1 := f.writeAndSnapshot(0, 8192)
	d1 := f.copyAndWait(s1, true)
	dest := f.dstContainer.NewPageBlobClient("disk.vhd")
	restored := f.dstContainer.NewPageBlobClient("restored.vhd")

	// The destination's own Shared Key authorizes a source in its account.
	resp, err := restored.BlobClient().StartCopyFromURL(ctx, snapshotURL(dest.URL(), d1.DestinationSnapshot), nil)
	if err != nil {
		t.Fatalf("copy from destination snapshot: %v", err)
	}
	p := f.waitForCopy(restored)
	if deref(p.CopyStatus) != blob.CopyStatusTypeSuccess || deref(p.CopyID) != deref(resp.CopyID) || deref(p.IsIncrementalCopy) {
		t.Fatalf("restored: status %v id %v incremental %v", deref(p.CopyStatus), deref(p.CopyID), deref(p.IsIncrementalCopy))
	}
	if want := "1048576/1048576"; deref(p.CopyProgress) != want {
		t.Fatalf("progress %q, want %q", deref(p.CopyProgress), want)
	}
	if !bytes.Equal(blobtest.Download(f.t, restored, ""), f.snapshotBytes[s1]) {
		t.Fatal("restored blob differs from the source snapshot")
	}
	listed := f.listed("restored.vhd")
	if listed == nil || deref(listed.CopyID) != deref(resp.CopyID) || deref(listed.CopyStatus) != blob.CopyStatusTypeSuccess || deref(listed.CopyProgress) != "1048576/1048576" {
		t.Fatalf("listed restored blob: %+v", listed)
	}

	// Neither end may be the incremental-copy base blob itself.
	_, err = restored.BlobClient().StartCopyFromURL(ctx, dest.URL(), nil)
	wantStatus(t, err, http.StatusConflict)
	_, err = dest.BlobClient().StartCopyFromURL(ctx, snapshotURL(dest.URL(), d1.DestinationSnapshot), nil)
	wantStatus(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")

	if tg.pendingObservable {
		aborted := f.dstContainer.NewPageBlobClient("aborted.vhd")
		resp, err := aborted.BlobClient().StartCopyFromURL(ctx, snapshotURL(dest.URL(), d1.DestinationSnapshot), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := aborted.BlobClient().AbortCopyFromURL(ctx, deref(resp.CopyID), nil); err != nil {
			t.Fatalf("abort: %v", err)
		}
		p, err := aborted.GetProperties(ctx, nil)
		if err != nil || deref(p.CopyStatus) != blob.CopyStatusTypeAborted || deref(p.ContentLength) != 0 {
			t.Fatalf("aborted copy: %v %v length %d", err, deref(p.CopyStatus), deref(p.ContentLength))
		}
	}
}

func scenarioDeleteDestinationSnapshots(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	d1 := f.copyAndWait(f.writeAndSnapshot(0), true)
	s2 := f.writeAndSnapshot(4096)
	d2 := f.copyAndWait(s2, false)
	dest := f.dstContainer.NewPageBlobClient("disk.vhd")
	snap1, err := dest.WithSnapshot(d1.DestinationSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	_, err = snap1.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	wantStatus(t, err, http.StatusBadRequest)
	_, err = dest.Delete(ctx, nil)
	wantStatus(t, err, http.StatusConflict, "SnapshotsPresent")
	if _, err := snap1.Delete(ctx, nil); err != nil {
		t.Fatalf("delete a destination snapshot: %v", err)
	}
	_, err = snap1.Delete(ctx, nil)
	wantStatus(t, err, http.StatusNotFound, "BlobNotFound")
	snap2, _ := dest.WithSnapshot(d2.DestinationSnapshot)
	if !bytes.Equal(blobtest.Download(f.t, dest, d2.DestinationSnapshot), f.snapshotBytes[s2]) {
		t.Fatal("the remaining destination snapshot changed")
	}
	// The chain goes on without the deleted restore point.
	f.copyAndWait(f.writeAndSnapshot(8192), false)
	if _, err := dest.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)}); err != nil {
		t.Fatalf("delete the destination with its snapshots: %v", err)
	}
	_, err = snap2.GetProperties(ctx, nil)
	wantStatus(t, err, http.StatusNotFound, "BlobNotFound")
}

// scenarioDiffBetweenDestinationSnapshots pages through the difference of
// two destination snapshots one range at a time and checks it against the
// bytes: every page that differs is reported, every page outside the report
// is equal.
func scenarioDiffBetweenDestinationSnapshots(t *testing.T, tg *target) {
	f := newFixture(t, tg)
	d1 := f.copyAndWait(f.writeAndSnapshot(0, 8192, 512*1024), true)
	secondWrites := []int64{4096, 8192, 900 * 1024}
	d2 := f.copyAndWait(f.writeAndSnapshot(secondWrites...), false)
	dest := f.dstContainer.NewPageBlobClient("disk.vhd")
	newer, err := dest.WithSnapshot(d2.DestinationSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	pager := newer.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: to.Ptr(d1.DestinationSnapshot), MaxResults: to.Ptr[int32](1)})
	reported := map[int64]bool{}
	answers := blobtest.AllPages(t, pager)
	for _, page := range answers {
		for _, r := range page.PageRange {
			markPages(reported, deref(r.Start), deref(r.End))
		}
		for _, r := range page.ClearRange {
			markPages(reported, deref(r.Start), deref(r.End))
		}
	}
	if len(answers) < 2 {
		t.Fatalf("%d answers for maxresults=1: NextMarker was not followed", len(answers))
	}
	older, newerBytes := blobtest.Download(f.t, dest, d1.DestinationSnapshot), blobtest.Download(f.t, dest, d2.DestinationSnapshot)
	for off := int64(0); off < diskSize; off += 512 {
		differs := !bytes.Equal(older[off:off+512], newerBytes[off:off+512])
		if differs && !reported[off] {
			t.Fatalf("page at %d differs but is not in the diff", off)
		}
		written := slices.ContainsFunc(secondWrites, func(w int64) bool { return off >= w && off < w+4096 })
		if reported[off] && !differs && !written {
			t.Fatalf("page at %d was not written but is in the diff", off)
		}
	}
}

// markPages records the 512-byte pages of the inclusive range [start, end].
func markPages(pages map[int64]bool, start, end int64) {
	for off := start; off <= end; off += 512 {
		pages[off] = true
	}
}

// waitForCopy lets time pass until the copy into c is no longer pending.
func (f *fixture) waitForCopy(c *pageblob.Client) blob.GetPropertiesResponse {
	f.t.Helper()
	for range 120 {
		p, err := c.GetProperties(context.Background(), nil)
		if err != nil {
			f.t.Fatal(err)
		}
		if deref(p.CopyStatus) != blob.CopyStatusTypePending {
			return p
		}
		f.tg.advance(time.Second)
	}
	f.t.Fatal("copy still pending")
	return blob.GetPropertiesResponse{}
}

// listed is the destination container's listing of name with copy properties.
func (f *fixture) listed(name string) *container.BlobProperties {
	f.t.Helper()
	pager := f.dstContainer.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(name), Include: container.ListBlobsInclude{Copy: true}})
	for _, page := range blobtest.AllPages(f.t, pager) {
		for _, b := range page.Segment.BlobItems {
			if deref(b.Name) == name && b.Snapshot == nil {
				return b.Properties
			}
		}
	}
	return nil
}

func snapshotURL(blobURL, snapshot string) string {
	return blobURL + "?snapshot=" + url.QueryEscape(snapshot)
}

// wantStatus checks a storage error's status and, when codes are given,
// that its code is one of them.
func wantStatus(t *testing.T, err error, status int, codes ...string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != status || (len(codes) > 0 && !slices.Contains(codes, re.ErrorCode)) {
		t.Fatalf("got %v, want %d %v", err, status, codes)
	}
}

// scenarioBlobProperties checks behaviours the emulator once got wrong:
// content properties kept on create, metadata names validated, If-None-Match
// * on a read, and the MD5 of a requested range.
func scenarioBlobProperties(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	headers := blob.HTTPHeaders{
		BlobContentType: to.Ptr("application/x-disk"), BlobContentLanguage: to.Ptr("en"),
		BlobCacheControl: to.Ptr("no-cache"), BlobContentDisposition: to.Ptr("attachment"),
	}
	pb := f.dstContainer.NewPageBlobClient("props.vhd")
	if _, err := pb.Create(ctx, 4096, &pageblob.CreateOptions{HTTPHeaders: &headers, SequenceNumber: to.Ptr[int64](3)}); err != nil {
		t.Fatal(err)
	}
	p, err := pb.GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if deref(p.ContentType) != "application/x-disk" || deref(p.ContentLanguage) != "en" || deref(p.CacheControl) != "no-cache" ||
		deref(p.ContentDisposition) != "attachment" || deref(p.BlobSequenceNumber) != 3 {
		t.Fatalf("properties: %v %v %v %v %v", deref(p.ContentType), deref(p.ContentLanguage), deref(p.CacheControl), deref(p.ContentDisposition), deref(p.BlobSequenceNumber))
	}
	_, err = f.dstContainer.NewPageBlobClient("meta.vhd").Create(ctx, 512, &pageblob.CreateOptions{Metadata: map[string]*string{"invalid-name": to.Ptr("v")}})
	wantStatus(t, err, http.StatusBadRequest, "InvalidMetadata")
	_, err = pb.GetProperties(ctx, &blob.GetPropertiesOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	wantStatus(t, err, http.StatusBadRequest)
	_, err = pb.UploadPages(ctx, nopReadSeekCloser(make([]byte, 512)), blob.HTTPRange{Count: 512}, &pageblob.UploadPagesOptions{
		SequenceNumberAccessConditions: &pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThan: to.Ptr[int64](3)}})
	wantStatus(t, err, http.StatusPreconditionFailed, "SequenceNumberConditionNotMet")
	page := bytes.Repeat([]byte{7}, 1024)
	if _, err := pb.UploadPages(ctx, nopReadSeekCloser(page), blob.HTTPRange{Offset: 1024, Count: 1024}, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := pb.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: 1024, Count: 1024}, RangeGetContentMD5: to.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sum := md5.Sum(page); !bytes.Equal(resp.ContentMD5, sum[:]) {
		t.Fatalf("range MD5 %x, want %x", resp.ContentMD5, sum)
	}
}

func nopReadSeekCloser(b []byte) io.ReadSeekCloser { return streaming.NopCloser(bytes.NewReader(b)) }
