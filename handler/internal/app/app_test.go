package app

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
)

// Azurite's well-known development account: any account and key will do.
const storageConnection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:9/devstoreaccount1"

// nopSender is a bus.Sender that sends nowhere.
type nopSender struct{ bus.Sender }

func settings(extra map[string]string) config.Config {
	env := map[string]string{
		config.SettingServiceBusConnection:    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
		config.SettingStorageConnectionString: storageConnection,
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		panic(err)
	}
	return cfg
}

// TestNewOpensOneSenderPerEntity: the worker writes polls, deferrals and
// events each to its own entity, by the names the settings give.
func TestNewOpensOneSenderPerEntity(t *testing.T) {
	cfg := settings(map[string]string{config.SettingPollQueue: "polls-x", config.SettingTriggerQueue: "triggers-x", config.SettingEventsTopic: "events-x"})
	var opened []string
	a, err := New(context.Background(), cfg, Options{Log: logging.New(io.Discard, io.Discard, "error"),
		Senders: func(entity string) (bus.Sender, error) {
			opened = append(opened, entity)
			return nopSender{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if strings.Join(opened, ",") != "polls-x,triggers-x,events-x" || a.Handler == nil || a.Worker.Validate() != nil {
		t.Fatalf("opened %v", opened)
	}
}

// TestNewNamesTheBadSetting: a storage connection string without a key
// stops the start with the setting's name; so does a sender that cannot
// be opened.
func TestNewNamesTheBadSetting(t *testing.T) {
	cfg := settings(map[string]string{config.SettingStorageConnectionString: "AccountName=x"})
	_, err := New(context.Background(), cfg, Options{Senders: func(string) (bus.Sender, error) { return nopSender{}, nil }})
	if err == nil || !strings.Contains(err.Error(), config.SettingStorageConnectionString) {
		t.Fatalf("err = %v", err)
	}
	refused := errors.New("refused")
	if _, err := New(context.Background(), settings(nil), Options{Senders: func(string) (bus.Sender, error) { return nil, refused }}); !errors.Is(err, refused) {
		t.Fatalf("sender refused: %v", err)
	}
}

// TestCredentialsPreferConnectionStrings: a connection string never needs
// the token credential; only its absence asks for one.
func TestCredentialsPreferConnectionStrings(t *testing.T) {
	c := &Credentials{}
	client, err := c.ServiceBusClient("Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = client.Close(context.Background())
	creds, err := c.Storage(storageConnection)
	if err != nil || creds.Token != nil || creds.SharedKeys["devstoreaccount1"] == nil {
		t.Fatalf("storage credentials %+v, %v", creds, err)
	}
	if c.token != nil || c.err != nil {
		t.Fatal("a token credential was built though every connection had a connection string")
	}
}
