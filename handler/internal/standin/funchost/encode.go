package funchost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// encodeInvocation builds the body the Functions host posts for a Service
// Bus trigger, as the real host does it: the message body as a JSON string
// (layers times string-encoded), metadata strings quoted once more,
// integers as strings, dictionaries as objects, the body's top-level
// properties leaking into Metadata, and the host's sys object.
func encodeInvocation(function string, m *Message, layers int, now time.Time, invocationID string) ([]byte, error) {
	var data json.RawMessage = m.Body
	for i := 0; i < layers; i++ {
		s, err := json.Marshal(string(data))
		if err != nil {
			return nil, err
		}
		data = s
	}
	meta := map[string]any{}
	// Leaked body properties first, so that system keys win collisions.
	var top map[string]json.RawMessage
	if json.Unmarshal(m.Body, &top) == nil {
		for k, v := range top {
			meta[k] = hostValue(v)
		}
	}
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	props := m.Properties
	if props == nil {
		props = map[string]any{}
	}
	for k, v := range map[string]any{
		"MessageId":             quoted(m.ID),
		"DeliveryCount":         fmt.Sprint(m.DeliveryCount),
		"SequenceNumber":        fmt.Sprint(m.SequenceNumber),
		"EnqueuedTimeUtc":       quoted(m.EnqueuedAt.UTC().Format(time.RFC3339Nano)),
		"ExpiresAtUtc":          quoted(m.EnqueuedAt.Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)),
		"LockToken":             quoted(m.lockToken),
		"ApplicationProperties": props,
		"UserProperties":        props,
		"MessageReceiver":       struct{}{},
		"MessageActions":        struct{}{},
		"Client":                map[string]string{"FullyQualifiedNamespace": "localhost"},
		"sys":                   map[string]string{"MethodName": function, "UtcNow": now.UTC().Format(time.RFC3339Nano), "RandGuid": invocationID},
	} {
		meta[k] = v
	}
	// Nulls are omitted by the host.
	for k, v := range map[string]string{"ContentType": m.ContentType, "CorrelationId": m.CorrelationID, "Subject": m.Subject, "Label": m.Subject} {
		if v != "" {
			meta[k] = quoted(v)
		}
	}
	return json.Marshal(map[string]any{"Data": map[string]json.RawMessage{"message": data}, "Metadata": meta})
}

// hostValue is how the host passes a body property: objects as objects,
// everything else as its JSON text in a string.
func hostValue(v json.RawMessage) any {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '{' {
		return v
	}
	return string(v)
}
