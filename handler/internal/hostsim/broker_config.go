package hostsim

import (
	"fmt"
	"strings"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// Service Bus defaults (platform-notes §3.3, §3.5).
const (
	DefaultLockDuration             = time.Minute
	DefaultMaxDeliveryCount         = 10
	DefaultDuplicateDetectionWindow = 10 * time.Minute
	// DefaultMaxMessageSize is the Standard tier's limit.
	DefaultMaxMessageSize = 256 * 1024
)

// BrokerConfig configures a Broker. Zero values take defaults.
type BrokerConfig struct {
	// Clock drives scheduling, locks, TTL and duplicate detection.
	// Default: clock.Real.
	Clock clock.Clock
	// Queues to create. With neither Queues nor Topics set, snapcopy's
	// entities are created: queues snapshot-created and copy-poll, topic
	// copy-events with subscription "all".
	Queues []QueueConfig
	// Topics to create, with their subscriptions.
	Topics []TopicConfig
	// MaxMessageSize refuses larger sends with azservicebus.ErrMessageTooLarge.
	// Default: 256 KiB.
	MaxMessageSize int
	// Seed makes lock tokens and generated message ids reproducible.
	Seed uint64
	// OnDeadLettered, when set, is told about every message moved to a
	// dead-letter queue (entity path, message). It runs without the
	// broker's lock held.
	OnDeadLettered func(entity string, m ReceivedMessage)
}

// QueueConfig names a queue and its properties.
type QueueConfig struct {
	Name string
	SendSettings
	ReceiveSettings
}

// TopicConfig names a topic, its properties and subscriptions. Every
// subscription receives every message (no filters).
type TopicConfig struct {
	Name string
	SendSettings
	Subscriptions []SubscriptionConfig
}

// SubscriptionConfig names a subscription and its properties.
type SubscriptionConfig struct {
	Name string
	ReceiveSettings
}

// SendSettings are the properties of the entity a sender writes to.
type SendSettings struct {
	// DuplicateDetectionWindow: a MessageId seen within it is dropped.
	// Default: 10 minutes.
	DuplicateDetectionWindow time.Duration
	// NoDuplicateDetection turns duplicate detection off.
	NoDuplicateDetection bool
	// DefaultTimeToLive is the default and ceiling of message TTL.
	// 0: messages never expire.
	DefaultTimeToLive time.Duration
}

// ReceiveSettings are the properties of the entity a receiver reads.
type ReceiveSettings struct {
	// LockDuration is how long a peek-lock lasts. Default: 1 minute.
	LockDuration time.Duration
	// MaxDeliveryCount dead-letters a message after that many deliveries.
	// Default: 10.
	MaxDeliveryCount int
	// DeadLetterOnExpiration moves expired messages to the DLQ
	// (TTLExpiredException) instead of dropping them.
	DeadLetterOnExpiration bool
}

// SubscriptionPath is how Service Bus names a subscription, and how the
// broker's Source and Inspect address it.
func SubscriptionPath(topic, subscription string) string {
	return topic + "/Subscriptions/" + subscription
}

func (c *BrokerConfig) setDefaults() {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Queues == nil && c.Topics == nil {
		c.Queues = []QueueConfig{{Name: "snapshot-created"}, {Name: "copy-poll"}}
		c.Topics = []TopicConfig{{Name: "copy-events", Subscriptions: []SubscriptionConfig{{Name: "all"}}}}
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	for i := range c.Queues {
		c.Queues[i].SendSettings.setDefaults()
		c.Queues[i].ReceiveSettings.setDefaults()
	}
	for i := range c.Topics {
		c.Topics[i].SendSettings.setDefaults()
		for j := range c.Topics[i].Subscriptions {
			c.Topics[i].Subscriptions[j].ReceiveSettings.setDefaults()
		}
	}
}

func (s *SendSettings) setDefaults() {
	if s.DuplicateDetectionWindow == 0 {
		s.DuplicateDetectionWindow = DefaultDuplicateDetectionWindow
	}
}

func (s *ReceiveSettings) setDefaults() {
	if s.LockDuration == 0 {
		s.LockDuration = DefaultLockDuration
	}
	if s.MaxDeliveryCount == 0 {
		s.MaxDeliveryCount = DefaultMaxDeliveryCount
	}
}

// Validate says what is wrong with the configuration, after defaults.
func (c *BrokerConfig) Validate() error {
	seen := map[string]bool{}
	name := func(kind, n string) error {
		switch {
		case n == "" || strings.Contains(n, "/"):
			return fmt.Errorf("%w: %s name %q must be non-empty and contain no '/'", ErrInvalidConfig, kind, n)
		case seen[n]:
			return fmt.Errorf("%w: %s name %q is used twice", ErrInvalidConfig, kind, n)
		}
		seen[n] = true
		return nil
	}
	if c.MaxMessageSize < 0 {
		return fmt.Errorf("%w: MaxMessageSize %d is negative", ErrInvalidConfig, c.MaxMessageSize)
	}
	for _, q := range c.Queues {
		if err := name("queue", q.Name); err != nil {
			return err
		}
		if err := q.SendSettings.validate(q.Name); err != nil {
			return err
		}
		if err := q.ReceiveSettings.validate(q.Name); err != nil {
			return err
		}
	}
	for _, t := range c.Topics {
		if err := name("topic", t.Name); err != nil {
			return err
		}
		if err := t.SendSettings.validate(t.Name); err != nil {
			return err
		}
		subs := map[string]bool{}
		for _, s := range t.Subscriptions {
			if s.Name == "" || strings.Contains(s.Name, "/") || subs[s.Name] {
				return fmt.Errorf("%w: topic %s: subscription name %q must be non-empty, unique and contain no '/'", ErrInvalidConfig, t.Name, s.Name)
			}
			subs[s.Name] = true
			if err := s.ReceiveSettings.validate(SubscriptionPath(t.Name, s.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s SendSettings) validate(entity string) error {
	// Service Bus accepts 20 s to 7 days.
	if !s.NoDuplicateDetection && (s.DuplicateDetectionWindow < 20*time.Second || s.DuplicateDetectionWindow > 7*24*time.Hour) {
		return fmt.Errorf("%w: %s: DuplicateDetectionWindow %v outside Service Bus's 20s..168h", ErrInvalidConfig, entity, s.DuplicateDetectionWindow)
	}
	if s.DefaultTimeToLive < 0 {
		return fmt.Errorf("%w: %s: DefaultTimeToLive %v is negative", ErrInvalidConfig, entity, s.DefaultTimeToLive)
	}
	return nil
}

func (s ReceiveSettings) validate(entity string) error {
	// Service Bus allows locks of at most 5 minutes and counts from 1.
	if s.LockDuration < 0 || s.LockDuration > 5*time.Minute {
		return fmt.Errorf("%w: %s: LockDuration %v outside Service Bus's (0, 5m]", ErrInvalidConfig, entity, s.LockDuration)
	}
	if s.MaxDeliveryCount < 1 {
		return fmt.Errorf("%w: %s: MaxDeliveryCount %d must be at least 1", ErrInvalidConfig, entity, s.MaxDeliveryCount)
	}
	return nil
}
