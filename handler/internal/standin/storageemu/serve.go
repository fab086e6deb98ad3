package storageemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long Serve waits for in-flight requests.
const shutdownGrace = 5 * time.Second

// requestReadTimeout bounds reading one request, headers and body: a client
// that stalls mid-body is cut off instead of holding a connection forever.
// The largest body the emulator takes (4 MiB) reads in well under it.
const requestReadTimeout = time.Minute

// Serve runs an Emulator with opts on addr (loopback only, e.g.
// "127.0.0.1:10000") until ctx is done. ready, when not nil, is called with
// the bound address (useful with port 0) once the emulator accepts requests.
func Serve(ctx context.Context, addr string, opts Options, ready func(addr string)) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("storageemu: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%w: %s", ErrNotLoopback, addr)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("storageemu: listen: %w", err)
	}
	srv := &http.Server{Handler: New(opts), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: requestReadTimeout}
	if ready != nil {
		ready(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("storageemu: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("storageemu: shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("storageemu: serve: %w", err)
	}
	return nil
}

// AccountURL is the path-style service URL of an account on an emulator
// served at baseURL (e.g. an httptest.Server's URL).
func AccountURL(baseURL, accountName string) string {
	return baseURL + "/" + accountName
}

// ConnectionString is an azblob connection string for acct on an emulator
// served at baseURL.
func ConnectionString(baseURL string, acct Account) string {
	return "DefaultEndpointsProtocol=http;AccountName=" + acct.Name + ";AccountKey=" + acct.Key +
		";BlobEndpoint=" + AccountURL(baseURL, acct.Name) + ";"
}

// DevAccount is the well-known development account.
var DevAccount = Account{Name: DevAccountName, Key: DevAccountKey}
