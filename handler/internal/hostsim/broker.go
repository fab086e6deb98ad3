package hostsim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// Broker is an in-memory Service Bus namespace: queues, and topics fanning
// out to subscriptions. It is safe for concurrent use.
type Broker struct {
	clock          clock.Clock
	maxSize        int
	onDeadLettered func(string, ReceivedMessage)

	mu      sync.Mutex
	inboxes map[string]*inbox // queues and topics, by name
	stores  map[string]*store // queues and subscriptions, by path
	owner   map[string]*inbox // store path → the inbox that fills it
	rng     *rand.Rand
	faults  []*fault
	// changed is closed and replaced whenever a message may have become
	// receivable, to wake blocked receivers.
	changed chan struct{}
	dirty   bool
	// hooks queued under the lock, run after it is released.
	hooks []func()
}

// NewBroker creates the configured entities.
func NewBroker(cfg BrokerConfig) (*Broker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Broker{
		clock:          cfg.Clock,
		maxSize:        cfg.MaxMessageSize,
		onDeadLettered: cfg.OnDeadLettered,
		inboxes:        map[string]*inbox{},
		stores:         map[string]*store{},
		owner:          map[string]*inbox{},
		rng:            rand.New(rand.NewPCG(cfg.Seed, 0x686f737473696d)),
		changed:        make(chan struct{}),
	}
	for _, q := range cfg.Queues {
		in := newInbox(q.Name, q.SendSettings, false)
		st := newStore(q.Name, q.ReceiveSettings)
		in.targets = []*store{st}
		b.inboxes[q.Name], b.stores[q.Name], b.owner[q.Name] = in, st, in
	}
	for _, t := range cfg.Topics {
		in := newInbox(t.Name, t.SendSettings, true)
		for _, s := range t.Subscriptions {
			path := SubscriptionPath(t.Name, s.Name)
			st := newStore(path, s.ReceiveSettings)
			in.targets = append(in.targets, st)
			b.stores[path], b.owner[path] = st, in
		}
		b.inboxes[t.Name] = in
	}
	return b, nil
}

// Clock is the broker's clock.
func (b *Broker) Clock() clock.Clock { return b.clock }

// Send accepts m for a queue or topic. A MessageId seen within the
// duplicate detection window is accepted and dropped, as Service Bus does.
// A future ScheduledEnqueueTime schedules the message.
func (b *Broker) Send(entity string, m Message) error {
	_, err := b.put(OpSend, entity, m, m.ScheduledEnqueueTime)
	return err
}

// Schedule holds m until at and returns its scheduling sequence number. A
// time not in the future makes it visible at once, at the tail.
func (b *Broker) Schedule(entity string, m Message, at time.Time) (int64, error) {
	return b.put(OpSchedule, entity, m, at)
}

func (b *Broker) put(op Operation, entity string, m Message, at time.Time) (int64, error) {
	b.mu.Lock()
	defer b.unlock()
	in, ok := b.inboxes[entity]
	if !ok {
		return 0, fmt.Errorf("%w: queue or topic %q", ErrNoEntity, entity)
	}
	if err := b.injected(op, entity); err != nil {
		return 0, err
	}
	if err := b.checkSize(m); err != nil {
		return 0, err
	}
	now := b.clock.Now()
	b.tick(now)
	rm := (&ReceivedMessage{Message: m}).clone()
	if rm.MessageID == "" {
		// Service Bus names a message that came without an id.
		rm.MessageID = b.newGUID()
	}
	if !in.accept(rm, now) {
		// Service Bus still answers a duplicate scheduled send with a number.
		in.seq++
		return in.seq, nil
	}
	b.dirty = true
	if at.After(now) {
		in.schedule(rm, at)
	} else {
		in.enqueue(rm, now)
	}
	in.record(rm)
	return rm.SequenceNumber, nil
}

// receive peek-locks the next visible message of a store.
func (b *Broker) receive(st *store) (*ReceivedMessage, bool) {
	b.mu.Lock()
	defer b.unlock()
	now := b.clock.Now()
	b.tick(now)
	return st.receive(now, b.newGUID())
}

// complete removes a locked message.
func (b *Broker) complete(st *store, token string) error {
	b.mu.Lock()
	defer b.unlock()
	b.tick(b.clock.Now())
	if _, err := st.take(token); err != nil {
		return err
	}
	st.counters.Completed++
	return nil
}

// abandon makes a locked message visible again at once (or dead-letters it
// after MaxDeliveryCount deliveries).
func (b *Broker) abandon(st *store, token string) error {
	b.mu.Lock()
	defer b.unlock()
	b.tick(b.clock.Now())
	m, err := st.take(token)
	if err != nil {
		return err
	}
	st.counters.Abandoned++
	st.release(m, b.deadLettered(st))
	b.dirty = true
	return nil
}

// nextDue is the earliest time something changes in a store without a
// send: a scheduled message of its inbox falls due or a lock runs out.
func (b *Broker) nextDue(st *store) (time.Time, bool) {
	b.mu.Lock()
	defer b.unlock()
	b.tick(b.clock.Now())
	var times []time.Time
	if len(st.active) > 0 {
		times = append(times, b.clock.Now())
	}
	if t, ok := b.owner[st.path].nextScheduled(); ok {
		times = append(times, t)
	}
	if t, ok := st.nextLockExpiry(); ok {
		times = append(times, t)
	}
	if len(times) == 0 {
		return time.Time{}, false
	}
	return slices.MinFunc(times, time.Time.Compare), true
}

// tick applies everything that falls due by now: scheduled messages
// become visible, locks run out, TTLs pass. Callers hold b.mu.
func (b *Broker) tick(now time.Time) {
	for _, name := range sortedKeys(b.inboxes) {
		if b.inboxes[name].activate(now) {
			b.dirty = true
		}
	}
	for _, path := range sortedKeys(b.stores) {
		st := b.stores[path]
		expired := st.counters.LockExpired
		st.expire(now, b.deadLettered(st))
		if st.counters.LockExpired != expired {
			b.dirty = true
		}
	}
}

// deadLettered returns the callback that queues the OnDeadLettered hook.
func (b *Broker) deadLettered(st *store) func(*ReceivedMessage) {
	return func(m *ReceivedMessage) {
		if b.onDeadLettered != nil {
			c := *m.clone()
			b.hooks = append(b.hooks, func() { b.onDeadLettered(st.path, c) })
		}
	}
}

// unlock releases b.mu, wakes blocked receivers if something changed, and
// runs queued hooks outside the lock so that they may call the broker.
func (b *Broker) unlock() {
	hooks := b.hooks
	b.hooks = nil
	if b.dirty {
		close(b.changed)
		b.changed = make(chan struct{})
		b.dirty = false
	}
	b.mu.Unlock()
	for _, h := range hooks {
		h()
	}
}

// changes returns a channel closed at the next change.
func (b *Broker) changes() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// newGUID draws a GUID-formatted id from the seeded generator. Callers
// hold b.mu.
func (b *Broker) newGUID() string {
	return formatGUID(b.rng.Uint64(), b.rng.Uint64())
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
