// Package funcproto speaks the Azure Functions custom-handler protocol for
// Service Bus triggers: it decodes the host's invocation payloads, with all
// their encoding quirks, and answers so that the host settles the message.
// Quirks stay here; the rest of the program sees plain values.
package funcproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrTooLarge is set as DecodeErr when the request exceeded the size limit.
var ErrTooLarge = errors.New("invocation payload exceeds the size limit")

// Invocation is one Service Bus message as delivered by the host.
type Invocation struct {
	// Function is the function (folder) name, e.g. SnapshotCreated.
	Function string
	// InvocationID is X-Azure-Functions-InvocationId.
	InvocationID string
	// Body is the message body with the host's string layers removed.
	Body []byte
	// MessageID, CorrelationID, ContentType and Subject are the message's
	// system properties.
	MessageID, CorrelationID, ContentType, Subject string
	// DeliveryCount is 1 on first delivery.
	DeliveryCount int
	// SequenceNumber is the broker's sequence number.
	SequenceNumber int64
	// EnqueuedTime is when the message became visible.
	EnqueuedTime time.Time
	// ApplicationProperties are the message's custom properties.
	ApplicationProperties map[string]any
	// DecodeErr is set when the payload could not be decoded; Body then
	// holds the raw request (possibly truncated) so that nothing is lost.
	DecodeErr error
}

// envelope is the host's request body.
type envelope struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata metadata                   `json:"Metadata"`
}

// decode fills env from payload. The host's own layout — exactly one
// "Data" and one "Metadata" object, plain keys — is walked directly after
// one validation pass; anything else goes through encoding/json, whose
// rules (field names matched case-insensitively, duplicates merged, null)
// then apply. Both give the same result on the host's layout.
func (env *envelope) decode(payload []byte) error {
	if json.Valid(payload) && env.walk(payload) {
		return nil
	}
	*env = envelope{}
	return json.Unmarshal(payload, env)
}

// walk reports false, leaving env partly filled, when payload is not in
// the host's layout.
func (env *envelope) walk(payload []byte) bool {
	var data, meta []byte
	layout := true
	err := eachMember(payload, func(key, value []byte) {
		switch {
		case string(key) == `"Data"` && data == nil:
			data = value
		case string(key) == `"Metadata"` && meta == nil:
			meta = value
		default:
			layout = false
		}
	})
	if err != nil || !layout || len(data) == 0 || data[0] != '{' || len(meta) == 0 || meta[0] != '{' {
		return false
	}
	env.Data = map[string]json.RawMessage{}
	err = eachMember(data, func(key, value []byte) {
		name := key[1 : len(key)-1]
		if !plainASCII(name) {
			layout = false // escapes or bytes encoding/json would rewrite
			return
		}
		// A copy, as encoding/json makes: Decode unwraps the body in place.
		env.Data[string(name)] = append(json.RawMessage(nil), value...)
	})
	return err == nil && layout && env.Metadata.UnmarshalJSON(meta) == nil
}

// plainASCII reports a key that encoding/json would take as it is: no
// escapes, no bytes outside ASCII (invalid UTF-8 becomes U+FFFD there).
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Decode parses a request body into an Invocation. The trigger's value is
// the only entry of Data (binding name "message" in function.json; any
// single name is accepted).
func Decode(function, invocationID string, payload []byte) Invocation {
	inv := Invocation{Function: function, InvocationID: invocationID}
	var env envelope
	if err := env.decode(payload); err != nil {
		inv.Body, inv.DecodeErr = payload, fmt.Errorf("invocation payload is not JSON: %w", err)
		return inv
	}
	raw, err := triggerValue(env.Data)
	if err != nil {
		inv.Body, inv.DecodeErr = payload, err
		return inv
	}
	inv.Body = unwrapBody(raw)
	m := &env.Metadata
	inv.MessageID = metaString(m[metaMessageID])
	inv.CorrelationID = metaString(m[metaCorrelationID])
	inv.ContentType = metaString(m[metaContentType])
	inv.Subject = metaString(m[metaSubject])
	if inv.Subject == "" {
		inv.Subject = metaString(m[metaLabel])
	}
	inv.DeliveryCount = int(metaInt(m[metaDeliveryCount]))
	inv.SequenceNumber = metaInt(m[metaSequenceNumber])
	inv.EnqueuedTime = metaTime(m[metaEnqueuedTimeUtc])
	inv.ApplicationProperties = metaObject(m[metaApplicationProperties])
	if inv.ApplicationProperties == nil {
		inv.ApplicationProperties = metaObject(m[metaUserProperties])
	}
	return inv
}

