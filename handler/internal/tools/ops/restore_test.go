package ops

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// restoreRun runs `restore` on the env's fake clock.
func (e *storageEnv) restoreRun(args ...string) (stdout string, err error) {
	return e.runCommand(restoreCommand{e.fakeSurroundings(nil)}.run, args)
}

// copiedChain copies two source snapshots to the destination and returns
// them, oldest first.
func copiedChain(t *testing.T) (*storageEnv, []string) {
	e := newStorageEnv(t)
	first := e.writeAndSnapshot(0, 4096)
	e.startCopy(first)
	e.clock.Advance(time.Minute)
	second := e.writeAndSnapshot(16384, 8192)
	e.startCopy(second)
	e.clock.Advance(time.Minute)
	return e, []string{first, second}
}

func (e *storageEnv) targetURL(name string) string {
	return e.blobURL(storageemu.DevAccount, "backups", name)
}

func TestRestoreRefusesWhatItCannotDo(t *testing.T) {
	e, snaps := copiedChain(t)
	existing := e.targetURL("existing.vhd")
	if _, err := e.pageBlob(storageemu.DevAccount, existing).Create(context.Background(), 4096, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		want  error
		usage bool
	}{
		{name: "no such restore point", args: []string{e.destURL, "-at", "2026-11-24T09:00:00.0000000Z", "-to", e.targetURL("r.vhd")}, want: ErrNoRestorePoint},
		{name: "nothing copied yet", args: []string{e.targetURL("nothing.vhd"), "-latest", "-to", e.targetURL("r.vhd")}, want: ErrNoRestorePoint},
		{name: "target exists", args: []string{e.destURL, "-at", snaps[0], "-to", existing}, want: ErrTargetExists},
		{name: "target is the destination", args: []string{e.destURL, "-latest", "-to", e.destURL}, usage: true},
		{name: "target with a SAS", args: []string{e.destURL, "-latest", "-to", existing + "?sv=1&sig=SECRET"}, usage: true},
		{name: "both -at and -latest", args: []string{e.destURL, "-latest", "-at", snaps[0], "-to", existing}, usage: true},
		{name: "neither -at nor -latest", args: []string{e.destURL, "-to", existing}, usage: true},
		{name: "no -to", args: []string{e.destURL, "-latest"}, usage: true},
		{name: "bad time", args: []string{e.destURL, "-at", "yesterday", "-to", existing}, usage: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.restoreRun(c.args...)
			switch {
			case err == nil:
				t.Fatal("accepted")
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("err %v, want %v", err, c.want)
			case errors.Is(err, cli.ErrUsage) != c.usage:
				t.Fatalf("usage error %v, want %v: %v", errors.Is(err, cli.ErrUsage), c.usage, err)
			case strings.Contains(err.Error(), "SECRET"):
				t.Fatalf("error shows the SAS: %v", err)
			}
		})
	}
	if got := blobtest.Download(e.t, e.pageBlob(storageemu.DevAccount, existing), ""); len(got) != 4096 || !bytes.Equal(got, make([]byte, 4096)) {
		t.Fatal("the existing target was touched")
	}
}

// TestVerifyDetectsMismatches compares blobs that differ in bytes and in
// length, which fail, and in page ranges only (a page of zeros written),
// which verifies and says the ranges differ.
func TestVerifyDetectsMismatches(t *testing.T) {
	e := newStorageEnv(t)
	ctx := context.Background()
	blobWith := func(name string, size int64, pages map[int64]byte) *pageblob.Client {
		c := e.pageBlob(storageemu.DevAccount, e.targetURL(name))
		if _, err := c.Create(ctx, size, nil); err != nil {
			t.Fatal(err)
		}
		for off, fill := range pages {
			if _, err := c.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(bytes.Repeat([]byte{fill}, 512))), blob.HTTPRange{Offset: off, Count: 512}, nil); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	want := blobWith("want.vhd", 64<<10, map[int64]byte{0: 1, 512: 2, 8192: 3})
	same := blobWith("same.vhd", 64<<10, map[int64]byte{0: 1, 512: 2, 8192: 3})
	v, err := comparePageBlobs(ctx, want, same)
	if err != nil || v.PageRanges != 2 || v.Bytes != 1536 || !v.RangesIdentical {
		t.Fatalf("identical blobs: %+v, %v; want 2 identical ranges, 1536 bytes", v, err)
	}
	// A page written with zeros in one blob only: bytes equal everywhere,
	// and the zero page is compared too (it is in the union of ranges).
	zeros := blobWith("ranges.vhd", 64<<10, map[int64]byte{0: 1, 512: 2, 8192: 3, 16384: 0})
	v, err = comparePageBlobs(ctx, want, zeros)
	if err != nil || v.RangesIdentical || v.RestoredPageRanges != 3 || v.Bytes != 2048 {
		t.Fatalf("a page of zeros: %+v, %v; want verified, ranges differing (3 vs 2), 2048 bytes compared", v, err)
	}
	for name, c := range map[string]struct {
		blob *pageblob.Client
		says string
	}{
		"a byte differs": {blobWith("bytes.vhd", 64<<10, map[int64]byte{0: 1, 512: 9, 8192: 3}), "byte 512 differs"},
		// Data outside the restore point's ranges is compared as well.
		"a page outside the ranges": {blobWith("extra.vhd", 64<<10, map[int64]byte{0: 1, 512: 2, 8192: 3, 16384: 7}), "byte 16384 differs"},
		"a different length":        {blobWith("length.vhd", 128<<10, map[int64]byte{0: 1, 512: 2, 8192: 3}), "131072 bytes long"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := comparePageBlobs(ctx, want, c.blob)
			if !errors.Is(err, ErrVerifyMismatch) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err %v, want a mismatch saying %q", err, c.says)
			}
		})
	}
}
