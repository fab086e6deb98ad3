package funchost

import (
	"time"
)

// Message is a message held by the broker.
type Message struct {
	ID            string
	Body          []byte
	ContentType   string
	CorrelationID string
	Subject       string
	Properties    map[string]any

	SequenceNumber int64
	// EnqueuedAt is when the message became visible (its scheduled time
	// for scheduled messages).
	EnqueuedAt time.Time
	// DeliveryCount counts deliveries; 1 on the first.
	DeliveryCount int
	// DeadLetterReason is set on dead-lettered messages.
	DeadLetterReason, DeadLetterDescription string

	lockedUntil time.Time
	lockToken   string
}

func (m *Message) clone() *Message {
	c := *m
	c.Body = append([]byte(nil), m.Body...)
	if m.Properties != nil {
		c.Properties = make(map[string]any, len(m.Properties))
		for k, v := range m.Properties {
			c.Properties[k] = v
		}
	}
	return &c
}
