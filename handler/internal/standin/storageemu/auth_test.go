package storageemu

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

func TestSharedKeyWrongKey(t *testing.T) {
	e := newEnv(t, Options{})
	e.createContainer(DevAccount, "cont", nil)
	wrong := Account{Name: DevAccountName, Key: backupAccount.Key}
	_, err := e.pageBlob(wrong, "cont", "b").Create(context.Background(), 512, nil)
	wantError(t, err, http.StatusForbidden, "AuthenticationFailed")
}

func TestSharedKeyUnknownAccount(t *testing.T) {
	e := newEnv(t, Options{})
	_, err := e.pageBlob(backupAccount, "cont", "b").GetProperties(context.Background(), nil)
	wantError(t, err, http.StatusNotFound, "ResourceNotFound")
}

// sasFixture is a page blob with one snapshot and SAS helpers around it.
type sasFixture struct {
	*env
	snapshot string
	data     []byte
}

func newSASFixture(t *testing.T, opts Options) *sasFixture {
	e := newEnv(t, opts)
	e.createContainer(DevAccount, "cont", nil)
	data := pattern(2, 1024)
	pb := e.createPageBlob(DevAccount, "cont", "disk", 1024, map[int64][]byte{0: data})
	return &sasFixture{env: e, snapshot: e.snapshot(pb), data: data}
}

// read downloads the blob (or the snapshot) with only the SAS query.
func (f *sasFixture) read(query string, snapshot bool) error {
	u := f.blobURL(DevAccount, "cont", "disk") + "?" + query
	if snapshot {
		u += "&snapshot=" + f.snapshot
	}
	resp, err := anonymousPageBlob(f.t, u).DownloadStream(context.Background(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if !bytes.Equal(buf.Bytes(), f.data) {
		f.t.Fatal("SAS read returned other bytes")
	}
	return nil
}

func TestServiceSAS(t *testing.T) {
	f := newSASFixture(t, Options{})
	valid := func(snapshot, perms string) string {
		return f.blobSAS(DevAccount, "cont", "disk", snapshot, perms, testStart.Add(-time.Hour), testStart.Add(time.Hour))
	}
	for name, tc := range map[string]struct {
		query    string
		snapshot bool
		status   int
		code     string
	}{
		"sr=b base":             {valid("", "r"), false, 0, ""},
		"sr=b snapshot":         {valid("", "r"), true, 0, ""},
		"sr=bs snapshot":        {valid(f.snapshot, "r"), true, 0, ""},
		"sr=bs used on base":    {valid(f.snapshot, "r"), false, http.StatusForbidden, "AuthenticationFailed"},
		"expired":               {f.blobSAS(DevAccount, "cont", "disk", "", "r", testStart.Add(-2*time.Hour), testStart.Add(-time.Minute)), false, http.StatusForbidden, "AuthenticationFailed"},
		"not yet valid":         {f.blobSAS(DevAccount, "cont", "disk", "", "r", testStart.Add(time.Minute), testStart.Add(time.Hour)), false, http.StatusForbidden, "AuthenticationFailed"},
		"missing read":          {valid("", "w"), false, http.StatusForbidden, "AuthorizationPermissionMismatch"},
		"other blob's SAS":      {f.blobSAS(DevAccount, "cont", "other", "", "r", testStart, testStart.Add(time.Hour)), false, http.StatusForbidden, "AuthenticationFailed"},
		"signed by another key": {f.blobSAS(Account{Name: DevAccountName, Key: backupAccount.Key}, "cont", "disk", "", "r", testStart, testStart.Add(time.Hour)), false, http.StatusForbidden, "AuthenticationFailed"},
	} {
		t.Run(name, func(t *testing.T) {
			err := f.read(tc.query, tc.snapshot)
			wantResult(t, err, tc.status, tc.code)
		})
	}
}

func TestServiceSASHTTPSOnly(t *testing.T) {
	httpsOnly := func(f *sasFixture) string {
		qp, err := sas.BlobSignatureValues{
			Protocol: sas.ProtocolHTTPS, ExpiryTime: testStart.Add(time.Hour), Permissions: "r",
			ContainerName: "cont", BlobName: "disk",
		}.SignWithSharedKey(f.credential(DevAccount))
		if err != nil {
			t.Fatal(err)
		}
		return qp.Encode()
	}
	strict := newSASFixture(t, Options{})
	wantError(t, strict.read(httpsOnly(strict), false), http.StatusForbidden, "AuthorizationProtocolMismatch")
	lenient := newSASFixture(t, Options{TrustHTTPAsHTTPS: true})
	if err := lenient.read(httpsOnly(lenient), false); err != nil {
		t.Fatalf("TrustHTTPAsHTTPS: %v", err)
	}
}

func TestServiceSASWrite(t *testing.T) {
	f := newSASFixture(t, Options{})
	rw := f.blobSAS(DevAccount, "cont", "disk", "", "rw", testStart, testStart.Add(time.Hour))
	pb := anonymousPageBlob(f.t, f.blobURL(DevAccount, "cont", "disk")+"?"+rw)
	ctx := context.Background()
	if _, err := pb.UploadPages(ctx, nopCloser{bytes.NewReader(pattern(8, 512))}, blob.HTTPRange{Count: 512}, nil); err != nil {
		t.Fatalf("write with rw SAS: %v", err)
	}
	_, err := pb.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	wantError(t, err, http.StatusForbidden, "AuthorizationPermissionMismatch")
}

func TestContainerSASListsBlobs(t *testing.T) {
	f := newSASFixture(t, Options{})
	qp, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: testStart.Add(time.Hour), Permissions: "rl", ContainerName: "cont",
	}.SignWithSharedKey(f.credential(DevAccount))
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithNoCredential(AccountURL(f.srv.URL, DevAccountName)+"/cont?"+qp.Encode(), &container.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.NewListBlobsFlatPager(nil).NextPage(context.Background())
	if err != nil {
		t.Fatalf("list with container SAS: %v", err)
	}
	if len(page.Segment.BlobItems) != 1 {
		t.Fatalf("listed %d blobs", len(page.Segment.BlobItems))
	}
}

func TestPublicAccess(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	for name, access := range map[string]*container.PublicAccessType{
		"private": nil, "blobonly": to.Ptr(container.PublicAccessTypeBlob), "whole": to.Ptr(container.PublicAccessTypeContainer),
	} {
		e.createContainer(DevAccount, name, access)
		e.createPageBlob(DevAccount, name, "disk", 512, nil)
	}
	anon := func(containerName string) *pageblob.Client {
		return anonymousPageBlob(e.t, e.blobURL(DevAccount, containerName, "disk"))
	}
	list := func(containerName string) error {
		c, err := container.NewClientWithNoCredential(AccountURL(e.srv.URL, DevAccountName)+"/"+containerName, &container.ClientOptions{ClientOptions: *clientOptions()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.NewListBlobsFlatPager(nil).NextPage(ctx)
		return err
	}
	_, err := anon("private").GetProperties(ctx, nil)
	wantError(t, err, http.StatusNotFound, "ResourceNotFound")
	if _, err := anon("blobonly").GetProperties(ctx, nil); err != nil {
		t.Fatalf("public blob read: %v", err)
	}
	wantError(t, list("blobonly"), http.StatusNotFound, "ResourceNotFound")
	if err := list("whole"); err != nil {
		t.Fatalf("public container list: %v", err)
	}
	_, err = anon("whole").Create(ctx, 512, nil)
	wantError(t, err, http.StatusNotFound, "ResourceNotFound")
}