// The Metadata entries Decode reads, indexes into metadata.
const (
	metaMessageID = iota
	metaCorrelationID
	metaContentType
	metaSubject
	metaLabel
	metaDeliveryCount
	metaSequenceNumber
	metaEnqueuedTimeUtc
	metaApplicationProperties
	metaUserProperties
	numMeta
)

var metaNames = [numMeta]string{
	"MessageId", "CorrelationId", "ContentType", "Subject", "Label",
	"DeliveryCount", "SequenceNumber", "EnqueuedTimeUtc",
	"ApplicationProperties", "UserProperties",
}

// metadata holds the raw values of the Metadata entries Decode reads. The
// host's Metadata also carries sys, Client, the properties twice and every
// top-level property of the body; decoding all of that into a map was most
// of Decode's cost.
type metadata [numMeta]json.RawMessage

// UnmarshalJSON keeps the entries named in metaNames, with the semantics
// of the map[string]json.RawMessage it replaces: names match exactly (a
// struct would match case-insensitively, and the body's leaked
// "correlationId" or "subject" would win), the last duplicate wins, a
// second Metadata object adds to the first and null clears it.
func (m *metadata) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*m = metadata{}
		return nil
	}
	var found metadata
	err := eachMember(data, func(key, value []byte) {
		if f := metaIndex(key); f >= 0 {
			found[f] = value
		}
	})
	if err != nil {
		return fmt.Errorf("invocation Metadata: %w", err)
	}
	// data must not be retained (json.Unmarshaler), so copy what was
	// found, into one allocation.
	n := 0
	for _, v := range found {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	for f, v := range found {
		if v != nil {
			start := len(buf)
			buf = append(buf, v...)
			m[f] = buf[start:len(buf):len(buf)]
		}
	}
	return nil
}

// metaIndex returns the index in metaNames of the member named by key, a
// complete JSON string as eachMember passes it, or -1.
func metaIndex(key []byte) int {
	name := key[1 : len(key)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		var ok bool
		if name, ok = unquote(nil, key); !ok {
			return -1
		}
	}
	for f, n := range metaNames {
		if string(name) == n {
			return f
		}
	}
	return -1
}

func triggerValue(data map[string]json.RawMessage) (json.RawMessage, error) {
	if v, ok := data["message"]; ok {
		return v, nil
	}
	if len(data) == 1 {
		for _, v := range data {
			return v, nil
		}
	}
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	return nil, fmt.Errorf("invocation Data has %d bindings %v; expected the trigger binding \"message\"", len(data), names)
}

// maxStringLayers bounds unquoting: the host adds one or two layers.
const maxStringLayers = 3

// unwrapBody removes the JSON string layers the host wraps around a message
// body, and base64 when the body arrived as bytes. A body that is already an
// object is returned as is.
func unwrapBody(raw json.RawMessage) []byte {
	v := bytes.TrimSpace(raw)
	for i := 0; i < maxStringLayers && len(v) > 0 && v[0] == '"'; i++ {
		// In place: raw is Decode's own copy, and a layer only shrinks.
		s, ok := unquote(v[:0], v)
		if !ok {
			break
		}
		v = bytes.TrimSpace(s)
	}
	if len(v) > 0 && (v[0] == '{' || v[0] == '[') {
		return v
	}
	if decoded, err := base64.StdEncoding.AppendDecode(nil, v); err == nil {
		if d := bytes.TrimSpace(decoded); len(d) > 0 && (d[0] == '{' || d[0] == '[') {
			return d
		}
	}
	return v
}

// metaString reads a metadata string: the host quotes strings once more
// ("\"abc\""), so unquote while the value is still a quoted string.
func metaString(raw json.RawMessage) string {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if v[0] != '"' {
		return string(v) // a number or other scalar, as text
	}
	// Unquote into scratch, in place from the second layer on, so that
	// only the result is allocated.
	var scratch [64]byte
	s, ok := unquote(scratch[:0], v)
	if !ok {
		return ""
	}
	for i := 1; i < maxStringLayers && len(s) > 0 && s[0] == '"'; i++ {
		next, ok := unquote(s[:0], s)
		if !ok {
			break
		}
		s = next
	}
	return string(s)
}

// metaInt reads a metadata integer, which the host sends as a string.
func metaInt(raw json.RawMessage) int64 {
	n, _ := strconv.ParseInt(metaString(raw), 10, 64)
	return n
}

func metaTime(raw json.RawMessage) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, metaString(raw))
	return t
}

// metaObject reads a dictionary, sent as an object or as a JSON string of one.
func metaObject(raw json.RawMessage) map[string]any {
	v := bytes.TrimSpace(raw)
	var obj map[string]any
	if len(v) > 0 && v[0] == '"' {
		v = []byte(metaString(v))
	}
	if json.Unmarshal(v, &obj) != nil {
		return nil
	}
	return obj
}
