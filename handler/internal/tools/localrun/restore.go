package localrun

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/ops"
)

// restoreNewest gets each disk back as an operator would: `handler
// restore -latest -verify` into a new blob, then compares that blob byte
// for byte with the source snapshot the restore point holds (the newest
// copied one, which even source pruning keeps).
func (s *stack) restoreNewest(ctx context.Context, jobs []*job, out io.Writer) []RestoreResult {
	newest := s.newestCompleted(jobs)
	disks := make([]*disk, 0, len(newest))
	for d := range newest {
		disks = append(disks, d)
	}
	slices.SortFunc(disks, func(a, b *disk) int { return strings.Compare(a.name, b.name) })
	backups, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/backups", s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
	var results []RestoreResult
	for _, d := range disks {
		j := newest[d]
		target := backups.NewPageBlobClient("restored-" + d.name)
		r := RestoreResult{Blob: d.name, Target: target.URL(), SourceSnapshot: j.snapshot}
		if err != nil {
			r.Detail = err.Error()
			results = append(results, r)
			continue
		}
		fmt.Fprintf(out, "restore  %s -latest into %s\n", d.name, target.URL())
		args := []string{s.storageURL + "/backups/" + d.name, "-latest", "-to", target.URL(), "-verify", "-poll", "50ms",
			"-connection", storageemu.ConnectionString(s.storageBase, storageemu.DevAccount)}
		if err := ops.RunRestore(ctx, args, out, out); err != nil {
			r.Detail = err.Error()
			results = append(results, r)
			continue
		}
		src, err := d.client.WithSnapshot(j.snapshot)
		if err == nil {
			r.Verified, err = sameBytes(ctx, src, target, d.size)
		}
		switch {
		case err != nil:
			r.Detail = err.Error()
		case !r.Verified:
			r.Detail = "the restored blob differs from source snapshot " + j.snapshot
		}
		results = append(results, r)
	}
	return results
}
