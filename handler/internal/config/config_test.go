package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsWithConnection(t *testing.T) {
	c, err := Load(env(map[string]string{SettingServiceBusNamespace: "ns.servicebus.windows.net"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TriggerQueue != "snapshot-created" || c.PollQueue != "copy-poll" || c.EventsTopic != "copy-events" || c.CopyDeadline != 24*time.Hour {
		t.Fatalf("defaults %+v", c)
	}
}

func TestLoadReadsEverySetting(t *testing.T) {
	c, err := Load(env(map[string]string{
		SettingPort:                    "7071",
		SettingServiceBusConnection:    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
		SettingTriggerQueue:            "t",
		SettingPollQueue:               "p",
		SettingEventsTopic:             "e",
		SettingEventSource:             "/src",
		SettingEventTypePrefix:         "X.Y",
		SettingDestinationContainerURL: "https://dst.blob.core.windows.net/backups",
		SettingAllowedSources:          "https://srca.blob.core.windows.net/disks, https://srcb.blob.core.windows.net",
		SettingAllowedDestinations:     "https://dst.blob.core.windows.net/backups",
		SettingAllowMessageSAS:         "true",
		SettingTriggerEventTypes:       "com.contoso.backup.snapshot.created, Contoso.Backup.*",
		SettingStorageConnectionString: "AccountName=a;AccountKey=k",
		SettingClientID:                "cid",
		SettingCopyDeadline:            "6h",
		SettingAbortOnTimeout:          "true",
		SettingPollMinDelay:            "2s",
		SettingPollMaxDelay:            "5m",
		SettingSASLifetime:             "12h",
		SettingMaxMessageBytes:         "65536",
		SettingLogLevel:                "debug",
		SettingRetentionSubscription:   "r",
		SettingRetainLast:              "3",
		SettingRetainDaily:             "7",
		SettingRetainWeekly:            "5",
		SettingRetainMonthly:           "12",
		SettingPruneSource:             "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Port: 7071, ServiceBusConnectionString: "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
		TriggerQueue: "t", PollQueue: "p", EventsTopic: "e", EventSource: "/src", EventTypePrefix: "X.Y",
		DestinationContainerURL: "https://dst.blob.core.windows.net/backups",
		AllowedSources:          []string{"https://srca.blob.core.windows.net/disks", "https://srcb.blob.core.windows.net"},
		AllowedDestinations:     []string{"https://dst.blob.core.windows.net/backups"},
		AllowMessageSAS:         true, StorageConnectionString: "AccountName=a;AccountKey=k", ClientID: "cid",
		CopyDeadline: 6 * time.Hour, AbortOnTimeout: true, PollMinDelay: 2 * time.Second, PollMaxDelay: 5 * time.Minute,
		SASLifetime: 12 * time.Hour, MaxMessageBytes: 65536, LogLevel: "debug",
		RetentionSubscription: "r", Retention: copyjob.RetentionPolicy{Last: 3, Daily: 7, Weekly: 5, Monthly: 12}, PruneSource: true,
	}
	if strings.Join(c.AllowedSources, "|") != strings.Join(want.AllowedSources, "|") || strings.Join(c.AllowedDestinations, "|") != strings.Join(want.AllowedDestinations, "|") {
		t.Fatalf("allow-lists %v %v", c.AllowedSources, c.AllowedDestinations)
	}
	if got := strings.Join(c.TriggerEventTypes, "|"); got != "com.contoso.backup.snapshot.created|Contoso.Backup.*" {
		t.Fatalf("trigger event types %q", got)
	}
	c.AllowedSources, c.AllowedDestinations, want.AllowedSources, want.AllowedDestinations = nil, nil, nil, nil
	if c.Port != want.Port || c.ServiceBusConnectionString != want.ServiceBusConnectionString || c.TriggerQueue != want.TriggerQueue ||
		c.PollQueue != want.PollQueue || c.EventsTopic != want.EventsTopic || c.EventSource != want.EventSource || c.EventTypePrefix != want.EventTypePrefix ||
		c.DestinationContainerURL != want.DestinationContainerURL || c.AllowMessageSAS != want.AllowMessageSAS || c.StorageConnectionString != want.StorageConnectionString ||
		c.ClientID != want.ClientID || c.CopyDeadline != want.CopyDeadline || c.AbortOnTimeout != want.AbortOnTimeout || c.PollMinDelay != want.PollMinDelay ||
		c.PollMaxDelay != want.PollMaxDelay || c.SASLifetime != want.SASLifetime || c.MaxMessageBytes != want.MaxMessageBytes || c.LogLevel != want.LogLevel ||
		c.RetentionSubscription != want.RetentionSubscription || c.Retention != want.Retention || c.PruneSource != want.PruneSource {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

// TestValidateNamesEveryBadSetting checks that one error lists each wrong
// setting by name, so an operator fixes them all in one go.
func TestValidateNamesEveryBadSetting(t *testing.T) {
	_, err := Load(env(map[string]string{
		SettingPort:                    "70000",
		SettingTriggerQueue:            "same",
		SettingPollQueue:               "same",
		SettingDestinationContainerURL: "https://dst.blob.core.windows.net/backups?sv=1&sig=x",
		SettingAllowedSources:          "not a url",
		SettingTriggerEventTypes:       "Contoso.*.SnapshotCreated",
		SettingCopyDeadline:            "forever",
		SettingAbortOnTimeout:          "maybe",
		SettingPollMinDelay:            "1m",
		SettingPollMaxDelay:            "10s",
		SettingSASLifetime:             "30d",
		SettingMaxMessageBytes:         "12",
		SettingLogLevel:                "loud",
		SettingRetainLast:              "-1",
		SettingRetainWeekly:            "some",
		SettingRetainMonthly:           "10001",
	}))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	for _, name := range []string{
		SettingPort, SettingServiceBusConnection, SettingTriggerQueue, SettingDestinationContainerURL, SettingAllowedSources,
		SettingTriggerEventTypes, SettingCopyDeadline, SettingAbortOnTimeout, SettingPollMaxDelay, SettingSASLifetime, SettingMaxMessageBytes, SettingLogLevel,
		SettingRetainLast, SettingRetainWeekly, SettingRetainMonthly,
	} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "sig=x") {
		t.Errorf("error repeats a secret: %v", err)
	}
}

func TestNamespaceMustBeHostName(t *testing.T) {
	_, err := Load(env(map[string]string{SettingServiceBusNamespace: "https://ns.servicebus.windows.net/"}))
	if err == nil || !strings.Contains(err.Error(), SettingServiceBusNamespace) {
		t.Fatalf("err = %v", err)
	}
}

// TestSecuritySettingsURLs: URLs in settings obey the rules of message URLs
// (the handler sends credentials under them), checked at start-up and
// naming the setting.
func TestSecuritySettingsURLs(t *testing.T) {
	const (
		ns       = "ns.servicebus.windows.net"
		emulator = "http://127.0.0.1:10000/devstoreaccount1"
		devConn  = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=" + emulator + "/;"
	)
	cases := []struct {
		name     string
		settings map[string]string
		bad      string // the setting the error must name; empty: valid
	}{
		{"storage container", map[string]string{SettingDestinationContainerURL: "https://dst.blob.core.windows.net/backups"}, ""},
		{"container URL with user info", map[string]string{SettingDestinationContainerURL: "https://user:pw@dst.blob.core.windows.net/backups"}, SettingDestinationContainerURL},
		{"container on a foreign host", map[string]string{SettingDestinationContainerURL: "https://evil.example/backups"}, SettingDestinationContainerURL},
		{"container over http", map[string]string{SettingDestinationContainerURL: "http://dst.blob.core.windows.net/backups"}, SettingDestinationContainerURL},
		{"container with a fragment", map[string]string{SettingDestinationContainerURL: "https://dst.blob.core.windows.net/backups#x"}, SettingDestinationContainerURL},
		{"allowed source on a foreign host", map[string]string{SettingAllowedSources: "https://src.blob.core.windows.net/disks,https://evil.example/"}, SettingAllowedSources},
		{"allowed destination on loopback without an emulator", map[string]string{SettingAllowedDestinations: emulator}, SettingAllowedDestinations},
		{"emulator URLs with its connection string", map[string]string{SettingStorageConnectionString: devConn,
			SettingDestinationContainerURL: emulator + "/backups", SettingAllowedDestinations: emulator + "/backups"}, ""},
		{"another loopback port than the emulator's", map[string]string{SettingStorageConnectionString: devConn,
			SettingDestinationContainerURL: "http://127.0.0.1:10001/devstoreaccount1/backups"}, SettingDestinationContainerURL},
		{"sovereign suffix", map[string]string{SettingStorageEndpointSuffix: "core.usgovcloudapi.net",
			SettingDestinationContainerURL: "https://dst.blob.core.usgovcloudapi.net/backups"}, ""},
		{"public host under a sovereign suffix", map[string]string{SettingStorageEndpointSuffix: "core.usgovcloudapi.net",
			SettingDestinationContainerURL: "https://dst.blob.core.windows.net/backups"}, SettingDestinationContainerURL},
		{"suffix that is a URL", map[string]string{SettingStorageEndpointSuffix: "https://core.windows.net/"}, SettingStorageEndpointSuffix},
		{"connection string with a malformed BlobEndpoint", map[string]string{SettingStorageConnectionString: "AccountName=a;AccountKey=k;BlobEndpoint=::"}, SettingStorageConnectionString},
	}
	for _, c := range cases {
		settings := map[string]string{SettingServiceBusNamespace: ns}
		for k, v := range c.settings {
			settings[k] = v
		}
		cfg, err := Load(env(settings))
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s: err %v, want one naming %s", c.name, err, c.bad)
		case c.bad != "" && strings.Contains(err.Error(), "pw@"):
			t.Errorf("%s: the error repeats user info: %v", c.name, err)
		case c.bad == "" && cfg.StorageHosts().CheckURL(cfg.DestinationContainerURL+"/vm1.vhd") != nil && cfg.DestinationContainerURL != "":
			t.Errorf("%s: the handler's hosts refuse its own destination container", c.name)
		}
	}
	if got := Defaults().StorageHosts(); got.EndpointSuffix != "core.windows.net" || got.Emulator != "" {
		t.Errorf("default storage hosts %+v, want core.windows.net and no emulator", got)
	}
}

// TestSecurityEveryNumberIsBounded: each numeric setting is refused below
// and above its range, with its name; a huge message limit no longer slips
// through to overflow the invocation buffer.
func TestSecurityEveryNumberIsBounded(t *testing.T) {
	base := map[string]string{SettingServiceBusNamespace: "ns.servicebus.windows.net"}
	cases := []struct{ setting, value string }{
		{SettingMaxMessageBytes, "2000000000000000000"},
		{SettingMaxMessageBytes, "1048577"},
		{SettingMaxMessageBytes, "1023"},
		{SettingMaxMessageBytes, "99999999999999999999999"},
		{SettingPort, "0x10"},
		{SettingPort, "70000"},
		{SettingPort, "-1"},
		{SettingCopyDeadline, "2562047h"},
		{SettingCopyDeadline, "169h"},
		{SettingCopyDeadline, "30s"},
		{SettingPollMinDelay, "1ms"},
		{SettingPollMaxDelay, "2h"},
		{SettingSASLifetime, "169h"},
	}
	for _, c := range cases {
		env := map[string]string{c.setting: c.value}
		for k, v := range base {
			env[k] = v
		}
		_, err := Load(func(k string) string { return env[k] })
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.setting) {
			t.Errorf("%s=%s: err = %v", c.setting, c.value, err)
		}
	}
	for _, ok := range []map[string]string{
		{SettingMaxMessageBytes: "1048576", SettingCopyDeadline: "168h", SettingPollMinDelay: "1s", SettingPollMaxDelay: "1h", SettingPort: "65535"},
		{SettingMaxMessageBytes: "1024", SettingCopyDeadline: "1m", SettingPollMinDelay: "1h", SettingPollMaxDelay: "1h", SettingPort: "1"},
	} {
		for k, v := range base {
			ok[k] = v
		}
		if _, err := Load(env(ok)); err != nil {
			t.Errorf("the limits themselves are refused: %v", err)
		}
	}
}

// TestSecurityServeNamesThePortWithTheRest: with nothing set, one error
// names both the port and the Service Bus connection.
func TestSecurityServeNamesThePortWithTheRest(t *testing.T) {
	_, err := LoadServe(env(nil))
	for _, name := range []string{SettingPort, SettingServiceBusConnection} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if _, err := Load(env(map[string]string{SettingServiceBusNamespace: "ns.servicebus.windows.net"})); err != nil {
		t.Errorf("Load without a port: %v", err)
	}
}

// TestSecurityMalformedServiceBusConnectionIsNamed: a connection string the
// Service Bus client would refuse is refused at start-up, naming the
// setting and never repeating the key.
func TestSecurityMalformedServiceBusConnectionIsNamed(t *testing.T) {
	const key = "S3CR3Tc2VjcmV0"
	for _, conn := range []string{
		"SharedAccessKeyName=k;SharedAccessKey=" + key,
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=" + key,
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k",
		"Endpoint=sb://;SharedAccessKeyName=k;SharedAccessKey=" + key,
		"Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=" + key + ";UseDevelopmentEmulator=yes",
		key,
	} {
		_, err := Load(env(map[string]string{SettingServiceBusConnection: conn}))
		if err == nil || !strings.Contains(err.Error(), SettingServiceBusConnection) || strings.Contains(err.Error(), key) {
			t.Errorf("%q: err = %v", conn, err)
		}
	}
	for _, conn := range []string{
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + key,
		"endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x&sig=" + key + "&se=1&skn=k",
		"Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
	} {
		if _, err := Load(env(map[string]string{SettingServiceBusConnection: conn})); err != nil {
			t.Errorf("%q: %v", conn, err)
		}
	}
}

// TestServiceBusConnectionCheckAgreesWithTheClient: the start-up check
// refuses exactly what azservicebus refuses when it builds its client.
func TestServiceBusConnectionCheckAgreesWithTheClient(t *testing.T) {
	for _, conn := range []string{
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v",
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1&skn=k",
		"Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v",
		"Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
		"Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=yes",
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=v",
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k",
		"Endpoint=sb://;SharedAccessKeyName=k;SharedAccessKey=v",
		"SharedAccessKeyName=k;SharedAccessKey=v",
		"Endpoint=sb://ns/;junk",
		"just text",
	} {
		_, clientErr := azservicebus.NewClientFromConnectionString(conn, nil)
		checkErr := checkServiceBusConnection(conn)
		if (clientErr == nil) != (checkErr == nil) {
			t.Errorf("%q: client says %v, check says %v", conn, clientErr, checkErr)
		}
	}
}

// TestValidateNamesProblemsInAStableOrder: the same bad settings give the
// same message every time, in the order the settings are declared, so an
// operator comparing two start-ups (or a test) sees no spurious change.
func TestValidateNamesProblemsInAStableOrder(t *testing.T) {
	c := Defaults()
	c.ServiceBusNamespace = "contoso.servicebus.windows.net"
	c.TriggerQueue, c.EventsTopic, c.EventSource, c.RetentionSubscription = "", "", "", ""
	c.Retention = copyjob.RetentionPolicy{Last: -1, Daily: -1, Weekly: -1, Monthly: -1}
	first := c.Validate().Error()
	for i := 0; i < 20; i++ {
		if got := c.Validate().Error(); got != first {
			t.Fatalf("run %d named the problems in another order:\n%s\nthen:\n%s", i, first, got)
		}
	}
	order := []string{SettingTriggerQueue, SettingEventsTopic, SettingEventSource, SettingRetentionSubscription, SettingRetainLast, SettingRetainDaily, SettingRetainWeekly, SettingRetainMonthly}
	at := -1
	for _, name := range order {
		i := strings.Index(first, name+" ")
		if i < 0 {
			i = strings.Index(first, name+"=")
		}
		if i < at {
			t.Fatalf("%s is named before the settings declared before it:\n%s", name, first)
		}
		at = i
	}
}
