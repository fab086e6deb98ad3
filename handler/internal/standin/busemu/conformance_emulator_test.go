package busemu

import (
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
)

// conformance entities on the stand-in.
const (
	confQueue       = "conformance"
	confMaxDelivery = 3
	confTopic       = "events"
	confSubAll      = "all"
	confSubKeep     = "keep"
)

var testEpoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// startBroker runs a broker on a fake clock with the conformance entities.
func startBroker(t *testing.T, opts Options) (*Broker, *clock.Fake) {
	t.Helper()
	fake := clock.NewFake(testEpoch)
	if opts.Clock == nil {
		opts.Clock = fake
	}
	opts.Queues = append(opts.Queues, QueueConfig{Name: confQueue, Properties: QueueProperties{
		RequiresDuplicateDetection: true, MaxDeliveryCount: confMaxDelivery}})
	opts.Topics = append(opts.Topics, TopicConfig{Name: confTopic, Subscriptions: []SubscriptionConfig{
		{Name: confSubAll},
		{Name: confSubKeep, Properties: SubscriptionProperties{Filter: &CorrelationFilter{Subject: "keep"}}},
	}})
	b, err := ListenLoopback(opts)
	if err != nil {
		t.Fatalf("ListenLoopback: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, fake
}

func TestConformanceEmulator(t *testing.T) {
	runConformance(t, func(t *testing.T) conformanceTarget {
		b, fake := startBroker(t, Options{})
		return conformanceTarget{
			connStr: b.ConnectionString(), queue: confQueue, maxDelivery: confMaxDelivery,
			topic: confTopic, subAll: confSubAll, subKeep: confSubKeep,
			retentionTopic: config.DefaultEventsTopic, retentionSub: config.DefaultRetentionSubscription,
			advance:         func(d time.Duration) { fake.Advance(d); b.Tick() },
			now:             fake.Now,
			wrongKeyConnStr: ConnectionString(b.Addr(), DevKeyName, "not-the-key"),
			broker:          b,
		}
	})
}
