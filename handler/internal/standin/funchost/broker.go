package funchost

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// Sentinel errors.
var (
	ErrNoEntity   = errors.New("funchost: no such entity")
	ErrLockLost   = errors.New("funchost: lock token unknown or expired")
	ErrInjected   = errors.New("funchost: injected send failure")
	ErrInvalid = errors.New("funchost: invalid options")
)

// declareHint tells how to fix ErrNoEntity.
const declareHint = "declare it in BrokerOptions.Queues or BrokerOptions.Topics"

// BrokerOptions configure a Broker; zero values take the defaults that the
// project's infra gives the real entities.
type BrokerOptions struct {
	// Clock drives scheduled delivery, locks and duplicate detection.
	Clock clock.Clock
	// Queues are queue names.
	Queues []string
	// Topics map topic names to their subscriptions.
	Topics map[string][]string
	// MaxDeliveryCount dead-letters a message delivered this often. Default 10.
	MaxDeliveryCount int
	// LockDuration is how long a received message stays locked. Default 5 min.
	LockDuration time.Duration
	// DuplicateWindow is the duplicate detection window. Default 1 h.
	DuplicateWindow time.Duration
}

func (o *BrokerOptions) setDefaults() {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.MaxDeliveryCount == 0 {
		o.MaxDeliveryCount = 10
	}
	if o.LockDuration == 0 {
		o.LockDuration = 5 * time.Minute
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = time.Hour
	}
}

// Validate says what is wrong with the options.
func (o BrokerOptions) Validate() error {
	if o.MaxDeliveryCount < 0 || o.LockDuration < 0 || o.DuplicateWindow < 0 {
		return fmt.Errorf("%w: MaxDeliveryCount, LockDuration and DuplicateWindow must not be negative", ErrInvalid)
	}
	if len(o.Queues) == 0 && len(o.Topics) == 0 {
		return fmt.Errorf("%w: no entities: %s", ErrInvalid, declareHint)
	}
	return nil
}

// Broker is an in-memory Service Bus namespace.
type Broker struct {
	opts BrokerOptions

	mu       sync.Mutex
	queues   map[string]*entity // queues and subscriptions
	topics   map[string][]string
	seen     map[string]map[string]time.Time // entity → message id → accepted at
	seq      int64
	tokens   int64
	failSend map[string]int
	changed  chan struct{}
}

// entity is a queue or a topic subscription.
type entity struct {
	ready  []*Message // visible or scheduled, ordered by EnqueuedAt then sequence
	locked map[string]*Message
	dead   []*Message
	// Completed counts settled messages.
	completed int
}

// NewBroker returns a broker with the declared entities.
func NewBroker(opts BrokerOptions) (*Broker, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	b := &Broker{opts: opts, queues: map[string]*entity{}, topics: map[string][]string{}, seen: map[string]map[string]time.Time{},
		failSend: map[string]int{}, changed: make(chan struct{})}
	for _, q := range opts.Queues {
		b.queues[q] = &entity{locked: map[string]*Message{}}
	}
	for topic, subs := range opts.Topics {
		for _, s := range subs {
			b.queues[SubscriptionPath(topic, s)] = &entity{locked: map[string]*Message{}}
			b.topics[topic] = append(b.topics[topic], SubscriptionPath(topic, s))
		}
	}
	return b, nil
}

// SubscriptionPath is the entity path of a topic subscription.
func SubscriptionPath(topic, subscription string) string {
	return topic + "/Subscriptions/" + subscription
}

// FailNextSends makes the next n sends or schedules to entity fail.
func (b *Broker) FailNextSends(entityName string, n int) {
	b.mu.Lock()
	b.failSend[entityName] = n
	b.mu.Unlock()
}

// enqueue accepts msg for entityName (a queue or a topic), visible at at.
// A MessageId seen within the duplicate window is accepted and dropped,
// like Service Bus does.
func (b *Broker) enqueue(entityName string, msg *Message, at time.Time) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := b.failSend[entityName]; n > 0 {
		b.failSend[entityName] = n - 1
		return 0, fmt.Errorf("%w to %s", ErrInjected, entityName)
	}
	targets := b.topics[entityName]
	if targets == nil {
		if _, ok := b.queues[entityName]; !ok {
			return 0, fmt.Errorf("%w: %q (%s)", ErrNoEntity, entityName, declareHint)
		}
		targets = []string{entityName}
	}
	now := b.opts.Clock.Now()
	b.seq++
	seq := b.seq
	if msg.ID != "" {
		seen := b.seen[entityName]
		if seen == nil {
			seen = map[string]time.Time{}
			b.seen[entityName] = seen
		}
		if t, dup := seen[msg.ID]; dup && now.Sub(t) < b.opts.DuplicateWindow {
			return seq, nil
		}
		seen[msg.ID] = now
	}
	if at.Before(now) {
		at = now
	}
	for _, target := range targets {
		m := msg.clone()
		m.SequenceNumber, m.EnqueuedAt = seq, at
		b.queues[target].insert(m)
	}
	b.signal()
	return seq, nil
}

