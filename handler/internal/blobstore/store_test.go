package blobstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// devKey is the public, well-known development storage key.
const devKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// captureServer is a minimal Blob endpoint: it records every request and
// answers with scripted status codes and headers, like the service would.
type captureServer struct {
	mu       sync.Mutex
	requests []*http.Request
	// respond scripts the answer; nil answers 404 BlobNotFound.
	respond func(w http.ResponseWriter, r *http.Request)
}

func (c *captureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, r.Clone(context.Background()))
	respond := c.respond
	c.mu.Unlock()
	w.Header().Set("x-ms-request-id", "req-1")
	w.Header().Set("x-ms-version", "2026-12-06")
	if respond == nil {
		serviceError(w, http.StatusNotFound, "BlobNotFound")
		return
	}
	respond(w, r)
}

func serviceError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>scripted</Message></Error>`, code)
}

func (c *captureServer) last(t *testing.T) *http.Request {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) == 0 {
		t.Fatal("no request reached the server")
	}
	return c.requests[len(c.requests)-1]
}

var start = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func sharedKeyStore(t *testing.T, srv *httptest.Server) *Store {
	t.Helper()
	key, err := blob.NewSharedKeyCredential("devstoreaccount1", devKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{
		Credentials: Credentials{SharedKeys: map[string]*blob.SharedKeyCredential{"devstoreaccount1": key}},
		Client:      azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
		Clock:       clock.NewFake(start),
		SASLifetime: 48 * time.Hour,
		Hosts:       copyjob.StorageHosts{Emulator: srv.URL + "/devstoreaccount1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ref(t *testing.T, raw string) copyjob.BlobRef {
	t.Helper()
	r, _, err := copyjob.ParseBlobURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestStartCopyRequestOnTheWire checks the exact request the service sees:
// PUT ?comp=incrementalcopy with x-ms-copy-source = base blob URL +
// snapshot= + a read-only sr=b SAS, and If-None-Match: * for a first copy.
func TestStartCopyRequestOnTheWire(t *testing.T) {
	capture := &captureServer{respond: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-copy-id", "copy-42")
		w.Header().Set("x-ms-copy-status", "pending")
		w.Header().Set("ETag", `"0x1"`)
		w.WriteHeader(http.StatusAccepted)
	}}
	srv := httptest.NewServer(capture)
	defer srv.Close()
	store := sharedKeyStore(t, srv)
	source := ref(t, srv.URL+"/devstoreaccount1/disks/vm 1.vhd")
	dest := ref(t, srv.URL+"/devstoreaccount1/backups/vm 1.vhd")
	const snapshot = "2026-11-24T10:00:00.1234567Z"

	sas, err := store.SourceSAS(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	copyID, err := store.StartCopy(context.Background(), dest, source, snapshot, sas, true)
	if err != nil {
		t.Fatal(err)
	}
	if copyID != "copy-42" {
		t.Fatalf("copy id %q", copyID)
	}
	req := capture.last(t)
	if req.Method != http.MethodPut || req.URL.Query().Get("comp") != "incrementalcopy" || req.URL.Path != "/devstoreaccount1/backups/vm%201.vhd" && req.URL.Path != "/devstoreaccount1/backups/vm 1.vhd" {
		t.Fatalf("request %s %s", req.Method, req.URL)
	}
	if req.Header.Get("If-None-Match") != "*" {
		t.Errorf("If-None-Match = %q, want * for a first copy", req.Header.Get("If-None-Match"))
	}
	if !strings.HasPrefix(req.Header.Get("Authorization"), "SharedKey devstoreaccount1:") {
		t.Errorf("Authorization = %q", req.Header.Get("Authorization"))
	}
	copySource, err := url.Parse(req.Header.Get("x-ms-copy-source"))
	if err != nil {
		t.Fatal(err)
	}
	q := copySource.Query()
	if copySource.Scheme+"://"+copySource.Host+copySource.Path != srv.URL+"/devstoreaccount1/disks/vm 1.vhd" {
		t.Errorf("copy source blob %s", copySource)
	}
	if q.Get("snapshot") != snapshot {
		t.Errorf("snapshot = %q", q.Get("snapshot"))
	}
	if q.Get("sr") != "b" || q.Get("sp") != "r" || q.Get("sig") == "" {
		t.Errorf("SAS sr=%q sp=%q sig set=%v, want sr=b sp=r", q.Get("sr"), q.Get("sp"), q.Get("sig") != "")
	}
	if se, _ := time.Parse(time.RFC3339, q.Get("se")); !se.Equal(start.Add(48 * time.Hour)) {
		t.Errorf("SAS expiry %q", q.Get("se"))
	}
}

func TestStartCopyDiffHasNoCondition(t *testing.T) {
	capture := &captureServer{respond: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-copy-id", "copy-43")
		w.WriteHeader(http.StatusAccepted)
	}}
	srv := httptest.NewServer(capture)
	defer srv.Close()
	store := sharedKeyStore(t, srv)
	sas, _ := copyjob.ParseSAS("sv=2026-12-06&sr=b&sp=r&sig=a+b/c=")
	if _, err := store.StartCopy(context.Background(), ref(t, srv.URL+"/devstoreaccount1/b/d"), ref(t, srv.URL+"/devstoreaccount1/s/d"), "2026-11-24T10:00:00.0000000Z", sas, false); err != nil {
		t.Fatal(err)
	}
	req := capture.last(t)
	if req.Header.Get("If-None-Match") != "" {
		t.Errorf("If-None-Match on a diff copy")
	}
	// A raw "+" in a hand-pasted signature must reach the service as "+",
	// not as a space.
	copySource, _ := url.Parse(req.Header.Get("x-ms-copy-source"))
	if got := copySource.Query().Get("sig"); got != "a+b/c=" {
		t.Errorf("sig on the wire decodes to %q", got)
	}
}

func TestStartErrorClassification(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   copyjob.StartErrorKind
	}{
		{409, "PendingCopyOperation", copyjob.StartErrPending},
		{409, "IncrementalCopyOfEralierVersionSnapshotNotAllowed", copyjob.StartErrEarlier},
		{409, "IncrementalCopyOfEarlierVersionSnapshotNotAllowed", copyjob.StartErrEarlier},
		{409, "IncrementalCopyOfEarlierSnapshotNotAllowed", copyjob.StartErrEarlier},
		{409, "IncrementalCopyBlobMismatch", copyjob.StartErrConflict},
		{409, "InvalidBlobType", copyjob.StartErrConflict},
		{409, "BlobOverwritten", copyjob.StartErrChainBroken},
		{409, "IncrementalCopyBlobPreviousSnapshotDoesNotExist", copyjob.StartErrChainBroken},
		{409, "IncrementalCopySourceMustBeSnapshot", copyjob.StartErrInvalidSource},
		{409, "CopySourceCannotBeIncrementalCopyBlob", copyjob.StartErrInvalidSource},
		{403, "CannotVerifyCopySource", copyjob.StartErrSourceDenied},
		{404, "CannotVerifyCopySource", copyjob.StartErrSourceDenied},
		{500, "CannotVerifyCopySource", copyjob.StartErrTransient},
		{503, "ServerBusy", copyjob.StartErrTransient},
		{429, "TooManyRequests", copyjob.StartErrTransient},
		{412, "ConditionNotMet", copyjob.StartErrTransient},
		{403, "AuthorizationPermissionMismatch", copyjob.StartErrTransient},
		{400, "InvalidHeaderValue", copyjob.StartErrOther},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s", c.status, c.code), func(t *testing.T) {
			srv := httptest.NewServer(&captureServer{respond: func(w http.ResponseWriter, r *http.Request) { serviceError(w, c.status, c.code) }})
			defer srv.Close()
			store := sharedKeyStore(t, srv)
			sas, _ := copyjob.ParseSAS("sr=b&sp=r&sig=x")
			_, err := store.StartCopy(context.Background(), ref(t, srv.URL+"/devstoreaccount1/b/d"), ref(t, srv.URL+"/devstoreaccount1/s/d"), "2026-11-24T10:00:00.0000000Z", sas, false)
			se, ok := err.(*copyjob.StartError)
			if !ok {
				t.Fatalf("error %T %v", err, err)
			}
			if se.Kind != c.want || se.Code != c.code || se.Status != c.status {
				t.Fatalf("got kind %d code %s status %d, want kind %d", se.Kind, se.Code, se.Status, c.want)
			}
		})
	}
}

func TestDestinationProperties(t *testing.T) {
	capture := &captureServer{respond: func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("x-ms-blob-type", "PageBlob")
		h.Set("x-ms-incremental-copy", "true")
		h.Set("x-ms-copy-id", "copy-7")
		h.Set("x-ms-copy-status", "success")
		h.Set("x-ms-copy-progress", "4096/1048576")
		h.Set("x-ms-copy-source", "https://src.blob.core.windows.net/disks/vm1.vhd?se=2026&sig=c2VjcmV0&snapshot=2026-11-24T10%3A00%3A00.1234567Z&sp=r&sr=b")
		h.Set("x-ms-copy-completion-time", "Tue, 24 Nov 2026 10:05:00 GMT")
		h.Set("x-ms-copy-destination-snapshot", "2026-11-24T10:05:00.0000000Z")
		h.Set("Content-Length", "1048576")
		w.WriteHeader(http.StatusOK)
	}}
	srv := httptest.NewServer(capture)
	defer srv.Close()
	d, err := sharedKeyStore(t, srv).Destination(context.Background(), ref(t, srv.URL+"/devstoreaccount1/b/vm1.vhd"))
	if err != nil {
		t.Fatal(err)
	}
	want := copyjob.Destination{
		Exists: true, Incremental: true, CopyID: "copy-7", CopyStatus: copyjob.StatusSuccess,
		Progress:            copyjob.Progress{Known: true, Bytes: 4096, Total: 1048576},
		CopySource:          "https://src.blob.core.windows.net/disks/vm1.vhd",
		CopySourceSnapshot:  time.Date(2026, 11, 24, 10, 0, 0, 123456700, time.UTC),
		CompletedAt:         time.Date(2026, 11, 24, 10, 5, 0, 0, time.UTC),
		DestinationSnapshot: "2026-11-24T10:05:00.0000000Z",
	}
	if !d.CompletedAt.Equal(want.CompletedAt) {
		t.Fatalf("CompletedAt %v", d.CompletedAt)
	}
	d.CompletedAt = want.CompletedAt
	if d != want {
		t.Fatalf("Destination =\n%+v\nwant\n%+v", d, want)
	}
	if req := capture.last(t); req.Method != http.MethodHead {
		t.Fatalf("method %s", req.Method)
	}
}

func TestDestinationAbsent(t *testing.T) {
	for _, code := range []string{"BlobNotFound", "ContainerNotFound"} {
		srv := httptest.NewServer(&captureServer{respond: func(w http.ResponseWriter, r *http.Request) { serviceError(w, 404, code) }})
		d, err := sharedKeyStore(t, srv).Destination(context.Background(), ref(t, srv.URL+"/devstoreaccount1/b/vm1.vhd"))
		srv.Close()
		if err != nil || d.Exists {
			t.Fatalf("%s: %+v, %v", code, d, err)
		}
	}
}

func TestHistoryFromListBlobs(t *testing.T) {
	capture := &captureServer{respond: func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("comp") != "list" || q.Get("prefix") != "vm1.vhd" || !strings.Contains(q.Get("include"), "snapshots") || !strings.Contains(q.Get("include"), "copy") {
			serviceError(w, 400, "UnexpectedRequest")
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="x" ContainerName="b"><Blobs>
<Blob><Name>vm1.vhd</Name><Snapshot>2026-11-24T10:05:00.0000000Z</Snapshot><Properties><BlobType>PageBlob</BlobType><CopySource>https://src/disks/vm1.vhd?snapshot=2026-11-24T10%3A00%3A00.0000000Z</CopySource><CopyStatus>success</CopyStatus><IncrementalCopy>true</IncrementalCopy></Properties></Blob>
<Blob><Name>vm1.vhd</Name><Snapshot>2026-11-24T11:05:00.0000000Z</Snapshot><Properties><BlobType>PageBlob</BlobType><CopySource>https://src/disks/vm1.vhd?snapshot=2026-11-24T11%3A00%3A00.0000000Z</CopySource><CopyId>copy-2</CopyId><CopyStatus>success</CopyStatus><CopyProgress>4096/8192</CopyProgress></Properties></Blob>
<Blob><Name>vm1.vhd</Name><Properties><BlobType>PageBlob</BlobType><CopySource>https://src/disks/vm1.vhd?snapshot=2026-11-24T12%3A00%3A00.0000000Z</CopySource></Properties></Blob>
<Blob><Name>vm1.vhd.old</Name><Snapshot>2026-11-24T09:05:00.0000000Z</Snapshot><Properties><CopySource>https://src/disks/vm1.vhd?snapshot=2026-11-24T09%3A00%3A00.0000000Z</CopySource></Properties></Blob>
</Blobs><NextMarker/></EnumerationResults>`)
	}}
	srv := httptest.NewServer(capture)
	defer srv.Close()
	h, err := sharedKeyStore(t, srv).History(context.Background(), ref(t, srv.URL+"/devstoreaccount1/b/vm1.vhd"))
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 {
		t.Fatalf("history %+v", h)
	}
	if got, ok := h.Find("https://src/disks/vm1.vhd", time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC)); !ok || got.DestinationSnapshot != "2026-11-24T11:05:00.0000000Z" {
		t.Fatalf("Find = %+v %v", got, ok)
	}
	want := copyjob.CopiedSnapshot{SourceBlobURL: "https://src/disks/vm1.vhd", SourceSnapshot: time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC),
		DestinationSnapshot: "2026-11-24T11:05:00.0000000Z", CopyID: "copy-2", Progress: copyjob.Progress{Known: true, Bytes: 4096, Total: 8192}}
	if h[1] != want {
		t.Fatalf("listed copy properties %+v, want %+v", h[1], want)
	}
	if h[0].Progress.Known || h[0].CopyID != "" {
		t.Fatalf("a snapshot listed without copy id or progress gave %+v", h[0])
	}
}

