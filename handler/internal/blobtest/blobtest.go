// Package blobtest holds what the tests that read blobs through azblob
// share, against the storage emulator or a real account: downloading a page
// blob or one of its snapshots, and following a pager to its end. It fails
// the test on any error, so that a test reads as the checks it makes.
package blobtest

import (
	"context"
	"io"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
)

// Download reads the whole of c or, when snapshot is set, of its snapshot
// taken at that time.
func Download(t testing.TB, c *pageblob.Client, snapshot string) []byte {
	t.Helper()
	if snapshot != "" {
		var err error
		if c, err = c.WithSnapshot(snapshot); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := c.DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatalf("download (snapshot %q): %v", snapshot, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read (snapshot %q): %v", snapshot, err)
	}
	return b
}

// AllPages follows pager to its end and returns every page it answered.
func AllPages[T any](t testing.TB, pager *runtime.Pager[T]) []T {
	t.Helper()
	var pages []T
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
	}
	return pages
}
