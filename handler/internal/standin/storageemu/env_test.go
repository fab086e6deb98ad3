package storageemu

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// testStart is the fake clock's start; SAS windows are built around it.
var testStart = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// env is an emulator behind a loopback httptest server, with a fake clock.
type env struct {
	t     *testing.T
	emu   *Emulator
	srv   *httptest.Server
	clock *clock.Fake
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	fake := clock.NewFake(testStart)
	if opts.Clock == nil {
		opts.Clock = fake
	}
	emu := New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &env{t: t, emu: emu, srv: srv, clock: fake}
}

// clientOptions turn off retries so that an error status reaches the test at once.
func clientOptions() *azcore.ClientOptions {
	return &azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}
}

func (e *env) credential(acct Account) *blob.SharedKeyCredential {
	cred, err := blob.NewSharedKeyCredential(acct.Name, acct.Key)
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

func (e *env) service(acct Account) *service.Client {
	c, err := service.NewClientWithSharedKeyCredential(AccountURL(e.srv.URL, acct.Name)+"/", e.credential(acct),
		&service.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) blobURL(acct Account, containerName, blobName string) string {
	return AccountURL(e.srv.URL, acct.Name) + "/" + containerName + "/" + blobName
}

func (e *env) pageBlob(acct Account, containerName, blobName string) *pageblob.Client {
	c, err := pageblob.NewClientWithSharedKeyCredential(e.blobURL(acct, containerName, blobName), e.credential(acct),
		&pageblob.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// anonymousPageBlob is a client that sends no credentials: what rawURL's
// SAS, or the container's public access, allows.
func anonymousPageBlob(t *testing.T, rawURL string) *pageblob.Client {
	c, err := pageblob.NewClientWithNoCredential(rawURL, &pageblob.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) createContainer(acct Account, name string, access *container.PublicAccessType) {
	e.t.Helper()
	_, err := e.service(acct).NewContainerClient(name).Create(context.Background(), &container.CreateOptions{Access: access})
	if err != nil {
		e.t.Fatalf("create container %s: %v", name, err)
	}
}

// createPageBlob creates a page blob of size and writes each page-aligned
// chunk of writes at its offset.
func (e *env) createPageBlob(acct Account, containerName, name string, size int64, writes map[int64][]byte) *pageblob.Client {
	e.t.Helper()
	pb := e.pageBlob(acct, containerName, name)
	ctx := context.Background()
	if _, err := pb.Create(ctx, size, nil); err != nil {
		e.t.Fatalf("create page blob: %v", err)
	}
	for off, data := range writes {
		e.uploadPages(pb, off, data)
	}
	return pb
}

func (e *env) uploadPages(pb *pageblob.Client, off int64, data []byte) {
	e.t.Helper()
	_, err := pb.UploadPages(context.Background(), nopCloser{bytes.NewReader(data)},
		blob.HTTPRange{Offset: off, Count: int64(len(data))}, nil)
	if err != nil {
		e.t.Fatalf("upload pages at %d: %v", off, err)
	}
}

func (e *env) snapshot(pb *pageblob.Client) string {
	e.t.Helper()
	resp, err := pb.CreateSnapshot(context.Background(), nil)
	if err != nil {
		e.t.Fatalf("snapshot: %v", err)
	}
	return *resp.Snapshot
}

// blobSAS signs a service SAS for a blob (sr=b), or for one of its
// snapshots (sr=bs) when snapshot is set.
func (e *env) blobSAS(acct Account, containerName, blobName, snapshot, perms string, start, expiry time.Time) string {
	e.t.Helper()
	v := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: start, ExpiryTime: expiry,
		Permissions: perms, ContainerName: containerName, BlobName: blobName,
	}
	if snapshot != "" {
		ts, ok := parseSnapshot(snapshot)
		if !ok {
			e.t.Fatalf("bad snapshot %q", snapshot)
		}
		v.SnapshotTime = ts
	}
	qp, err := v.SignWithSharedKey(e.credential(acct))
	if err != nil {
		e.t.Fatal(err)
	}
	return qp.Encode()
}

// errorCode returns the service error code and status of err ("" and 0 for nil).
func errorCode(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", 0
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("not a response error: %v", err)
	}
	return re.ErrorCode, re.StatusCode
}

func wantError(t *testing.T, err error, status int, code string) {
	t.Helper()
	gotCode, gotStatus := errorCode(t, err)
	if gotStatus != status || gotCode != code {
		t.Fatalf("got %d %q (%v), want %d %q", gotStatus, gotCode, err, status, code)
	}
}

// wantResult wants err to be the storage error status and code, or no error
// at all where status is 0.
func wantResult(t *testing.T, err error, status int, code string) {
	t.Helper()
	if status == 0 {
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
		return
	}
	wantError(t, err, status, code)
}

func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

var azcoreETagAny = azcore.ETagAny

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// putBlockBlob uploads a single-shot block blob with blockblob semantics.
func putBlockBlob(t *testing.T, e *env, acct Account, containerName, name string, data []byte) {
	t.Helper()
	c, err := blockblob.NewClientWithSharedKeyCredential(e.blobURL(acct, containerName, name), e.credential(acct),
		&blockblob.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(context.Background(), nopCloser{bytes.NewReader(data)}, nil); err != nil {
		t.Fatalf("upload block blob: %v", err)
	}
}

func newPageBlobClient(rawURL string, cred *blob.SharedKeyCredential) (*pageblob.Client, error) {
	return pageblob.NewClientWithSharedKeyCredential(rawURL, cred, &pageblob.ClientOptions{ClientOptions: *clientOptions()})
}

func rangeAt(off, n int64) blob.HTTPRange { return blob.HTTPRange{Offset: off, Count: n} }
