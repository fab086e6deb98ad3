package storageemu

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notImplementedCase is one request the emulator must refuse with 501
// before any side effect, and what the answer must name.
type notImplementedCase struct {
	method, path string // path and query under /devstoreaccount1
	headers      map[string]string
	body         string
	names        string
}

// notImplementedCases lists every unimplemented operation the emulator
// recognises and every unimplemented header or parameter of an implemented
// operation (TestNotImplementedCoversEveryRule keeps the list complete).
var notImplementedCases = []notImplementedCase{
	{method: "GET", path: "/?comp=list", names: "List Containers"},
	{method: "GET", path: "/?restype=service&comp=properties", names: "Get Blob Service Properties"},
	{method: "PUT", path: "/?restype=service&comp=properties", names: "Set Blob Service Properties"},
	{method: "GET", path: "/?restype=service&comp=stats", names: "Get Blob Service Stats"},
	{method: "POST", path: "/?restype=service&comp=userdelegationkey", names: "Get User Delegation Key"},
	{method: "GET", path: "/?restype=account&comp=properties", names: "Get Account Information"},
	{method: "GET", path: "/?comp=blobs&where=x", names: "Find Blobs by Tags"},
	{method: "POST", path: "/?comp=batch", names: "Blob Batch"},
	{method: "GET", path: "/cont", names: "GET ? on a container without restype=container"},
	{method: "PUT", path: "/cont?restype=container&comp=metadata", names: "Set Container Metadata"},
	{method: "GET", path: "/cont?restype=container&comp=acl", names: "Get Container ACL"},
	{method: "HEAD", path: "/cont?restype=container&comp=acl", names: "Get Container ACL"},
	{method: "GET", path: "/cont?restype=container&comp=metadata", names: "Get Container Metadata"},
	{method: "HEAD", path: "/cont?restype=container&comp=metadata", names: "Get Container Metadata"},
	{method: "PUT", path: "/cont?restype=container&comp=lease", names: "Lease Container"},
	{method: "PUT", path: "/cont?restype=container&comp=undelete", names: "Restore Container"},
	{method: "PUT", path: "/cont?restype=container&comp=rename", names: "Rename Container"},
	{method: "POST", path: "/cont?restype=container&comp=batch", names: "Blob Batch"},
	{method: "GET", path: "/cont?restype=container&comp=blobs", names: "Find Blobs by Tags in Container"},
	{method: "PUT", path: "/cont?restype=container&comp=frobnicate", names: "PUT ?comp=frobnicate on a container"},
	{method: "PUT", path: "/cont/disk?comp=properties", names: "Set Blob Properties"},
	{method: "PUT", path: "/cont/disk?comp=metadata", names: "Set Blob Metadata"},
	{method: "GET", path: "/cont/disk?comp=metadata", names: "Get Blob Metadata"},
	{method: "HEAD", path: "/cont/disk?comp=metadata", names: "Get Blob Metadata"},
	{method: "PUT", path: "/cont/disk?comp=lease", names: "Lease Blob"},
	{method: "PUT", path: "/cont/disk?comp=block&blockid=AA", names: "Put Block"},
	{method: "PUT", path: "/cont/disk?comp=blocklist", names: "Put Block List"},
	{method: "GET", path: "/cont/disk?comp=blocklist", names: "Get Block List"},
	{method: "PUT", path: "/cont/disk?comp=appendblock", names: "Append Block"},
	{method: "PUT", path: "/cont/disk?comp=seal", names: "Append Blob Seal"},
	{method: "PUT", path: "/cont/disk?comp=tier", names: "Set Blob Tier"},
	{method: "PUT", path: "/cont/disk?comp=tags", names: "Set Blob Tags"},
	{method: "GET", path: "/cont/disk?comp=tags", names: "Get Blob Tags"},
	{method: "PUT", path: "/cont/disk?comp=undelete", names: "Undelete Blob"},
	{method: "PUT", path: "/cont/disk?comp=expiry", names: "Set Blob Expiry"},
	{method: "PUT", path: "/cont/disk?comp=immutabilityPolicies", names: "Set Blob Immutability Policy"},
	{method: "DELETE", path: "/cont/disk?comp=immutabilityPolicies", names: "Delete Blob Immutability Policy"},
	{method: "PUT", path: "/cont/disk?comp=legalhold", names: "Set Blob Legal Hold"},
	{method: "POST", path: "/cont/disk?comp=query", names: "Query Blob Contents"},
	{method: "POST", path: "/cont/disk", names: "POST ? on a blob"},
	{method: "PUT", path: "/cont/disk", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-requires-sync": "true"}, names: "Copy Blob From URL"},
	{method: "PUT", path: "/cont/disk", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-blob-type": "BlockBlob"}, names: "Put Blob From URL"},
	{method: "PUT", path: "/cont/disk?comp=page", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-range": "bytes=0-511", "x-ms-page-write": "update"}, names: "Put Page From URL"},

	{method: "GET", path: "/cont/disk", headers: map[string]string{"x-ms-lease-id": "id"}, names: "leases (x-ms-lease-id) in Get Blob"},
	{method: "PUT", path: "/cont/disk", headers: map[string]string{"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512", "x-ms-if-tags": "\"a\"='b'"}, names: "x-ms-if-tags"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512", "x-ms-tags": "a=b"}, names: "x-ms-tags"},
	{method: "GET", path: "/cont/disk", headers: map[string]string{"x-ms-encryption-key": "a2V5"}, names: "x-ms-encryption-key"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512", "x-ms-encryption-scope": "s"}, names: "x-ms-encryption-scope"},
	{method: "PUT", path: "/other?restype=container", headers: map[string]string{"x-ms-default-encryption-scope": "s"}, names: "x-ms-default-encryption-scope"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512", "x-ms-immutability-policy-until-date": "Fri, 01 Jan 2100 00:00:00 GMT"}, names: "x-ms-immutability-policy-until-date"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512", "x-ms-legal-hold": "true"}, names: "x-ms-legal-hold"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512", "x-ms-access-tier": "P10"}, names: "x-ms-access-tier"},
	{method: "PUT", path: "/cont/disk?comp=page", headers: map[string]string{"x-ms-range": "bytes=0-511", "x-ms-page-write": "update", "x-ms-content-crc64": "AAAAAAAAAAA="}, body: strings.Repeat("x", 512), names: "x-ms-content-crc64"},
	{method: "GET", path: "/cont/disk", headers: map[string]string{"x-ms-range": "bytes=0-511", "x-ms-range-get-content-crc64": "true"}, names: "x-ms-range-get-content-crc64"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-blob-type": "AppendBlob"}, names: "append blobs (x-ms-blob-type: AppendBlob) in Put Blob"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-source-if-match": "\"x\""}, names: "x-ms-source-if-match"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-source-if-none-match": "\"x\""}, names: "x-ms-source-if-none-match"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-source-if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"}, names: "x-ms-source-if-modified-since"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-source-if-unmodified-since": "Fri, 01 Jan 2000 00:00:00 GMT"}, names: "x-ms-source-if-unmodified-since"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-source-if-tags": "\"a\"='b'"}, names: "x-ms-source-if-tags"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-copy-source-authorization": "Bearer x"}, names: "x-ms-copy-source-authorization"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-rehydrate-priority": "High"}, names: "x-ms-rehydrate-priority"},
	{method: "PUT", path: "/cont/new", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk", "x-ms-seal-blob": "true"}, names: "x-ms-seal-blob"},
	{method: "PUT", path: "/cont/new?comp=incrementalcopy", headers: map[string]string{"x-ms-copy-source": "http://127.0.0.1/devstoreaccount1/cont/disk?snapshot=x", "x-ms-meta-name": "v"}, names: "metadata on Incremental Copy Blob"},
	{method: "GET", path: "/cont/disk?comp=pagelist", headers: map[string]string{"x-ms-previous-snapshot-url": "http://127.0.0.1/devstoreaccount1/cont/disk?snapshot=x"}, names: "x-ms-previous-snapshot-url"},
	{method: "GET", path: "/cont/disk?comp=pagelist&prevsnapshoturl=x", names: "prevsnapshoturl"},
	{method: "GET", path: "/cont/disk?versionid=2026-01-01T00:00:00.0000000Z", names: "blob versions (versionid)"},
	{method: "DELETE", path: "/cont/disk?deletetype=permanent", names: "deletetype"},
	{method: "GET", path: "/cont?restype=container&comp=list&delimiter=/", names: "hierarchical listing (delimiter)"},
	{method: "DELETE", path: "/cont?restype=container", headers: map[string]string{"If-Match": "\"x\""}, names: "conditional requests on containers (If-Match)"},
	{method: "DELETE", path: "/cont?restype=container", headers: map[string]string{"If-None-Match": "*"}, names: "conditional requests on containers (If-None-Match)"},
	{method: "DELETE", path: "/cont?restype=container", headers: map[string]string{"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, names: "conditional requests on containers (If-Modified-Since)"},
	{method: "DELETE", path: "/cont?restype=container", headers: map[string]string{"If-Unmodified-Since": "Fri, 01 Jan 2000 00:00:00 GMT"}, names: "conditional requests on containers (If-Unmodified-Since)"},
	{method: "PUT", path: "/cont?restype=container&comp=acl", body: `<?xml version="1.0" encoding="utf-8"?><SignedIdentifiers><SignedIdentifier><Id>p</Id><AccessPolicy><Permission>r</Permission></AccessPolicy></SignedIdentifier></SignedIdentifiers>`, names: "stored access policies in Set Container ACL"},
	{method: "PUT", path: "/cont/diskig", headers: map[string]string{"x-ms-blob-type": "BlockBlob"}, body: strings.Repeat("x", maxPutBlobBytes+1), names: "Put Blob of a block blob larger than 4 MiB"},
}

// TestNotImplementedAnswers501BeforeAnySideEffect sends every case, signed
// with the account key, to an emulator holding container cont and page blob disk:
// each must answer 501 APINotImplemented naming what is unsupported, and
// leave the state exactly as it was.
func TestNotImplementedAnswers501BeforeAnySideEffect(t *testing.T) {
	e, pb := newPageEnv(t)
	e.uploadPages(pb, 0, pattern(1, 512))
	e.snapshot(pb)
	before := stateDigest(t, e)
	for _, c := range notImplementedCases {
		t.Run(c.method+" "+c.path+" "+c.names, func(t *testing.T) {
			req, err := http.NewRequest(c.method, e.srv.URL+"/"+DevAccountName+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			signSharedKey(t, req, DevAccount)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var answer errorBody
			_ = xml.Unmarshal(body, &answer)
			if resp.StatusCode != http.StatusNotImplemented || resp.Header.Get("x-ms-error-code") != "APINotImplemented" {
				t.Fatalf("got %d %s, want 501 APINotImplemented", resp.StatusCode, resp.Header.Get("x-ms-error-code"))
			}
			if c.method != http.MethodHead && !strings.Contains(answer.Message, c.names) {
				t.Fatalf("message %q does not name %q", answer.Message, c.names)
			}
			if after := stateDigest(t, e); after != before {
				t.Fatalf("the refused request changed the state:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// TestNotImplementedCoversEveryRule keeps notImplementedCases complete: every
// unimplemented operation name and every unsupported feature has a case.
func TestNotImplementedCoversEveryRule(t *testing.T) {
	covered := func(name string) bool {
		for _, c := range notImplementedCases {
			if strings.Contains(c.names, name) || strings.Contains(name, c.names) {
				return true
			}
		}
		return false
	}
	for _, op := range notImplementedOps {
		if !covered(string(op)) {
			t.Errorf("no case for %s", op)
		}
	}
	for _, op := range []Operation{opCopyBlobFromURL, opPutBlobFromURL, opPutPageFromURL} {
		if !covered(string(op)) {
			t.Errorf("no case for %s", op)
		}
	}
	for _, f := range unsupportedFeatures {
		if !covered(f.what) {
			t.Errorf("no case for %s", f.what)
		}
	}
}

// stateDigest renders everything the emulator holds that a request could
// change: containers, blobs, snapshots, etags and page ranges.
func stateDigest(t *testing.T, e *env) string {
	t.Helper()
	e.emu.mu.Lock()
	defer e.emu.mu.Unlock()
	var sb strings.Builder
	for _, an := range slices.Sorted(maps.Keys(e.emu.accounts)) {
		a := e.emu.accounts[an]
		for _, cn := range slices.Sorted(maps.Keys(a.containers)) {
			c := a.containers[cn]
			fmt.Fprintf(&sb, "%s/%s %s %s %v\n", an, cn, c.etag, c.publicAccess, c.metadata)
			for _, bn := range slices.Sorted(maps.Keys(c.blobs)) {
				f := c.blobs[bn]
				for _, b := range append([]*pageBlob{f.base}, f.snapshots...) {
					fmt.Fprintf(&sb, "  %s@%s %s %s %v %v\n", bn, b.snapshot, b.etag, b.blobType, b.metadata, b.pages.ranges(0, b.size))
				}
			}
		}
	}
	return sb.String()
}

// signSharedKey signs a hand-made request with acct's key, as the SDKs do.
func signSharedKey(t *testing.T, req *http.Request, acct Account) {
	t.Helper()
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", ServiceVersion)
	signing := req.Clone(context.Background())
	if req.ContentLength > 0 {
		signing.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	key, err := base64.StdEncoding.DecodeString(acct.Key)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", sharedKeyPrefix+acct.Name+":"+sign(key, sharedKeyStringToSign(signing, acct.Name)))
}
