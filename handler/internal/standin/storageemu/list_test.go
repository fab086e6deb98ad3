package storageemu

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
)

func TestListBlobsWithSnapshotsAndCopy(t *testing.T) {
	f := newCopyFixture(t, Options{})
	s1 := f.snapshot(f.source)
	p := f.copied(s1)
	f.createPageBlob(f.dst, "copies", "a.vhd", 512, nil)
	c := f.service(f.dst).NewContainerClient("copies")
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Include:    container.ListBlobsInclude{Snapshots: true, Copy: true},
		MaxResults: toInt32(2),
	})
	var names, snapshots []string
	var incremental []bool
	for _, page := range blobtest.AllPages(t, pager) {
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
			snap := ""
			if b.Snapshot != nil {
				snap = *b.Snapshot
			}
			snapshots = append(snapshots, snap)
			incremental = append(incremental, b.Properties.IncrementalCopy != nil && *b.Properties.IncrementalCopy)
			if *b.Name == "vm.vhd" && snap == "" {
				if *b.Properties.CopyStatus != "success" || *b.Properties.DestinationSnapshot != *p.DestinationSnapshot || b.Properties.CopyCompletionTime == nil {
					t.Fatalf("listed copy properties %+v", b.Properties)
				}
			}
		}
	}
	if len(names) != 3 || names[0] != "a.vhd" || names[1] != "vm.vhd" || snapshots[1] != *p.DestinationSnapshot || snapshots[2] != "" || !incremental[2] || incremental[0] {
		t.Fatalf("listed %v %v %v", names, snapshots, incremental)
	}
}

func TestContainerLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	c := e.service(DevAccount).NewContainerClient("cont")
	if _, err := c.GetProperties(ctx, nil); err == nil {
		t.Fatal("missing container has properties")
	} else {
		wantError(t, err, http.StatusNotFound, "ContainerNotFound")
	}
	e.createContainer(DevAccount, "cont", nil)
	_, err := c.Create(ctx, nil)
	wantError(t, err, http.StatusConflict, "ContainerAlreadyExists")
	if _, err := c.GetProperties(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Delete(ctx, nil)
	wantError(t, err, http.StatusNotFound, "ContainerNotFound")
}

func toInt32(v int32) *int32 { return &v }
