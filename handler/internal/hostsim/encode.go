package hostsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BindingName is the trigger binding's name in snapcopy's function.json
// files; it is the key of the message under Data.
const BindingName = "message"

// invocationContext is what the host adds to a message when it encodes it.
type invocationContext struct {
	function     string
	invocationID string
	now          time.Time
	layers       int
	namespace    string
}

// encodeInvocation builds the request body the Functions host posts for a
// Service Bus trigger (platform-notes §2.4–2.5). The host turns every
// value that is not a JSON object into its JSON text (Newtonsoft
// SerializeObject) and then writes that text as a JSON string:
//   - the body, a string, gets one or two string layers (layers);
//   - metadata strings get an extra quote layer: "MessageId": "\"abc\"";
//   - integers become strings: "DeliveryCount": "1";
//   - dictionaries and objects stay objects; nulls are omitted;
//   - a JSON-object body's top-level properties leak into Metadata;
//   - the host adds sys.
//
// Keys come in a fixed order so that output is byte-for-byte stable.
func encodeInvocation(m *ReceivedMessage, c invocationContext) ([]byte, error) {
	body := jsonString(string(m.Body))
	for range c.layers - 1 {
		body = jsonString(string(body))
	}
	meta := object{}
	meta.add("DeliveryCount", jsonString(strconv.Itoa(m.DeliveryCount)))
	meta.add("LockToken", hostString(m.LockToken))
	meta.add("ExpiresAtUtc", hostString(netDateTime(expiry(m))))
	meta.add("ExpiresAt", hostString(netDateTimeOffset(expiry(m))))
	meta.add("EnqueuedTimeUtc", hostString(netDateTime(m.EnqueuedTime)))
	meta.add("EnqueuedTime", hostString(netDateTimeOffset(m.EnqueuedTime)))
	for _, kv := range [][2]string{
		{"MessageId", m.MessageID}, {"ContentType", m.ContentType}, {"ReplyTo", m.ReplyTo},
		{"To", m.To}, {"CorrelationId", m.CorrelationID},
	} {
		if kv[1] != "" {
			meta.add(kv[0], hostString(kv[1]))
		}
	}
	meta.add("SequenceNumber", jsonString(strconv.FormatInt(m.SequenceNumber, 10)))
	if m.Subject != "" {
		meta.add("Subject", hostString(m.Subject))
		meta.add("Label", hostString(m.Subject))
	}
	props, err := propertiesObject(m.ApplicationProperties)
	if err != nil {
		return nil, err
	}
	meta.add("ApplicationProperties", props)
	meta.add("UserProperties", props)
	for _, k := range []string{"MessageReceiver", "MessageActions", "ReceiveActions"} {
		meta.add(k, json.RawMessage(`{}`))
	}
	client := object{}
	client.add("FullyQualifiedNamespace", jsonString(c.namespace))
	client.add("IsClosed", json.RawMessage(`false`))
	client.add("TransportType", json.RawMessage(`0`))
	meta.add("Client", client.raw())
	leakBodyProperties(&meta, m.Body)
	sys := object{}
	sys.add("MethodName", jsonString(c.function))
	sys.add("UtcNow", jsonString(netDateTime(c.now)))
	sys.add("RandGuid", jsonString(c.invocationID))
	meta.add("sys", sys.raw())

	data := object{}
	data.add(BindingName, body)
	env := object{}
	env.add("Data", data.raw())
	env.add("Metadata", meta.raw())
	return env.raw(), nil
}

// leakBodyProperties adds a JSON-object body's top-level properties to
// Metadata, as the host's binding data does. System keys win collisions
// (which one wins on the real host is not documented); keys ending in
// "trigger" are skipped like all such keys; nulls are omitted.
func leakBodyProperties(meta *object, body []byte) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		v := bytes.TrimSpace(top[k])
		if meta.has(k) || k == "sys" || strings.HasSuffix(strings.ToLower(k), "trigger") || string(v) == "null" {
			continue
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, v) // v came out of a successful Unmarshal
		if v[0] == '{' {
			meta.add(k, compact.Bytes())
		} else {
			meta.add(k, jsonString(compact.String()))
		}
	}
}

// propertiesObject encodes application properties as the dictionary the
// host passes through as an object; times take .NET's format.
func propertiesObject(props map[string]any) (json.RawMessage, error) {
	o := object{}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		if t, ok := v.(time.Time); ok {
			v = netDateTime(t)
		}
		raw, err := marshalNoEscape(v)
		if err != nil {
			return nil, err
		}
		o.add(k, raw)
	}
	return o.raw(), nil
}

// maxDateTime is .NET's DateTime.MaxValue, the expiry of a message that
// never expires.
var maxDateTime = time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)

func expiry(m *ReceivedMessage) time.Time {
	if m.ExpiresAt.IsZero() {
		return maxDateTime
	}
	return m.ExpiresAt
}

// netDateTime formats a UTC DateTime as Newtonsoft does
// (yyyy-MM-ddTHH:mm:ss.FFFFFFFK: up to 7 fraction digits, trailing zeros
// and a bare dot dropped, K = "Z").
func netDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.9999999") + "Z"
}

// netDateTimeOffset formats a DateTimeOffset at offset zero.
func netDateTimeOffset(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.9999999") + "+00:00"
}

// hostString is a string value as the host writes it: its JSON text,
// written again as a JSON string.
func hostString(s string) json.RawMessage { return jsonString(string(jsonString(s))) }

// jsonString encodes s as a JSON string without Go's HTML escaping, which
// Newtonsoft does not do.
func jsonString(s string) json.RawMessage {
	raw, _ := marshalNoEscape(s) // a string always encodes
	return raw
}

func marshalNoEscape(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// object is a JSON object that keeps insertion order, as the host's
// dictionaries serialize.
type object []field

type field struct {
	key   string
	value json.RawMessage
}

func (o *object) add(k string, v json.RawMessage) { *o = append(*o, field{k, v}) }

func (o object) has(k string) bool {
	return slices.ContainsFunc(o, func(f field) bool { return f.key == k })
}

func (o object) raw() json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(jsonString(f.key))
		buf.WriteByte(':')
		buf.Write(f.value)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
