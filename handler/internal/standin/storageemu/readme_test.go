package storageemu

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestReadmeOperationTableIsTrue walks the README's operation table: each
// row's request must classify as the row's operation and be implemented
// exactly when the row says so, and every operation the emulator knows
// must have a row.
func TestReadmeOperationTableIsTrue(t *testing.T) {
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		cells := strings.Split(scanner.Text(), "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		name, request, status := strings.TrimSpace(cells[1]), strings.Trim(strings.TrimSpace(cells[2]), "`"), strings.TrimSpace(cells[3])
		if status != "implemented" && status != "`501`" {
			continue // another table
		}
		r := readmeRequest(t, request)
		op := classify(r, parseTarget(r.URL))
		if op.name() != name {
			t.Errorf("%q classifies as %q, the README says %q", request, op.name(), name)
		}
		if implemented := unsupported(r, op) == nil; implemented != (status == "implemented") {
			t.Errorf("%s: README says %s, emulator implemented=%v", name, status, implemented)
		}
		seen[name] = true
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	for op := range handlers {
		if !seen[op.name()] {
			t.Errorf("the README's table lacks %s", op.name())
		}
	}
	for _, op := range notImplementedOps {
		if !seen[string(op)] {
			t.Errorf("the README's table lacks %s", op)
		}
	}
}

// readmeRequest builds a request from "METHOD /c/b?query + header: value + ...",
// where /c is a container and /c/b a blob of the development account.
func readmeRequest(t *testing.T, spec string) *http.Request {
	t.Helper()
	parts := strings.Split(spec, " + ")
	method, path, ok := strings.Cut(parts[0], " ")
	if !ok {
		t.Fatalf("README request %q: want METHOD /path", spec)
	}
	u, err := url.Parse("http://127.0.0.1/" + DevAccountName + path)
	if err != nil {
		t.Fatal(err)
	}
	r := &http.Request{Method: method, URL: u, Header: http.Header{}}
	for _, h := range parts[1:] {
		k, v, ok := strings.Cut(h, ": ")
		if !ok {
			t.Fatalf("README request %q: header %q", spec, h)
		}
		r.Header.Set(k, v)
	}
	return r
}
