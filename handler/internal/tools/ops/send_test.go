package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// fakeSender records what `send` hands to Service Bus.
type fakeSender struct {
	target busTarget
	queue  string
	sent   []*azservicebus.Message
	closed bool
	err    error
}

var _ messageSender = (*fakeSender)(nil)

func (f *fakeSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeSender) open(_ context.Context, target busTarget, queue string) (messageSender, func(), error) {
	f.target, f.queue = target, queue
	return f, func() { f.closed = true }, nil
}

const (
	testSource   = "https://src.blob.core.windows.net/disks/vm1.vhd"
	testSnapshot = "2026-11-24T09:30:00.1234567Z"
	testConn     = "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=KEYSECRET;UseDevelopmentEmulator=true;"
)

// sendRun runs `send` with env as the environment and a fixed clock and id.
func sendRun(t *testing.T, fake *fakeSender, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	c := sendCommand{
		getenv: func(k string) string { return env[k] },
		now:    func() time.Time { return testStart },
		newID:  func() string { return "random-id" },
		open:   fake.open,
	}
	var out, errOut bytes.Buffer
	err = c.run(context.Background(), args, &out, &errOut)
	if all := out.String() + errOut.String() + errText(err); strings.Contains(all, "SECRET") {
		t.Fatalf("send printed a secret:\n%s", all)
	}
	return out.String(), errOut.String(), err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSendBuildsTheProducersMessage(t *testing.T) {
	fake := &fakeSender{}
	out, _, err := sendRun(t, fake, nil, "-connection", testConn, "-source", testSource, "-snapshot", testSnapshot,
		"-destination", "https://dst.blob.core.windows.net/backups/vm1.vhd", "-id", "evt-1")
	if err != nil {
		t.Fatal(err)
	}
	if out != "evt-1\n" {
		t.Errorf("stdout %q, want the message id", out)
	}
	if fake.queue != "snapshot-created" || fake.target != (busTarget{ConnectionString: testConn}) || !fake.closed {
		t.Errorf("queue %q target %+v closed %v", fake.queue, fake.target, fake.closed)
	}
	if len(fake.sent) != 1 {
		t.Fatalf("sent %d messages", len(fake.sent))
	}
	m := fake.sent[0]
	if *m.MessageID != "evt-1" || *m.ContentType != "application/cloudevents+json" || *m.Subject != "Snapcopy.SnapshotCreated" {
		t.Errorf("message id %q content type %q subject %q", *m.MessageID, *m.ContentType, *m.Subject)
	}
	var body map[string]any
	if err := json.Unmarshal(m.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"specversion": "1.0", "type": "Snapcopy.SnapshotCreated", "source": "/snapcopy/send", "id": "evt-1",
		"time": "2026-11-24T10:00:00Z", "datacontenttype": "application/json",
		"data": map[string]any{"sourceBlobUrl": testSource, "snapshot": testSnapshot, "destinationBlobUrl": "https://dst.blob.core.windows.net/backups/vm1.vhd"},
	}
	equalJSON(t, body, want)
	// The handler reads it back as the same job.
	tr, err := copyjob.ParseTrigger(m.Body, copyjob.Rules{}, testStart)
	if err != nil || tr.EventID != "evt-1" || tr.Source.URL != testSource || copyjob.FormatSnapshot(tr.Snapshot) != testSnapshot {
		t.Errorf("handler reads %+v, %v", tr, err)
	}
}

func TestSendDefaultsFromTheEnvironment(t *testing.T) {
	fake := &fakeSender{}
	env := map[string]string{"ServiceBusConnection__fullyQualifiedNamespace": "ns.servicebus.windows.net", "SNAPCOPY_TRIGGER_QUEUE": "triggers"}
	out, _, err := sendRun(t, fake, env, "-snapshot-url", testSource+"?snapshot="+testSnapshot, "-type", "Contoso.Backup.SnapshotCreated")
	if err != nil {
		t.Fatal(err)
	}
	m := fake.sent[0]
	if out != "random-id\n" || *m.MessageID != "random-id" || *m.Subject != "Contoso.Backup.SnapshotCreated" {
		t.Errorf("stdout %q, id %q, subject %q", out, *m.MessageID, *m.Subject)
	}
	if fake.queue != "triggers" || fake.target != (busTarget{Namespace: "ns.servicebus.windows.net"}) {
		t.Errorf("queue %q target %+v", fake.queue, fake.target)
	}
}

func TestSendWarnsAboutAMessageSAS(t *testing.T) {
	fake := &fakeSender{}
	sas := "sv=2025-01-05&sr=b&sp=r&se=2026-11-25T10:00:00Z&sig=SECRET"
	_, stderr, err := sendRun(t, fake, nil, "-connection", testConn, "-source", testSource, "-snapshot", testSnapshot, "-sas", sas)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "SNAPCOPY_ALLOW_MESSAGE_SAS=true") {
		t.Errorf("no SAS warning:\n%s", stderr)
	}
	// The producer's SAS travels in the message; only the output hides it.
	if !bytes.Contains(fake.sent[0].Body, []byte("sig=SECRET")) {
		t.Errorf("body lost the SAS: %s", fake.sent[0].Body)
	}
}

