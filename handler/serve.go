package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/logging"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

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
	return serve(ctx, cfg, func() (net.Listener, error) { return net.Listen("tcp", funcproto.ListenAddress(cfg.Port)) }, stdout, stderr)
}

// serve wires the handler for cfg, then listens with listen and serves
// until ctx ends. Tests hand in a listener they opened themselves.
func serve(ctx context.Context, cfg config.Config, listen func() (net.Listener, error), stdout, stderr io.Writer) error {
	log := logging.New(stdout, stderr, cfg.LogLevel)
	handler, err := app.New(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return err
	}
	defer handler.Close()
	listener, err := listen()
	if err != nil {
		return err
	}
	log.Info().Str("address", listener.Addr().String()).Msg("snapcopy handler listening")
	return serveHTTP(ctx, listener, handler.Handler.HTTPServer())
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
	shutdown, cancel := context.WithTimeout(context.Background(), app.InvocationTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
