package storageemu

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// TestStartCopyIncrementalRequest pins the exact request azblob sends: its
// prevSnapshot argument is the snapshot to copy, written into snapshot=.
func TestStartCopyIncrementalRequest(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	var mu sync.Mutex
	var seen *http.Request
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("comp") == "incrementalcopy" {
			mu.Lock()
			seen = r.Clone(context.Background())
			mu.Unlock()
		}
		f.emu.ServeHTTP(w, r)
	}))
	defer recorder.Close()
	dest, err := newPageBlobClient(recorder.URL+"/backup/copies/vm.vhd", f.credential(backupAccount))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dest.StartCopyIncremental(context.Background(), f.sourceURL, s1, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen == nil || seen.Method != http.MethodPut || seen.URL.Path != "/backup/copies/vm.vhd" || seen.URL.RawQuery != "comp=incrementalcopy" {
		t.Fatalf("request %v", seen)
	}
	if v := seen.Header.Get("x-ms-version"); v != ServiceVersion {
		t.Fatalf("x-ms-version %q", v)
	}
	src, err := url.Parse(seen.Header.Get("x-ms-copy-source"))
	if err != nil {
		t.Fatal(err)
	}
	q := src.Query()
	if q.Get("snapshot") != s1 || q.Get("sr") != "b" || q.Get("sp") != "r" || q.Get("sig") == "" || src.Path != "/devstoreaccount1/disks/vm.vhd" {
		t.Fatalf("x-ms-copy-source %s", src)
	}
}
