package blobstore

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// ChangedBytes measures what snapshot s of ref adds to the one before it:
// the bytes of the page ranges that differ from snapshot previous (Get Page
// Ranges with prevsnapshot), or of all its page ranges when previous is
// empty. Cleared ranges cost nothing and are not counted.
func (s *Store) ChangedBytes(ctx context.Context, ref copyjob.BlobRef, snapshot, previous string) (int64, error) {
	client, err := s.pageBlob(ref)
	if err != nil {
		return 0, err
	}
	if client, err = client.WithSnapshot(snapshot); err != nil {
		return 0, err
	}
	if previous == "" {
		return sumPageRanges(ctx, client.NewGetPageRangesPager(nil), func(r pageblob.GetPageRangesResponse) []*pageblob.PageRange { return r.PageRange })
	}
	return sumPageRanges(ctx, client.NewGetPageRangesDiffPager(&pageblob.GetPageRangesDiffOptions{PrevSnapshot: &previous}),
		func(r pageblob.GetPageRangesDiffResponse) []*pageblob.PageRange { return r.PageRange })
}

// sumPageRanges adds up the page ranges of every page of a listing (large
// blobs page with NextMarker).
func sumPageRanges[T any](ctx context.Context, pager *runtime.Pager[T], ranges func(T) []*pageblob.PageRange) (int64, error) {
	var total int64
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, r := range ranges(page) {
			if r != nil && r.Start != nil && r.End != nil {
				total += *r.End - *r.Start + 1
			}
		}
	}
	return total, nil
}
