package funcproto

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSkimMetadataFindsFieldsPastAHugeBody(t *testing.T) {
	huge := strings.Repeat(`x\"{}[],:`, 20000)
	cases := map[string]struct {
		payload string
		id      string
		count   int
	}{
		"host layout":              {`{"Data":{"message":"` + huge + `"},"Metadata":{"padding":"` + huge + `","MessageId":"\"m-1\"","DeliveryCount":"2","sys":{"MessageId":"inner"}}}`, "m-1", 2},
		"metadata first, numbers":  {`{"Metadata":{"DeliveryCount":3, "MessageId" : "m-2"},"Data":{"message":{"big":"` + huge + `"}}}`, "m-2", 3},
		"nested MessageId ignored": {`{"Data":{"message":{"MessageId":"body"}},"Metadata":{"x":{"MessageId":"nested"},"MessageId":"m-3"}}`, "m-3", 0},
		"key in Data ignored":      {`{"Data":{"MessageId":"data"},"Metadata":{}}`, "", 0},
		"truncated":                {`{"Data":{"message":"` + huge, "", 0},
		"long id cut, not kept":    {`{"Metadata":{"MessageId":"` + strings.Repeat("i", 5000) + `"}}`, "", 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			meta := skimMetadata(strings.NewReader(c.payload))
			if id, n := metaString(meta["MessageId"]), int(metaInt(meta["DeliveryCount"])); id != c.id || n != c.count {
				t.Fatalf("MessageId %q DeliveryCount %d, want %q %d", id, n, c.id, c.count)
			}
		})
	}
}

// TestServerTooLargeKeepsMessageID: two different oversized messages with
// the same readable prefix must stay distinguishable.
func TestServerTooLargeKeepsMessageID(t *testing.T) {
	var got []Invocation
	srv := httptest.NewServer(NewServer(map[string]Function{"F": func(_ context.Context, inv Invocation) bool {
		got = append(got, inv)
		return true
	}}, 1024))
	defer srv.Close()
	for _, id := range []string{"twin-a", "twin-b"} {
		payload := `{"Data":{"message":"` + strings.Repeat("p", 4096) + `"},"Metadata":{"MessageId":"\"` + id + `\"","DeliveryCount":"1"}}`
		resp, err := http.Post(srv.URL+"/F", "application/json", bytes.NewReader([]byte(payload)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(got) != 2 || got[0].MessageID != "twin-a" || got[1].MessageID != "twin-b" || got[0].DeliveryCount != 1 ||
		got[0].DecodeErr != ErrTooLarge || len(got[0].Body) != 1024 {
		t.Fatalf("invocations: %+v", got)
	}
}
