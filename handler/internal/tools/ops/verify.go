package ops

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// verifyChunk is how much of each blob is held in memory at once.
const verifyChunk = 4 << 20

// verification is what -verify found. Bytes decide: whether the service's
// Copy Blob keeps pages that were written with zeros as page ranges is not
// documented, so a restore with the same bytes but another range layout is
// correct, and says so instead of failing.
type verification struct {
	PageRanges int   `json:"pageRanges"`
	Bytes      int64 `json:"bytes"`
	// RangesIdentical is false when the two blobs store their pages in
	// different ranges (zero pages written in one, not in the other).
	RangesIdentical bool `json:"rangesIdentical"`
	// RestoredPageRanges is the restored blob's count of page ranges.
	RestoredPageRanges int `json:"restoredPageRanges"`
}

// pageRange is an inclusive byte range of written pages.
type pageRange struct{ Start, End int64 }

// verify compares the restored blob target with snapshot of source, the
// restore point: same length and the same bytes in every page either of
// them stores (outside both, both read as zeros, so the same bytes
// everywhere), and reports whether their page ranges are the same too.
func (a storageAuth) verify(ctx context.Context, source copyjob.BlobRef, snapshot string, target copyjob.BlobRef) (verification, error) {
	want, err := a.pageBlobClient(source)
	if err == nil {
		want, err = want.WithSnapshot(snapshot)
	}
	if err != nil {
		return verification{}, err
	}
	got, err := a.pageBlobClient(target)
	if err != nil {
		return verification{}, err
	}
	return comparePageBlobs(ctx, want, got)
}

func comparePageBlobs(ctx context.Context, want, got *pageblob.Client) (verification, error) {
	var sizes [2]int64
	var ranges [2][]pageRange
	for i, c := range []*pageblob.Client{want, got} {
		props, err := c.GetProperties(ctx, nil)
		if err != nil {
			return verification{}, fmt.Errorf("verify: %w", err)
		}
		if props.ContentLength != nil {
			sizes[i] = *props.ContentLength
		}
		if ranges[i], err = listPageRanges(ctx, c.NewGetPageRangesPager(nil)); err != nil {
			return verification{}, fmt.Errorf("verify: %w", err)
		}
	}
	if sizes[0] != sizes[1] {
		return verification{}, fmt.Errorf("%w: %d bytes long, the restore point %d", ErrVerifyMismatch, sizes[1], sizes[0])
	}
	v := verification{PageRanges: len(ranges[0]), RestoredPageRanges: len(ranges[1]), RangesIdentical: slices.Equal(ranges[0], ranges[1])}
	for _, r := range unionRanges(ranges[0], ranges[1]) {
		for off := r.Start; off <= r.End; off += verifyChunk {
			n := min(verifyChunk, r.End-off+1)
			a, err := readRange(ctx, want, off, n)
			if err != nil {
				return v, err
			}
			b, err := readRange(ctx, got, off, n)
			if err != nil {
				return v, err
			}
			if !bytes.Equal(a, b) {
				return v, fmt.Errorf("%w: byte %d differs", ErrVerifyMismatch, off+int64(firstByteDifference(a, b)))
			}
			v.Bytes += n
		}
	}
	return v, nil
}

// listPageRanges lists a blob's written pages, adjacent ranges merged, so
// that two listings compare whatever way the service split them.
func listPageRanges(ctx context.Context, pager *runtime.Pager[pageblob.GetPageRangesResponse]) ([]pageRange, error) {
	var out []pageRange
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.PageRange {
			if r == nil || r.Start == nil || r.End == nil {
				continue
			}
			if n := len(out); n > 0 && out[n-1].End+1 == *r.Start {
				out[n-1].End = *r.End
				continue
			}
			out = append(out, pageRange{Start: *r.Start, End: *r.End})
		}
	}
	return out, nil
}

// unionRanges merges two sorted lists of merged ranges into the sorted,
// merged list of the bytes either covers.
func unionRanges(a, b []pageRange) []pageRange {
	all := append(append([]pageRange(nil), a...), b...)
	slices.SortFunc(all, func(x, y pageRange) int { return cmp.Compare(x.Start, y.Start) })
	var out []pageRange
	for _, r := range all {
		if n := len(out); n > 0 && r.Start <= out[n-1].End+1 {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

func firstByteDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func readRange(ctx context.Context, c *pageblob.Client, off, n int64) ([]byte, error) {
	resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: n}})
	if err != nil {
		return nil, fmt.Errorf("verify: read %d bytes at %d: %w", n, off, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("verify: read %d bytes at %d: %w", n, off, err)
	}
	return b, nil
}
