package busemu

import (
	"fmt"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
)

// Well-known credentials of the official Service Bus emulator; its
// development connection string works unchanged against busemu.
const (
	DevKeyName = "RootManageSharedAccessKey"
	DevKey     = "SAS_KEY_VALUE"
)

// Defaults of Service Bus Standard entities (platform notes 3.3, 3.5).
const (
	DefaultLockDuration             = time.Minute
	DefaultMaxDeliveryCount         = 10
	DefaultDuplicateDetectionWindow = 10 * time.Minute
	DefaultIdleTimeout              = time.Minute
	DefaultMaxFrameSize             = 65536
	DefaultMaxMessageSize           = 256 << 10
	maxMaxMessageSize               = 100 << 20
)

// CompletedFilter admits only Completed events of prefix: the rule of the
// retention subscription.
func CompletedFilter(eventTypePrefix string) *CorrelationFilter {
	return &CorrelationFilter{Subject: eventTypePrefix + ".Completed"}
}

// Options configures a Broker. The zero value is usable.
type Options struct {
	// Clock drives scheduled delivery, locks, TTL and duplicate detection.
	// Default: clock.Real, with a timer that wakes the broker when something
	// falls due. With any other clock call Broker.Tick after moving it.
	Clock clock.Clock
	// KeyName and Key are the shared access key that SAS tokens (and SASL
	// PLAIN) must be signed with. Default: DevKeyName / DevKey.
	KeyName string
	Key     string
	// Queues and Topics are created at start, after the defaults.
	Queues []QueueConfig
	Topics []TopicConfig
	// NoDefaultEntities skips creating snapcopy's queues and topic.
	NoDefaultEntities bool
	// EventTypePrefix is the handler's SNAPCOPY_EVENT_TYPE_PREFIX; the
	// default retention subscription admits "<prefix>.Completed" only.
	// Default: config.DefaultEventTypePrefix.
	EventTypePrefix string
	// DuplicateDetectionWindow is used by entities that require duplicate
	// detection without setting a window. Default: 10 minutes.
	DuplicateDetectionWindow time.Duration
	// IdleTimeout is announced in open; a silent connection is closed after
	// it. Default: 1 minute.
	IdleTimeout time.Duration
	// MaxFrameSize is announced in open. Default: 65536.
	MaxFrameSize uint32
	// MaxMessageSize is announced on entity and `$management` links; a
	// larger delivery gets its link detached with message-size-exceeded
	// as soon as its frames pass the limit. Default: 256 KiB (Standard
	// tier); at most 100 MiB (Premium).
	MaxMessageSize uint64
	// Logf, when set, receives one line per connection event (debugging).
	Logf func(format string, args ...any)
}

// QueueConfig names a queue and its properties.
type QueueConfig struct {
	Name       string
	Properties QueueProperties
}

// TopicConfig names a topic, its properties and subscriptions.
type TopicConfig struct {
	Name          string
	Properties    TopicProperties
	Subscriptions []SubscriptionConfig
}

// SubscriptionConfig names a subscription and its properties.
type SubscriptionConfig struct {
	Name       string
	Properties SubscriptionProperties
}

// QueueProperties mirror the admin API's queue properties busemu honours.
// Zero durations and counts take the Service Bus defaults.
type QueueProperties struct {
	// LockDuration is how long a peek-lock lasts. Default: 1 minute.
	LockDuration time.Duration
	// MaxDeliveryCount dead-letters a message after that many failed deliveries. Default: 10.
	MaxDeliveryCount int32
	// DefaultMessageTimeToLive is the default and ceiling of message TTL. 0 = never expire.
	DefaultMessageTimeToLive time.Duration
	// DeadLetteringOnMessageExpiration moves expired messages to the DLQ instead of dropping them.
	DeadLetteringOnMessageExpiration bool
	// RequiresDuplicateDetection drops sends whose MessageId was seen within the window.
	RequiresDuplicateDetection bool
	// DuplicateDetectionHistoryTimeWindow. Default: Options.DuplicateDetectionWindow.
	DuplicateDetectionHistoryTimeWindow time.Duration
}

// TopicProperties mirror the admin API's topic properties busemu honours.
type TopicProperties struct {
	DefaultMessageTimeToLive            time.Duration
	RequiresDuplicateDetection          bool
	DuplicateDetectionHistoryTimeWindow time.Duration
}

// SubscriptionProperties mirror the admin API's subscription properties
// busemu honours, plus an optional correlation filter as its only rule.
type SubscriptionProperties struct {
	LockDuration                     time.Duration
	MaxDeliveryCount                 int32
	DefaultMessageTimeToLive         time.Duration
	DeadLetteringOnMessageExpiration bool
	// Filter, when set, admits only matching messages (default: all).
	Filter *CorrelationFilter
}

