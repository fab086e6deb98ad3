package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
)

// job is one snapshot sent for copying.
type job struct {
	disk       *disk
	generation int
	snapshot   string
	written    int64
	// digest is the SHA-256 of the snapshot's bytes, taken when source
	// pruning may delete the snapshot before it is verified.
	digest *[32]byte
}

// produce writes, snapshots and sends a SnapshotCreated per snapshot, like a
// backup scheduler.
func (s *stack) produce(ctx context.Context, opts Options) ([]*job, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0xd15c))
	var disks []*disk
	for _, name := range []string{"disks", "backups"} {
		c, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/"+name, s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
		if err != nil {
			return nil, err
		}
		if _, err := c.Create(ctx, nil); err != nil {
			return nil, fmt.Errorf("create container %s: %w", name, err)
		}
		if name != "disks" {
			continue
		}
		for i := 1; i <= opts.Blobs; i++ {
			d := &disk{name: fmt.Sprintf("vm%d.vhd", i), size: opts.DiskBytes, rng: rng}
			d.client = c.NewPageBlobClient(d.name)
			if _, err := d.client.Create(ctx, opts.DiskBytes, nil); err != nil {
				return nil, fmt.Errorf("create %s: %w", d.name, err)
			}
			disks = append(disks, d)
		}
	}
	sender, err := s.bus.producer()
	if err != nil {
		return nil, err
	}
	var jobs []*job
	for g := 1; g <= opts.Generations; g++ {
		for _, d := range disks {
			written, err := d.writeRandom(ctx, opts.WritesPerGeneration)
			if err != nil {
				return nil, err
			}
			snap, err := d.snapshot(ctx)
			if err != nil {
				return nil, err
			}
			j := &job{disk: d, generation: g, snapshot: snap, written: written}
			if opts.PruneSource {
				src, err := d.client.WithSnapshot(snap)
				if err != nil {
					return nil, err
				}
				sum, err := digestOf(ctx, src, d.size)
				if err != nil {
					return nil, fmt.Errorf("read %s snapshot %s: %w", d.name, snap, err)
				}
				j.digest = &sum
			}
			jobs = append(jobs, j)
			if err := sendSnapshotCreated(ctx, sender, d.client.URL(), snap); err != nil {
				return nil, err
			}
			fmt.Fprintf(s.out, "%-8s gen %d  wrote %5.1f MiB, snapshot %s, SnapshotCreated sent\n", d.name, g, float64(written)/(1<<20), snap)
		}
		if g == 1 {
			if err := s.awaitChainsStarted(ctx, disks); err != nil {
				return nil, err
			}
		}
	}
	return jobs, nil
}

// awaitChainsStarted waits until every disk's first copy has begun. A new
// chain starts at the first snapshot the handler acts on, and triggers
// run concurrently, so a scheduler lets the first snapshot seed the chain
// before sending the next; later ones may then pile up in any order.
func (s *stack) awaitChainsStarted(ctx context.Context, disks []*disk) error {
	dest, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/backups", s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
	if err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, d := range disks {
		for {
			_, err := dest.NewPageBlobClient(d.name).GetProperties(ctx, nil)
			if err == nil {
				break
			}
			if !bloberror.HasCode(err, bloberror.BlobNotFound) {
				return fmt.Errorf("wait for the first copy of %s: %w", d.name, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the first copy of %s did not start: %w", d.name, context.Cause(ctx))
			case <-tick.C:
			}
		}
	}
	return nil
}

func sendSnapshotCreated(ctx context.Context, sender bus.Sender, source, snapshot string) error {
	id := fmt.Sprintf("local-%s-%s", source[len(source)-min(len(source), 12):], snapshot)
	body, err := json.Marshal(map[string]any{
		"specversion": "1.0", "type": "Snapcopy.SnapshotCreated", "source": "/snapcopy/local", "id": id,
		"datacontenttype": "application/json",
		"data":            map[string]string{"sourceBlobUrl": source, "snapshot": snapshot},
	})
	if err != nil {
		return err
	}
	return sender.SendMessage(ctx, &azservicebus.Message{MessageID: to.Ptr(id), Body: body, ContentType: to.Ptr("application/cloudevents+json")}, nil)
}
