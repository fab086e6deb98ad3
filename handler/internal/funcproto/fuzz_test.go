package funcproto

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary request bodies to the invocation decoder.
// Properties: it never panics, is deterministic, and a payload it cannot
// decode keeps the raw request as the body (nothing is lost).
//
//	go test -run '^$' -fuzz 'FuzzDecode$' -fuzztime 60s ./handler/internal/funcproto/
func FuzzDecode(f *testing.F) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range fixtures {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"Data":null}`, `{"Data":{}}`, `{"Data":{"a":1,"b":2}}`,
		`{"Data":{"message":"\"\\\"\\\"\""},"Metadata":{"MessageId":"\"\\\"\\\"\\\"\\\"\""}}`,
		`{"Data":{"message":"eyJhIjoxfQ=="},"Metadata":{"DeliveryCount":"x","EnqueuedTimeUtc":"1","ApplicationProperties":"\"{\\\"a\\\":1}\""}}`,
		`{"Data":{"message":{"a":[1,2]}},"Metadata":{"UserProperties":{"k":null},"SequenceNumber":"99999999999999999999"}}`,
		`{"Data":{"message":"   "},"Metadata":{"MessageId":5,"Subject":null,"Label":"\"l\""}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		inv := Decode("SnapshotCreated", "inv-1", payload)
		again := Decode("SnapshotCreated", "inv-1", payload)
		if !bytes.Equal(inv.Body, again.Body) || inv.MessageID != again.MessageID || inv.DeliveryCount != again.DeliveryCount ||
			(inv.DecodeErr == nil) != (again.DecodeErr == nil) {
			t.Fatalf("Decode is not deterministic")
		}
		if inv.Function != "SnapshotCreated" || inv.InvocationID != "inv-1" {
			t.Fatalf("function or invocation id lost: %q %q", inv.Function, inv.InvocationID)
		}
		if inv.DecodeErr != nil && !bytes.Equal(inv.Body, payload) {
			t.Fatalf("undecodable payload: Body must be the raw request (%v)", inv.DecodeErr)
		}
	})
}

// FuzzDecodeHostEncoding encodes a message the way the Functions host does
// (body as a JSON string, once or twice; metadata strings quoted once
// more; integers as strings) and decodes it: a JSON-object body and the
// message id must come back unchanged.
//
//	go test -run '^$' -fuzz FuzzDecodeHostEncoding -fuzztime 60s ./handler/internal/funcproto/
func FuzzDecodeHostEncoding(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","type":"X.SnapshotCreated","data":{"snapshotUrl":"https://a.blob.core.windows.net/c/b?snapshot=2026-11-24T10:00:00Z"}}`), "m-1", uint8(1), 3)
	f.Add([]byte(` {"a":"\"quoted\" \\ \u2028"} `), "id with \"quotes\"", uint8(2), 1)
	f.Add([]byte(`{"a":"eyJhIjoxfQ=="}`), "", uint8(2), 10)
	f.Add([]byte(`["not","an","object"]`), "x", uint8(1), 0)
	f.Fuzz(func(t *testing.T, body []byte, messageID string, layers uint8, deliveryCount int) {
		trimmed := bytes.TrimSpace(body)
		if !utf8.Valid(body) || !json.Valid(body) || len(trimmed) == 0 || trimmed[0] != '{' {
			t.Skip("the round trip holds for JSON-object bodies")
		}
		n := 1 + int(layers%2)
		data := json.RawMessage(body)
		for range n {
			s, _ := json.Marshal(string(data))
			data = s
		}
		quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		payload, err := json.Marshal(map[string]any{
			"Data": map[string]json.RawMessage{"message": data},
			"Metadata": map[string]any{
				"MessageId":     quoted(messageID),
				"DeliveryCount": itoa(deliveryCount),
				"sys":           map[string]string{"MethodName": "SnapshotCreated"},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		inv := Decode("SnapshotCreated", "inv-1", payload)
		if inv.DecodeErr != nil {
			t.Fatalf("host encoding not decoded: %v", inv.DecodeErr)
		}
		if !bytes.Equal(inv.Body, trimmed) {
			t.Fatalf("body %q came back as %q (%d layers)", trimmed, inv.Body, n)
		}
		// metaString unquotes while the value is still a quoted string, so
		// an id that itself starts with a quote is ambiguous.
		if utf8.ValidString(messageID) && !strings.HasPrefix(messageID, `"`) && inv.MessageID != messageID {
			t.Fatalf("message id %q came back as %q", messageID, inv.MessageID)
		}
		if inv.DeliveryCount != deliveryCount {
			t.Fatalf("delivery count %d came back as %d", deliveryCount, inv.DeliveryCount)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// FuzzUnquote checks the string-layer decoder against encoding/json, both
// into a fresh buffer and in place.
//
//	go test -run '^$' -fuzz FuzzUnquote -fuzztime 60s ./handler/internal/funcproto/
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"a\"b\\c\/d"`, `"\"x\" " `, `"\u00e9\n"`, `"a" b`, `"a\`, "\"\xff\"", "\"\t\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if len(v) == 0 || v[0] != '"' {
			t.Skip("unquote reads values that start with a quote")
		}
		var want string
		err := json.Unmarshal(v, &want)
		got, ok := unquote(nil, v)
		if ok != (err == nil) || ok && string(got) != want {
			t.Fatalf("unquote(%q) = %q, %v; encoding/json: %q, %v", v, got, ok, want, err)
		}
		buf := bytes.Clone(v)
		got, ok = unquote(buf[:0], buf)
		if ok != (err == nil) || ok && string(got) != want {
			t.Fatalf("in place: unquote(%q) = %q, %v; encoding/json: %q, %v", v, got, ok, want, err)
		}
	})
}
