package ops

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// sourceSnapshots lists the source blob's snapshots through the handler's
// own storage adapter.
func (e *storageEnv) sourceSnapshots() []time.Time {
	e.t.Helper()
	auth, err := newStorageAuth(storageemu.ConnectionString(e.baseURL, sourceAccount), "-storage-connection", "")
	if err != nil {
		e.t.Fatal(err)
	}
	store, err := auth.store(e.clock)
	if err != nil {
		e.t.Fatal(err)
	}
	ref, _, err := copyjob.ParseBlobURL(e.source.URL())
	if err != nil {
		e.t.Fatal(err)
	}
	snaps, err := store.SourceSnapshots(context.Background(), ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return snaps
}

func (e *storageEnv) sendNow(fake *fakeSender, args ...string) (stderr string, err error) {
	c := sendCommand{getenv: func(string) string { return "" }, now: e.clock.Now, newID: func() string { return "id" }, open: fake.open}
	var out, errOut bytes.Buffer
	base := []string{"-connection", testConn, "-storage-connection", storageemu.ConnectionString(e.baseURL, sourceAccount), "-snapshot-now", "-source", e.source.URL()}
	err = c.run(context.Background(), append(base, args...), &out, &errOut)
	return errOut.String(), err
}

func TestSendSnapshotNowSnapshotsTheSourceAndSendsThatSnapshot(t *testing.T) {
	e := newStorageEnv(t)
	e.clock.Advance(90 * time.Second)
	fake := &fakeSender{}
	stderr, err := e.sendNow(fake, "-destination", e.destURL)
	if err != nil {
		t.Fatal(err)
	}
	snaps := e.sourceSnapshots()
	if len(snaps) != 1 || !snaps[0].Equal(testStart.Add(90*time.Second)) {
		t.Fatalf("source snapshots %v", snaps)
	}
	tr, err := copyjob.ParseTrigger(fake.sent[0].Body, copyjob.Rules{Hosts: copyjob.StorageHosts{Emulator: e.baseURL}}, e.clock.Now())
	if err != nil || !tr.Snapshot.Equal(snaps[0]) || tr.Destination.URL != e.destURL {
		t.Fatalf("sent %+v, %v", tr, err)
	}
	if !strings.Contains(stderr, "snapshot "+copyjob.FormatSnapshot(snaps[0])) {
		t.Errorf("stderr does not name the snapshot:\n%s", stderr)
	}
}

func TestSendSnapshotNowTakesNoSnapshotForARejectedMessage(t *testing.T) {
	e := newStorageEnv(t)
	fake := &fakeSender{}
	_, err := e.sendNow(fake, "-destination", e.source.URL())
	if _, ok := copyjob.AsInputError(err); !ok {
		t.Fatalf("got %v, want the handler's rejection", err)
	}
	if snaps := e.sourceSnapshots(); len(snaps) != 0 || len(fake.sent) != 0 {
		t.Fatalf("snapshots %v, sent %d", snaps, len(fake.sent))
	}
}
