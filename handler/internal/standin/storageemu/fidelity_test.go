package storageemu

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// Each test here pins one behaviour where the emulator used to answer
// otherwise than the service documents.

var testHTTPHeaders = blob.HTTPHeaders{
	BlobContentType: to.Ptr("application/x-disk"), BlobContentEncoding: to.Ptr("identity"),
	BlobContentLanguage: to.Ptr("en"), BlobCacheControl: to.Ptr("no-cache"),
	BlobContentDisposition: to.Ptr("attachment"), BlobContentMD5: md5Of([]byte("whole")),
}

func md5Of(b []byte) []byte {
	sum := md5.Sum(b)
	return sum[:]
}

func TestCreateKeepsContentProperties(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	pb := e.pageBlob(DevAccount, "cont", "props")
	if _, err := pb.Create(ctx, 1024, &pageblob.CreateOptions{HTTPHeaders: &testHTTPHeaders}); err != nil {
		t.Fatal(err)
	}
	p, err := pb.GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *p.ContentType != "application/x-disk" || *p.ContentEncoding != "identity" || *p.ContentLanguage != "en" ||
		*p.CacheControl != "no-cache" || *p.ContentDisposition != "attachment" || !bytes.Equal(p.ContentMD5, md5Of([]byte("whole"))) {
		t.Fatalf("properties %v %v %v %v %v %x", *p.ContentType, p.ContentEncoding, p.ContentLanguage, p.CacheControl, p.ContentDisposition, p.ContentMD5)
	}
	listed := listCopy(t, e, DevAccount, "cont")["props"]
	if *listed.CacheControl != "no-cache" || *listed.ContentDisposition != "attachment" || !bytes.Equal(listed.ContentMD5, md5Of([]byte("whole"))) {
		t.Fatalf("listed %+v", listed)
	}
	_, err = e.pageBlob(DevAccount, "cont", "badmd5").Create(ctx, 512, &pageblob.CreateOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentMD5: []byte{1, 2, 3}}})
	wantError(t, err, http.StatusBadRequest, "InvalidMd5")
}

func TestMetadataNamesValidated(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	for _, name := range []string{"1invalid", "invalid.name", "invalid-name"} {
		_, err := e.pageBlob(DevAccount, "cont", "m").Create(ctx, 512, &pageblob.CreateOptions{Metadata: map[string]*string{name: to.Ptr("v")}})
		wantError(t, err, http.StatusBadRequest, "InvalidMetadata")
		_, err = e.service(DevAccount).NewContainerClient("meta").Create(ctx, &container.CreateOptions{Metadata: map[string]*string{name: to.Ptr("v")}})
		wantError(t, err, http.StatusBadRequest, "InvalidMetadata")
	}
	if _, err := e.pageBlob(DevAccount, "cont", "m").Create(ctx, 512, &pageblob.CreateOptions{Metadata: map[string]*string{"_valid1": to.Ptr("v")}}); err != nil {
		t.Fatal(err)
	}
	c := e.service(DevAccount).NewContainerClient("meta")
	if _, err := c.Create(ctx, &container.CreateOptions{Metadata: map[string]*string{"owner": to.Ptr("ops")}}); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetProperties(ctx, nil)
	if err != nil || metaValue(p.Metadata, "owner") != "ops" {
		t.Fatalf("container metadata %v, %v", p.Metadata, err)
	}
}

func TestContainerNameRules(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	for name, code := range map[string]string{"ab": "OutOfRangeInput", strings.Repeat("a", 64): "OutOfRangeInput", "Upper": "InvalidResourceName", "a--b": "InvalidResourceName"} {
		_, err := e.service(DevAccount).NewContainerClient(name).Create(ctx, nil)
		wantError(t, err, http.StatusBadRequest, code)
	}
}

func TestSequenceNumbers(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	pb := e.pageBlob(DevAccount, "cont", "seq")
	if _, err := pb.Create(ctx, 1024, &pageblob.CreateOptions{SequenceNumber: to.Ptr[int64](7)}); err != nil {
		t.Fatal(err)
	}
	if p, _ := pb.GetProperties(ctx, nil); *p.BlobSequenceNumber != 7 {
		t.Fatalf("sequence number %d", *p.BlobSequenceNumber)
	}
	upload := func(c pageblob.SequenceNumberAccessConditions) error {
		_, err := pb.UploadPages(ctx, nopCloser{bytes.NewReader(make([]byte, 512))}, rangeAt(0, 512), &pageblob.UploadPagesOptions{SequenceNumberAccessConditions: &c})
		return err
	}
	wantError(t, upload(pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThan: to.Ptr[int64](7)}), http.StatusPreconditionFailed, "SequenceNumberConditionNotMet")
	wantError(t, upload(pageblob.SequenceNumberAccessConditions{IfSequenceNumberEqualTo: to.Ptr[int64](8)}), http.StatusPreconditionFailed, "SequenceNumberConditionNotMet")
	if err := upload(pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThanOrEqualTo: to.Ptr[int64](7)}); err != nil {
		t.Fatal(err)
	}
	_, err := pb.ClearPages(ctx, rangeAt(0, 512), &pageblob.ClearPagesOptions{SequenceNumberAccessConditions: &pageblob.SequenceNumberAccessConditions{IfSequenceNumberEqualTo: to.Ptr[int64](1)}})
	wantError(t, err, http.StatusPreconditionFailed, "SequenceNumberConditionNotMet")
}

