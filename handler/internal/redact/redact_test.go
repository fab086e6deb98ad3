package redact

import (
	"strings"
	"testing"
)

func TestTextRemovesSecrets(t *testing.T) {
	cases := map[string]string{
		"sas in url":       "PUT https://a.blob.core.windows.net/c/b?sv=2026-12-06&sr=b&sp=r&sig=abc%2Bdef%3D&se=2026",
		"sas query alone":  "sig=abc123&se=x",
		"account key":      "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net",
		"service bus key":  "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2VjcmV0",
		"service bus sas":  "SharedAccessSignature sr=amqp%3A%2F%2Fns%2Fq&sig=c2VjcmV0&se=1&skn=Root",
		"json escaped":     `{"copySource":"https://a/c/b?sp=r\u0026sig=c2VjcmV0"}`,
		"upper case param": "https://a/c/b?SIG=c2VjcmV0",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			out := Text(in)
			if strings.Contains(out, "c2VjcmV0") || strings.Contains(out, "abc123") || strings.Contains(out, "abc%2Bdef") {
				t.Fatalf("secret survived: %q", out)
			}
			if !strings.Contains(out, Marker) {
				t.Fatalf("no marker in %q", out)
			}
			if got := string(Bytes([]byte(in))); got != out {
				t.Fatalf("Bytes = %q, Text = %q", got, out)
			}
		})
	}
}

func TestTextLeavesCleanTextAlone(t *testing.T) {
	for _, in := range []string{"copy pending 10/20", "signature=ok design", "https://a/c/b?snapshot=2026-01-01T00:00:00.0000000Z"} {
		if got := Text(in); got != in {
			t.Errorf("Text(%q) = %q", in, got)
		}
	}
}

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

func TestMixedCaseSignatureIsScrubbed(t *testing.T) {
	if out := Text("https://a/c/b?Sig=c2VjcmV0"); strings.Contains(out, "c2VjcmV0") {
		t.Fatalf("secret survived: %q", out)
	}
}
