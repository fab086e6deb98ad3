// Package localrun is `handler local`: it starts the storage emulator, the
// host simulator and the real handler on loopback, runs a demo backup chain
// through them and verifies every copied snapshot byte for byte.
package localrun

import (
	"context"
	"fmt"
	"time"
)

// Run runs the demo and returns its summary; Summary.OK says whether every
// snapshot was verified.
func Run(ctx context.Context, opts Options) (Summary, error) {
	if err := opts.Validate(); err != nil {
		return Summary{}, err
	}
	keepCtx := ctx
	// A host simulator that stops (its bus connection lost) ends the run
	// with that cause instead of letting it wait for the timeout.
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	started := time.Now()
	stackCtx := ctx
	if opts.Keep {
		stackCtx = keepCtx
	}
	st, err := startStack(stackCtx, opts, fail)
	if err != nil {
		return Summary{}, err
	}
	defer st.close()

	jobs, err := st.produce(ctx, opts)
	if err != nil {
		return Summary{}, err
	}
	if err := st.awaitOutcomes(ctx, jobs, opts.Retention.Enabled() || opts.PruneSource); err != nil {
		return Summary{}, err
	}
	sum := st.verify(ctx, jobs, opts.Retention)
	sum.Restores = st.restoreNewest(ctx, jobs, opts.Out)
	sum.Elapsed = time.Since(started)
	sum.Invocations = int(st.invocations.Load())
	sum.Deferrals = int(st.deferrals.Load())
	sum.DeadLettered = st.bus.deadLettered()
	sum.Print(opts.Out)
	if opts.Keep {
		fmt.Fprintf(opts.Out, "\nthe stack stays up until interrupted: storage %s (devstoreaccount1), handler %s, bus %s\n", st.storageURL, st.handlerURL, st.bus.describe())
		<-keepCtx.Done()
	}
	return sum, nil
}
