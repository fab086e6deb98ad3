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

// demoBus is the Service Bus the demo runs on: busemu on a loopback port,
// used through the real azservicebus client by the handler, the host
// simulator, the producer and the event subscriber alike.
type demoBus struct {
	broker        *busemu.Broker
	client        *azservicebus.Client
	eventReceiver *azservicebus.Receiver
}

func newDemoBus() (*demoBus, error) {
	b, err := busemu.ListenLoopback(busemu.Options{})
	if err != nil {
		return nil, err
	}
	a := &demoBus{broker: b}
	if a.client, err = azservicebus.NewClientFromConnectionString(b.ConnectionString(), nil); err != nil {
		a.close()
		return nil, err
	}
	// Whoever chains workflows onto snapcopy reads the events topic
	// through a subscription, as the demo does.
	if a.eventReceiver, err = a.client.NewReceiverForSubscription(config.DefaultEventsTopic, config.EventsSubscription, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete}); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *demoBus) describe() string {
	return fmt.Sprintf("busemu amqp://%s (queues %s, %s; topic %s), real azservicebus client", a.broker.Addr(), config.DefaultTriggerQueue, config.DefaultPollQueue, config.DefaultEventsTopic)
}

// connectionString is the handler's Service Bus setting.
func (a *demoBus) connectionString() string { return a.broker.ConnectionString() }

// sources are the host simulator's listeners, one for each function's
// trigger.
func (a *demoBus) sources() (map[string]funchost.Source, error) {
	return funchost.NewReceiverSources(a.client, funchost.DefaultTriggers(), nil)
}

func (a *demoBus) producer() (bus.Sender, error) {
	return a.client.NewSender(config.DefaultTriggerQueue, nil)
}

func (a *demoBus) events(ctx context.Context, wait time.Duration) ([][]byte, error) {
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

func (a *demoBus) deadLettered() int {
	n := 0
	for _, e := range []string{config.DefaultTriggerQueue, config.DefaultPollQueue} {
		if c, err := a.broker.Counts(e); err == nil {
			n += c.DeadLettered
		}
	}
	return n
}

func (a *demoBus) close() {
	if a.client != nil {
		_ = a.client.Close(context.Background())
	}
	_ = a.broker.Close()
}
