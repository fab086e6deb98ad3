package busemu

import "context"

// Serve runs a Broker with opts on addr (loopback only, e.g.
// "127.0.0.1:5672") until ctx is done. ready, when not nil, is called with
// the bound address (useful with port 0) once the broker accepts
// connections; ConnectionString(addr, opts.KeyName, opts.Key) — or
// DevKeyName/DevKey by default — is what clients use.
func Serve(ctx context.Context, addr string, opts Options, ready func(addr string)) error {
	b, err := New(opts)
	if err != nil {
		return err
	}
	bound, err := b.Listen(addr)
	if err != nil {
		_ = b.Close()
		return err
	}
	if ready != nil {
		ready(bound)
	}
	<-ctx.Done()
	return b.Close()
}
