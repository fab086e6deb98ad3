package blobstore

import (
	"context"
	"fmt"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// DeleteSnapshot deletes one snapshot of ref (Delete Blob ?snapshot=,
// without x-ms-delete-snapshots, which the service refuses on a snapshot).
// A snapshot that is already gone gives deleted false and no error, so
// repeating a deletion is harmless.
func (s *Store) DeleteSnapshot(ctx context.Context, ref copyjob.BlobRef, snapshot string) (deleted bool, err error) {
	if snapshot == "" {
		// Without a snapshot this would delete the base blob.
		return false, fmt.Errorf("delete snapshot of %s: no snapshot given", ref.URL)
	}
	client, err := s.pageBlob(ref)
	if err != nil {
		return false, err
	}
	client, err = client.WithSnapshot(snapshot)
	if err != nil {
		return false, err
	}
	_, err = client.Delete(ctx, nil)
	switch {
	case isNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("delete snapshot %s: %w", snapshot, err)
	}
	return true, nil
}
