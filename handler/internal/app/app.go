package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/rs/zerolog"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/worker"
)

// InvocationTimeout stays well under host.json's functionTimeout (5 min)
// and the host's auto-renewed message lock.
const InvocationTimeout = 2 * time.Minute

// Options are what New takes besides the configuration.
type Options struct {
	// Log receives the handler's log lines.
	Log zerolog.Logger
	// Clock is the handler's time. Default: clock.Real.
	Clock clock.Clock
	// Senders, when set, opens the senders of the poll queue, the trigger
	// queue and the events topic instead of a Service Bus client from the
	// configuration (tests record sends and inject faults there).
	Senders func(entity string) (bus.Sender, error)
}

// App is the wired handler and what must be closed with it.
type App struct {
	// Worker carries out the functions; tests may swap its ports.
	Worker *worker.Worker
	// Handler serves the custom-handler protocol; HTTPServer gives the
	// http.Server with its read bounds.
	Handler *funcproto.Server
	closers []func()
}

// Close releases the Service Bus client and senders, last opened first.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// New wires cfg to the adapters.
func New(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	a := &App{}
	creds := &Credentials{ClientID: cfg.ClientID}
	senders := opts.Senders
	if senders == nil {
		client, err := creds.ServiceBusClient(cfg.ServiceBusConnectionString, cfg.ServiceBusNamespace,
			&azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{MaxRetries: 3, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 5 * time.Second}})
		if err != nil {
			setting := config.SettingServiceBusConnection
			if cfg.ServiceBusConnectionString == "" {
				setting = config.SettingServiceBusNamespace
			}
			return nil, fmt.Errorf("%s: %w", setting, err)
		}
		a.closers = append(a.closers, func() { _ = client.Close(context.Background()) })
		senders = func(entity string) (bus.Sender, error) {
			s, err := client.NewSender(entity, nil)
			if err != nil {
				return nil, err
			}
			a.closers = append(a.closers, func() { _ = s.Close(context.Background()) })
			return s, nil
		}
	}
	w, err := a.worker(cfg, opts, creds, senders)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Worker = w
	srv := funcproto.NewServer(w.Functions(), funcproto.PayloadLimit(cfg.MaxMessageBytes))
	srv.OnPanic = func(inv funcproto.Invocation, p any) {
		opts.Log.Error().Str(logging.FieldFunction, inv.Function).Str(logging.FieldInvocationID, inv.InvocationID).
			Str(logging.FieldMessageID, inv.MessageID).Interface("panic", p).Msg("function panicked; abandoning the message")
	}
	// A host that hangs up or stalls is no fault of the message, which
	// the broker redelivers: worth a line, not an error.
	srv.OnRequestLost = func(inv funcproto.Invocation, err error) {
		opts.Log.Info().Str(logging.FieldFunction, inv.Function).Str(logging.FieldInvocationID, inv.InvocationID).
			Str(logging.FieldMessageID, inv.MessageID).Err(err).Msg("request lost; the broker redelivers the message")
	}
	a.Handler = srv
	return a, nil
}

func (a *App) worker(cfg config.Config, opts Options, creds *Credentials, senders func(string) (bus.Sender, error)) (*worker.Worker, error) {
	var open bus.Senders
	for _, e := range []struct {
		name string
		to   *bus.Sender
	}{{cfg.PollQueue, &open.Polls}, {cfg.TriggerQueue, &open.Triggers}, {cfg.EventsTopic, &open.Events}} {
		var err error
		if *e.to, err = senders(e.name); err != nil {
			return nil, fmt.Errorf("open sender for %s: %w", e.name, err)
		}
	}
	store, err := blobStore(cfg, creds, opts.Clock)
	if err != nil {
		return nil, err
	}
	w := &worker.Worker{
		Storage: store,
		Bus:     bus.New(open, bus.Options{EventSource: cfg.EventSource, EventTypePrefix: cfg.EventTypePrefix}),
		Clock:   opts.Clock,
		Log:     opts.Log,
		Rand:    rand.Float64,
		Policy:  pollPolicy(cfg),
		Rules: copyjob.Rules{
			MaxBytes:                cfg.MaxMessageBytes,
			DestinationContainerURL: cfg.DestinationContainerURL,
			AllowedSources:          cfg.AllowedSources,
			AllowedDestinations:     cfg.AllowedDestinations,
			AllowMessageSAS:         cfg.AllowMessageSAS,
			Hosts:                   cfg.StorageHosts(),
			EventTypes:              cfg.TriggerEventTypes,
		},
		CopyDeadline:      cfg.CopyDeadline,
		AbortOnTimeout:    cfg.AbortOnTimeout,
		InvocationTimeout: InvocationTimeout,
		Retain:            worker.RetentionConfig{Policy: cfg.Retention, PruneSource: cfg.PruneSource, CompletedType: copyjob.EventType(cfg.EventTypePrefix, copyjob.Completed)},
	}
	return w, w.Validate()
}

func pollPolicy(cfg config.Config) copyjob.PollPolicy {
	p := copyjob.DefaultPollPolicy()
	p.MinDelay, p.MaxDelay = cfg.PollMinDelay, cfg.PollMaxDelay
	return p
}

func blobStore(cfg config.Config, creds *Credentials, clk clock.Clock) (*blobstore.Store, error) {
	storageCreds, err := creds.Storage(cfg.StorageConnectionString)
	if err != nil && cfg.StorageConnectionString != "" {
		return nil, fmt.Errorf("%s: %w", config.SettingStorageConnectionString, err)
	}
	if err != nil {
		return nil, err
	}
	return blobstore.New(blobstore.Options{
		Credentials: storageCreds,
		Clock:       clk,
		SASLifetime: cfg.SASLifetime,
		Hosts:       cfg.StorageHosts(),
		// Fewer, shorter retries than the SDK default: a throttled start is
		// deferred and retried by message, not by holding the invocation.
		Client: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 3, TryTimeout: 30 * time.Second, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 8 * time.Second}},
	})
}
