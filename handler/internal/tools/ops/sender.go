package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/config"
)

// messageSender is the part of *azservicebus.Sender that `send` uses.
type messageSender interface {
	SendMessage(ctx context.Context, message *azservicebus.Message, options *azservicebus.SendMessageOptions) error
}

var _ messageSender = (*azservicebus.Sender)(nil)

// busTarget says where and how to connect: a connection string (key-based
// namespace, local stand-in) wins over a namespace with Azure credentials.
type busTarget struct {
	ConnectionString string
	Namespace        string
}

// check says what is wrong with the target before anything is dialled.
func (t busTarget) check() error {
	switch {
	case t.ConnectionString == "" && t.Namespace == "":
		return fmt.Errorf("no Service Bus to send to: give -connection or -namespace (or set %s or %s)", config.SettingServiceBusConnection, config.SettingServiceBusNamespace)
	case t.ConnectionString != "" && !strings.Contains(strings.ToLower(t.ConnectionString), "endpoint="):
		return fmt.Errorf("the Service Bus connection string (-connection or $%s) has no Endpoint=: copy it from a shared access policy of the namespace, or from what `handler busemu` prints", config.SettingServiceBusConnection)
	case t.ConnectionString == "" && strings.ContainsAny(t.Namespace, "/:"):
		return fmt.Errorf("-namespace %q: give the host name, such as contoso.servicebus.windows.net, not a URL", t.Namespace)
	}
	return nil
}

// explainSendError adds what to do to the errors whose Service Bus code
// says what is missing.
func explainSendError(err error, target busTarget, queue string) error {
	var sbErr *azservicebus.Error
	if !errors.As(err, &sbErr) {
		return err
	}
	switch sbErr.Code {
	case azservicebus.CodeUnauthorizedAccess:
		if target.ConnectionString != "" {
			return fmt.Errorf("%w: the connection string's policy needs Send rights on queue %s", err, queue)
		}
		return fmt.Errorf("%w: the signed-in identity needs the Azure Service Bus Data Sender role on queue %s (roles take minutes to apply)", err, queue)
	case azservicebus.CodeConnectionLost:
		return fmt.Errorf("%w: the namespace could not be reached: check that it (or `handler busemu`) is running and that the connection string's Endpoint or -namespace names it", err)
	case azservicebus.CodeNotFound:
		return fmt.Errorf("%w: the namespace has no queue %s: give the trigger queue with -queue (or set %s)", err, queue, config.SettingTriggerQueue)
	}
	return err
}

// openSender connects to queue; close releases the sender and its client.
type openSender func(ctx context.Context, target busTarget, queue string) (s messageSender, close func(), err error)

// openServiceBusSender is openSender over the real azservicebus client.
func openServiceBusSender(_ context.Context, target busTarget, queue string) (messageSender, func(), error) {
	// A few quick retries: an operator would rather see the error than wait.
	opts := &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 3 * time.Second}}
	client, err := (&app.Credentials{}).ServiceBusClient(target.ConnectionString, target.Namespace, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("service bus client: %w", err)
	}
	sender, err := client.NewSender(queue, nil)
	if err != nil {
		_ = client.Close(context.Background())
		return nil, nil, fmt.Errorf("sender for %s: %w", queue, err)
	}
	closeAll := func() {
		_ = sender.Close(context.Background())
		_ = client.Close(context.Background())
	}
	return sender, closeAll, nil
}
