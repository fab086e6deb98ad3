package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
)

// TestLocalCommand runs `handler local` small on each bus: two disks, two
// generations, real handler, real clock (a few seconds of copy polling).
func TestLocalCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in real time")
	}
	for _, bus := range []string{"amqp", "memory"} {
		t.Run(bus, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"local", "-bus", bus, "-blobs", "2", "-generations", "2", "-disk-mib", "4", "-writes", "4", "-timeout", "60s"}, &out, &errOut)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "4 snapshots") || !strings.Contains(out.String(), "local run verified") {
				t.Fatalf("summary missing:\n%s", out.String())
			}
			if leaks := redacttest.Leaks(out.String() + errOut.String()); len(leaks) > 0 {
				t.Fatalf("secrets were printed: %v", leaks)
			}
		})
	}
}
