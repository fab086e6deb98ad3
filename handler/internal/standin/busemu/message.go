package busemu

import (
	"fmt"
	"time"
)

// Message section descriptors (spec part 3, 3.2).
const (
	descHeader                uint64 = 0x70
	descDeliveryAnnotations   uint64 = 0x71
	descMessageAnnotations    uint64 = 0x72
	descProperties            uint64 = 0x73
	descApplicationProperties uint64 = 0x74
	descData                  uint64 = 0x75
	descAMQPSequence          uint64 = 0x76
	descAMQPValue             uint64 = 0x77
	descFooter                uint64 = 0x78
)

// Positions of header and properties fields.
const (
	hdrTTL           = 2
	hdrDeliveryCount = 4
	hdrFields        = 5

	propMessageID     = 0
	propTo            = 2
	propSubject       = 3
	propReplyTo       = 4
	propCorrelationID = 5
	propContentType   = 6
	propFields        = 13
)

// batchMessageFormat marks a transfer whose data sections are each a whole
// encoded message (azservicebus SendMessageBatch).
const batchMessageFormat uint32 = 0x80013700

// message is an AMQP message with its sections decoded but otherwise kept
// as sent, so everything the client set survives the trip through the broker.
type message struct {
	header              []any // positional header fields, nil if absent
	deliveryAnnotations Map
	annotations         Map
	properties          []any // positional properties fields, nil if absent
	appProperties       Map
	body                []Described // data, amqp-sequence or amqp-value sections
	footer              Map
}

func parseMessage(b []byte) (*message, error) {
	sections, err := decodeAll(b)
	if err != nil {
		return nil, err
	}
	m := &message{}
	for _, s := range sections {
		d, ok := s.(Described)
		if !ok {
			return nil, fmt.Errorf("%w: message section is not described", errMalformed)
		}
		code, _ := asUint64(d.Descriptor)
		switch code {
		case descHeader:
			m.header, _ = d.Value.([]any)
		case descDeliveryAnnotations:
			m.deliveryAnnotations, _ = d.Value.(Map)
		case descMessageAnnotations:
			m.annotations, _ = d.Value.(Map)
		case descProperties:
			m.properties, _ = d.Value.([]any)
		case descApplicationProperties:
			m.appProperties, _ = d.Value.(Map)
		case descData, descAMQPSequence, descAMQPValue:
			m.body = append(m.body, Described{Descriptor: code, Value: d.Value})
		case descFooter:
			m.footer, _ = d.Value.(Map)
		default:
			return nil, fmt.Errorf("%w: unknown message section 0x%x", errMalformed, code)
		}
	}
	return m, nil
}

func (m *message) encode() ([]byte, error) {
	var buf []byte
	add := func(code uint64, v any) error {
		var err error
		buf, err = encode(buf, Described{Descriptor: code, Value: v})
		return err
	}
	var err error
	if m.header != nil {
		err = add(descHeader, trimNulls(m.header))
	}
	if err == nil && len(m.deliveryAnnotations) > 0 {
		err = add(descDeliveryAnnotations, m.deliveryAnnotations)
	}
	if err == nil && len(m.annotations) > 0 {
		err = add(descMessageAnnotations, m.annotations)
	}
	if err == nil && m.properties != nil {
		err = add(descProperties, trimNulls(m.properties))
	}
	if err == nil && len(m.appProperties) > 0 {
		err = add(descApplicationProperties, m.appProperties)
	}
	for _, s := range m.body {
		if err == nil {
			err = add(s.Descriptor.(uint64), s.Value)
		}
	}
	if err == nil && len(m.footer) > 0 {
		err = add(descFooter, m.footer)
	}
	return buf, err
}

// clone copies the parts the broker changes per delivery, so every copy
// (subscriptions, redeliveries) can be annotated independently.
func (m *message) clone() *message {
	c := *m
	c.header = append([]any(nil), m.header...)
	c.deliveryAnnotations = append(Map(nil), m.deliveryAnnotations...)
	c.annotations = append(Map(nil), m.annotations...)
	c.properties = append([]any(nil), m.properties...)
	c.appProperties = append(Map(nil), m.appProperties...)
	return &c
}

func (m *message) property(i int) any { return field(m.properties, i) }

func (m *message) setProperty(i int, v any) {
	for len(m.properties) < propFields {
		m.properties = append(m.properties, nil)
	}
	m.properties[i] = v
}

func (m *message) setHeader(i int, v any) {
	for len(m.header) < hdrFields {
		m.header = append(m.header, nil)
	}
	m.header[i] = v
}

// messageID is the message-id as text ("" when absent), the duplicate-detection key.
func (m *message) messageID() string {
	switch v := m.property(propMessageID).(type) {
	case nil:
		return ""
	case string:
		return v
	case UUID:
		return v.String()
	case []byte:
		return fmt.Sprintf("%x", v)
	default:
		return fmt.Sprint(v)
	}
}

func (m *message) subject() string { return asString(m.property(propSubject)) }

// ttl is the header time-to-live, 0 when unset.
func (m *message) ttl() time.Duration {
	ms, _ := asUint32(field(m.header, hdrTTL))
	return time.Duration(ms) * time.Millisecond
}

// dataBody concatenates the data sections (what azservicebus calls Body).
func (m *message) dataBody() []byte {
	var out []byte
	for _, s := range m.body {
		if b, ok := s.Value.([]byte); ok && s.Descriptor == descData {
			out = append(out, b...)
		}
	}
	return out
}

// value is the amqp-value body, used by management requests.
func (m *message) value() any {
	for _, s := range m.body {
		if s.Descriptor == descAMQPValue {
			return s.Value
		}
	}
	return nil
}
