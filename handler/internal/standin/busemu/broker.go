package busemu

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// Broker is an in-memory Service Bus namespace served over AMQP 1.0.
// It is safe for concurrent use.
type Broker struct {
	opts Options
	// mu guards all entity, connection, session and link state: frames are
	// handled one at a time under it and writes are queued, never blocking.
	mu     sync.Mutex
	nodes  map[string]*node
	conns  map[*conn]struct{}
	faults []*faultRule
	// faultsFired counts, by operation, what injected faults struck.
	faultsFired map[Operation]int
	ln          net.Listener
	closed      bool
	// assembling and peakAssembling count bytes of incomplete multi-frame
	// deliveries across connections (Stats).
	assembling, peakAssembling int
	wake                       chan struct{} // nudges the real-clock timer after state changes
	done                       chan struct{}
	wg                         sync.WaitGroup
}

// New returns a Broker with opts' entities created; call Listen to serve it.
func New(opts Options) (*Broker, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	b := &Broker{opts: opts, nodes: map[string]*node{}, conns: map[*conn]struct{}{}, faultsFired: map[Operation]int{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	queues, topics := opts.Queues, opts.Topics
	if !opts.NoDefaultEntities {
		dq, dt := DefaultTopologyFor(opts.EventTypePrefix)
		queues, topics = append(dq, queues...), append(dt, topics...)
	}
	for _, q := range queues {
		if err := b.CreateQueue(q.Name, q.Properties); err != nil {
			return nil, err
		}
	}
	for _, t := range topics {
		if err := b.CreateTopic(t.Name, t.Properties); err != nil {
			return nil, err
		}
		for _, s := range t.Subscriptions {
			if err := b.CreateSubscription(t.Name, s.Name, s.Properties); err != nil {
				return nil, err
			}
		}
	}
	if _, real := opts.Clock.(clock.Real); real {
		b.wg.Add(1)
		go b.timerLoop()
	}
	return b, nil
}

// Listen starts accepting AMQP connections on addr (loopback only, port 0
// picks a free port) and returns the bound address.
func (b *Broker) Listen(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("busemu: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%w: %s", ErrNotLoopback, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("busemu: listen: %w", err)
	}
	b.mu.Lock()
	if b.closed || b.ln != nil {
		b.mu.Unlock()
		_ = ln.Close()
		return "", fmt.Errorf("%w: or already listening", ErrClosed)
	}
	b.ln = ln
	b.mu.Unlock()
	b.wg.Add(1)
	go b.acceptLoop(ln)
	return ln.Addr().String(), nil
}

// Addr is the listening address, "" before Listen.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ln == nil {
		return ""
	}
	return b.ln.Addr().String()
}

// ConnectionString is an azservicebus connection string for this broker,
// in the official emulator's form (plain AMQP, no TLS).
func (b *Broker) ConnectionString() string {
	return ConnectionString(b.Addr(), b.opts.KeyName, b.opts.Key)
}

// ConnectionString builds an emulator connection string for a broker at
// addr signed with the key keyName/key.
func ConnectionString(addr, keyName, key string) string {
	return "Endpoint=sb://" + addr + ";SharedAccessKeyName=" + keyName + ";SharedAccessKey=" + key + ";UseDevelopmentEmulator=true;"
}

// Close stops listening, drops every connection and waits for the
// broker's goroutines to end.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.done)
	var err error
	if b.ln != nil {
		err = b.ln.Close()
	}
	for c := range b.conns {
		c.drop()
	}
	b.mu.Unlock()
	b.wg.Wait()
	return err
}

func (b *Broker) acceptLoop(ln net.Listener) {
	defer b.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				b.logf("accept: %v", err)
			}
			return
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			_ = nc.Close()
			return
		}
		c := newConn(b, nc)
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			c.serve()
		}()
	}
}

// DropConnections abruptly closes every client connection (fault injection:
// the clients see a lost connection and recover).
func (b *Broker) DropConnections() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		c.drop()
	}
}

func (b *Broker) now() time.Time { return b.opts.Clock.Now() }

func (b *Broker) logf(format string, args ...any) {
	if b.opts.Logf != nil {
		b.opts.Logf(format, args...)
	}
}

// CreateQueue adds a queue.
func (b *Broker) CreateQueue(name string, p QueueProperties) error {
	if err := p.validate(name); err != nil {
		return err
	}
	return b.addNode(name, func(key string) *node {
		n := b.newNode(key, p.RequiresDuplicateDetection, p.DuplicateDetectionHistoryTimeWindow, 0)
		n.queue = newStore(b, key, b.storeProps(p.LockDuration, p.MaxDeliveryCount, p.DefaultMessageTimeToLive, p.DeadLetteringOnMessageExpiration))
		return n
	})
}

// CreateTopic adds a topic without subscriptions.
func (b *Broker) CreateTopic(name string, p TopicProperties) error {
	if err := validateName(name); err != nil {
		return err
	}
	return b.addNode(name, func(key string) *node {
		n := b.newNode(key, p.RequiresDuplicateDetection, p.DuplicateDetectionHistoryTimeWindow, p.DefaultMessageTimeToLive)
		n.subs = map[string]*subscription{}
		return n
	})
}

// addNode adds the queue or topic build makes under name (its key, in
// lower case: entity names are case-insensitive) unless an entity of that
// name exists.
func (b *Broker) addNode(name string, build func(key string) *node) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := strings.ToLower(name)
	if _, ok := b.nodes[key]; ok {
		return fmt.Errorf("%w: %s", ErrEntityExists, name)
	}
	b.nodes[key] = build(key)
	return nil
}

// CreateSubscription adds a subscription to topic; it receives messages
// sent to the topic from then on.
func (b *Broker) CreateSubscription(topic, name string, p SubscriptionProperties) error {
	if err := p.validate(name); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.nodes[strings.ToLower(topic)]
	if !ok || !n.isTopic() {
		return fmt.Errorf("%w: topic %s", ErrEntityNotFound, topic)
	}
	key := strings.ToLower(name)
	if _, ok := n.subs[key]; ok {
		return fmt.Errorf("%w: %s/Subscriptions/%s", ErrEntityExists, topic, name)
	}
	n.subs[key] = &subscription{name: key, filter: p.Filter,
		store: newStore(b, subscriptionPath(topic, name), b.storeProps(p.LockDuration, p.MaxDeliveryCount, p.DefaultMessageTimeToLive, p.DeadLetteringOnMessageExpiration))}
	return nil
}

func (b *Broker) newNode(name string, dedup bool, window, ttl time.Duration) *node {
	if window == 0 {
		window = b.opts.DuplicateDetectionWindow
	}
	return &node{name: name, dedup: dedup, window: window, defaultTTL: ttl,
		seen: map[string]time.Time{}, scheduled: map[int64]*storedMessage{}}
}

func (b *Broker) storeProps(lock time.Duration, maxDelivery int32, ttl time.Duration, dlqOnExpire bool) storeProps {
	if lock == 0 {
		lock = DefaultLockDuration
	}
	if maxDelivery == 0 {
		maxDelivery = DefaultMaxDeliveryCount
	}
	return storeProps{lockDuration: lock, maxDelivery: uint32(maxDelivery), defaultTTL: ttl, dlqOnExpire: dlqOnExpire}
}
