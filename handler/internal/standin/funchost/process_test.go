package funchost

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"testing"
	"time"
)

// A handler that dies at start-up is reported, not waited for: the host
// would otherwise hang until its 60 s start-up limit.
func TestStartProcessReportsEarlyExit(t *testing.T) {
	bin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1) on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = StartProcess(ctx, bin, nil, io.Discard, io.Discard)
	if !errors.Is(err, ErrExited) {
		t.Fatalf("StartProcess of a process that exits at once: %v, want ErrExited", err)
	}
}