// fakeToken is a TokenCredential for the loopback TLS server.
type fakeToken struct{}

func (fakeToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "token", ExpiresOn: start.Add(time.Hour)}, nil
}

// TestUserDelegationSASIsCachedAndBaseBlob checks that a token credential
// mints user-delegation SAS tokens for the base blob (sr=b, read) and that
// one delegation key serves many of them.
func TestUserDelegationSASIsCachedAndBaseBlob(t *testing.T) {
	var keyRequests int
	var mu sync.Mutex
	capture := &captureServer{respond: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("comp") != "userdelegationkey" || r.Method != http.MethodPost {
			serviceError(w, 400, "UnexpectedRequest")
			return
		}
		mu.Lock()
		keyRequests++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>oid</SignedOid><SignedTid>tid</SignedTid><SignedStart>2026-11-24T11:55:00Z</SignedStart><SignedExpiry>2026-12-01T11:00:00Z</SignedExpiry><SignedService>b</SignedService><SignedVersion>2026-12-06</SignedVersion><Value>`+devKey+`</Value></UserDelegationKey>`)
	}}
	srv := httptest.NewTLSServer(capture)
	defer srv.Close()
	transport := srv.Client().Transport.(*http.Transport)
	transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // loopback test server, self-signed
	clk := clock.NewFake(start)
	store, err := New(Options{
		Credentials: Credentials{Token: fakeToken{}},
		Client:      azcore.ClientOptions{Transport: &http.Client{Transport: transport}, Retry: policy.RetryOptions{MaxRetries: -1}},
		Clock:       clk,
		SASLifetime: 48 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	source := ref(t, "https://srcacct.blob.core.windows.net/disks/vm1.vhd")
	// Route the account host to the test server.
	store.opts.Client.Transport = hostRewriter{to: srv.Listener.Addr().String(), next: &http.Client{Transport: transport}}
	for i := 0; i < 3; i++ {
		sas, err := store.SourceSAS(context.Background(), source)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(sas.Encode())
		if q.Get("sr") != "b" || q.Get("sp") != "r" || q.Get("skoid") != "oid" || q.Get("sig") == "" || q.Get("spr") != "https" {
			t.Fatalf("UD SAS %v", q)
		}
		clk.Advance(time.Hour)
	}
	if keyRequests != 1 {
		t.Fatalf("%d delegation key requests, want 1 (cached)", keyRequests)
	}
	// Near the key's end a new key is fetched, since a SAS must not
	// outlive its key.
	clk.Advance(6 * 24 * time.Hour)
	if _, err := store.SourceSAS(context.Background(), source); err != nil {
		t.Fatal(err)
	}
	if keyRequests != 2 {
		t.Fatalf("%d delegation key requests, want 2 after the key aged", keyRequests)
	}
}

// hostRewriter sends every request to the loopback test server.
type hostRewriter struct {
	to   string
	next policy.Transporter
}

func (h hostRewriter) Do(r *http.Request) (*http.Response, error) {
	r.URL.Host = h.to
	r.Host = h.to
	return h.next.Do(r)
}

func TestSourceSnapshotsForbidden(t *testing.T) {
	srv := httptest.NewServer(&captureServer{respond: func(w http.ResponseWriter, r *http.Request) { serviceError(w, 403, "AuthorizationPermissionMismatch") }})
	defer srv.Close()
	_, err := sharedKeyStore(t, srv).SourceSnapshots(context.Background(), ref(t, srv.URL+"/devstoreaccount1/disks/vm1.vhd"))
	if !errors.Is(err, copyjob.ErrListForbidden) {
		t.Fatalf("err = %v, want ErrListForbidden", err)
	}
}

// TestSnapshotSASReadsOneSnapshot: a restore's copy source is signed for
// that snapshot only (sr=bs), read-only, for the lifetime asked.
func TestSnapshotSASReadsOneSnapshot(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	s := sharedKeyStore(t, srv)
	dest := ref(t, srv.URL+"/devstoreaccount1/backups/vm.vhd")
	got, err := s.SnapshotSAS(context.Background(), dest, "2026-11-24T10:00:04.1234567Z", 25*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(got.Encode())
	if q.Get("sr") != "bs" || q.Get("sp") != "r" || q.Get("se") != start.Add(25*time.Hour).Format("2006-01-02T15:04:05Z") || q.Get("sig") == "" {
		t.Fatalf("SAS %v", q)
	}
	if _, err := s.SnapshotSAS(context.Background(), dest, "yesterday", time.Hour); err == nil {
		t.Fatal("a malformed snapshot time was signed")
	}
}
