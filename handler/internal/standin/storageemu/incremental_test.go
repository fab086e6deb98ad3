package storageemu

import (
	"bytes"
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
)

const diskSize = 1 << 20

// copyFixture has a source page blob in one account and a destination name in
// another, plus a SAS for the source base blob.
type copyFixture struct {
	*env
	src, dst  Account
	source    *pageblob.Client
	dest      *pageblob.Client
	sourceURL string // base blob URL with an sr=b read SAS
}

var backupAccount = Account{Name: "backup", Key: "YmFja3VwLWFjY291bnQta2V5LWZvci10ZXN0cw=="}

func newCopyFixture(t *testing.T, opts Options) *copyFixture {
	opts.Accounts = append(opts.Accounts, backupAccount)
	if opts.CopyRate == 0 {
		opts.CopyRate = 4096 // bytes per second: copies take a few fake seconds
	}
	e := newEnv(t, opts)
	e.createContainer(DevAccount, "disks", nil)
	e.createContainer(backupAccount, "copies", nil)
	f := &copyFixture{env: e, src: DevAccount, dst: backupAccount}
	f.source = e.createPageBlob(DevAccount, "disks", "vm.vhd", diskSize, map[int64][]byte{0: pattern(1, 4096)})
	f.dest = e.pageBlob(backupAccount, "copies", "vm.vhd")
	sasQuery := e.blobSAS(DevAccount, "disks", "vm.vhd", "", "r", testStart.Add(-time.Hour), testStart.Add(24*time.Hour))
	f.sourceURL = e.blobURL(DevAccount, "disks", "vm.vhd") + "?" + sasQuery
	return f
}

func (f *copyFixture) start(snapshot string) pageblob.CopyIncrementalResponse {
	f.t.Helper()
	resp, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, snapshot, nil)
	if err != nil {
		f.t.Fatalf("start copy of %s: %v", snapshot, err)
	}
	return resp
}

func (f *copyFixture) props() blob.GetPropertiesResponse {
	f.t.Helper()
	p, err := f.dest.GetProperties(context.Background(), nil)
	if err != nil {
		f.t.Fatalf("destination properties: %v", err)
	}
	return p
}

func TestIncrementalCopyFirstThenDiff(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)

	resp := f.start(s1)
	if *resp.CopyStatus != "pending" || resp.CopyID == nil || resp.ETag == nil || resp.LastModified == nil || resp.RequestID == nil {
		t.Fatalf("start response = %+v", resp)
	}
	p := f.props()
	if *p.CopyStatus != "pending" || *p.CopyProgress != "0/4096" || !*p.IsIncrementalCopy || *p.BlobType != "PageBlob" || *p.ContentLength != diskSize {
		t.Fatalf("pending properties: status %v progress %v incremental %v type %v length %v",
			*p.CopyStatus, *p.CopyProgress, *p.IsIncrementalCopy, *p.BlobType, *p.ContentLength)
	}
	if p.DestinationSnapshot != nil || p.CopyCompletionTime != nil {
		t.Fatalf("pending copy must not report destination snapshot/completion: %v %v", p.DestinationSnapshot, p.CopyCompletionTime)
	}
	f.clock.Advance(500 * time.Millisecond)
	if p := f.props(); *p.CopyProgress != "2048/4096" {
		t.Fatalf("half-way progress = %s", *p.CopyProgress)
	}
	f.clock.Advance(500 * time.Millisecond)
	p = f.props()
	if *p.CopyStatus != "success" || *p.CopyProgress != "4096/4096" || p.DestinationSnapshot == nil || p.CopyCompletionTime == nil {
		t.Fatalf("after copy: status %v progress %v dest snapshot %v", *p.CopyStatus, *p.CopyProgress, p.DestinationSnapshot)
	}
	if *p.CopyID != *resp.CopyID || *p.CopySource != f.sourceURLWith(s1) {
		t.Fatalf("copy id %v source %v", *p.CopyID, *p.CopySource)
	}
	if !bytes.Equal(blobtest.Download(f.t, f.dest, *p.DestinationSnapshot), blobtest.Download(f.t, f.source, s1)) {
		t.Fatal("first destination snapshot differs from source snapshot")
	}

	// Second round: one changed page and one cleared page move 512 bytes.
	f.uploadPages(f.source, 8192, pattern(9, 512))
	if _, err := f.source.ClearPages(context.Background(), blob.HTTPRange{Offset: 0, Count: 512}, nil); err != nil {
		t.Fatal(err)
	}
	s2 := f.snapshot(f.source)
	f.start(s2)
	if p := f.props(); *p.CopyProgress != "0/512" || p.DestinationSnapshot != nil {
		t.Fatalf("diff copy progress = %s", *p.CopyProgress)
	}
	f.clock.Advance(time.Second)
	p2 := f.props()
	if *p2.CopyStatus != "success" || *p2.DestinationSnapshot <= *p.DestinationSnapshot {
		t.Fatalf("second copy: %v, destination snapshot %v after %v", *p2.CopyStatus, *p2.DestinationSnapshot, *p.DestinationSnapshot)
	}
	if !bytes.Equal(blobtest.Download(f.t, f.dest, *p2.DestinationSnapshot), blobtest.Download(f.t, f.source, s2)) {
		t.Fatal("second destination snapshot differs from source snapshot")
	}
	if !bytes.Equal(blobtest.Download(f.t, f.dest, *p.DestinationSnapshot), blobtest.Download(f.t, f.source, s1)) {
		t.Fatal("first destination snapshot changed")
	}
	if got := *p2.CopyCompletionTime; !got.Equal(testStart.Add(time.Second + 125*time.Millisecond).Truncate(time.Second)) {
		t.Fatalf("completion time %v", got)
	}
}

// sourceURLWith is the copy source azblob sends for a snapshot: the SAS URL
// with snapshot= added and the query re-encoded.
func (f *copyFixture) sourceURLWith(snapshot string) string {
	u, err := url.Parse(f.sourceURL)
	if err != nil {
		f.t.Fatal(err)
	}
	query := u.Query()
	query.Set("snapshot", snapshot)
	u.RawQuery = query.Encode()
	return u.String()
}
