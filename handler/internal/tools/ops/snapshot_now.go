package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// takeSnapshot snapshots the source blob, as a producer does just before
// sending SnapshotCreated, and returns the snapshot time in the service's
// layout.
func takeSnapshot(ctx context.Context, auth storageAuth, source copyjob.BlobRef) (string, error) {
	client, err := auth.pageBlobClient(source)
	if err != nil {
		return "", err
	}
	resp, err := client.CreateSnapshot(ctx, nil)
	if err != nil {
		return "", explainStorageError(fmt.Errorf("snapshot %s: %w", source.URL, err), "snapshot "+source.URL,
			"Storage Blob Data Contributor on the source container", "the source blob does not exist: check -source")
	}
	if resp.Snapshot == nil {
		return "", errors.New("snapshot: the service returned no snapshot time")
	}
	return *resp.Snapshot, nil
}
