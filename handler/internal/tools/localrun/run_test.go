package localrun

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// The full run is tested from package main, as the `handler local`
// command; here: option validation.
func TestOptionsValidate(t *testing.T) {
	ok := Defaults()
	ok.Out, ok.ErrOut = &bytes.Buffer{}, &bytes.Buffer{}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mutate := range map[string]func(*Options){
		"no blobs":        func(o *Options) { o.Blobs = 0 },
		"tiny disk":       func(o *Options) { o.DiskBytes = 4096 },
		"odd disk size":   func(o *Options) { o.DiskBytes = 1<<20 + 1 },
		"no error output": func(o *Options) { o.ErrOut = nil },
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

// TestSummaryShowsUnknownFiguresAsUnknown: a figure the outcome event did
// not carry is shown as "—", never as a made-up zero; a reported zero is 0.
func TestSummaryShowsUnknownFiguresAsUnknown(t *testing.T) {
	copied, none, polls, took := int64(3<<20), int64(0), 2, 1500*time.Millisecond
	s := Summary{Jobs: []JobResult{
		{Blob: "vm1.vhd", Generation: 1, SourceSnapshot: "s1", BytesWritten: 3 << 20, BytesCopied: &copied, Polls: &polls, Duration: &took, DestinationSnapshot: "d1", Verified: true},
		{Blob: "vm1.vhd", Generation: 2, SourceSnapshot: "s2", BytesWritten: 1 << 20, DestinationSnapshot: "d2", Verified: true},
		{Blob: "vm1.vhd", Generation: 3, SourceSnapshot: "s3", BytesWritten: 0, BytesCopied: &none, DestinationSnapshot: "d3", Verified: true},
	}}
	var out bytes.Buffer
	s.Print(&out)
	lines := strings.Split(out.String(), "\n")
	want := [][]string{
		{"vm1.vhd", "1", "s1", "3.0", "MiB", "3.0", "MiB", "2", "1.5s", "d1", "yes"},
		{"vm1.vhd", "2", "s2", "1.0", "MiB", "—", "—", "—", "d2", "yes"},
		{"vm1.vhd", "3", "s3", "0.0", "MiB", "0.0", "MiB", "—", "—", "d3", "yes"},
	}
	for i, w := range want {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("row %d: %q, want %q", i+1, got, w)
		}
	}
}