// CorrelationFilter matches messages whose set fields are all equal; empty
// fields match anything.
type CorrelationFilter struct {
	Subject       string
	CorrelationID string
	// ApplicationProperties must all be present with equal values.
	ApplicationProperties map[string]any
}

// DefaultTopology is what New creates unless NoDefaultEntities, for the
// default event type prefix: snapcopy's two queues and its event topic with
// a catch-all subscription and the retention subscription, with the
// settings infra/main.bicep gives them (the reasons are written there).
func DefaultTopology() ([]QueueConfig, []TopicConfig) {
	return DefaultTopologyFor(config.DefaultEventTypePrefix)
}

// DefaultTopologyFor is DefaultTopology for events typed "<eventTypePrefix>.<outcome>".
func DefaultTopologyFor(eventTypePrefix string) ([]QueueConfig, []TopicConfig) {
	const day = 24 * time.Hour
	return []QueueConfig{
			{Name: config.DefaultTriggerQueue, Properties: QueueProperties{
				RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: time.Hour,
				LockDuration: 5 * time.Minute, MaxDeliveryCount: 10,
				DefaultMessageTimeToLive: 14 * day, DeadLetteringOnMessageExpiration: true,
			}},
			{Name: config.DefaultPollQueue, Properties: QueueProperties{
				RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: time.Hour,
				LockDuration: 5 * time.Minute, MaxDeliveryCount: 20,
				DefaultMessageTimeToLive: 7 * day, DeadLetteringOnMessageExpiration: true,
			}},
		}, []TopicConfig{{
			Name: config.DefaultEventsTopic,
			Properties: TopicProperties{
				RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: day,
				DefaultMessageTimeToLive: 14 * day,
			},
			Subscriptions: []SubscriptionConfig{
				{Name: config.EventsSubscription, Properties: SubscriptionProperties{
					LockDuration: time.Minute, MaxDeliveryCount: 10, DefaultMessageTimeToLive: 7 * day,
				}},
				{Name: config.DefaultRetentionSubscription, Properties: SubscriptionProperties{
					LockDuration: 5 * time.Minute, MaxDeliveryCount: 10, DefaultMessageTimeToLive: 7 * day,
					Filter: CompletedFilter(eventTypePrefix),
				}},
			},
		}}
}

func (o *Options) setDefaults() {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.EventTypePrefix == "" {
		o.EventTypePrefix = config.DefaultEventTypePrefix
	}
	if o.KeyName == "" && o.Key == "" {
		o.KeyName, o.Key = DevKeyName, DevKey
	}
	if o.DuplicateDetectionWindow == 0 {
		o.DuplicateDetectionWindow = DefaultDuplicateDetectionWindow
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxFrameSize == 0 {
		o.MaxFrameSize = DefaultMaxFrameSize
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
}

// Validate reports what is wrong with o, after defaults are applied.
func (o Options) Validate() error {
	o.setDefaults()
	switch {
	case o.KeyName == "" || o.Key == "":
		return fmt.Errorf("%w: KeyName and Key must both be set or both be empty", ErrInvalid)
	case o.DuplicateDetectionWindow < 0:
		return fmt.Errorf("%w: DuplicateDetectionWindow %v is negative", ErrInvalid, o.DuplicateDetectionWindow)
	case o.IdleTimeout < 0:
		return fmt.Errorf("%w: IdleTimeout %v is negative", ErrInvalid, o.IdleTimeout)
	case o.MaxFrameSize < minMaxFrameSize:
		return fmt.Errorf("%w: MaxFrameSize %d is below the AMQP minimum %d", ErrInvalid, o.MaxFrameSize, minMaxFrameSize)
	case o.MaxMessageSize > maxMaxMessageSize:
		return fmt.Errorf("%w: MaxMessageSize %d exceeds %d (the Premium tier's 100 MiB)", ErrInvalid, o.MaxMessageSize, maxMaxMessageSize)
	}
	for _, q := range o.Queues {
		if err := q.Properties.validate(q.Name); err != nil {
			return err
		}
	}
	for _, t := range o.Topics {
		if err := validateName(t.Name); err != nil {
			return err
		}
		for _, s := range t.Subscriptions {
			if err := s.Properties.validate(s.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p QueueProperties) validate(name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	if p.LockDuration < 0 || p.MaxDeliveryCount < 0 || p.DefaultMessageTimeToLive < 0 || p.DuplicateDetectionHistoryTimeWindow < 0 {
		return fmt.Errorf("%w: queue %q: negative duration or count", ErrInvalid, name)
	}
	return nil
}

func (p SubscriptionProperties) validate(name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	if p.LockDuration < 0 || p.MaxDeliveryCount < 0 || p.DefaultMessageTimeToLive < 0 {
		return fmt.Errorf("%w: subscription %q: negative duration or count", ErrInvalid, name)
	}
	return nil
}
