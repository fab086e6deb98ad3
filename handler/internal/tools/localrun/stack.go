package localrun

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// stack is the running stand-ins and handler.
type stack struct {
	out         io.Writer
	storageURL  string // account URL
	storageBase string // the emulator's endpoint
	bus         *demoBus
	key         *blob.SharedKeyCredential
	clientOpts  azcore.ClientOptions
	closers     []func()
	outcomes    map[string]copyjob.ReceivedEvent
	invocations atomic.Int64
	deferrals   atomic.Int64
	handlerURL  string
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func startStack(ctx context.Context, opts Options, fail context.CancelCauseFunc) (*stack, error) {
	s := &stack{out: opts.Out}
	emuOpts := storageemu.Options{CopyRate: opts.CopyRate}
	if opts.Chaos {
		emuOpts.Chaos = &storageemu.Chaos{Seed: opts.Seed, ErrorRate: 0.05, MaxLatency: 20 * time.Millisecond}
	}
	storageBase, stop, err := serveLoopback(storageemu.New(emuOpts))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, stop)
	s.storageBase = storageBase
	s.storageURL = storageBase + "/" + storageemu.DevAccountName
	s.key, _ = blob.NewSharedKeyCredential(storageemu.DevAccountName, storageemu.DevAccountKey)
	// The demo's own storage calls retry quickly under chaos.
	s.clientOpts = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 6, RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond}}

	s.bus, err = newDemoBus()
	if err != nil {
		s.close()
		return nil, fmt.Errorf("start the bus: %w", err)
	}
	s.closers = append(s.closers, s.bus.close)
	settings := map[string]string{
		config.SettingServiceBusConnection:    s.bus.connectionString(),
		config.SettingStorageConnectionString: storageemu.ConnectionString(storageBase, storageemu.DevAccount),
		config.SettingDestinationContainerURL: s.storageURL + "/backups",
		config.SettingAllowedSources:          s.storageURL + "/disks",
		config.SettingAllowedDestinations:     s.storageURL + "/backups",
		config.SettingPollMinDelay:            "1s",
		config.SettingPollMaxDelay:            "10s",
		config.SettingLogLevel:                opts.LogLevel,
		config.SettingRetainLast:              fmt.Sprint(opts.Retention.Last),
		config.SettingRetainDaily:             fmt.Sprint(opts.Retention.Daily),
		config.SettingRetainWeekly:            fmt.Sprint(opts.Retention.Weekly),
		config.SettingRetainMonthly:           fmt.Sprint(opts.Retention.Monthly),
		config.SettingPruneSource:             fmt.Sprint(opts.PruneSource),
	}
	handler, err := startHandler(ctx, settings, opts)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("start handler: %w", err)
	}
	s.closers = append(s.closers, handler.Close)
	var stopHandler func()
	s.handlerURL, stopHandler, err = serveLoopback(handler.Handler)
	if err != nil {
		s.close()
		return nil, err
	}
	s.closers = append(s.closers, stopHandler)

	sources, err := s.bus.sources()
	if err != nil {
		s.close()
		return nil, err
	}
	host, err := funchost.NewHost(funchost.HostOptions{
		Functions: sources,
		BaseURL:   s.handlerURL,
		OnInvocation: func(inv funchost.InvocationResult) {
			s.invocations.Add(1)
			if copyjob.ParseMessageID(inv.MessageID).Kind == copyjob.KindDeferral {
				s.deferrals.Add(1)
			}
		},
	})
	if err != nil {
		s.close()
		return nil, err
	}
	stopHost := host.Start(ctx, func(err error) { fail(fmt.Errorf("the host simulator stopped: %w", err)) })
	s.closers = append(s.closers, stopHost)
	fmt.Fprintf(s.out, "storage emulator  %s\nhandler           %s\nbus               %s\n\n", storageBase, s.handlerURL, s.bus.describe())
	return s, nil
}

// startHandler wires the real handler for the stand-ins' settings, as
// `handler serve` does for the environment's.
func startHandler(ctx context.Context, settings map[string]string, opts Options) (*app.App, error) {
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		return nil, err
	}
	return app.New(ctx, cfg, app.Options{Log: logging.New(opts.Out, opts.ErrOut, cfg.LogLevel)})
}

// serveLoopback serves h on a free 127.0.0.1 port.
func serveLoopback(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}