// insert keeps ready ordered by EnqueuedAt, then sequence number: what
// Service Bus delivers first.
func (e *entity) insert(m *Message) {
	i := sort.Search(len(e.ready), func(i int) bool {
		r := e.ready[i]
		return r.EnqueuedAt.After(m.EnqueuedAt) || (r.EnqueuedAt.Equal(m.EnqueuedAt) && r.SequenceNumber > m.SequenceNumber)
	})
	e.ready = slices.Insert(e.ready, i, m)
}

// signal wakes every source waiting for news.
func (b *Broker) signal() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// changes is closed at the next signal.
func (b *Broker) changes() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// receive locks the first visible message of entityName, if any.
func (b *Broker) receive(entityName string) (*Message, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.queues[entityName]
	if e == nil {
		return nil, false
	}
	now := b.opts.Clock.Now()
	b.expireLocks(e, now)
	if len(e.ready) == 0 || e.ready[0].EnqueuedAt.After(now) {
		return nil, false
	}
	m := e.ready[0]
	e.ready = e.ready[1:]
	m.DeliveryCount++
	b.tokens++
	m.lockToken = strconv.FormatInt(b.tokens, 10)
	m.lockedUntil = now.Add(b.opts.LockDuration)
	e.locked[m.lockToken] = m
	return m.clone(), true
}

// settle completes or abandons a locked message.
func (b *Broker) settle(entityName, token string, complete bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.queues[entityName]
	m, ok := e.locked[token]
	if !ok {
		return ErrLockLost
	}
	delete(e.locked, token)
	if complete {
		e.completed++
		return nil
	}
	b.release(e, m)
	return nil
}

// release puts an abandoned or expired message back, or dead-letters it.
func (b *Broker) release(e *entity, m *Message) {
	if m.DeliveryCount >= b.opts.MaxDeliveryCount {
		m.DeadLetterReason = "MaxDeliveryCountExceeded"
		m.DeadLetterDescription = fmt.Sprintf("Message could not be consumed after %d delivery attempts.", m.DeliveryCount)
		e.dead = append(e.dead, m)
		return
	}
	// Abandon makes the message visible again at once, in its old place.
	e.insert(m)
	b.signal()
}

func (b *Broker) expireLocks(e *entity, now time.Time) {
	for token, m := range e.locked {
		if !now.Before(m.lockedUntil) {
			delete(e.locked, token)
			b.release(e, m)
		}
	}
}

// nextDue is when entityName next has a scheduled message becoming
// visible or a lock running out.
func (b *Broker) nextDue(entityName string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.queues[entityName]
	var next time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	if len(e.ready) > 0 {
		consider(e.ready[0].EnqueuedAt)
	}
	for _, m := range e.locked {
		consider(m.lockedUntil)
	}
	return next, found
}

// Peek returns copies of the messages waiting in entityName (visible or
// scheduled), oldest first, leaving them in place.
func (b *Broker) Peek(entityName string) []*Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.queues[entityName]
	if e == nil {
		return nil
	}
	out := make([]*Message, len(e.ready))
	for i, m := range e.ready {
		out[i] = m.clone()
	}
	return out
}

// Stats is a snapshot of one entity.
type Stats struct {
	Ready, Locked, Completed int
	DeadLettered             []*Message
}

// Stats returns the state of entityName (a queue or subscription path).
func (b *Broker) Stats(entityName string) Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.queues[entityName]
	if e == nil {
		return Stats{}
	}
	dead := make([]*Message, len(e.dead))
	for i, m := range e.dead {
		dead[i] = m.clone()
	}
	return Stats{Ready: len(e.ready), Locked: len(e.locked), Completed: e.completed, DeadLettered: dead}
}

// Sender returns a sender for entityName with the methods of
// *azservicebus.Sender that snapcopy's bus adapter uses.
func (b *Broker) Sender(entityName string) *Sender { return &Sender{broker: b, entity: entityName} }

// Sender enqueues azservicebus messages into the broker.
type Sender struct {
	broker *Broker
	entity string
}

// SendMessage enqueues m now.
func (s *Sender) SendMessage(ctx context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	at := s.broker.opts.Clock.Now()
	if m.ScheduledEnqueueTime != nil {
		at = *m.ScheduledEnqueueTime
	}
	_, err := s.broker.enqueue(s.entity, fromSDK(m), at)
	return err
}

// ScheduleMessages enqueues messages to become visible at at.
func (s *Sender) ScheduleMessages(ctx context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seqs := make([]int64, 0, len(ms))
	for _, m := range ms {
		seq, err := s.broker.enqueue(s.entity, fromSDK(m), at)
		if err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	return seqs, nil
}

func fromSDK(m *azservicebus.Message) *Message {
	out := &Message{Body: m.Body, Properties: m.ApplicationProperties}
	if m.MessageID != nil {
		out.ID = *m.MessageID
	}
	if m.ContentType != nil {
		out.ContentType = *m.ContentType
	}
	if m.CorrelationID != nil {
		out.CorrelationID = *m.CorrelationID
	}
	if m.Subject != nil {
		out.Subject = *m.Subject
	}
	return out
}
