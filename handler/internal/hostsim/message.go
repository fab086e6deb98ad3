package hostsim

import (
	"maps"
	"time"
)

// Message is what a sender hands the broker; the fields mirror
// azservicebus.Message (empty strings stand for nil).
type Message struct {
	MessageID     string
	Subject       string
	ContentType   string
	CorrelationID string
	ReplyTo       string
	To            string
	// ApplicationProperties are the message's custom properties.
	ApplicationProperties map[string]any
	Body                  []byte
	// TimeToLive is capped by the entity's default; 0 takes the default.
	TimeToLive time.Duration
	// ScheduledEnqueueTime, when set, keeps the message invisible until then.
	ScheduledEnqueueTime time.Time
}

// ReceivedMessage is a message as the broker holds and delivers it.
type ReceivedMessage struct {
	Message
	// SequenceNumber is assigned at enqueue; a scheduled message gets a new
	// one when it becomes visible (until then it holds the scheduling number).
	SequenceNumber int64
	// EnqueuedTime is when the message became visible.
	EnqueuedTime time.Time
	// ExpiresAt is EnqueuedTime + TTL; zero when the message never expires.
	ExpiresAt time.Time
	// DeliveryCount counts deliveries: 1 on the first.
	DeliveryCount int
	// LockToken and LockedUntil are set while the message is peek-locked.
	LockToken   string
	LockedUntil time.Time
	// DeadLetterReason and DeadLetterErrorDescription are set in a DLQ.
	DeadLetterReason           string
	DeadLetterErrorDescription string
}

// clone copies the message so that callers never share the broker's maps
// and slices.
func (m *ReceivedMessage) clone() *ReceivedMessage {
	c := *m
	c.Body = append([]byte(nil), m.Body...)
	c.ApplicationProperties = maps.Clone(m.ApplicationProperties)
	return &c
}

func cloneAll(ms []*ReceivedMessage) []ReceivedMessage {
	out := make([]ReceivedMessage, len(ms))
	for i, m := range ms {
		out[i] = *m.clone()
	}
	return out
}
