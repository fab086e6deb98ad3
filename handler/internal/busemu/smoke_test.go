package busemu

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestSmokeSendReceiveComplete(t *testing.T) {
	log.SetListener(func(e log.Event, s string) { t.Logf("[%s] %s", e, s) })
	defer log.SetListener(nil)
	b, err := New(Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	client, err := azservicebus.NewClientFromConnectionString(b.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx)
	sender, err := client.NewSender(QueueCopyPoll, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("hello")}, nil); err != nil {
		t.Fatal(err)
	}
	recv, err := client.NewReceiverForQueue(QueueCopyPoll, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := recv.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %v %d", err, len(msgs))
	}
	if err := recv.CompleteMessage(ctx, msgs[0], nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("body=%q seq=%d", msgs[0].Body, *msgs[0].SequenceNumber)
}
