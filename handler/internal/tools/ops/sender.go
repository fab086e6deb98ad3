package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
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

// openSender connects to queue; close releases the sender and its client.
type openSender func(ctx context.Context, target busTarget, queue string) (s messageSender, close func(), err error)

// openServiceBusSender is openSender over the real azservicebus client.
func openServiceBusSender(_ context.Context, target busTarget, queue string) (messageSender, func(), error) {
	// A few quick retries: an operator would rather see the error than wait.
	opts := &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 3 * time.Second}}
	var client *azservicebus.Client
	var err error
	if target.ConnectionString != "" {
		client, err = azservicebus.NewClientFromConnectionString(target.ConnectionString, opts)
	} else {
		var token azcore.TokenCredential
		if token, err = azureCredential(); err != nil {
			return nil, nil, err
		}
		client, err = azservicebus.NewClient(target.Namespace, token, opts)
	}
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
