package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestLocalCommand runs `handler local` small: two disks, two generations,
// real handler, real clock (it takes a few seconds of copy polling).
func TestLocalCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in real time")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"local", "-blobs", "2", "-generations", "2", "-disk-mib", "4", "-writes", "4", "-timeout", "60s"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "4 snapshots") || !strings.Contains(out.String(), "local run verified") {
		t.Fatalf("summary missing:\n%s", out.String())
	}
	if strings.Contains(out.String()+errOut.String(), "sig=") {
		t.Fatal("a SAS signature was printed")
	}
}
