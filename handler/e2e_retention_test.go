package main

import (
	"bytes"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/config"
)

// listedSnapshots lists the snapshots of blob in containerName, oldest first.
func (s *stack) listedSnapshots(containerName, blob string) []string {
	s.t.Helper()
	pager := s.container(containerName).NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(blob), Include: container.ListBlobsInclude{Snapshots: true}})
	var out []string
	for _, page := range blobtest.AllPages(s.t, pager) {
		for _, item := range page.Segment.BlobItems {
			if *item.Name == blob && item.Snapshot != nil {
				out = append(out, *item.Snapshot)
			}
		}
	}
	return out
}

// copyGeneration writes generation gen of src (a page of gen+1 at gen×8 KiB),
// snapshots it, sends the snapshot and runs the stack; it returns the
// snapshot.
func (s *stack) copyGeneration(src *pageblob.Client, gen int) string {
	s.t.Helper()
	snap := s.writeAndSnapshot(src, int64(gen)*8192, byte(gen+1))
	s.sendSnapshot("e"+snap, src, snap)
	s.run()
	return snap
}

// TestEndToEndRetention runs a chain of five generations with
// SNAPCOPY_RETAIN_LAST=2 through the real Retention function: each
// Completed event prunes the chain to its two newest restore points.
func TestEndToEndRetention(t *testing.T) {
	s := newStack(t, map[string]string{config.SettingRetainLast: "2"})
	src := s.disk("vm1.vhd")
	var snaps []string
	for gen := range 5 {
		snaps = append(snaps, s.copyGeneration(src, gen))
	}
	completed := map[string]string{} // source snapshot → destination snapshot
	deleted := map[string]int{}
	pruned := 0
	for _, e := range s.events() {
		switch e.Type {
		case completedSubject:
			completed[e.Data["sourceSnapshot"].(string)] = e.Data["destinationSnapshot"].(string)
		case "Snapcopy.IncrementalCopy.Pruned":
			pruned++
			list, _ := e.Data["deleted"].([]any)
			for _, d := range list {
				deleted[d.(map[string]any)["destinationSnapshot"].(string)]++
			}
			if kept, _ := e.Data["kept"].([]any); len(kept) > 2 {
				t.Errorf("Pruned %s keeps %d restore points, want at most 2", e.ID, len(kept))
			}
		}
	}
	if pruned != 5 {
		t.Fatalf("%d Pruned events, want one per Completed (5)", pruned)
	}
	want := []string{completed[snaps[3]], completed[snaps[4]]}
	got := s.listedSnapshots("backups", "vm1.vhd")
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("destination snapshots %v, want the two newest restore points %v", got, want)
	}
	for _, old := range snaps[:3] {
		if deleted[completed[old]] != 1 {
			t.Errorf("restore point of %s reported deleted %d times, want once", old, deleted[completed[old]])
		}
	}
	dest := s.pageBlob("backups", "vm1.vhd")
	for _, sn := range snaps[3:] {
		if !bytes.Equal(blobtest.Download(s.t, dest, completed[sn]), blobtest.Download(s.t, src, sn)) {
			t.Errorf("kept restore point %s differs from source snapshot %s", completed[sn], sn)
		}
	}
	s.checkNoSecretsOrDeadLetters()
}

// TestEndToEndSourcePruning: with SNAPCOPY_PRUNE_SOURCE the source keeps
// only its newest copied snapshot (and any newer one), and the chain goes
// on copying incrementally from it.
func TestEndToEndSourcePruning(t *testing.T) {
	s := newStack(t, map[string]string{config.SettingPruneSource: "true"})
	src := s.disk("vm1.vhd")
	for gen := range 4 {
		snap := s.copyGeneration(src, gen)
		if got := s.listedSnapshots("disks", "vm1.vhd"); len(got) != 1 || got[0] != snap {
			t.Fatalf("generation %d: source snapshots %v, want only the newest copied %s", gen+1, got, snap)
		}
	}
	// A snapshot taken while its predecessor is being copied is
	// newer than the newest copied one: it stays until copied.
	pending := s.writeAndSnapshot(src, 0, 9)
	if got := s.listedSnapshots("disks", "vm1.vhd"); len(got) != 2 {
		t.Fatalf("source snapshots %v, want the newest copied and the new one", got)
	}
	s.sendSnapshot("e"+pending, src, pending)
	s.run()
	completed := 0
	for _, e := range s.events() {
		switch e.Type {
		case completedSubject:
			completed++
		case "Snapcopy.IncrementalCopy.Pruned":
		default:
			t.Errorf("event %s %v: the chain must keep working with source pruning", e.Type, e.Data["failureCode"])
		}
	}
	if completed != 5 || len(s.listedSnapshots("backups", "vm1.vhd")) != 5 {
		t.Fatalf("%d Completed, %d restore points; want 5 of each (retention off keeps them all)", completed, len(s.listedSnapshots("backups", "vm1.vhd")))
	}
	s.checkNoSecretsOrDeadLetters()
}
