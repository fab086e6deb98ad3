package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
)

// Entities, as the infra creates them.
const (
	triggerQueue       = config.DefaultTriggerQueue
	pollQueue          = config.DefaultPollQueue
	eventsTopic        = config.DefaultEventsTopic
	eventsSubscription = eventsTopic + "/Subscriptions/" + config.EventsSubscription
	// retentionSubscription receives the Completed events only, by a
	// filter on the message's Subject (busemu; the in-memory broker has no
	// filters, so there the Retention function ignores the other events).
	retentionSubscription = eventsTopic + "/Subscriptions/" + config.DefaultRetentionSubscription
)

// completedSubject is the Subject, and CloudEvents type, of Completed events.
var completedSubject = copyjob.EventType(config.DefaultEventTypePrefix, copyjob.Completed)

// functionQueues are the entities the functions' triggers read: a queue,
// or a topic's subscription.
var functionQueues = map[string]string{"SnapshotCreated": triggerQueue, "CopyPoll": pollQueue, "Retention": retentionSubscription}

// testBus is the Service Bus under the end-to-end and reliability tests.
// Both implementations run the same scenarios: busemu over AMQP through
// the real azservicebus client (what production code meets), and
// funchost's in-memory broker (no wire at all).
type testBus interface {
	// sender sends to a queue or topic.
	sender(entity string) bus.Sender
	// sources are the host simulator's listeners for functionQueues.
	sources() map[string]funchost.Source
	// failNextSends makes the next n sends or schedules to entity fail; 0
	// clears the fault.
	failNextSends(entity string, n int)
	// messages lists what waits in a queue or subscription, oldest first.
	messages(path string) []busMessage
	// deadLettered lists a queue's or subscription's dead letters.
	deadLettered(path string) []busMessage
	// waiting counts the messages of a queue that are ready, scheduled or locked.
	waiting(queue string) int
}

// busMessage is a stored message, as the assertions read it.
type busMessage struct {
	ID, Subject                       string
	Body                              []byte
	Properties                        map[string]any
	DeliveryCount                     int
	DeadLetterReason, DeadLetterError string
}

// testBusKinds builds each kind of bus on a fake clock.
var testBusKinds = map[string]func(t *testing.T, clk *clock.Fake) testBus{
	"amqp":   newAMQPTestBus,
	"memory": newMemoryTestBus,
}

// --- funchost's in-memory broker -------------------------------------------

type memoryTestBus struct {
	t      *testing.T
	broker *funchost.Broker
}

func newMemoryTestBus(t *testing.T, clk *clock.Fake) testBus {
	b, err := funchost.NewBroker(funchost.BrokerOptions{
		Clock:  clk,
		Queues: []string{triggerQueue, pollQueue},
		Topics: map[string][]string{eventsTopic: {config.EventsSubscription, config.DefaultRetentionSubscription}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &memoryTestBus{t: t, broker: b}
}

func (m *memoryTestBus) sender(entity string) bus.Sender { return m.broker.Sender(entity) }

func (m *memoryTestBus) sources() map[string]funchost.Source {
	src, err := m.broker.Sources(functionQueues)
	if err != nil {
		m.t.Fatal(err)
	}
	return src
}

func (m *memoryTestBus) failNextSends(entity string, n int) { m.broker.FailNextSends(entity, n) }

func (m *memoryTestBus) messages(path string) []busMessage { return fromFunchost(m.broker.Peek(path)) }

func (m *memoryTestBus) deadLettered(path string) []busMessage {
	return fromFunchost(m.broker.Stats(path).DeadLettered)
}

func (m *memoryTestBus) waiting(queue string) int {
	st := m.broker.Stats(queue)
	return st.Ready + st.Locked
}

func fromFunchost(ms []*funchost.Message) []busMessage {
	out := make([]busMessage, len(ms))
	for i, m := range ms {
		out[i] = busMessage{ID: m.ID, Subject: m.Subject, Body: m.Body, Properties: m.Properties, DeliveryCount: m.DeliveryCount,
			DeadLetterReason: m.DeadLetterReason, DeadLetterError: m.DeadLetterDescription}
	}
	return out
}

// --- busemu over AMQP --------------------------------------------------------

type amqpTestBus struct {
	t      *testing.T
	broker *busemu.Broker
	client *azservicebus.Client

	mu      sync.Mutex
	senders map[string]*azservicebus.Sender
	faults  map[string]func()
}

// amqpTestClientOptions retry once, at once: an injected server-busy on
// one operation is absorbed by the SDK as in production, two in a row
// reach the handler; and no test waits for real back-off.
var amqpTestClientOptions = &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{
	MaxRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond,
}}

func newAMQPTestBus(t *testing.T, clk *clock.Fake) testBus {
	b, err := busemu.ListenLoopback(busemu.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	client, err := azservicebus.NewClientFromConnectionString(b.ConnectionString(), amqpTestClientOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	return &amqpTestBus{t: t, broker: b, client: client, senders: map[string]*azservicebus.Sender{}, faults: map[string]func(){}}
}

func (a *amqpTestBus) sender(entity string) bus.Sender {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.senders[entity]; ok {
		return s
	}
	s, err := a.client.NewSender(entity, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	a.senders[entity] = s
	return s
}

func (a *amqpTestBus) sources() map[string]funchost.Source {
	out := map[string]funchost.Source{}
	for fn, path := range functionQueues {
		r, err := funchost.NewReceiverFor(a.client, path)
		if err != nil {
			a.t.Fatal(err)
		}
		out[fn] = funchost.NewReceiverSource(r, path, a.broker)
	}
	return out
}

// failNextSends answers server-busy: the handler sends events and
// schedules polls and deferrals, so the operation depends on the entity.
func (a *amqpTestBus) failNextSends(entity string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if remove, ok := a.faults[entity]; ok {
		remove()
		delete(a.faults, entity)
	}
	if n == 0 {
		return
	}
	op := busemu.OpSchedule
	if entity == eventsTopic {
		op = busemu.OpSend
	}
	a.faults[entity] = a.broker.InjectFault(busemu.Fault{Op: op, Entity: entity, Condition: busemu.CondServerBusy, Description: "injected", Times: n})
}

func (a *amqpTestBus) messages(path string) []busMessage { return a.infos(path) }

func (a *amqpTestBus) deadLettered(path string) []busMessage {
	return a.infos(path + "/$deadletterqueue")
}

func (a *amqpTestBus) infos(path string) []busMessage {
	infos, err := a.broker.Messages(path)
	if err != nil {
		a.t.Fatal(err)
	}
	out := make([]busMessage, len(infos))
	for i, m := range infos {
		out[i] = busMessage{ID: m.MessageID, Subject: m.Subject, Body: m.Body, Properties: m.ApplicationProperties, DeliveryCount: int(m.DeliveryCount) + 1,
			DeadLetterReason: m.DeadLetterReason, DeadLetterError: m.DeadLetterErrorDescription}
	}
	return out
}

func (a *amqpTestBus) waiting(queue string) int {
	c, err := a.broker.Counts(queue)
	if err != nil {
		a.t.Fatal(err)
	}
	return c.Active + c.Locked + c.Scheduled
}