func TestRangeContentMD5(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	data := pattern(3, 4096)
	e.uploadPages(pb, 0, data)
	resp, err := pb.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: rangeAt(512, 1024), RangeGetContentMD5: to.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !bytes.Equal(resp.ContentMD5, md5Of(data[512:1536])) {
		t.Fatalf("range Content-MD5 %x", resp.ContentMD5)
	}
	_, err = pb.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: rangeAt(0, 8<<20), RangeGetContentMD5: to.Ptr(true)})
	wantError(t, err, http.StatusBadRequest, "InvalidHeaderValue")
}

func TestIfNoneMatchWildcard(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	_, err := pb.GetProperties(ctx, &blob.GetPropertiesOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	wantError(t, err, http.StatusBadRequest, "UnsatisfiableCondition")
	_, err = pb.Delete(ctx, &blob.DeleteOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	wantError(t, err, http.StatusPreconditionFailed, "ConditionNotMet")
	_ = e
}

// rawSigned sends a request signed with the development account's key.
func rawSigned(t *testing.T, e *env, method, path string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+"/"+DevAccountName+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	signSharedKey(t, req, DevAccount)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestUnparsableRangeIsIgnored(t *testing.T) {
	e, pb := newPageEnv(t)
	e.uploadPages(pb, 0, pattern(4, 512))
	resp := rawSigned(t, e, http.MethodGet, "/cont/disk", map[string]string{"Range": "bytes=0--1"})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) != 64<<20 {
		t.Fatalf("got %d with %d bytes, want the whole blob", resp.StatusCode, len(body))
	}
}

func TestDeleteReportsPermanent(t *testing.T) {
	e, _ := newPageEnv(t)
	resp := rawSigned(t, e, http.MethodDelete, "/cont/disk", nil)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("x-ms-delete-type-permanent") != "true" {
		t.Fatalf("got %d, x-ms-delete-type-permanent %q", resp.StatusCode, resp.Header.Get("x-ms-delete-type-permanent"))
	}
}

func TestSASResponseOverridesAndContainerProperties(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	cred := e.credential(DevAccount)
	qp, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: testStart.Add(-time.Hour), ExpiryTime: testStart.Add(time.Hour),
		Permissions: "r", ContainerName: "cont", BlobName: "disk",
		CacheControl: "max-age=5", ContentDisposition: "inline", ContentEncoding: "gzip", ContentLanguage: "fr", ContentType: "text/plain",
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	p, err := anonymousPageBlob(e.t, e.blobURL(DevAccount, "cont", "disk")+"?"+qp.Encode()).GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *p.CacheControl != "max-age=5" || *p.ContentDisposition != "inline" || *p.ContentEncoding != "gzip" || *p.ContentLanguage != "fr" || *p.ContentType != "text/plain" {
		t.Fatalf("overrides not applied: %v %v %v %v %v", *p.CacheControl, *p.ContentDisposition, *p.ContentEncoding, *p.ContentLanguage, *p.ContentType)
	}
	cqp, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: testStart.Add(-time.Hour), ExpiryTime: testStart.Add(time.Hour),
		Permissions: "racwdl", ContainerName: "cont",
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithNoCredential(AccountURL(e.srv.URL, DevAccountName)+"/cont?"+cqp.Encode(), &container.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetProperties(ctx, nil)
	wantError(t, err, http.StatusForbidden, "AuthorizationPermissionMismatch")
	if _, err := c.NewListBlobsFlatPager(nil).NextPage(ctx); err != nil {
		t.Fatalf("listing with the container SAS: %v", err)
	}
}

// legacySAS signs a read SAS for cont/disk with an older signed version,
// laying out the string-to-sign as that version's documentation does.
func legacySAS(version string) string {
	q := url.Values{"sv": {version}, "sr": {"b"}, "sp": {"r"}, "se": {"2026-11-25T00:00:00Z"}}
	resource := "/blob/" + DevAccountName + "/cont/disk"
	var fields []string
	switch {
	case version >= "2018-11-09":
		fields = []string{"r", "", "2026-11-25T00:00:00Z", resource, "", "", "", version, "b", "", "", "", "", "", ""}
	case version >= "2015-04-05":
		fields = []string{"r", "", "2026-11-25T00:00:00Z", resource, "", "", "", version, "", "", "", "", ""}
	case version >= "2013-08-15":
		fields = []string{"r", "", "2026-11-25T00:00:00Z", "/" + DevAccountName + "/cont/disk", "", version, "", "", "", "", ""}
	default:
		fields = []string{"r", "", "2026-11-25T00:00:00Z", "/" + DevAccountName + "/cont/disk", "", version}
	}
	key, _ := base64.StdEncoding.DecodeString(DevAccountKey)
	q.Set("sig", sign(key, strings.Join(fields, "\n")))
	return q.Encode()
}

func TestOlderSASVersionsAccepted(t *testing.T) {
	e, _ := newPageEnv(t)
	for _, v := range []string{"2012-02-12", "2013-08-15", "2015-04-05", "2018-11-09"} {
		_, err := anonymousPageBlob(e.t, e.blobURL(DevAccount, "cont", "disk")+"?"+legacySAS(v)).GetProperties(context.Background(), nil)
		if err != nil {
			t.Errorf("sv=%s: %v", v, err)
		}
		tampered := strings.Replace(legacySAS(v), "sp=r", "sp=rw", 1)
		_, err = anonymousPageBlob(e.t, e.blobURL(DevAccount, "cont", "disk")+"?"+tampered).GetProperties(context.Background(), nil)
		wantError(t, err, http.StatusForbidden, "AuthenticationFailed")
	}
}
