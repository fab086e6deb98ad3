package storageemu

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
)

func TestAbortCopy(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	first := f.copied(s1)
	f.uploadPages(f.source, 65536, pattern(4, 4096))
	s2 := f.snapshot(f.source)
	resp := f.start(s2)
	ctx := context.Background()

	_, err := f.dest.AbortCopyFromURL(ctx, "00000000-0000-0000-0000-000000000000", nil)
	wantError(t, err, http.StatusConflict, "CopyIdMismatch")
	f.clock.Advance(250 * time.Millisecond)
	if _, err := f.dest.AbortCopyFromURL(ctx, *resp.CopyID, nil); err != nil {
		t.Fatalf("abort: %v", err)
	}
	p := f.props()
	if *p.CopyStatus != "aborted" || *p.CopyProgress != "1024/4096" || p.CopyCompletionTime == nil || p.DestinationSnapshot != nil {
		t.Fatalf("aborted copy: status %v progress %v", *p.CopyStatus, *p.CopyProgress)
	}
	_, err = f.dest.AbortCopyFromURL(ctx, *resp.CopyID, nil)
	wantError(t, err, http.StatusConflict, "NoPendingCopyOperation")

	// The chain goes on from the last successful copy.
	p3 := f.copied(s2)
	if !bytes.Equal(blobtest.Download(f.t, f.dest, *p3.DestinationSnapshot), blobtest.Download(f.t, f.source, s2)) {
		t.Fatal("copy after abort differs from source")
	}
	if !bytes.Equal(blobtest.Download(f.t, f.dest, *first.DestinationSnapshot), blobtest.Download(f.t, f.source, s1)) {
		t.Fatal("first destination snapshot changed")
	}
}

func TestAbortCopyOnOrdinaryBlob(t *testing.T) {
	e := newEnv(t, Options{})
	e.createContainer(DevAccount, "cont", nil)
	pb := e.createPageBlob(DevAccount, "cont", "b", 512, nil)
	_, err := pb.AbortCopyFromURL(context.Background(), "00000000-0000-0000-0000-000000000000", &blob.AbortCopyFromURLOptions{})
	wantError(t, err, http.StatusConflict, "NoPendingCopyOperation")
}
