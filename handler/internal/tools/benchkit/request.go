package benchkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
)

// Request is one invocation as the host posts it: replayed as is, it is the
// same bytes and headers a custom handler would see.
type Request struct {
	// Path is /<FunctionName>.
	Path string
	// Header holds the host's headers (invocation id, host version).
	Header http.Header
	// Body is the host's JSON envelope.
	Body []byte
}

// HostRequest encodes msg as the host simulator (package funchost) posts it
// to function fn: the message goes through busemu on clk, received with the
// real azservicebus client, and a Host dispatches it to a server that
// records the request and answers 200.
func HostRequest(clk clock.Clock, fn string, msg *azservicebus.Message) (Request, error) {
	ctx := context.Background()
	broker, err := busemu.ListenLoopback(busemu.Options{Clock: clk})
	if err != nil {
		return Request{}, err
	}
	defer broker.Close()
	client, err := azservicebus.NewClientFromConnectionString(broker.ConnectionString(), nil)
	if err != nil {
		return Request{}, err
	}
	defer client.Close(ctx)
	queue := config.DefaultTriggerQueue
	sender, err := client.NewSender(queue, nil)
	if err != nil {
		return Request{}, err
	}
	if err := sender.SendMessage(ctx, msg, nil); err != nil {
		return Request{}, err
	}
	receiver, err := client.NewReceiverForQueue(queue, nil)
	if err != nil {
		return Request{}, err
	}
	var (
		mu  sync.Mutex
		got []Request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		mu.Unlock()
		Echo{}.ServeHTTP(w, r)
	}))
	defer srv.Close()
	sources := map[string]funchost.Source{fn: funchost.NewReceiverSource(receiver, queue, broker)}
	host, err := funchost.NewHost(funchost.HostOptions{Functions: sources, BaseURL: srv.URL, Clock: clk})
	if err != nil {
		return Request{}, err
	}
	if n, err := host.Dispatch(ctx); err != nil || n != 1 || len(got) != 1 {
		return Request{}, fmt.Errorf("benchkit: host dispatched %d invocations (%v), captured %d; want 1", n, err, len(got))
	}
	return got[0], nil
}

// PollRequest is the CopyPoll invocation of m: the message the bus adapter
// schedules for it (bus.Bus.SchedulePoll), as the host posts it.
func PollRequest(clk clock.Clock, m copyjob.PollMessage) (Request, error) {
	capture := &NopSender{}
	b := bus.New(bus.Senders{Polls: capture, Triggers: &NopSender{}, Events: &NopSender{}}, bus.Options{EventSource: "/snapcopy", EventTypePrefix: config.DefaultEventTypePrefix})
	if err := b.SchedulePoll(context.Background(), m, clk.Now()); err != nil {
		return Request{}, err
	}
	return HostRequest(clk, "CopyPoll", capture.Last())
}