func TestSendRefusesWhatTheHandlerWouldReject(t *testing.T) {
	base := []string{"-connection", testConn}
	cases := map[string]struct {
		args []string
		code copyjob.InputCode
	}{
		"no source":             {[]string{"-snapshot", testSnapshot}, copyjob.InputMissingField},
		"no snapshot":           {[]string{"-source", testSource}, copyjob.InputMissingField},
		"bad snapshot":          {[]string{"-source", testSource, "-snapshot", "yesterday"}, copyjob.InputInvalidField},
		"future snapshot":       {[]string{"-source", testSource, "-snapshot", "2026-11-25T10:00:00.0000000Z"}, copyjob.InputInvalidField},
		"snapshot SAS (sr=bs)":  {[]string{"-source", testSource, "-snapshot", testSnapshot, "-sas", "sv=1&sr=bs&sp=r&se=2026-11-25T10:00:00Z&sig=SECRET"}, copyjob.InputInvalidSAS},
		"expired SAS":           {[]string{"-source", testSource, "-snapshot", testSnapshot, "-sas", "sv=1&sr=b&sp=r&se=2026-11-24T09:00:00Z&sig=SECRET"}, copyjob.InputInvalidSAS},
		"SAS in URL and flag":   {[]string{"-source", testSource + "?sv=1&sig=SECRET", "-snapshot", testSnapshot, "-sas", "sv=1&sr=b&sp=r&sig=SECRET"}, copyjob.InputInvalidField},
		"wrong type":            {[]string{"-source", testSource, "-snapshot", testSnapshot, "-type", "Snapcopy.Other"}, copyjob.InputUnknownEventType},
		"not a blob URL":        {[]string{"-source", "https://src.blob.core.windows.net/", "-snapshot", testSnapshot}, copyjob.InputInvalidField},
		"destination is source": {[]string{"-source", testSource, "-snapshot", testSnapshot, "-destination", testSource}, copyjob.InputInvalidField},
		"destination with SAS":  {[]string{"-source", testSource, "-snapshot", testSnapshot, "-destination", testSource + "2?sig=SECRET"}, copyjob.InputInvalidField},
		"url and parts":         {[]string{"-source", testSource, "-snapshot", testSnapshot, "-snapshot-url", testSource + "?snapshot=" + testSnapshot}, copyjob.InputInvalidField},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fake := &fakeSender{}
			_, _, err := sendRun(t, fake, nil, append(base, c.args...)...)
			ie, ok := copyjob.AsInputError(err)
			if !ok || ie.Code != c.code {
				t.Errorf("got %v, want %s", err, c.code)
			}
			if !strings.HasPrefix(errText(err), "the handler would reject this message: ") {
				t.Errorf("error %q does not say the handler would reject it", errText(err))
			}
			if len(fake.sent) != 0 || fake.queue != "" {
				t.Errorf("sent anyway: %v", fake.sent)
			}
		})
	}
}

