package storageemu

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sleepRecorder stands in for Options.Sleep: it records instead of waiting.
type sleepRecorder struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (s *sleepRecorder) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slept = append(s.slept, d)
	return nil
}

func TestInjectedFaultForNextCalls(t *testing.T) {
	rec := &sleepRecorder{}
	f := newCopyFixture(t, Options{Sleep: rec.sleep})
	s1 := f.snapshot(f.source)
	remove := f.emu.InjectFault(Fault{
		Op: OpIncrementalCopy, Path: "copies/vm.vhd", Times: 2,
		Status: http.StatusServiceUnavailable, Code: "ServerBusy", Latency: 3 * time.Second,
	})
	defer remove()
	for range 2 {
		_, err := f.dest.StartCopyIncremental(context.Background(), f.sourceURL, s1, nil)
		wantError(t, err, http.StatusServiceUnavailable, "ServerBusy")
	}
	f.start(s1) // the fault is used up
	if len(rec.slept) != 2 || rec.slept[0] != 3*time.Second {
		t.Fatalf("slept %v", rec.slept)
	}
	if fired := f.emu.FaultCounts(); fired != (FaultCounts{Requests: 2}) {
		t.Fatalf("fault counts %+v, want 2 requests", fired)
	}
}

func TestInjectedFaultMatchesPathAndRemoves(t *testing.T) {
	f := newCopyFixture(t, Options{})
	remove := f.emu.InjectFault(Fault{Op: OpGetBlobProperties, Path: "copies/other.vhd", Status: 500, Code: "InternalError"})
	ctx := context.Background()
	_, err := f.pageBlob(f.dst, "copies", "other.vhd").GetProperties(ctx, nil)
	wantError(t, err, http.StatusInternalServerError, "InternalError")
	if _, err := f.source.GetProperties(ctx, nil); err != nil {
		t.Fatalf("unmatched path got the fault: %v", err)
	}
	remove()
	_, err = f.pageBlob(f.dst, "copies", "other.vhd").GetProperties(ctx, nil)
	wantError(t, err, http.StatusNotFound, "BlobNotFound")
}

func TestCopyFaultFails(t *testing.T) {
	f := newCopyFixture(t, Options{})
	f.emu.InjectCopyFault(CopyFault{Path: "copies/vm.vhd", AtBytes: 1024, Description: "500 InternalError \"boom\"", Times: 1})
	s1 := f.snapshot(f.source)
	f.start(s1)
	f.clock.Advance(200 * time.Millisecond)
	if p := f.props(); *p.CopyStatus != "pending" {
		t.Fatalf("before failure point: %s", *p.CopyStatus)
	}
	f.clock.Advance(time.Minute)
	p := f.props()
	if *p.CopyStatus != "failed" || *p.CopyStatusDescription != "500 InternalError \"boom\"" || *p.CopyProgress != "1024/4096" || p.DestinationSnapshot != nil {
		t.Fatalf("failed copy: %v %v %v", *p.CopyStatus, p.CopyStatusDescription, *p.CopyProgress)
	}
	if fired := f.emu.FaultCounts(); fired != (FaultCounts{Copies: 1}) {
		t.Fatalf("fault counts %+v, want 1 copy", fired)
	}
	// A failed copy is not "copied": the same snapshot can be tried again.
	f.copied(s1)
}

func TestCopyFaultStalls(t *testing.T) {
	f := newCopyFixture(t, Options{})
	f.emu.InjectCopyFault(CopyFault{Stall: true, AtBytes: 2048})
	f.start(f.snapshot(f.source))
	f.clock.Advance(24 * time.Hour)
	p := f.props()
	if *p.CopyStatus != "pending" || *p.CopyProgress != "2048/4096" {
		t.Fatalf("stalled copy: %v %v", *p.CopyStatus, *p.CopyProgress)
	}
	f.emu.ClearFaults()
}

func TestChaosIsSeededAndReproducible(t *testing.T) {
	var lastEnv *env
	run := func() []int {
		rec := &sleepRecorder{}
		e := newEnv(t, Options{Sleep: rec.sleep, Chaos: &Chaos{Seed: 42, ErrorRate: 0.5, MaxLatency: time.Second}})
		lastEnv = e
		var statuses []int
		for range 20 {
			_, err := e.pageBlob(DevAccount, "none", "b").GetProperties(context.Background(), nil)
			_, status := errorCode(t, err)
			statuses = append(statuses, status)
		}
		if len(rec.slept) != 20 {
			t.Fatalf("chaos latency applied %d times", len(rec.slept))
		}
		return statuses
	}
	a, b := run(), run()
	transient := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("run differs at %d: %v vs %v", i, a, b)
		}
		if a[i] != http.StatusNotFound {
			transient++
		}
	}
	if transient == 0 || transient == len(a) {
		t.Fatalf("chaos with rate 0.5 injected %d of %d", transient, len(a))
	}
	if fired := lastEnv.emu.FaultCounts(); fired.ChaosErrors != transient || fired.Requests != 0 {
		t.Fatalf("fault counts %+v, want %d chaos errors", fired, transient)
	}
}

func TestChaosCopyFaults(t *testing.T) {
	f := newCopyFixture(t, Options{Chaos: &Chaos{Seed: 7, CopyFailRate: 1}})
	f.start(f.snapshot(f.source))
	f.clock.Advance(time.Hour)
	if p := f.props(); *p.CopyStatus != "failed" || f.emu.FaultCounts().ChaosCopies != 1 {
		t.Fatalf("chaos copy status %s, fault counts %+v", *p.CopyStatus, f.emu.FaultCounts())
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := Options{
		CopyRate: -1, EarlierSnapshotErrorCode: "Nope",
		Accounts: []Account{{Name: "UPPER", Key: "not base64!"}},
		Chaos:    &Chaos{ErrorRate: 2},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid options validated")
	}
	for _, want := range []string{"CopyRate", "EarlierSnapshotErrorCode", "Name", "Key", "ErrorRate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatalf("zero options: %v", err)
	}
}
