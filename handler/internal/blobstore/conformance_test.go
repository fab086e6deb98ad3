package blobstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// liveStorageSetting names a storage connection string (Shared Key) of a
// real account; the live half of the conformance suite runs only with it.
const liveStorageSetting = "SNAPCOPY_LIVE_STORAGE_CONNECTION_STRING"

// target is one storage service the conformance scenarios run against.
type target struct {
	store *Store
	key   *blob.SharedKeyCredential
	// accountURL is the blob endpoint with a trailing slash.
	accountURL string
	// advance lets time pass: the emulator's fake clock jumps, a real
	// service is given real time.
	advance func(d time.Duration)
	// pendingObservable is true where a copy is guaranteed to stay pending
	// until time advances (not so on a real service, where a small copy
	// may finish at once).
	pendingObservable bool
	opts              azcore.ClientOptions
}

func emulatorTarget(t *testing.T) *target {
	clk := clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(storageemu.New(storageemu.Options{Clock: clk, CopyRate: 256 << 10}))
	t.Cleanup(srv.Close)
	key, err := blob.NewSharedKeyCredential(storageemu.DevAccountName, storageemu.DevAccountKey)
	if err != nil {
		t.Fatal(err)
	}
	return newTarget(t, key, srv.URL+"/"+storageemu.DevAccountName+"/", clk, func(d time.Duration) { clk.Advance(d) }, true)
}

func liveTarget(t *testing.T) *target {
	conn := os.Getenv(liveStorageSetting)
	if conn == "" {
		t.Skipf("live storage conformance skipped: %s is not set", liveStorageSetting)
	}
	key, err := SharedKeyFromConnectionString(conn)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "https://" + key.AccountName() + ".blob.core.windows.net/"
	return newTarget(t, key, endpoint, clock.Real{}, func(d time.Duration) { time.Sleep(d) }, false)
}

