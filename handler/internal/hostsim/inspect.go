package hostsim

import "fmt"

// EntityState is a snapshot of a queue, topic or subscription. A queue
// has both sides; a topic only the send side (Scheduled, Sent,
// Duplicates); a subscription only the receive side.
type EntityState struct {
	// Active are visible messages, in sequence order.
	Active []ReceivedMessage
	// Locked are peek-locked messages, by lock token.
	Locked []ReceivedMessage
	// Scheduled are messages not yet visible, by due time.
	Scheduled []ReceivedMessage
	// DeadLettered is the entity's dead-letter queue, oldest first.
	DeadLettered []ReceivedMessage
	Counters     Counters
}

// Inspect returns the state of a queue, topic or subscription
// (SubscriptionPath) after applying what fell due.
func (b *Broker) Inspect(path string) (EntityState, error) {
	b.mu.Lock()
	defer b.unlock()
	b.tick(b.clock.Now())
	in, isInbox := b.inboxes[path]
	st, isStore := b.stores[path]
	if !isInbox && !isStore {
		return EntityState{}, fmt.Errorf("%w: %q", ErrNoEntity, path)
	}
	var s EntityState
	if isStore {
		s.Active = cloneAll(st.active)
		for _, token := range sortedKeys(st.locked) {
			s.Locked = append(s.Locked, *st.locked[token].clone())
		}
		s.DeadLettered = cloneAll(st.dead)
		s.Counters = st.counters
	}
	if isInbox {
		s.Scheduled = cloneAll(in.scheduled)
		s.Counters.Sent, s.Counters.Duplicates = in.counters.Sent, in.counters.Duplicates
	}
	return s, nil
}

// TopicHistory returns every message a topic accepted (duplicates
// excluded), in the order sent, including scheduled ones not yet due.
func (b *Broker) TopicHistory(topic string) ([]ReceivedMessage, error) {
	b.mu.Lock()
	defer b.unlock()
	in, ok := b.inboxes[topic]
	if !ok || !in.isTopic {
		return nil, fmt.Errorf("%w: topic %q", ErrNoEntity, topic)
	}
	return cloneAll(in.history), nil
}
