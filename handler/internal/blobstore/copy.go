package blobstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// ErrBlobExists is returned by StartBlobCopy when the target exists and
// overwriting was not asked for.
var ErrBlobExists = errors.New("the target blob exists")

// StartBlobCopy starts Copy Blob (asynchronous, server-side) of source, a
// blob or snapshot URL carrying its SAS, into target, and returns the copy
// id; the copy's progress is read like a destination's (Destination). The
// target becomes an ordinary blob. Without overwrite it must not exist
// (If-None-Match: *, so a blob created meanwhile is not replaced either).
func (s *Store) StartBlobCopy(ctx context.Context, target copyjob.BlobRef, source string, overwrite bool) (string, error) {
	client, err := s.pageBlob(target)
	if err != nil {
		return "", err
	}
	var opts *blob.StartCopyFromURLOptions
	if !overwrite {
		opts = &blob.StartCopyFromURLOptions{AccessConditions: &blob.AccessConditions{
			ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}}
	}
	resp, err := client.StartCopyFromURL(ctx, source, opts)
	switch {
	case !overwrite && bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet):
		return "", fmt.Errorf("%w: %s", ErrBlobExists, target.URL)
	case err != nil:
		return "", fmt.Errorf("copy blob into %s: %w", target.URL, err)
	}
	return deref(resp.CopyID), nil
}
