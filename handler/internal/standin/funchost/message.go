package funchost

import (
	"time"
)

// Message is a received message, as the host passes it to the handler.
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

	lockToken string
}
