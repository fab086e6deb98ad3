package localrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
)

// Entity names, as the infra creates them.
const (
	triggerQueue = config.DefaultTriggerQueue
	pollQueue    = config.DefaultPollQueue
	eventsTopic  = config.DefaultEventsTopic
	eventsSub    = config.EventsSubscription
	retentionSub = config.DefaultRetentionSubscription
)

// Bus choices for Options.Bus.
const (
	// BusAMQP is busemu on loopback: the handler, the host simulator and
	// the producer all use the real azservicebus client over AMQP.
	BusAMQP = "amqp"
	// BusMemory is funchost's in-memory broker: no AMQP at all.
	BusMemory = "memory"
)

// localBus is the Service Bus the demo runs on.
type localBus interface {
	// describe is one line for the banner.
	describe() string
	// connectionString is the handler's Service Bus setting.
	connectionString() string
	// senders are the handler's senders; nil means "dial connectionString".
	senders() func(entity string) (bus.Sender, error)
	// sources are the host simulator's listeners.
	sources() (map[string]funchost.Source, error)
	// producer sends SnapshotCreated messages.
	producer() (bus.Sender, error)
	// events returns the bodies of events published since the last call,
	// waiting up to wait for the first.
	events(ctx context.Context, wait time.Duration) ([][]byte, error)
	// deadLettered counts dead letters in the queues the host reads.
	deadLettered() int
	close()
}

var functionEntities = map[string]string{"SnapshotCreated": triggerQueue, "CopyPoll": pollQueue, "Retention": funchost.SubscriptionPath(eventsTopic, retentionSub)}

// memoryBus is funchost's in-memory broker.
type memoryBus struct {
	broker *funchost.Broker
	seen   int
}

func newMemoryBus() (*memoryBus, error) {
	b, err := funchost.NewBroker(funchost.BrokerOptions{Queues: []string{triggerQueue, pollQueue}, Topics: map[string][]string{eventsTopic: {eventsSub, retentionSub}}})
	return &memoryBus{broker: b}, err
}

func (m *memoryBus) describe() string {
	return fmt.Sprintf("in-memory broker (queues %s, %s; topic %s)", triggerQueue, pollQueue, eventsTopic)
}

// connectionString is never dialled: the senders come from the broker.
func (m *memoryBus) connectionString() string {
	return busemu.ConnectionString("127.0.0.1:5672", busemu.DevKeyName, busemu.DevKey)
}

func (m *memoryBus) senders() func(string) (bus.Sender, error) {
	return func(entity string) (bus.Sender, error) { return m.broker.Sender(entity), nil }
}

func (m *memoryBus) sources() (map[string]funchost.Source, error) {
	return m.broker.Sources(functionEntities)
}

func (m *memoryBus) producer() (bus.Sender, error) { return m.broker.Sender(triggerQueue), nil }

func (m *memoryBus) events(ctx context.Context, wait time.Duration) ([][]byte, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
	}
	all := m.broker.Peek(funchost.SubscriptionPath(eventsTopic, eventsSub))
	var out [][]byte
	for _, e := range all[m.seen:] {
		out = append(out, e.Body)
	}
	m.seen = len(all)
	return out, nil
}

func (m *memoryBus) deadLettered() int {
	n := 0
	for _, e := range []string{triggerQueue, pollQueue} {
		n += len(m.broker.Stats(e).DeadLettered)
	}
	return n
}

func (m *memoryBus) close() {}

// amqpBus is busemu on a loopback port, used through the real client.
type amqpBus struct {
	broker        *busemu.Broker
	client        *azservicebus.Client
	eventReceiver *azservicebus.Receiver
}

func newAMQPBus() (*amqpBus, error) {
	b, err := busemu.ListenLoopback(busemu.Options{})
	if err != nil {
		return nil, err
	}
	a := &amqpBus{broker: b}
	if a.client, err = azservicebus.NewClientFromConnectionString(b.ConnectionString(), nil); err != nil {
		a.close()
		return nil, err
	}
	// Whoever chains workflows onto snapcopy reads the events topic
	// through a subscription, as the demo does.
	if a.eventReceiver, err = a.client.NewReceiverForSubscription(eventsTopic, eventsSub, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete}); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *amqpBus) describe() string {
	return fmt.Sprintf("busemu amqp://%s (queues %s, %s; topic %s), real azservicebus client", a.broker.Addr(), triggerQueue, pollQueue, eventsTopic)
}

func (a *amqpBus) connectionString() string                  { return a.broker.ConnectionString() }
func (a *amqpBus) senders() func(string) (bus.Sender, error) { return nil }

func (a *amqpBus) sources() (map[string]funchost.Source, error) {
	out := map[string]funchost.Source{}
	for fn, path := range functionEntities {
		r, err := funchost.NewReceiverFor(a.client, path)
		if err != nil {
			return nil, err
		}
		out[fn] = funchost.NewReceiverSource(r, path, nil)
	}
	return out, nil
}

func (a *amqpBus) producer() (bus.Sender, error) { return a.client.NewSender(triggerQueue, nil) }

func (a *amqpBus) events(ctx context.Context, wait time.Duration) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msgs, err := a.eventReceiver.ReceiveMessages(ctx, 64, nil)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = m.Body
	}
	return out, nil
}

func (a *amqpBus) deadLettered() int {
	n := 0
	for _, e := range []string{triggerQueue, pollQueue} {
		if c, err := a.broker.Counts(e); err == nil {
			n += c.DeadLettered
		}
	}
	return n
}

func (a *amqpBus) close() {
	if a.client != nil {
		_ = a.client.Close(context.Background())
	}
	_ = a.broker.Close()
}
