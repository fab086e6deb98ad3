package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/rs/zerolog"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
	"github.com/snapcopy/snapcopy/handler/internal/worker"
)

// invocationTimeout stays well under host.json's functionTimeout (5 min)
// and the host's auto-renewed message lock.
const invocationTimeout = 2 * time.Minute

// runServe is what the Functions host runs: read app settings, wire the
// adapters and serve the invocation protocol on FUNCTIONS_CUSTOMHANDLER_PORT.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("serve", "", "Serves the custom-handler protocol; the Functions host starts it. It takes no flags: it reads the app settings (README, App settings) from the environment.")
	if err := cli.ParseFlagsOnly(fs, args, stdout, stderr, "serve reads app settings from the environment"); err != nil {
		return err
	}
	cfg, err := config.LoadServe(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(stdout, stderr, cfg.LogLevel)
	app, err := newApp(ctx, cfg, log, clock.Real{}, nil)
	if err != nil {
		return err
	}
	defer app.close()
	listener, err := net.Listen("tcp", funcproto.ListenAddress(cfg.Port))
	if err != nil {
		return err
	}
	log.Info().Str("address", listener.Addr().String()).Msg("snapcopy handler listening")
	return serveHTTP(ctx, listener, app.handler.HTTPServer())
}

// serveHTTP serves until ctx ends, then drains in-flight invocations.
func serveHTTP(ctx context.Context, l net.Listener, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), invocationTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// app is the wired handler and what must be closed with it.
type app struct {
	worker  *worker.Worker
	handler *funcproto.Server
	close   func()
}

// senderFactory opens a sender for an entity; nil means "from the Service
// Bus connection in cfg".
type senderFactory func(entity string) (bus.Sender, error)

// newApp wires config to adapters. senders overrides the Service Bus
// client (the in-memory host simulator uses this).
func newApp(ctx context.Context, cfg config.Config, log zerolog.Logger, clk clock.Clock, senders senderFactory) (*app, error) {
	closers := []func(){}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var token azcore.TokenCredential
	if cfg.StorageConnectionString == "" || (senders == nil && cfg.ServiceBusConnectionString == "") {
		var err error
		if token, err = credential(cfg); err != nil {
			return nil, err
		}
	}
	if senders == nil {
		client, err := serviceBusClient(cfg, token)
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { _ = client.Close(context.Background()) })
		senders = func(entity string) (bus.Sender, error) {
			s, err := client.NewSender(entity, nil)
			if err != nil {
				return nil, err
			}
			closers = append(closers, func() { _ = s.Close(context.Background()) })
			return s, nil
		}
	}
	var open bus.Senders
	for _, e := range []struct {
		name string
		to   *bus.Sender
	}{{cfg.PollQueue, &open.Polls}, {cfg.TriggerQueue, &open.Triggers}, {cfg.EventsTopic, &open.Events}} {
		var err error
		if *e.to, err = senders(e.name); err != nil {
			closeAll()
			return nil, fmt.Errorf("open sender for %s: %w", e.name, err)
		}
	}
	store, err := blobStore(cfg, token, clk)
	if err != nil {
		closeAll()
		return nil, err
	}
	events := bus.New(open, bus.Options{EventSource: cfg.EventSource, EventTypePrefix: cfg.EventTypePrefix})
	w := &worker.Worker{
		Storage: store,
		Bus:     events,
		Clock:   clk,
		Log:     log,
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
		InvocationTimeout: invocationTimeout,
		Retain:            worker.RetentionConfig{Policy: cfg.Retention, PruneSource: cfg.PruneSource, CompletedType: copyjob.EventType(cfg.EventTypePrefix, copyjob.Completed)},
	}
	if err := w.Validate(); err != nil {
		closeAll()
		return nil, err
	}
	srv := funcproto.NewServer(w.Functions(), funcproto.PayloadLimit(cfg.MaxMessageBytes))
	srv.OnPanic = func(inv funcproto.Invocation, p any) {
		log.Error().Str(logging.FieldFunction, inv.Function).Str(logging.FieldInvocationID, inv.InvocationID).
			Str(logging.FieldMessageID, inv.MessageID).Interface("panic", p).Msg("function panicked; abandoning the message")
	}
	// A host that hangs up or stalls is no fault of the message, which
	// the broker redelivers: worth a line, not an error.
	srv.OnRequestLost = func(inv funcproto.Invocation, err error) {
		log.Info().Str(logging.FieldFunction, inv.Function).Str(logging.FieldInvocationID, inv.InvocationID).
			Str(logging.FieldMessageID, inv.MessageID).Err(err).Msg("request lost; the broker redelivers the message")
	}
	return &app{worker: w, handler: srv, close: closeAll}, nil
}

func pollPolicy(cfg config.Config) copyjob.PollPolicy {
	p := copyjob.DefaultPollPolicy()
	p.MinDelay, p.MaxDelay = cfg.PollMinDelay, cfg.PollMaxDelay
	return p
}

// credential is the managed identity in Azure (user-assigned when
// AZURE_CLIENT_ID is set) or the developer's login elsewhere.
func credential(cfg config.Config) (azcore.TokenCredential, error) {
	if cfg.ClientID != "" {
		return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(cfg.ClientID)})
	}
	return azidentity.NewDefaultAzureCredential(nil)
}

func serviceBusClient(cfg config.Config, token azcore.TokenCredential) (*azservicebus.Client, error) {
	opts := &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{MaxRetries: 3, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 5 * time.Second}}
	if cfg.ServiceBusConnectionString != "" {
		client, err := azservicebus.NewClientFromConnectionString(cfg.ServiceBusConnectionString, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.SettingServiceBusConnection, err)
		}
		return client, nil
	}
	client, err := azservicebus.NewClient(cfg.ServiceBusNamespace, token, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.SettingServiceBusNamespace, err)
	}
	return client, nil
}

func blobStore(cfg config.Config, token azcore.TokenCredential, clk clock.Clock) (*blobstore.Store, error) {
	creds := blobstore.Credentials{Token: token}
	if cfg.StorageConnectionString != "" {
		key, err := blobstore.SharedKeyFromConnectionString(cfg.StorageConnectionString)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.SettingStorageConnectionString, err)
		}
		creds = blobstore.Credentials{SharedKeys: map[string]*blob.SharedKeyCredential{key.AccountName(): key}}
	}
	return blobstore.New(blobstore.Options{
		Credentials: creds,
		Clock:       clk,
		SASLifetime: cfg.SASLifetime,
		Hosts:       cfg.StorageHosts(),
		// Fewer, shorter retries than the SDK default: a throttled start is
		// deferred and retried by message, not by holding the invocation.
		Client: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 3, TryTimeout: 30 * time.Second, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 8 * time.Second}},
	})
}
