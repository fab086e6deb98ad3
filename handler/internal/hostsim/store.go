package hostsim

import (
	"fmt"
	"slices"
	"time"
)

// Dead-letter reasons Service Bus uses (platform-notes §3.5).
const (
	ReasonMaxDeliveryCountExceeded = "MaxDeliveryCountExceeded"
	ReasonTTLExpired               = "TTLExpiredException"
)

// Counters count what happened to an entity's messages.
type Counters struct {
	// Sent and Duplicates count accepted and dropped sends (queues and topics).
	Sent, Duplicates int
	// The rest count receive-side events (queues and subscriptions).
	Deliveries, Completed, Abandoned, LockExpired, DeadLettered, Expired int
}

// store is the receive side of a queue or subscription: visible messages
// in sequence order, locked ones, and the dead-letter queue.
type store struct {
	path     string
	settings ReceiveSettings
	active   []*ReceivedMessage
	locked   map[string]*ReceivedMessage
	dead     []*ReceivedMessage
	counters Counters
}

func newStore(path string, s ReceiveSettings) *store {
	return &store{path: path, settings: s, locked: map[string]*ReceivedMessage{}}
}

// add makes m visible in sequence-number order: an abandoned message goes
// back to its place, not to the tail.
func (s *store) add(m *ReceivedMessage) {
	i, _ := slices.BinarySearchFunc(s.active, m.SequenceNumber, func(a *ReceivedMessage, seq int64) int {
		return cmpInt64(a.SequenceNumber, seq)
	})
	s.active = slices.Insert(s.active, i, m)
}

// receive peek-locks the first visible message.
func (s *store) receive(now time.Time, token string) (*ReceivedMessage, bool) {
	if len(s.active) == 0 {
		return nil, false
	}
	m := s.active[0]
	s.active = s.active[1:]
	m.DeliveryCount++
	m.LockToken = token
	m.LockedUntil = now.Add(s.settings.LockDuration)
	s.locked[token] = m
	s.counters.Deliveries++
	return m.clone(), true
}

func (s *store) take(token string) (*ReceivedMessage, error) {
	m, ok := s.locked[token]
	if !ok {
		return nil, fmt.Errorf("%w: %s: lock token %s", ErrLockLost, s.path, token)
	}
	delete(s.locked, token)
	m.LockToken, m.LockedUntil = "", time.Time{}
	return m, nil
}

// release returns an abandoned or lock-expired message: visible again at
// once, or dead-lettered once it has been delivered MaxDeliveryCount times.
func (s *store) release(m *ReceivedMessage, deadLettered func(*ReceivedMessage)) {
	if m.DeliveryCount >= s.settings.MaxDeliveryCount {
		s.deadLetter(m, ReasonMaxDeliveryCountExceeded,
			fmt.Sprintf("Message could not be consumed after %d delivery attempts.", s.settings.MaxDeliveryCount), deadLettered)
		return
	}
	s.add(m)
}

func (s *store) deadLetter(m *ReceivedMessage, reason, description string, deadLettered func(*ReceivedMessage)) {
	m.DeadLetterReason, m.DeadLetterErrorDescription = reason, description
	s.dead = append(s.dead, m)
	s.counters.DeadLettered++
	deadLettered(m)
}

// expire releases locks that ran out and removes visible messages whose
// TTL passed (locked messages do not expire).
func (s *store) expire(now time.Time, deadLettered func(*ReceivedMessage)) {
	for _, token := range sortedKeys(s.locked) {
		if m := s.locked[token]; !now.Before(m.LockedUntil) {
			m, _ = s.take(token)
			s.counters.LockExpired++
			s.release(m, deadLettered)
		}
	}
	kept := s.active[:0]
	for _, m := range s.active {
		if m.ExpiresAt.IsZero() || now.Before(m.ExpiresAt) {
			kept = append(kept, m)
			continue
		}
		s.counters.Expired++
		if s.settings.DeadLetterOnExpiration {
			s.deadLetter(m, ReasonTTLExpired, "The message expired and was dead lettered.", deadLettered)
		}
	}
	clear(s.active[len(kept):])
	s.active = kept
}

// nextLockExpiry is the earliest time a lock runs out.
func (s *store) nextLockExpiry() (time.Time, bool) {
	var next time.Time
	for _, m := range s.locked {
		if next.IsZero() || m.LockedUntil.Before(next) {
			next = m.LockedUntil
		}
	}
	return next, !next.IsZero()
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
