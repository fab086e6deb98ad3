package ops

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// TestCommandsSayWhatToSet: every refusal names the flag or setting that
// fixes it, and none repeats an SDK message that does not.
func TestCommandsSayWhatToSet(t *testing.T) {
	e := newStorageEnv(t)
	httpSource := e.source.URL()
	otherAccount := storageemu.ConnectionString(e.baseURL, storageemu.DevAccount) // the source is in prodsource
	wrongKey := storageemu.ConnectionString(e.baseURL, storageemu.Account{Name: storageemu.DevAccountName, Key: sourceAccount.Key})
	cases := []struct {
		name    string
		env     map[string]string
		run     func(c sendCommand, s statusCommand, args []string, stdout, stderr *bytes.Buffer) error
		args    []string
		usage   bool     // refused as a command line (exit 2) rather than failed
		mention []string // what the message must say
	}{
		{"send without a Service Bus", nil, runSend, []string{"-source", testSource, "-snapshot", testSnapshot}, true,
			[]string{"-connection", "-namespace", "ServiceBusConnection", "ServiceBusConnection__fullyQualifiedNamespace"}},
		{"send with -connection and -namespace", nil, runSend, []string{"-connection", testConn, "-namespace", "ns.servicebus.windows.net", "-source", testSource, "-snapshot", testSnapshot}, true,
			[]string{"-connection or -namespace, not both"}},
		{"send with a namespace URL", nil, runSend, []string{"-namespace", "https://ns.servicebus.windows.net/", "-source", testSource, "-snapshot", testSnapshot}, true,
			[]string{"-namespace", "host name", "contoso.servicebus.windows.net"}},
		{"send with a connection string that is not one", map[string]string{"ServiceBusConnection": "SharedAccessKey=SECRET"}, runSend, []string{"-source", testSource, "-snapshot", testSnapshot}, true,
			[]string{"Endpoint=", "ServiceBusConnection"}},
		{"send with an argument", nil, runSend, []string{"-connection", testConn, "extra"}, true, []string{`"extra"`, "flags only"}},
		{"send -snapshot-now on http without storage credentials", nil, runSend, []string{"-connection", testConn, "-snapshot-now", "-source", httpSource}, false,
			[]string{"-storage-connection", "SNAPCOPY_STORAGE_CONNECTION_STRING", "plain http"}},
		{"send -snapshot-now with another account's key", map[string]string{"SNAPCOPY_STORAGE_CONNECTION_STRING": otherAccount}, runSend,
			[]string{"-connection", testConn, "-snapshot-now", "-source", httpSource}, false,
			[]string{`"devstoreaccount1"`, `"prodsource"`, "-storage-connection", "SNAPCOPY_STORAGE_CONNECTION_STRING"}},
		{"send -snapshot-now with a malformed storage connection string", nil, runSend,
			[]string{"-connection", testConn, "-snapshot-now", "-source", httpSource, "-storage-connection", "AccountKey=SECRET"}, true,
			[]string{"-storage-connection", "SNAPCOPY_STORAGE_CONNECTION_STRING", "AccountName"}},
		{"send -snapshot-now of a source that does not exist", nil, runSend,
			[]string{"-connection", testConn, "-snapshot-now", "-source", strings.Replace(httpSource, "/disks/", "/nodisks/", 1), "-storage-connection", storageemu.ConnectionString(e.baseURL, sourceAccount)}, false,
			[]string{"ContainerNotFound", "check -source"}},
		{"status with a wrong key", map[string]string{"SNAPCOPY_STORAGE_CONNECTION_STRING": wrongKey}, runStatus, []string{e.destURL}, false,
			[]string{"HTTP 403", "Storage Blob Data Reader"}},
		{"status on http without storage credentials", nil, runStatus, []string{e.destURL}, false,
			[]string{"-connection", "SNAPCOPY_STORAGE_CONNECTION_STRING", "plain http"}},
		{"status without a destination", nil, runStatus, nil, true, []string{"destination blob URL"}},
		{"status with a bad -sample", nil, runStatus, []string{"-sample", "soon", e.destURL}, true, []string{"-sample", "soon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) string { return c.env[k] }
			send := sendCommand{getenv: getenv, now: e.clock.Now, newID: func() string { return "id" }, open: (&fakeSender{}).open}
			status := statusCommand{storageCommand{getenv: getenv, clock: e.clock, sleep: func(context.Context, time.Duration) error { return nil }}}
			var out, errOut bytes.Buffer
			err := c.run(send, status, c.args, &out, &errOut)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, cli.ErrUsage) != c.usage {
				t.Errorf("usage error %v, want %v: %v", errors.Is(err, cli.ErrUsage), c.usage, err)
			}
			said := errOut.String() + err.Error()
			if c.usage && !strings.Contains(errOut.String(), "usage: handler ") {
				t.Errorf("a refused command line without its usage on stderr:\n%s", errOut.String())
			}
			for _, m := range c.mention {
				if !strings.Contains(said, m) {
					t.Errorf("message does not say %q:\n%s", m, said)
				}
			}
			for _, bad := range []string{"non-TLS", "SECRET", "RESPONSE "} {
				if strings.Contains(said+out.String(), bad) {
					t.Errorf("message says %q:\n%s", bad, said)
				}
			}
		})
	}
}

func runSend(c sendCommand, _ statusCommand, args []string, stdout, stderr *bytes.Buffer) error {
	return c.run(context.Background(), args, stdout, stderr)
}

func runStatus(_ sendCommand, c statusCommand, args []string, stdout, stderr *bytes.Buffer) error {
	return c.run(context.Background(), args, stdout, stderr)
}

// TestSendExplainsServiceBusRefusals sends with the real azservicebus
// client to the stand-in: a queue that does not exist and a wrong key get
// what to do added to the client's error.
func TestSendExplainsServiceBusRefusals(t *testing.T) {
	b, err := busemu.ListenLoopback(busemu.Options{Clock: clock.NewFake(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	wrongKey := busemu.ConnectionString(b.Addr(), busemu.DevKeyName, "d3Jvbmcta2V5LWZvci10aGUtc3RhbmQtaW4=")
	gone, err := busemu.ListenLoopback(busemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unreachable := gone.ConnectionString()
	_ = gone.Close()
	cases := map[string]struct {
		args    []string
		mention string
	}{
		"no such queue": {[]string{"-connection", b.ConnectionString(), "-queue", "snapshot-creatd"}, "-queue"},
		"wrong key":     {[]string{"-connection", wrongKey}, "Send rights"},
		"nothing there": {[]string{"-connection", unreachable}, "is running"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := sendCommand{getenv: func(string) string { return "" }, now: func() time.Time { return testStart }, newID: func() string { return "id" }, open: openServiceBusSender}
			var out, errOut bytes.Buffer
			err := cmd.run(context.Background(), append([]string{"-source", testSource, "-snapshot", testSnapshot, "-destination", testSource + "-copy"}, c.args...), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("got %v, want a message naming %s", err, c.mention)
			}
		})
	}
}