func newTarget(t *testing.T, key *blob.SharedKeyCredential, accountURL string, clk clock.Clock, advance func(time.Duration), pending bool) *target {
	opts := azcore.ClientOptions{}
	store, err := New(Options{
		Credentials: Credentials{SharedKeys: map[string]*blob.SharedKeyCredential{key.AccountName(): key}},
		Client:      opts,
		Clock:       clk,
		SASLifetime: time.Hour,
		Hosts:       copyjob.StorageHosts{Emulator: accountURL},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &target{store: store, key: key, accountURL: accountURL, advance: advance, pendingObservable: pending, opts: opts}
}

// TestStorageConformance runs the same scenarios against the emulator and,
// when configured, a real storage account.
func TestStorageConformance(t *testing.T) {
	for name, newT := range map[string]func(*testing.T) *target{"emulator": emulatorTarget, "live": liveTarget} {
		t.Run(name, func(t *testing.T) {
			tg := newT(t)
			t.Run("FirstCopyThenDiff", func(t *testing.T) { scenarioFirstThenDiff(t, tg) })
			t.Run("DestinationConflict", func(t *testing.T) { scenarioConflict(t, tg) })
			t.Run("BadSourceSAS", func(t *testing.T) { scenarioBadSAS(t, tg) })
			t.Run("RestoreFromDestinationSnapshot", func(t *testing.T) { scenarioRestoreFromDestinationSnapshot(t, tg) })
			t.Run("DeleteDestinationSnapshots", func(t *testing.T) { scenarioDeleteDestinationSnapshots(t, tg) })
			t.Run("DiffBetweenDestinationSnapshots", func(t *testing.T) { scenarioDiffBetweenDestinationSnapshots(t, tg) })
			t.Run("BlobProperties", func(t *testing.T) { scenarioBlobProperties(t, tg) })
			t.Run("PruneKeepsTheChainGoing", func(t *testing.T) { scenarioPrune(t, tg) })
		})
	}
}

// fixture is a fresh source page blob and a destination name, in two new
// containers of the target.
type fixture struct {
	t             *testing.T
	tg            *target
	source, dest  copyjob.BlobRef
	sourceClient  *pageblob.Client
	srcContainer  *container.Client
	dstContainer  *container.Client
	snapshotBytes map[string][]byte
}

const diskSize = 1 << 20

func newFixture(t *testing.T, tg *target) *fixture {
	t.Helper()
	ctx := context.Background()
	suffix := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	suffix = suffix[max(0, len(suffix)-30):]
	f := &fixture{t: t, tg: tg, snapshotBytes: map[string][]byte{}}
	for i, c := range []**container.Client{&f.srcContainer, &f.dstContainer} {
		name := fmt.Sprintf("sc%d-%s-%d", i, strings.Trim(suffix, "-_"), time.Now().UnixNano()%1e6)
		name = strings.ReplaceAll(name, "_", "-")
		client, err := container.NewClientWithSharedKeyCredential(tg.accountURL+name, tg.key, &container.ClientOptions{ClientOptions: tg.opts})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Create(ctx, nil); err != nil {
			t.Fatalf("create container %s: %v", name, err)
		}
		t.Cleanup(func() { _, _ = client.Delete(context.Background(), nil) })
		*c = client
	}
	f.sourceClient = f.srcContainer.NewPageBlobClient("disk.vhd")
	if _, err := f.sourceClient.Create(ctx, diskSize, nil); err != nil {
		t.Fatal(err)
	}
	f.source = ref(t, f.sourceClient.URL())
	f.dest = ref(t, f.dstContainer.NewPageBlobClient("disk.vhd").URL())
	return f
}

// writeAndSnapshot writes random 4 KiB pages at offsets and snapshots.
func (f *fixture) writeAndSnapshot(offsets ...int64) string {
	f.t.Helper()
	ctx := context.Background()
	for _, off := range offsets {
		page := make([]byte, 4096)
		_, _ = rand.Read(page)
		if _, err := f.sourceClient.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(page)), blob.HTTPRange{Offset: off, Count: int64(len(page))}, nil); err != nil {
			f.t.Fatal(err)
		}
	}
	resp, err := f.sourceClient.CreateSnapshot(ctx, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	snap := deref(resp.Snapshot)
	f.snapshotBytes[snap] = blobtest.Download(f.t, f.sourceClient, snap)
	return snap
}

// copyAndWait starts a copy and lets time pass until it ends.
func (f *fixture) copyAndWait(snapshot string, absent bool) copyjob.Destination {
	f.t.Helper()
	ctx := context.Background()
	sas, err := f.tg.store.SourceSAS(ctx, f.source)
	if err != nil {
		f.t.Fatal(err)
	}
	id, err := f.tg.store.StartCopy(ctx, f.dest, f.source, snapshot, sas, absent)
	if err != nil {
		f.t.Fatalf("start copy of %s: %v", snapshot, err)
	}
	for i := 0; i < 120; i++ {
		d, err := f.tg.store.Destination(ctx, f.dest)
		if err != nil {
			f.t.Fatal(err)
		}
		if d.CopyID != id {
			f.t.Fatalf("copy id %q, started %q", d.CopyID, id)
		}
		if d.CopyStatus != copyjob.StatusPending {
			return d
		}
		f.tg.advance(time.Second)
	}
	f.t.Fatalf("copy of %s still pending", snapshot)
	return copyjob.Destination{}
}

func scenarioFirstThenDiff(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	s1 := f.writeAndSnapshot(0, 8192, 512*1024)
	if d, err := tg.store.Destination(ctx, f.dest); err != nil || d.Exists {
		t.Fatalf("destination before any copy: %+v, %v", d, err)
	}
	d1 := f.copyAndWait(s1, true)
	if d1.CopyStatus != copyjob.StatusSuccess || !d1.Incremental || d1.DestinationSnapshot == "" || !copyjob.SameBlob(d1.CopySource, f.source.URL) {
		t.Fatalf("after first copy: %+v", d1)
	}
	if want, _ := copyjob.ParseSnapshot(s1); !d1.CopySourceSnapshot.Equal(want) {
		t.Fatalf("copy source snapshot %v, want %s", d1.CopySourceSnapshot, s1)
	}
	s2 := f.writeAndSnapshot(4096, 900*1024)
	d2 := f.copyAndWait(s2, false)
	if d2.CopyStatus != copyjob.StatusSuccess || d2.DestinationSnapshot == d1.DestinationSnapshot {
		t.Fatalf("after diff copy: %+v", d2)
	}
	destClient := f.dstContainer.NewPageBlobClient("disk.vhd")
	for src, dst := range map[string]string{s1: d1.DestinationSnapshot, s2: d2.DestinationSnapshot} {
		if !bytes.Equal(blobtest.Download(f.t, destClient, dst), f.snapshotBytes[src]) {
			t.Errorf("destination snapshot %s differs from source snapshot %s", dst, src)
		}
	}
	h, err := tg.store.History(ctx, f.dest)
	if err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{s1: d1.DestinationSnapshot, s2: d2.DestinationSnapshot} {
		st, _ := copyjob.ParseSnapshot(src)
		if got, ok := h.Find(f.source.URL, st); !ok || got.DestinationSnapshot != dst {
			t.Errorf("history for %s = %q %v, want %s", src, got.DestinationSnapshot, ok, dst)
		}
	}
	listed, err := tg.store.SourceSnapshots(ctx, f.source)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{s1, s2} {
		st, _ := copyjob.ParseSnapshot(want)
		found := false
		for _, l := range listed {
			found = found || l.Equal(st)
		}
		if !found {
			t.Errorf("source snapshots %v lack %s", listed, want)
		}
	}
	// Ascending order only: the older snapshot is refused.
	sas, _ := tg.store.SourceSAS(ctx, f.source)
	_, err = tg.store.StartCopy(ctx, f.dest, f.source, s1, sas, false)
	wantStartKind(t, err, copyjob.StartErrEarlier, "copying an older snapshot")
	if tg.pendingObservable {
		s3 := f.writeAndSnapshot(0)
		if _, err := tg.store.StartCopy(ctx, f.dest, f.source, s3, sas, false); err != nil {
			t.Fatal(err)
		}
		_, err := tg.store.StartCopy(ctx, f.dest, f.source, s3, sas, false)
		wantStartKind(t, err, copyjob.StartErrPending, "second start while pending")
	}
}

// wantStartKind fails the test unless err is a *copyjob.StartError of kind;
// what says what the copy tried.
func wantStartKind(t *testing.T, err error, kind copyjob.StartErrorKind, what string) {
	t.Helper()
	if se, ok := err.(*copyjob.StartError); !ok || se.Kind != kind {
		t.Fatalf("%s: %v", what, err)
	}
}

func scenarioConflict(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	s1 := f.writeAndSnapshot(0)
	if _, err := f.dstContainer.NewPageBlobClient("disk.vhd").Create(ctx, diskSize, nil); err != nil {
		t.Fatal(err)
	}
	d, err := tg.store.Destination(ctx, f.dest)
	if err != nil || !d.Exists || d.Incremental {
		t.Fatalf("ordinary destination: %+v, %v", d, err)
	}
	sas, _ := tg.store.SourceSAS(ctx, f.source)
	_, err = tg.store.StartCopy(ctx, f.dest, f.source, s1, sas, false)
	wantStartKind(t, err, copyjob.StartErrConflict, "copy onto an ordinary blob")
}

func scenarioBadSAS(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	s1 := f.writeAndSnapshot(0)
	sas, _ := tg.store.SourceSAS(ctx, f.source)
	forged, err := copyjob.ParseSAS(strings.Replace(sas.Encode(), "sig=", "sig=AAAA", 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.store.StartCopy(ctx, f.dest, f.source, s1, forged, true)
	se, ok := err.(*copyjob.StartError)
	if !ok || (se.Kind != copyjob.StartErrSourceDenied && se.Kind != copyjob.StartErrTransient) || se.Code != "CannotVerifyCopySource" {
		t.Fatalf("forged SAS: %v", err)
	}
}

// scenarioPrune deletes what retention and source pruning delete (older
// destination snapshots; source snapshots older than the newest copied
// one) and checks that the chain goes on copying incrementally.
func scenarioPrune(t *testing.T, tg *target) {
	ctx := context.Background()
	f := newFixture(t, tg)
	s1 := f.writeAndSnapshot(0, 8192)
	d1 := f.copyAndWait(s1, true)
	s2 := f.writeAndSnapshot(4096)
	d2 := f.copyAndWait(s2, false)
	for _, c := range []struct {
		ref      copyjob.BlobRef
		snapshot string
	}{{f.dest, d1.DestinationSnapshot}, {f.source, s1}} {
		if deleted, err := tg.store.DeleteSnapshot(ctx, c.ref, c.snapshot); err != nil || !deleted {
			t.Fatalf("delete snapshot %s of %s: %v, %v", c.snapshot, c.ref.URL, deleted, err)
		}
		if deleted, err := tg.store.DeleteSnapshot(ctx, c.ref, c.snapshot); err != nil || deleted {
			t.Fatalf("delete snapshot %s of %s again: %v, %v; want an idempotent no-op", c.snapshot, c.ref.URL, deleted, err)
		}
	}
	if _, err := tg.store.DeleteSnapshot(ctx, f.dest, ""); err == nil {
		t.Fatal("DeleteSnapshot without a snapshot must refuse (it would delete the base blob)")
	}
	h, err := tg.store.History(ctx, f.dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].DestinationSnapshot != d2.DestinationSnapshot {
		t.Fatalf("history after pruning: %+v", h)
	}
	s3 := f.writeAndSnapshot(12288)
	d3 := f.copyAndWait(s3, false)
	if d3.CopyStatus != copyjob.StatusSuccess {
		t.Fatalf("copy after pruning: %+v", d3)
	}
	destClient := f.dstContainer.NewPageBlobClient("disk.vhd")
	if !bytes.Equal(blobtest.Download(f.t, destClient, d3.DestinationSnapshot), f.snapshotBytes[s3]) {
		t.Fatal("the restore point copied after pruning differs from its source snapshot")
	}
}
