package localrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
)

// disk is a disk-like source page blob: random writes, then a snapshot,
// generation after generation, like a VM whose backups run on a schedule.
type disk struct {
	name   string
	client *pageblob.Client
	size   int64
	rng    *rand.Rand
}

// pageSize is the page blob alignment; writes are multiples of it.
const pageSize = 512

// writeRandom writes n random extents of 4 KiB to 256 KiB at random
// page-aligned offsets, as a guest file system would.
func (d *disk) writeRandom(ctx context.Context, n int) (int64, error) {
	var written int64
	for i := 0; i < n; i++ {
		length := int64(4096 * (1 + d.rng.IntN(64)))
		offset := d.rng.Int64N((d.size-length)/pageSize) * pageSize
		buf := make([]byte, length)
		for j := range buf {
			buf[j] = byte(d.rng.Uint32())
		}
		if _, err := d.client.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(buf)), blob.HTTPRange{Offset: offset, Count: length}, nil); err != nil {
			return written, fmt.Errorf("write %s at %d: %w", d.name, offset, err)
		}
		written += length
	}
	return written, nil
}

// snapshot takes a snapshot and returns its time.
func (d *disk) snapshot(ctx context.Context) (string, error) {
	resp, err := d.client.CreateSnapshot(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", d.name, err)
	}
	if resp.Snapshot == nil {
		return "", fmt.Errorf("snapshot %s: no snapshot time in the response", d.name)
	}
	return *resp.Snapshot, nil
}

// digestOf is the SHA-256 of a blob's bytes, read range by range.
func digestOf(ctx context.Context, c *pageblob.Client, size int64) ([32]byte, error) {
	h := sha256.New()
	const chunk = 8 << 20
	for off := int64(0); off < size; off += chunk {
		b, err := readRange(ctx, c, off, min(chunk, size-off))
		if err != nil {
			return [32]byte{}, err
		}
		h.Write(b)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// sameBytes compares a source snapshot with a destination snapshot, range
// by range, without holding either whole disk in memory.
func sameBytes(ctx context.Context, a, b *pageblob.Client, size int64) (bool, error) {
	const chunk = 8 << 20
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		x, err := readRange(ctx, a, off, n)
		if err != nil {
			return false, err
		}
		y, err := readRange(ctx, b, off, n)
		if err != nil {
			return false, err
		}
		if !bytes.Equal(x, y) {
			return false, nil
		}
	}
	return true, nil
}

func readRange(ctx context.Context, c *pageblob.Client, off, n int64) ([]byte, error) {
	resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: n}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
