package busemu

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// Settings of the live half. The namespace needs, besides the connection
// string (with SharedAccessKey), a queue with duplicate detection and a
// topic with an unfiltered subscription and one filtered on Subject = "keep";
// the scenarios empty them first, so never point them at production entities.
const (
	envLiveConnStr     = "SNAPCOPY_LIVE_SERVICEBUS_CONNECTION_STRING"
	envLiveQueue       = "SNAPCOPY_LIVE_SERVICEBUS_QUEUE"              // default "conformance"
	envLiveMaxDelivery = "SNAPCOPY_LIVE_SERVICEBUS_MAX_DELIVERY_COUNT" // default 10
	envLiveTopic       = "SNAPCOPY_LIVE_SERVICEBUS_TOPIC"              // default "conformance-events"
	envLiveSubAll      = "SNAPCOPY_LIVE_SERVICEBUS_SUBSCRIPTION"       // default "all"
	envLiveSubKeep     = "SNAPCOPY_LIVE_SERVICEBUS_FILTERED_SUBSCRIPTION"
)

var sharedAccessKey = regexp.MustCompile(`(?i)(SharedAccessKey=)[^;]*`)

func TestConformanceLive(t *testing.T) {
	connStr := os.Getenv(envLiveConnStr)
	if connStr == "" {
		t.Skipf("%s not set", envLiveConnStr)
	}
	maxDelivery := 10
	if v := os.Getenv(envLiveMaxDelivery); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s: %v", envLiveMaxDelivery, err)
		}
		maxDelivery = n
	}
	wrongKey := ""
	if sharedAccessKey.MatchString(connStr) {
		wrongKey = sharedAccessKey.ReplaceAllString(connStr, "${1}bm90LXRoZS1rZXk=")
	}
	tg := conformanceTarget{
		connStr: connStr, queue: envOr(envLiveQueue, "conformance"), maxDelivery: maxDelivery,
		topic: envOr(envLiveTopic, "conformance-events"), subAll: envOr(envLiveSubAll, "all"), subKeep: os.Getenv(envLiveSubKeep),
		now: func() time.Time { return time.Now().UTC() }, wrongKeyConnStr: wrongKey,
	}
	runConformance(t, func(t *testing.T) conformanceTarget {
		tg := tg
		tg.ids = fmt.Sprintf("%s-%d-", t.Name(), time.Now().UnixNano())
		drainLive(t, tg)
		return tg
	})
}

// drainLive empties the live entities so leftovers of earlier runs cannot
// satisfy or upset a scenario.
func drainLive(t *testing.T, tg conformanceTarget) {
	c := newClient(t, tg.connStr)
	opts := func(sq azservicebus.SubQueue) *azservicebus.ReceiverOptions {
		return &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete, SubQueue: sq}
	}
	var receivers []*azservicebus.Receiver
	for _, sq := range []azservicebus.SubQueue{0 /* the entity itself */, azservicebus.SubQueueDeadLetter} {
		if r, err := c.NewReceiverForQueue(tg.queue, opts(sq)); err == nil {
			receivers = append(receivers, r)
		}
		for _, sub := range []string{tg.subAll, tg.subKeep} {
			if sub == "" {
				continue
			}
			if r, err := c.NewReceiverForSubscription(tg.topic, sub, opts(sq)); err == nil {
				receivers = append(receivers, r)
			}
		}
	}
	for _, r := range receivers {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			msgs, _ := r.ReceiveMessages(ctx, 100, nil)
			cancel()
			if len(msgs) == 0 {
				break
			}
		}
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
