package blobstore

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// countingToken counts the tokens it hands out.
type countingToken struct{ n atomic.Int32 }

func (c *countingToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.n.Add(1)
	return azcore.AccessToken{Token: "token", ExpiresOn: start.Add(time.Hour)}, nil
}

// storeCalls calls every Store method that makes a request on dest (and
// source) and returns their errors by name.
func storeCalls(s *Store, dest, source copyjob.BlobRef) map[string]error {
	ctx := context.Background()
	sas, _ := copyjob.ParseSAS("sv=2026-12-06&sr=b&sp=r&sig=c2ln")
	errs := map[string]error{}
	_, errs["Destination"] = s.Destination(ctx, dest)
	_, errs["History"] = s.History(ctx, dest)
	_, errs["SourceSnapshots"] = s.SourceSnapshots(ctx, dest)
	_, errs["StartCopy"] = s.StartCopy(ctx, dest, source, "2026-11-24T10:00:00.1234567Z", sas, true)
	errs["AbortCopy"] = s.AbortCopy(ctx, dest, "copy-1")
	_, errs["SourceSAS"] = s.SourceSAS(ctx, dest)
	return errs
}

func requireRefused(t *testing.T, errs map[string]error) {
	t.Helper()
	for name, err := range errs {
		if !errors.Is(err, copyjob.ErrNotStorageHost) {
			t.Errorf("%s: err %v, want a refusal wrapping ErrNotStorageHost", name, err)
		}
	}
}

func requestCount(c *captureServer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.requests)
}

// TestSecurityStoreSendsNoSharedKeyToForeignHosts: the adapter itself
// refuses every request to a host that is not the configured emulator,
// even for an account it holds a Shared Key for. The spy must see nothing.
func TestSecurityStoreSendsNoSharedKeyToForeignHosts(t *testing.T) {
	spy := &captureServer{}
	srv := httptest.NewServer(spy)
	defer srv.Close()
	emulator := httptest.NewServer(&captureServer{})
	defer emulator.Close()
	store := sharedKeyStore(t, emulator)
	foreign := ref(t, srv.URL+"/devstoreaccount1/backups/vm1.vhd")
	requireRefused(t, storeCalls(store, foreign, foreign))
	if n := requestCount(spy); n != 0 {
		t.Fatalf("the foreign host received %d requests, want 0", n)
	}
}

// TestSecurityStoreSendsNoTokenToForeignHosts: with a token credential,
// a request to any https host that is not <account>.blob.<suffix> is
// refused before a token is even fetched. The control call shows that the
// same spy, addressed as a storage host, would have received the token.
func TestSecurityStoreSendsNoTokenToForeignHosts(t *testing.T) {
	spy := &captureServer{}
	srv := httptest.NewTLSServer(spy)
	defer srv.Close()
	transport := srv.Client().Transport.(*http.Transport)
	transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // loopback test server, self-signed
	token := &countingToken{}
	store, err := New(Options{
		Credentials: Credentials{Token: token},
		Client:      azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
		SASLifetime: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every host name resolves to the spy.
	store.opts.Client.Transport = hostRewriter{to: srv.Listener.Addr().String(), next: &http.Client{Transport: transport}}
	for _, raw := range []string{
		srv.URL + "/acct/backups/vm1.vhd",
		"https://acct.blob.core.windows.net.evil.example/backups/vm1.vhd",
		"https://evil.example/backups/vm1.vhd",
	} {
		foreign := ref(t, raw)
		requireRefused(t, storeCalls(store, foreign, ref(t, "https://src.blob.core.windows.net/disks/vm1.vhd")))
	}
	if n, tokens := requestCount(spy), token.n.Load(); n != 0 || tokens != 0 {
		t.Fatalf("foreign hosts: %d requests reached the spy and %d tokens were fetched, want 0 and 0", n, tokens)
	}
	if _, err := store.Destination(context.Background(), ref(t, "https://acct.blob.core.windows.net/backups/vm1.vhd")); err != nil {
		t.Fatalf("control: %v", err)
	}
	if got := spy.last(t).Header.Get("Authorization"); got != "Bearer token" {
		t.Fatalf("control: Authorization %q, want the bearer token", got)
	}
}

// TestSecurityStoreSendsNoSASForAForeignSource: the destination is a
// storage endpoint, the source is not. No SAS is minted for that source,
// and no copy request carrying one in x-ms-copy-source leaves the process.
func TestSecurityStoreSendsNoSASForAForeignSource(t *testing.T) {
	spy := &captureServer{}
	srv := httptest.NewServer(spy)
	defer srv.Close()
	store := sharedKeyStore(t, srv)
	dest := ref(t, srv.URL+"/devstoreaccount1/backups/vm1.vhd")
	foreign := ref(t, "http://127.0.0.1:1/devstoreaccount1/disks/vm1.vhd")
	if _, err := store.SourceSAS(context.Background(), foreign); !errors.Is(err, copyjob.ErrNotStorageHost) {
		t.Fatalf("SourceSAS for a foreign source: err %v, want a refusal", err)
	}
	sas, err := store.SourceSAS(context.Background(), ref(t, srv.URL+"/devstoreaccount1/disks/vm1.vhd"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.StartCopy(context.Background(), dest, foreign, "2026-11-24T10:00:00.1234567Z", sas, true)
	var se *copyjob.StartError
	if !errors.As(err, &se) || se.Kind != copyjob.StartErrOther || !errors.Is(err, copyjob.ErrNotStorageHost) {
		t.Fatalf("StartCopy from a foreign source: err %v, want a permanent refusal", err)
	}
	if n := requestCount(spy); n != 0 {
		t.Fatalf("%d requests carried the SAS out, want 0", n)
	}
}
