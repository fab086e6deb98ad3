package busemu

import (
	"slices"
	"strings"
	"time"
)

// MessageInfo is a snapshot of one stored message, for test assertions.
type MessageInfo struct {
	SequenceNumber        int64
	MessageID             string
	Subject               string
	ContentType           string
	CorrelationID         string
	Body                  []byte // the data sections, concatenated
	ApplicationProperties map[string]any
	// DeliveryCount is the header delivery-count: failed deliveries so far
	// (azservicebus shows it plus one).
	DeliveryCount              uint32
	EnqueuedTime               time.Time // zero while scheduled
	ScheduledEnqueueTime       time.Time // zero unless scheduled
	ExpiresAt                  time.Time // zero: never
	LockedUntil                time.Time // zero unless locked
	DeadLetterReason           string
	DeadLetterErrorDescription string
	DeadLetterSource           string
}

// Counts summarizes an entity.
type Counts struct {
	Active       int // available to receivers
	Locked       int // delivered in peek-lock, not settled yet
	Scheduled    int // waiting for their enqueue time (queues and topics)
	DeadLettered int
}

// Counts reports message counts of a queue, subscription
// ("topic/Subscriptions/sub") or topic (scheduled only).
func (b *Broker) Counts(path string) (Counts, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var c Counts
	if n, err := b.resolveNode(path); err == nil {
		c.Scheduled = len(n.scheduled)
		if n.isTopic() {
			return c, nil
		}
	}
	st, err := b.resolveStore(path)
	if err != nil {
		return Counts{}, err
	}
	c.Active, c.Locked = len(st.active), len(st.locked)
	if st.dlq != nil {
		c.DeadLettered = len(st.dlq.active) + len(st.dlq.locked)
	}
	return c, nil
}

// Messages lists the active and locked messages of a queue, subscription
// or dead-letter queue ("…/$deadletterqueue"), by sequence number.
func (b *Broker) Messages(path string) ([]MessageInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.resolveStore(path)
	if err != nil {
		return nil, err
	}
	all := slices.Clone(st.active)
	for _, sm := range st.locked {
		all = append(all, sm)
	}
	return infos(all), nil
}

// ScheduledMessages lists the scheduled messages of a queue or topic, by
// scheduling sequence number.
func (b *Broker) ScheduledMessages(entity string) ([]MessageInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.resolveNode(entity)
	if err != nil {
		return nil, err
	}
	var all []*storedMessage
	for _, sm := range n.scheduled {
		all = append(all, sm)
	}
	return infos(all), nil
}

func infos(all []*storedMessage) []MessageInfo {
	slices.SortFunc(all, func(a, b *storedMessage) int { return int(a.seq - b.seq) })
	out := make([]MessageInfo, 0, len(all))
	for _, sm := range all {
		m := sm.msg
		info := MessageInfo{
			SequenceNumber: sm.seq, MessageID: m.messageID(), Subject: m.subject(),
			ContentType: asString(m.property(propContentType)), CorrelationID: asString(m.property(propCorrelationID)),
			Body: m.dataBody(), DeliveryCount: sm.failedDeliveries, EnqueuedTime: sm.enqueued,
			ScheduledEnqueueTime: sm.scheduledAt, ExpiresAt: sm.expiresAt, LockedUntil: sm.lockedUntil,
			DeadLetterReason: m.appProperties.String(propDeadLetterReason), DeadLetterErrorDescription: m.appProperties.String(propDeadLetterDescription),
			DeadLetterSource: sm.deadLetterSource,
		}
		if sm.holder == nil {
			info.LockedUntil = time.Time{}
		}
		if len(m.appProperties) > 0 {
			info.ApplicationProperties = map[string]any{}
			for _, e := range m.appProperties {
				info.ApplicationProperties[asString(e.Key)] = e.Value
			}
		}
		out = append(out, info)
	}
	return out
}

// Pending applies what has fallen due, then counts the messages of a queue
// or subscription that a receiver could still get without the clock
// moving: available ones, and locked ones not settled yet (a client may
// hold them in its buffer, or release them). A host simulator on a fake
// clock uses it to tell "nothing to do now" from "not arrived yet".
func (b *Broker) Pending(path string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	st, err := b.resolveStore(path)
	if err != nil {
		return 0, err
	}
	return len(st.active) + len(st.locked), nil
}

// NextDue is when something next falls due for a queue or subscription:
// a scheduled message (of the queue, or of the subscription's topic)
// becoming visible, a lock running out, a message expiring.
func (b *Broker) NextDue(path string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.resolveStore(path)
	if err != nil {
		return time.Time{}, false
	}
	due := st.nextDue()
	base, _, _ := strings.Cut(normalizePath(path), segmentSubscription)
	if n, err := b.resolveNode(base); err == nil {
		due = earliest(due, n.nextScheduledAt())
	}
	return due, !due.IsZero()
}
