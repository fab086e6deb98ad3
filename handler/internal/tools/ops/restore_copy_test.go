package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

func TestRestoreLatestWithVerify(t *testing.T) {
	e, snaps := copiedChain(t)
	target := e.targetURL("restored.vhd")
	out, err := e.restoreRun(e.destURL, "-latest", "-to", target, "-verify")
	if err != nil {
		t.Fatal(err)
	}
	if got := blobtest.Download(e.t, e.pageBlob(storageemu.DevAccount, target), ""); !bytes.Equal(got, blobtest.Download(e.t, e.source, snaps[1])) {
		t.Fatal("the restored blob differs from the newest source snapshot")
	}
	// 64 KiB at 1 KiB/s, read every 2 s: the bar moves and shows an ETA.
	for _, want := range []string{"restoring [", "ETA ", "100.0%", "restore point source snapshot " + snaps[1],
		"verified      2 page ranges, 12.0 KiB: identical to the restore point"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRestoreByTimeAsJSONAndOverwrite(t *testing.T) {
	e, snaps := copiedChain(t)
	target := e.targetURL("restored.vhd")
	if _, err := e.restoreRun(e.destURL, "-latest", "-to", target); err != nil {
		t.Fatal(err)
	}
	if _, err := e.restoreRun(e.destURL, "-at", snaps[0], "-to", target); !errors.Is(err, ErrTargetExists) {
		t.Fatalf("second restore into the same blob: %v, want ErrTargetExists", err)
	}
	out, err := e.restoreRun(e.destURL, "-at", snaps[0], "-to", target, "-overwrite", "-verify", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var res restoreResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if res.RestorePoint.SourceSnapshot != snaps[0] || res.Status != "success" || res.Verified == nil || res.Verified.Bytes != 4096 || res.Target != target {
		t.Fatalf("result %+v", res)
	}
	if got := blobtest.Download(e.t, e.pageBlob(storageemu.DevAccount, target), ""); !bytes.Equal(got, blobtest.Download(e.t, e.source, snaps[0])) {
		t.Fatal("the overwritten blob differs from the first source snapshot")
	}
}

func TestRestoreCopyFailures(t *testing.T) {
	t.Run("copy failed", func(t *testing.T) {
		e, _ := copiedChain(t)
		e.emu.InjectCopyFault(storageemu.CopyFault{Description: "500 InternalError: injected"})
		_, err := e.restoreRun(e.destURL, "-latest", "-to", e.targetURL("r.vhd"))
		if !errors.Is(err, ErrCopyFailed) || !strings.Contains(err.Error(), "injected") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("still pending at the deadline: aborted", func(t *testing.T) {
		e, _ := copiedChain(t)
		e.emu.InjectCopyFault(storageemu.CopyFault{Stall: true})
		target := e.targetURL("r.vhd")
		_, err := e.restoreRun(e.destURL, "-latest", "-to", target, "-timeout", "1m")
		if !errors.Is(err, ErrCopyFailed) || !strings.Contains(err.Error(), "aborted") {
			t.Fatalf("err %v", err)
		}
		p, err := e.pageBlob(storageemu.DevAccount, target).GetProperties(context.Background(), nil)
		if err != nil || p.CopyStatus == nil || *p.CopyStatus != "aborted" {
			t.Fatalf("target after the deadline: %v %v", p.CopyStatus, err)
		}
	})
}
