package storageemu

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
)

// copied runs one incremental copy of snapshot to completion.
func (f *copyFixture) copied(snapshot string) blob.GetPropertiesResponse {
	f.t.Helper()
	f.start(snapshot)
	f.clock.Advance(time.Hour)
	p := f.props()
	if *p.CopyStatus != "success" {
		f.t.Fatalf("copy of %s: %s", snapshot, *p.CopyStatus)
	}
	return p
}

func TestIncrementalCopySourceMustBeSnapshot(t *testing.T) {
	f := newCopyFixture(t, Options{})
	_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, "", nil)
	wantError(t, err, http.StatusConflict, "IncrementalCopySourceMustBeSnapshot")
}

func TestIncrementalCopySourceAuthorization(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	base := f.blobURL(f.src, "disks", "vm.vhd")
	expired := f.blobSAS(f.src, "disks", "vm.vhd", "", "r", testStart.Add(-2*time.Hour), testStart.Add(-time.Hour))
	writeOnly := f.blobSAS(f.src, "disks", "vm.vhd", "", "w", testStart.Add(-time.Hour), testStart.Add(time.Hour))
	forged := f.blobSAS(backupAccount, "disks", "vm.vhd", "", "r", testStart.Add(-time.Hour), testStart.Add(time.Hour))
	snapshotSAS := f.blobSAS(f.src, "disks", "vm.vhd", s1, "r", testStart.Add(-time.Hour), testStart.Add(time.Hour))
	for name, tc := range map[string]struct {
		url    string
		status int
		code   string
	}{
		"no SAS":         {base, http.StatusForbidden, "CannotVerifyCopySource"},
		"expired SAS":    {base + "?" + expired, http.StatusForbidden, "CannotVerifyCopySource"},
		"no read":        {base + "?" + writeOnly, http.StatusForbidden, "CannotVerifyCopySource"},
		"wrong key":      {base + "?" + forged, http.StatusForbidden, "CannotVerifyCopySource"},
		"missing blob":   {f.blobURL(f.src, "disks", "other.vhd") + "?" + f.blobSAS(f.src, "disks", "other.vhd", "", "r", testStart, testStart.Add(time.Hour)), http.StatusNotFound, "CannotVerifyCopySource"},
		"not a blob URL": {"http://127.0.0.1/devstoreaccount1", http.StatusConflict, "InvalidSourceBlobUrl"},
		"sr=bs snapshot": {base + "?" + snapshotSAS, 0, ""},
	} {
		t.Run(name, func(t *testing.T) {
			dest := f.pageBlob(f.dst, "copies", "auth-"+name)
			_, err := dest.StartCopyIncremental(context.Background(), tc.url, s1, nil)
			wantResult(t, err, tc.status, tc.code)
		})
	}
}

func TestIncrementalCopyFromPublicContainer(t *testing.T) {
	f := newCopyFixture(t, Options{})
	f.createContainer(f.src, "public", to.Ptr(container.PublicAccessTypeBlob))
	src := f.createPageBlob(f.src, "public", "img.vhd", diskSize, map[int64][]byte{512: pattern(3, 512)})
	s1 := f.snapshot(src)
	if _, err := f.dest.StartCopyIncremental(context.Background(), f.blobURL(f.src, "public", "img.vhd"), s1, nil); err != nil {
		t.Fatalf("copy from public container: %v", err)
	}
}

func TestIncrementalCopyOrderingAndPending(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	s2 := f.snapshot(f.source)
	s3 := f.snapshot(f.source)
	f.uploadPages(f.source, 0, pattern(5, 8192))
	s4 := f.snapshot(f.source)

	f.copied(s2)
	for _, s := range []string{s1, s2} {
		_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s, nil)
		wantError(t, err, http.StatusConflict, EarlierSnapshotCodeHistoric)
	}
	f.start(s4)
	_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s3, nil)
	wantError(t, err, http.StatusConflict, "PendingCopyOperation")
	_, err = f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s4, nil)
	wantError(t, err, http.StatusConflict, "PendingCopyOperation")
}

func TestIncrementalCopyCurrentEarlierSnapshotCode(t *testing.T) {
	f := newCopyFixture(t, Options{EarlierSnapshotErrorCode: EarlierSnapshotCodeCurrent})
	s1 := f.snapshot(f.source)
	f.copied(s1)
	_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s1, nil)
	wantError(t, err, http.StatusConflict, EarlierSnapshotCodeCurrent)
}

