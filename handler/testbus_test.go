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
	// filter on the message's Subject.
	retentionSubscription = eventsTopic + "/Subscriptions/" + config.DefaultRetentionSubscription
)

// completedSubject is the Subject, and CloudEvents type, of Completed events.
var completedSubject = copyjob.EventType(config.DefaultEventTypePrefix, copyjob.Completed)

// busMessage is a stored message, as the assertions read it.
type busMessage struct {
	ID, Subject                       string
	Body                              []byte
	Properties                        map[string]any
	DeliveryCount                     int
	DeadLetterReason, DeadLetterError string
}

// standinBus is the Service Bus under the end-to-end and reliability tests:
// busemu on a fake clock, reached over AMQP through the real azservicebus
// client (what production code meets).
type standinBus struct {
	t      testing.TB
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

func newStandinBus(t testing.TB, clk *clock.Fake) *standinBus {
	b, err := busemu.ListenLoopback(busemu.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	a := &standinBus{t: t, broker: b, senders: map[string]*azservicebus.Sender{}, faults: map[string]func(){}}
	t.Cleanup(a.close)
	if a.client, err = azservicebus.NewClientFromConnectionString(b.ConnectionString(), amqpTestClientOptions); err != nil {
		t.Fatal(err)
	}
	return a
}

// close releases the client and the broker, and forgets them: the scale
// benchmark measures what is left once they are gone.
func (a *standinBus) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client != nil {
		_ = a.client.Close(context.Background())
	}
	if a.broker != nil {
		_ = a.broker.Close()
	}
	a.client, a.broker, a.senders, a.faults = nil, nil, nil, nil
}

// sender sends to a queue or topic.
func (a *standinBus) sender(entity string) bus.Sender {
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

// sources are the host simulator's listeners, one for each function's
// trigger, on the broker's clock.
func (a *standinBus) sources() map[string]funchost.Source {
	out, err := funchost.NewReceiverSources(a.client, funchost.DefaultTriggers(), a.broker)
	if err != nil {
		a.t.Fatal(err)
	}
	return out
}

// failNextSends makes the next n sends or schedules to entity fail (0
// clears the fault), answering server-busy: the handler sends events and
// schedules polls and deferrals, so the operation depends on the entity.
func (a *standinBus) failNextSends(entity string, n int) {
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

// faultsFired counts the sends and schedules failNextSends refused.
func (a *standinBus) faultsFired() int {
	return a.broker.FaultsFired(busemu.OpSchedule) + a.broker.FaultsFired(busemu.OpSend)
}

// messages lists what waits in a queue or subscription, oldest first.
func (a *standinBus) messages(path string) []busMessage { return a.infos(path) }

// deadLettered lists a queue's or subscription's dead letters.
func (a *standinBus) deadLettered(path string) []busMessage {
	return a.infos(path + "/$deadletterqueue")
}

func (a *standinBus) infos(path string) []busMessage {
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

// waiting counts the messages of a queue that are ready, scheduled or locked.
func (a *standinBus) waiting(queue string) int {
	c, err := a.broker.Counts(queue)
	if err != nil {
		a.t.Fatal(err)
	}
	return c.Active + c.Locked + c.Scheduled
}
