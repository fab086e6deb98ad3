package funcproto

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func TestServerSettlesByFunctionResult(t *testing.T) {
	var got Invocation
	srv := httptest.NewServer(NewServer(map[string]Function{
		"Done":  func(_ context.Context, inv Invocation) copyjob.Settlement { got = inv; return copyjob.Complete },
		"Again": func(context.Context, Invocation) copyjob.Settlement { return copyjob.Retry },
		// A settlement nobody set must not tell the host "completed".
		"Unset": func(context.Context, Invocation) copyjob.Settlement { return 0 },
	}, 1<<20))
	defer srv.Close()
	payload, err := os.ReadFile(filepath.Join("testdata", "one_layer.json"))
	if err != nil {
		t.Fatal(err)
	}

	probe, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	probe.Body.Close()
	if probe.StatusCode != http.StatusOK {
		t.Fatalf("readiness probe: %d", probe.StatusCode)
	}

	for name, want := range map[string]int{"Done": 200, "Again": 500, "Unset": 500, "Missing": 404} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/"+name, strings.NewReader(string(payload)))
		req.Header.Set("X-Azure-Functions-InvocationId", "inv-7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d (%s)", name, resp.StatusCode, want, body)
		}
	}
	if got.InvocationID != "inv-7" || got.MessageID != "m-1" || got.Function != "Done" {
		t.Fatalf("invocation = %+v", got)
	}
}

func TestServerTooLarge(t *testing.T) {
	var got Invocation
	srv := httptest.NewServer(NewServer(map[string]Function{
		"F": func(_ context.Context, inv Invocation) copyjob.Settlement { got = inv; return copyjob.Complete },
	}, 16))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/F", "application/json", strings.NewReader(strings.Repeat("x", 100)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !errors.Is(got.DecodeErr, ErrTooLarge) || len(got.Body) != 16 {
		t.Fatalf("DecodeErr = %v, body %d bytes", got.DecodeErr, len(got.Body))
	}
}

func TestServerRecoversPanics(t *testing.T) {
	var reported any
	s := NewServer(map[string]Function{
		"Boom": func(context.Context, Invocation) copyjob.Settlement { panic("boom") },
	}, 1<<10)
	s.OnPanic = func(_ Invocation, p any) { reported = p }
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/Boom", "application/json", strings.NewReader(`{"Data":{"message":"{}"},"Metadata":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || reported != "boom" {
		t.Fatalf("status %d, reported %v", resp.StatusCode, reported)
	}
}