func TestIncrementalCopyDestinationMismatch(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	other := f.createPageBlob(f.src, "disks", "other.vhd", diskSize, nil)
	otherSnap := f.snapshot(other)
	otherURL := f.blobURL(f.src, "disks", "other.vhd") + "?" +
		f.blobSAS(f.src, "disks", "other.vhd", "", "r", testStart.Add(-time.Hour), testStart.Add(time.Hour))

	f.copied(s1)
	_, err := f.dest.StartCopyIncremental(context.Background(), otherURL, otherSnap, nil)
	wantError(t, err, http.StatusConflict, "IncrementalCopyBlobMismatch")

	ordinary := f.createPageBlob(f.dst, "copies", "ordinary.vhd", diskSize, nil)
	_, err = ordinary.StartCopyIncremental(context.Background(), f.sourceURL, s1, nil)
	wantError(t, err, http.StatusConflict, "IncrementalCopyBlobMismatch")

	block := f.pageBlob(f.dst, "copies", "block.bin")
	putBlockBlob(t, f.env, f.dst, "copies", "block.bin", []byte("hello"))
	_, err = block.StartCopyIncremental(context.Background(), f.sourceURL, s1, nil)
	wantError(t, err, http.StatusConflict, "InvalidBlobType")
}

func TestIncrementalCopyRecreatedSourceBreaksChain(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	f.copied(s1)
	if _, err := f.source.Create(context.Background(), diskSize, nil); err != nil {
		t.Fatal(err)
	}
	s2 := f.snapshot(f.source)
	_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s2, nil)
	wantError(t, err, http.StatusConflict, "BlobOverwritten")
}

func TestIncrementalCopyBaseAllowsOnlyPropertiesCopyDelete(t *testing.T) {
	f := newCopyFixture(t, Options{})
	f.copied(f.snapshot(f.source))
	ctx := context.Background()
	_, err := f.dest.DownloadStream(ctx, nil)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	_, err = f.dest.UploadPages(ctx, nopCloser{bytesReader(pattern(1, 512))}, blob.HTTPRange{Count: 512}, nil)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	_, err = f.dest.ClearPages(ctx, blob.HTTPRange{Count: 512}, nil)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	_, err = f.dest.CreateSnapshot(ctx, nil)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	_, err = f.dest.Create(ctx, diskSize, nil)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	pager := f.dest.NewGetPageRangesPager(nil)
	_, err = pager.NextPage(ctx)
	wantError(t, err, http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob")
	if _, err := f.dest.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)}); err != nil {
		t.Fatalf("delete incremental copy blob: %v", err)
	}
}

func TestIncrementalCopyDestinationSnapshotsAreOrdinary(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	p := f.copied(s1)
	snap, err := f.dest.WithSnapshot(*p.DestinationSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := snap.GetProperties(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !*sp.IsIncrementalCopy || *sp.DestinationSnapshot != *p.DestinationSnapshot || *sp.ContentLength != diskSize {
		t.Fatalf("snapshot properties: incremental %v destination snapshot %v", *sp.IsIncrementalCopy, sp.DestinationSnapshot)
	}
	page, err := snap.NewGetPageRangesPager(nil).NextPage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.PageRange) != 1 || *page.PageRange[0].Start != 0 || *page.PageRange[0].End != 4095 {
		t.Fatalf("snapshot page ranges = %+v", page.PageRange)
	}
	if _, err := snap.Delete(context.Background(), nil); err != nil {
		t.Fatalf("delete destination snapshot: %v", err)
	}
}

func TestIncrementalCopyDestinationCondition(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	f.copied(s1)
	f.uploadPages(f.source, 0, pattern(7, 512))
	s2 := f.snapshot(f.source)
	_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s2, &pageblob.CopyIncrementalOptions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcoreETagAny)},
	})
	wantError(t, err, http.StatusPreconditionFailed, "ConditionNotMet")
}

func TestIncrementalCopyDestinationContainerMissing(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	dest := f.pageBlob(f.dst, "nocontainer", "vm.vhd")
	_, err := dest.StartCopyIncremental(context.Background(), f.sourceURL, s1, nil)
	wantError(t, err, http.StatusNotFound, "ContainerNotFound")
}
