package localrun

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
)

// The full run with the real handler is tested from package main (which
// owns the wiring); here: option validation.
func TestOptionsValidate(t *testing.T) {
	ok := Defaults()
	ok.Out = &bytes.Buffer{}
	ok.Handler = func(context.Context, map[string]string, func(string) (bus.Sender, error)) (http.Handler, func(), error) {
		return nil, nil, nil
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mutate := range map[string]func(*Options){
		"no blobs":      func(o *Options) { o.Blobs = 0 },
		"tiny disk":     func(o *Options) { o.DiskBytes = 4096 },
		"odd disk size": func(o *Options) { o.DiskBytes = 1<<20 + 1 },
		"no handler":    func(o *Options) { o.Handler = nil },
	} {
		o := ok
		mutate(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSummaryOK(t *testing.T) {
	s := Summary{Jobs: []JobResult{{Verified: true}, {Verified: false, Detail: "bytes differ"}}}
	if s.OK() {
		t.Fatal("a failed job must fail the run")
	}
	var out bytes.Buffer
	s.Print(&out)
	if !strings.Contains(out.String(), "VERIFICATION FAILED") || !strings.Contains(out.String(), "bytes differ") {
		t.Fatalf("summary:\n%s", out.String())
	}
	if (Summary{}).OK() {
		t.Fatal("an empty run must not pass")
	}
}
