package busemu

import (
	"fmt"
	"slices"
	"time"
)

// Dead-letter reasons Service Bus itself sets.
const (
	reasonMaxDelivery = "MaxDeliveryCountExceeded"
	reasonTTLExpired  = "TTLExpiredException"
)

// storedMessage is one message in a store, with the broker's bookkeeping.
type storedMessage struct {
	msg              *message
	seq              int64
	enqueued         time.Time
	expiresAt        time.Time // zero: never
	scheduledAt      time.Time // set while scheduled
	failedDeliveries uint32    // header delivery-count: abandons and lock expiries
	lockToken        UUID
	lockedUntil      time.Time
	holder           *outLink // receiver link holding the lock
	deadLetterSource string
}

func newStored(m *message, seq int64, now time.Time, ttl time.Duration) *storedMessage {
	sm := &storedMessage{msg: m, seq: seq, enqueued: now}
	if ttl > 0 {
		sm.expiresAt = now.Add(ttl)
	}
	return sm
}

// storeProps are the settlement rules of a queue or subscription.
type storeProps struct {
	lockDuration time.Duration
	maxDelivery  uint32
	defaultTTL   time.Duration
	dlqOnExpire  bool
}

// store holds the receivable messages of a queue, a subscription or a
// dead-letter queue, and the receiver links waiting for them.
type store struct {
	b         *Broker
	path      string
	props     storeProps
	active    []*storedMessage // available, by sequence number
	locked    map[UUID]*storedMessage
	dlq       *store // nil for a dead-letter queue itself
	receivers []*outLink
	next      int // round-robin position among receivers
}

func newStore(b *Broker, path string, p storeProps) *store {
	s := &store{b: b, path: path, props: p, locked: map[UUID]*storedMessage{}}
	s.dlq = &store{b: b, path: path + suffixDeadLetter, props: storeProps{lockDuration: p.lockDuration, maxDelivery: p.maxDelivery},
		locked: map[UUID]*storedMessage{}}
	return s
}

// ttlFor is the message's TTL clamped by the entity defaults (the smallest wins).
func (s *store) ttlFor(m *message, nodeTTL time.Duration) time.Duration {
	ttl := m.ttl()
	for _, limit := range []time.Duration{nodeTTL, s.props.defaultTTL} {
		if limit > 0 && (ttl == 0 || ttl > limit) {
			ttl = limit
		}
	}
	return ttl
}

// add makes sm available in sequence order and offers it to receivers.
func (s *store) add(sm *storedMessage) {
	i, _ := slices.BinarySearchFunc(s.active, sm.seq, func(m *storedMessage, seq int64) int { return int(m.seq - seq) })
	s.active = slices.Insert(s.active, i, sm)
	s.pump()
}

// pump hands available messages to receivers with credit, round robin.
func (s *store) pump() {
	s.expire(s.b.now())
	for len(s.active) > 0 {
		l := s.nextReceiver()
		if l == nil {
			return
		}
		sm := s.active[0]
		s.active = s.active[1:]
		l.deliver(s, sm)
	}
}

func (s *store) nextReceiver() *outLink {
	for range s.receivers {
		s.next = (s.next + 1) % len(s.receivers)
		if l := s.receivers[s.next]; l.credit > 0 {
			return l
		}
	}
	return nil
}

func (s *store) addReceiver(l *outLink) { s.receivers = append(s.receivers, l) }

// removeReceiver forgets l and makes the messages it held locked available
// again without counting a delivery (busemu's choice; see README).
func (s *store) removeReceiver(l *outLink) {
	s.receivers = slices.DeleteFunc(s.receivers, func(r *outLink) bool { return r == l })
	for tok, sm := range s.locked {
		if sm.holder == l {
			delete(s.locked, tok)
			s.release(sm, false)
		}
	}
	s.pump()
}

// lock records that sm was delivered in peek-lock mode to l.
func (s *store) lock(sm *storedMessage, l *outLink) {
	sm.lockToken = newUUID()
	sm.lockedUntil = s.b.now().Add(s.props.lockDuration)
	sm.holder = l
	s.locked[sm.lockToken] = sm
}

// unlock removes the lock tok, or reports that it was lost (expired or settled).
func (s *store) unlock(tok UUID) (*storedMessage, bool) {
	sm, ok := s.locked[tok]
	if ok {
		delete(s.locked, tok)
		sm.holder = nil
	}
	return sm, ok
}

// release puts an unlocked message back; failed counts a delivery attempt
// (abandon, lock expiry) and dead-letters it past MaxDeliveryCount.
func (s *store) release(sm *storedMessage, failed bool) {
	sm.holder = nil
	if failed {
		sm.failedDeliveries++
		if s.dlq != nil && sm.failedDeliveries >= s.props.maxDelivery {
			s.deadLetter(sm, reasonMaxDelivery, fmt.Sprintf("Message could not be consumed after %d delivery attempts.", s.props.maxDelivery))
			return
		}
	}
	s.add(sm)
}

// deadLetter moves sm to the DLQ with the reason application properties
// Service Bus sets (a DLQ's own messages are dropped instead).
func (s *store) deadLetter(sm *storedMessage, reason, description string) {
	if s.dlq == nil {
		return
	}
	sm.msg.appProperties = sm.msg.appProperties.Set("DeadLetterReason", reason)
	sm.msg.appProperties = sm.msg.appProperties.Set("DeadLetterErrorDescription", description)
	sm.deadLetterSource = s.path
	sm.expiresAt = time.Time{} // DLQ messages never expire
	s.dlq.add(sm)
}

// expire drops or dead-letters available messages whose TTL has passed.
func (s *store) expire(now time.Time) {
	kept := s.active[:0]
	var expired []*storedMessage
	for _, sm := range s.active {
		if !sm.expiresAt.IsZero() && !sm.expiresAt.After(now) {
			expired = append(expired, sm)
			continue
		}
		kept = append(kept, sm)
	}
	clear(s.active[len(kept):])
	s.active = kept
	for _, sm := range expired {
		if s.props.dlqOnExpire {
			s.deadLetter(sm, reasonTTLExpired, "The message expired and was dead lettered.")
		}
	}
}

// expireLocks returns messages whose lock ran out, counting a failed delivery.
func (s *store) expireLocks(now time.Time) {
	for tok, sm := range s.locked {
		if !sm.lockedUntil.After(now) {
			delete(s.locked, tok)
			s.release(sm, true)
		}
	}
}

// nextDue is the earliest future moment at which this store changes by itself.
func (s *store) nextDue() time.Time {
	var due time.Time
	for _, sm := range s.locked {
		due = earliest(due, sm.lockedUntil)
	}
	for _, sm := range s.active {
		due = earliest(due, sm.expiresAt)
	}
	return due
}

func earliest(a, b time.Time) time.Time {
	if b.IsZero() || (!a.IsZero() && a.Before(b)) {
		return a
	}
	return b
}
