package redact

import (
	"strings"
	"testing"
)

func TestURLKeepsSnapshotOnly(t *testing.T) {
	got := URL("https://a.blob.core.windows.net/c/b.vhd?se=x&sig=c2VjcmV0&snapshot=2026-01-01T00%3A00%3A00.1234567Z&sp=r&sr=b")
	want := "https://a.blob.core.windows.net/c/b.vhd?snapshot=2026-01-01T00%3A00%3A00.1234567Z&sas=" + Marker
	if got != want {
		t.Fatalf("URL() = %q, want %q", got, want)
	}
	if plain := "https://a/c/b"; URL(plain) != plain {
		t.Fatalf("URL(%q) changed it", plain)
	}
}

func TestSecurityURLDropsPassword(t *testing.T) {
	got := URL("https://user:c2VjcmV0@a.blob.core.windows.net/c/b.vhd")
	if strings.Contains(got, "c2VjcmV0") || !strings.Contains(got, "user:"+Marker+"@") {
		t.Fatalf("URL() = %q", got)
	}
}

// TestTextSpansWholeEscapes: a secret's raw bytes are cut on whole escapes,
// so the output stays valid JSON.
func TestTextSpansWholeEscapes(t *testing.T) {
	got := Text(`{"s":"\u0073ig=ab\u002Bcd\u0026se=1"}`)
	if want := `{"s":"\u0073ig=REDACTED\u0026se=1"}`; got != want {
		t.Fatalf("Text() = %s, want %s", got, want)
	}
}

// BenchmarkBytes measures the cost on a typical log line, with and without
// percent-encoding (which builds the decoded view).
func BenchmarkBytes(b *testing.B) {
	lines := map[string]string{
		"plain":   `{"level":"info","function":"CopyPoll","invocationId":"4b1d","messageId":"m-1","jobKey":"j-3f2a","time":"2026-11-24T10:00:00Z","message":"copy pending 10/20"}`,
		"encoded": `{"level":"info","function":"SnapshotCreated","source":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10%3A00%3A00.0000000Z","message":"snapshot created"}`,
		"secret":  `{"level":"warn","error":"PUT https://dst.blob.core.windows.net/b/vm1.vhd?comp=incrementalcopy: x-ms-copy-source https://src/d/vm1.vhd?sp=r&sig=c2VjcmV0%2B&sr=b","message":"start failed"}`,
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			in := []byte(line)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				Bytes(in)
			}
		})
	}
}