func TestSendUsesDestinationRoutingFromTheEnvironment(t *testing.T) {
	env := map[string]string{"SNAPCOPY_DESTINATION_CONTAINER_URL": testSource[:strings.LastIndex(testSource, "/")]}
	_, _, err := sendRun(t, &fakeSender{}, env, "-connection", testConn, "-source", testSource, "-snapshot", testSnapshot)
	if ie, ok := copyjob.AsInputError(err); !ok || ie.Code != copyjob.InputInvalidField {
		t.Fatalf("routing onto the source itself: got %v", err)
	}
}

func TestSendCommandLineErrors(t *testing.T) {
	cases := map[string][]string{
		"no connection":               {"-source", testSource, "-snapshot", testSnapshot},
		"positional argument":         {"-connection", testConn, "-source", testSource, "-snapshot", testSnapshot, "extra"},
		"snapshot-now with snapshot":  {"-connection", testConn, "-source", testSource, "-snapshot", testSnapshot, "-snapshot-now"},
		"snapshot-now without source": {"-connection", testConn, "-snapshot-now"},
		"unknown flag":                {"-bogus"},
	}
	for name, args := range cases {
		fake := &fakeSender{}
		if _, _, err := sendRun(t, fake, nil, args...); err == nil || len(fake.sent) != 0 {
			t.Errorf("%s: err %v, sent %d", name, err, len(fake.sent))
		}
	}
}

func TestSendReportsSendFailuresWithoutSecrets(t *testing.T) {
	fake := &fakeSender{err: errors.New("connect " + testConn + ": refused")}
	_, _, err := sendRun(t, fake, nil, "-connection", testConn, "-source", testSource, "-snapshot", testSnapshot)
	if err == nil || !strings.Contains(err.Error(), "send to queue snapshot-created") || !errors.Is(err, fake.err) || !fake.closed {
		t.Fatalf("got %v (closed %v)", err, fake.closed)
	}
}

func TestSendChecksTheEventTypeAsTheHandlerWould(t *testing.T) {
	base := []string{"-connection", testConn, "-source", testSource, "-snapshot", testSnapshot}
	cases := []struct {
		name, eventType, setting string
		accepted                 bool
	}{
		{"CloudEvents naming by default", "com.contoso.backup.snapshot.created", "", true},
		{"PascalCase by default", "Contoso.Backup.SnapshotCreated", "", true},
		{"other words by default", "Contoso.Backup.SnapshotDeleted", "", false},
		{"listed by the setting", "Contoso.Backup.DiskSnapshotTaken", "Contoso.Backup.*", true},
		{"not listed by the setting", "com.contoso.backup.snapshot.created", "Contoso.Backup.*", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeSender{}
			env := map[string]string{"SNAPCOPY_TRIGGER_EVENT_TYPES": c.setting}
			_, _, err := sendRun(t, fake, env, append(base, "-type", c.eventType)...)
			if c.accepted {
				if err != nil || len(fake.sent) != 1 || *fake.sent[0].Subject != c.eventType {
					t.Fatalf("got %v, sent %d", err, len(fake.sent))
				}
				return
			}
			ie, ok := copyjob.AsInputError(err)
			if !ok || ie.Code != copyjob.InputUnknownEventType || len(fake.sent) != 0 {
				t.Fatalf("got %v, sent %d; want UnknownEventType", err, len(fake.sent))
			}
			if !strings.Contains(err.Error(), "SNAPCOPY_TRIGGER_EVENT_TYPES") {
				t.Errorf("error %q does not name the setting that decides", err)
			}
		})
	}
	_, _, err := sendRun(t, &fakeSender{}, map[string]string{"SNAPCOPY_TRIGGER_EVENT_TYPES": "Contoso.*.Created"}, base...)
	if !errors.Is(err, copyjob.ErrEventTypePattern) || !strings.Contains(err.Error(), "SNAPCOPY_TRIGGER_EVENT_TYPES") {
		t.Errorf("a malformed setting: got %v", err)
	}
}
