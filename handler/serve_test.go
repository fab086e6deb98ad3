package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/syncbuffer"
)

// TestServeAnswersReadinessAndStops serves as the command the Functions
// host runs does, on a listener the test opened: any answer to GET / means
// ready, and cancelling stops it cleanly.
func TestServeAnswersReadinessAndStops(t *testing.T) {
	env := map[string]string{
		config.SettingServiceBusConnection:    "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
		config.SettingStorageConnectionString: storageemu.ConnectionString("http://127.0.0.1:1", storageemu.DevAccount),
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, func() (net.Listener, error) { return l, nil }, &out, &errOut) }()

	url := "http://" + l.Addr().String() + "/"
	// The listener is open before serve starts: the request waits in its
	// backlog until the handler serves it, bounded by the client.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("never ready: %v (%s)", err, errOut.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readiness status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after shutdown: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "snapcopy handler listening") {
		t.Fatalf("no start-up log line: %s", out.String())
	}
}

// TestSecurityServeNamesEveryBadSettingAtOnce: with nothing set and a
// message limit that would overflow the invocation buffer, one start-up
// error names the port, the Service Bus connection and the limit.
func TestSecurityServeNamesEveryBadSettingAtOnce(t *testing.T) {
	t.Setenv(config.SettingPort, "")
	t.Setenv(config.SettingServiceBusConnection, "")
	t.Setenv(config.SettingServiceBusNamespace, "")
	t.Setenv(config.SettingMaxMessageBytes, "2000000000000000000")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code == 0 {
		t.Fatal("serve started with bad settings")
	}
	for _, name := range []string{config.SettingPort, config.SettingServiceBusConnection, config.SettingMaxMessageBytes} {
		if !strings.Contains(errOut.String(), name) {
			t.Errorf("the error does not name %s: %s", name, errOut.String())
		}
	}
}

// ctxSender fails as the real client does once its context has ended, and
// otherwise accepts everything.
type ctxSender struct{}

func (ctxSender) SendMessage(ctx context.Context, _ *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	return ctx.Err()
}

func (ctxSender) ScheduleMessages(ctx context.Context, ms []*azservicebus.Message, _ time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	return make([]int64, len(ms)), ctx.Err()
}

// TestSecurityHostGoneMidRequestIsLoggedAtInfo: a host that hangs up in the
// middle of a body is logged as such at info, not as the error "nothing
// durable could be written" (the wired handler, real HTTP on loopback).
func TestSecurityHostGoneMidRequestIsLoggedAtInfo(t *testing.T) {
	settings := standinSettings("http://127.0.0.1:1")
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuffer.Buffer
	a, err := app.New(context.Background(), cfg, app.Options{Log: logging.New(&logs, &logs, "debug"),
		Senders: func(string) (bus.Sender, error) { return ctxSender{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("POST /SnapshotCreated HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n{\"Data\":{\"message\":")); err != nil {
		t.Fatal(err)
	}
	// Hang up the sending side; the server answers (or not) and closes
	// once it has handled the request, which is when its log is complete.
	_ = c.(*net.TCPConn).CloseWrite()
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("the server kept the connection: %v", err)
	}
	out := logs.String()
	if strings.Contains(out, `"level":"error"`) || !strings.Contains(out, `"level":"info"`) || !strings.Contains(out, "went away") {
		t.Fatalf("want one info line saying the host went away, no error:\n%s", out)
	}
}

// TestSecurityReadDeadlinesFitTheInvocationBound: the server `serve` runs
// cuts a stalled request before an invocation could have ended.
func TestSecurityReadDeadlinesFitTheInvocationBound(t *testing.T) {
	a := benchApp(t, standinSettings("http://127.0.0.1:1"), clock.Real{}, nopSenders)
	defer a.Close()
	limits, srv := funcproto.DefaultLimits(), a.Handler.HTTPServer()
	if limits.HeaderTimeout+limits.BodyTimeout >= app.InvocationTimeout {
		t.Errorf("header %s + body %s deadlines reach the invocation bound %s", limits.HeaderTimeout, limits.BodyTimeout, app.InvocationTimeout)
	}
	if srv.ReadHeaderTimeout != limits.HeaderTimeout || srv.MaxHeaderBytes != limits.MaxHeaderBytes || srv.IdleTimeout == 0 {
		t.Errorf("serve's server: header timeout %s, max header bytes %d, idle timeout %s", srv.ReadHeaderTimeout, srv.MaxHeaderBytes, srv.IdleTimeout)
	}
}
