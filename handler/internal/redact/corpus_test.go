package redact_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/redact"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
)

// canary is in every secret of the corpus.
const canary = "S3CR3T"

type corpusCase struct {
	line  int
	scrub bool
	text  string
}

func readCorpus(t testing.TB) []corpusCase {
	f, err := os.Open(filepath.Join("testdata", "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, text, ok := strings.Cut(line, "\t")
		if !ok || (kind != "scrub" && kind != "keep") {
			t.Fatalf("corpus.txt:%d: want \"scrub\" or \"keep\", a tab, the text", n)
		}
		cases = append(cases, corpusCase{line: n, scrub: kind == "scrub", text: text})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestSecurityRedactionCorpus runs every spelling in testdata/corpus.txt:
// secrets are removed whole (no piece of the canary survives, and the
// independent scanner finds nothing left), look-alikes are left untouched.
func TestSecurityRedactionCorpus(t *testing.T) {
	for _, c := range readCorpus(t) {
		out := redact.Text(c.text)
		if string(redact.Bytes([]byte(c.text))) != out {
			t.Errorf("corpus.txt:%d: Bytes and Text disagree on %q", c.line, c.text)
		}
		leaksIn, leaksOut := redacttest.Leaks(c.text), redacttest.Leaks(out)
		if !c.scrub {
			if out != c.text || len(leaksIn) > 0 {
				t.Errorf("corpus.txt:%d: look-alike %q changed to %q (scanner: %v)", c.line, c.text, out, leaksIn)
			}
			continue
		}
		if !strings.Contains(c.text, canary) {
			t.Errorf("corpus.txt:%d: a scrub case must contain %s", c.line, canary)
		}
		if len(leaksIn) == 0 {
			t.Errorf("corpus.txt:%d: the scanner sees no secret in %q", c.line, c.text)
		}
		if strings.Contains(redacttest.Decode(out), "3CR3") || !strings.Contains(out, redact.Marker) || len(leaksOut) > 0 {
			t.Errorf("corpus.txt:%d: %q redacted to %q (scanner: %v)", c.line, c.text, out, leaksOut)
		}
	}
}

// FuzzRedactedTextHasNoLeaks: whatever the input, the scanner finds no
// secret in the redactor's output, and redacting twice changes nothing.
func FuzzRedactedTextHasNoLeaks(f *testing.F) {
	for _, c := range readCorpus(f) {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := redact.Text(in)
		if leaks := redacttest.Leaks(out); len(leaks) > 0 {
			t.Fatalf("Text(%q) = %q still holds %v", in, out, leaks)
		}
		if again := redact.Text(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}
