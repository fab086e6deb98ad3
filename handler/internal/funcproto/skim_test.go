package funcproto

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
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
	srv := httptest.NewServer(NewServer(map[string]Function{"F": func(_ context.Context, inv Invocation) copyjob.Settlement {
		got = append(got, inv)
		return copyjob.Complete
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

// FuzzSkimMatchesDecode: on envelopes shaped like the host's, the skimmer
// finds the MessageId and DeliveryCount that Decode finds; on any input it
// returns without panicking.
func FuzzSkimMatchesDecode(f *testing.F) {
	f.Add("m-1", `{"a":"b"}`, "pad", 1, []byte(`{"Metadata":{"MessageId":"x"`))
	f.Add(`we"ird\id`, `"string body"`, `{"nested":[1,{"MessageId":"no"}]}`, 7, []byte(`"`))
	f.Fuzz(func(t *testing.T, id, body, leaked string, count int, raw []byte) {
		skimMetadata(bytes.NewReader(raw)) // must not panic or hang

		quoted, _ := json.Marshal(id)
		twice, _ := json.Marshal(string(quoted))
		data, _ := json.Marshal(body)
		leak, _ := json.Marshal(leaked)
		payload := `{"Data":{"message":` + string(data) + `},"Metadata":{"leaked":` + string(leak) +
			`,"MessageId":` + string(twice) + `,"DeliveryCount":"` + strconv.Itoa(count) + `"}}`
		want := Decode("F", "", []byte(payload))
		if want.DecodeErr != nil {
			t.Skip()
		}
		meta := skimMetadata(strings.NewReader(payload))
		gotID, gotCount := metaString(meta["MessageId"]), int(metaInt(meta["DeliveryCount"]))
		if len(twice) > maxSkimValue {
			if gotID != "" {
				t.Fatalf("an over-long MessageId must be dropped, got %q", gotID)
			}
			return
		}
		if gotID != want.MessageID || gotCount != want.DeliveryCount {
			t.Fatalf("skim: %q %d; Decode: %q %d\npayload %s", gotID, gotCount, want.MessageID, want.DeliveryCount, payload)
		}
	})
}
