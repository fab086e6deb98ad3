package hostsim

import (
	"context"
	"fmt"
	"sync"
)

// Run serves every function until ctx ends, on whatever clock the sources
// use: each function keeps up to MaxConcurrentCalls invocations in flight,
// receiving the next message as soon as a slot frees, and settles each
// message as soon as its invocation ends. Invocations still in flight when
// ctx ends are cancelled and their messages abandoned. Run returns
// ctx's error, or the first receive error, which stops every function.
func (h *Host) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, fn := range h.cfg.Functions {
		wg.Go(func() {
			if err := h.serve(ctx, fn); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// serve is one function's receive loop.
func (h *Host) serve(ctx context.Context, fn Function) error {
	slots := make(chan struct{}, h.cfg.MaxConcurrentCalls)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		d, err := fn.Source.Receive(ctx)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("hostsim: receive for %s: %w", fn.Name, err)
		}
		id := h.invocationID()
		wg.Go(func() {
			defer func() { <-slots }()
			inv := h.invoke(ctx, fn, d, id)
			h.settle(ctx, fn, d, &inv)
			h.report(fn, d, inv)
		})
	}
}
