package storageemu

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
)

func newPageEnv(t *testing.T) (*env, *pageblob.Client) {
	e := newEnv(t, Options{})
	e.createContainer(DevAccount, "cont", nil)
	return e, e.createPageBlob(DevAccount, "cont", "disk", 64<<20, nil)
}

func TestCreatePageBlobErrors(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	_, err := e.pageBlob(DevAccount, "cont", "odd").Create(ctx, 1000, nil)
	wantError(t, err, http.StatusBadRequest, "InvalidOperation")
	_, err = e.pageBlob(DevAccount, "nocont", "b").Create(ctx, 512, nil)
	wantError(t, err, http.StatusNotFound, "ContainerNotFound")
}

func TestPutPageErrors(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	upload := func(off int64, n int) error {
		_, err := pb.UploadPages(ctx, nopCloser{bytes.NewReader(make([]byte, n))}, blob.HTTPRange{Offset: off, Count: int64(n)}, nil)
		return err
	}
	wantError(t, upload(0, 100), http.StatusBadRequest, "InvalidOperation")
	wantError(t, upload(100, 512), http.StatusRequestedRangeNotSatisfiable, "InvalidPageRange")
	wantError(t, upload(64<<20, 512), http.StatusRequestedRangeNotSatisfiable, "InvalidPageRange")
	wantError(t, upload(64<<20-512, 1024), http.StatusRequestedRangeNotSatisfiable, "InvalidPageRange")
	_, err := pb.ClearPages(ctx, blob.HTTPRange{Offset: 100, Count: 512}, nil)
	wantError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidPageRange")
	_, err = e.pageBlob(DevAccount, "cont", "missing").UploadPages(ctx, nopCloser{bytes.NewReader(make([]byte, 512))}, blob.HTTPRange{Count: 512}, nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
	putBlockBlob(t, e, DevAccount, "cont", "block", []byte("abc"))
	_, err = e.pageBlob(DevAccount, "cont", "block").UploadPages(ctx, nopCloser{bytes.NewReader(make([]byte, 512))}, blob.HTTPRange{Count: 512}, nil)
	wantError(t, err, http.StatusConflict, "InvalidBlobType")
}

func pageRanges(t *testing.T, pb *pageblob.Client, opts *pageblob.GetPageRangesOptions) [][2]int64 {
	t.Helper()
	page, err := pb.NewGetPageRangesPager(opts).NextPage(context.Background())
	if err != nil {
		t.Fatalf("page ranges: %v", err)
	}
	var out [][2]int64
	for _, r := range page.PageRange {
		out = append(out, [2]int64{*r.Start, *r.End})
	}
	return out
}

func TestPageRangesAndDiff(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	e.uploadPages(pb, 0, pattern(1, 4096))
	e.uploadPages(pb, 8192, pattern(2, 4096))
	s1 := e.snapshot(pb)
	e.uploadPages(pb, 4096, pattern(3, 512))   // joins the first range
	e.uploadPages(pb, 65536, pattern(4, 4096)) // new range
	if _, err := pb.ClearPages(ctx, blob.HTTPRange{Offset: 0, Count: 512}, nil); err != nil {
		t.Fatal(err)
	}
	got := pageRanges(t, pb, nil)
	want := [][2]int64{{512, 4607}, {8192, 12287}, {65536, 69631}}
	if !equalRanges(got, want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	if got := pageRanges(t, pb, &pageblob.GetPageRangesOptions{Range: blob.HTTPRange{Offset: 8192, Count: 2048}}); !equalRanges(got, [][2]int64{{8192, 10239}}) {
		t.Fatalf("ranged page ranges %v", got)
	}
	diff, err := pb.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: to.Ptr(s1)}).NextPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff.PageRange) != 2 || *diff.PageRange[0].Start != 4096 || *diff.PageRange[0].End != 4607 || *diff.PageRange[1].Start != 65536 {
		t.Fatalf("diff ranges %+v", diff.PageRange)
	}
	if len(diff.ClearRange) != 1 || *diff.ClearRange[0].Start != 0 || *diff.ClearRange[0].End != 511 {
		t.Fatalf("diff clear ranges %+v", diff.ClearRange)
	}
	_, err = pb.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: to.Ptr("2020-01-01T00:00:00.0000000Z")}).NextPage(ctx)
	wantError(t, err, http.StatusConflict, "PreviousSnapshotNotFound")
	if _, err := pb.Create(ctx, 64<<20, nil); err != nil {
		t.Fatal(err)
	}
	_, err = pb.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: to.Ptr(s1)}).NextPage(ctx)
	wantError(t, err, http.StatusConflict, "BlobOverwritten")
}

func equalRanges(a, b [][2]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRangedDownloadAndSnapshots(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	first := pattern(5, 1024)
	e.uploadPages(pb, 1024, first)
	s1 := e.snapshot(pb)
	e.uploadPages(pb, 1024, pattern(6, 1024))
	s2 := e.snapshot(pb)
	if s2 <= s1 || len(s1) != len("2026-11-24T10:00:00.0000000Z") {
		t.Fatalf("snapshot times %s then %s", s1, s2)
	}
	read := func(c *pageblob.Client, off, n int64) []byte {
		resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: n}})
		if err != nil {
			t.Fatalf("ranged read: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	snap, _ := pb.WithSnapshot(s1)
	want := append(make([]byte, 512), first[:512]...)
	if got := read(snap, 512, 1024); !bytes.Equal(got, want) {
		t.Fatal("snapshot ranged read differs")
	}
	if got := read(pb, 64<<20-10, 100); len(got) != 10 {
		t.Fatalf("read past end returned %d bytes", len(got))
	}
	_, err := pb.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: 64 << 20, Count: 10}})
	wantError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
	missing, _ := pb.WithSnapshot("2020-01-01T00:00:00.0000000Z")
	_, err = missing.GetProperties(ctx, nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
}

func TestDeleteBlobAndSnapshots(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	s1 := e.snapshot(pb)
	e.snapshot(pb)
	_, err := pb.Delete(ctx, nil)
	wantError(t, err, http.StatusConflict, "SnapshotsPresent")
	snap, _ := pb.WithSnapshot(s1)
	if _, err := snap.Delete(ctx, nil); err != nil {
		t.Fatalf("delete snapshot: %v", err)
	}
	_, err = snap.GetProperties(ctx, nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
	if _, err := pb.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeOnly)}); err != nil {
		t.Fatalf("delete only snapshots: %v", err)
	}
	if _, err := pb.Delete(ctx, nil); err != nil {
		t.Fatalf("delete base: %v", err)
	}
	_, err = pb.Delete(ctx, nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
}

// TestSparseMemory writes two pages into each of many 64 MiB disks and
// snapshots them: storage must scale with written pages, not disk size.
func TestSparseStorageSharesPages(t *testing.T) {
	e, pb := newPageEnv(t)
	e.uploadPages(pb, 32<<20, pattern(1, 1024))
	for range 50 {
		e.snapshot(pb)
	}
	e.emu.mu.Lock()
	defer e.emu.mu.Unlock()
	f := e.emu.accounts[DevAccountName].containers["cont"].blobs["disk"]
	if len(f.base.pages) != 2 {
		t.Fatalf("base holds %d pages", len(f.base.pages))
	}
	for _, s := range f.snapshots {
		if !samePage(s.pages[(32<<20)/pageSize], f.base.pages[(32<<20)/pageSize]) {
			t.Fatal("snapshot copied page bytes instead of sharing them")
		}
	}
}
