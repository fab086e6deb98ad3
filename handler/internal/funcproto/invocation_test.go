package funcproto

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The fixtures reproduce the shapes the Functions host sends for a Service
// Bus trigger: the body as a JSON string with one or two layers, or base64, or an object; metadata strings quoted once
// more; integers as strings; dictionaries as objects or JSON strings.
func TestDecodeFixtures(t *testing.T) {
	wantBody := `{"specversion":"1.0","type":"Contoso.Backup.SnapshotCreated","id":"e1","source":"/backup","data":{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z"}}`
	cases := []struct {
		file          string
		deliveryCount int
	}{
		{"one_layer.json", 1},
		{"two_layers.json", 1},
		{"base64_body.json", 1},
		{"object_body.json", 3},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			inv := Decode("SnapshotCreated", "inv-1", payload)
			if inv.DecodeErr != nil {
				t.Fatalf("DecodeErr = %v", inv.DecodeErr)
			}
			if !jsonEqual(t, inv.Body, []byte(wantBody)) {
				t.Errorf("Body = %s", inv.Body)
			}
			if inv.MessageID != "m-1" || inv.CorrelationID != "corr-1" || inv.ContentType != "application/cloudevents+json" || inv.Subject != "snap" {
				t.Errorf("system properties = %q %q %q %q", inv.MessageID, inv.CorrelationID, inv.ContentType, inv.Subject)
			}
			if inv.DeliveryCount != c.deliveryCount || inv.SequenceNumber != 42 {
				t.Errorf("DeliveryCount, SequenceNumber = %d, %d", inv.DeliveryCount, inv.SequenceNumber)
			}
			if want := time.Date(2026, 11, 24, 10, 0, 1, 500_000_000, time.UTC); !inv.EnqueuedTime.Equal(want) {
				t.Errorf("EnqueuedTime = %v", inv.EnqueuedTime)
			}
			if inv.ApplicationProperties["origin"] != "scheduler" || inv.ApplicationProperties["snapcopyWaits"] != float64(2) {
				t.Errorf("ApplicationProperties = %v", inv.ApplicationProperties)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func TestDecodeFailuresKeepThePayload(t *testing.T) {
	cases := map[string]string{
		"not json":         `{"Data":`,
		"no trigger value": `{"Data":{},"Metadata":{}}`,
		"several bindings": `{"Data":{"a":"1","b":"2"},"Metadata":{}}`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			inv := Decode("CopyPoll", "inv", []byte(payload))
			if inv.DecodeErr == nil {
				t.Fatal("DecodeErr = nil")
			}
			if string(inv.Body) != payload {
				t.Fatalf("Body = %q, want the raw payload", inv.Body)
			}
		})
	}
}

func TestDecodePlainTextBody(t *testing.T) {
	inv := Decode("SnapshotCreated", "inv", []byte(`{"Data":{"message":"\"hello\""},"Metadata":{}}`))
	if inv.DecodeErr != nil || string(inv.Body) != "hello" {
		t.Fatalf("Body = %q, err = %v", inv.Body, inv.DecodeErr)
	}
}

func TestMetaStringLayers(t *testing.T) {
	cases := map[string]string{
		`"abc"`:             "abc",
		`"\"abc\""`:         "abc",
		`"\"\\\"abc\\\"\""`: "abc",
		`7`:                 "7",
		`null`:              "",
	}
	for raw, want := range cases {
		if got := metaString(json.RawMessage(raw)); got != want {
			t.Errorf("metaString(%s) = %q, want %q", raw, got, want)
		}
	}
}

// Metadata entries are matched as map keys: by exact name, the last
// duplicate winning, with the body's leaked lower-case properties ignored;
// a second Metadata object adds to the first and null clears them.
func TestDecodeMetadataNames(t *testing.T) {
	cases := map[string]struct{ payload, id, subject string }{
		"leaked body properties": {`{"Data":{"message":"{}"},"Metadata":{"CorrelationId":"\"c\"","correlationId":"\"leak\"","subject":"\"leak\"","Label":"\"l\"","MessageId":"\"a\"","MessageI\u0064":"\"b\""}}`, "b", "l"},
		"second object":          {`{"Data":{"message":"{}"},"Metadata":{"MessageId":"\"a\""},"metadata":{"Subject":"\"s\""}}`, "a", "s"},
		"null":                   {`{"Data":{"message":"{}"},"Metadata":{"MessageId":"\"a\""},"Metadata":null,"Metadata":{"Label":"\"l\""}}`, "", "l"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			inv := Decode("CopyPoll", "inv", []byte(c.payload))
			if inv.DecodeErr != nil || inv.MessageID != c.id || inv.Subject != c.subject {
				t.Fatalf("MessageID, Subject = %q, %q (err %v), want %q, %q", inv.MessageID, inv.Subject, inv.DecodeErr, c.id, c.subject)
			}
			if c.id == "b" && inv.CorrelationID != "c" {
				t.Fatalf("CorrelationID = %q", inv.CorrelationID)
			}
		})
	}
	for _, payload := range []string{`{"Data":{"message":"{}"},"Metadata":"x"}`, `{"Data":{"message":"{}"},"Metadata":[]}`} {
		if inv := Decode("CopyPoll", "inv", []byte(payload)); inv.DecodeErr == nil {
			t.Errorf("%s: DecodeErr = nil", payload)
		}
	}
}

// FuzzEnvelopeWalk: the direct walk of the host's layout decodes exactly
// what encoding/json decodes, and falls back to it for everything else.
func FuzzEnvelopeWalk(f *testing.F) {
	f.Add([]byte(`{"Data":{"message":"\"x\""},"Metadata":{"MessageId":"\"m\"","DeliveryCount":"1"}}`))
	f.Add([]byte(`{"Metadata":{"MessageId":"a"},"Data":{"message":{"k":1}}}`))
	f.Add([]byte(`{"data":{"message":"x"},"Data":{"other":"y"},"Metadata":null}`))
	f.Add([]byte(`{"Data":{"m\u0065ssage":"x"},"Metadata":{},"Data":{"b":2}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var fast, slow envelope
		errFast := fast.decode(payload)
		errSlow := json.Unmarshal(payload, &slow)
		if (errFast == nil) != (errSlow == nil) {
			t.Fatalf("decode error %v, encoding/json error %v", errFast, errSlow)
		}
		if errFast == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decode %+v\nencoding/json %+v", fast, slow)
		}
	})
}
