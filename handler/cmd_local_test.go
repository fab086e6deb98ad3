package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
)

// TestLocalCommand runs `handler local` small: two disks, two generations,
// real handler, real clock (a few seconds of copy polling).
func TestLocalCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in real time")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"local", "-blobs", "2", "-generations", "2", "-disk-mib", "4", "-writes", "4", "-timeout", "60s"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "4 snapshots") || !strings.Contains(out.String(), "restore verified") || !strings.Contains(out.String(), "local run verified") {
		t.Fatalf("summary missing:\n%s", out.String())
	}
	if leaks := redacttest.Leaks(out.String() + errOut.String()); len(leaks) > 0 {
		t.Fatalf("secrets were printed: %v", leaks)
	}
}

// TestLocalCommandWithRetention: the README's retention demo, small, with
// source pruning: Pruned events, restore points left as the policy keeps
// them, and the newest one restored and verified.
func TestLocalCommandWithRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in real time")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"local", "-generations", "4", "-retain-last", "2", "-prune-source", "-disk-mib", "4", "-writes", "4", "-timeout", "60s"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"event    Pruned", "pruned (policy)", "restore verified", "local run verified"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "pruned (policy)"); n != 2 {
		t.Fatalf("%d restore points pruned, want 2 of 4 with -retain-last 2:\n%s", n, out.String())
	}
}
