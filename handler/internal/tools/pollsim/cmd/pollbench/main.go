// Command pollbench compares polling policies on a simulated workload of
// incremental copies and prints Markdown tables, then holds snapcopy's
// policy to its targets.
//
//	go run ./handler/internal/tools/pollsim/cmd/pollbench [-seed N | -seeds A-B] [-copies N]
//	    [-refresh MIN-MAX] [-sigma X] [-progress reported|final-only] [-jump P]
//	    [-max-delay D] [-surge X]
//
// The model flags change the simulated service; -max-delay and -surge change
// snapcopy's policy, to show what a target would cost. With -seeds only the
// targets are printed, one column per seed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/tools/pollsim"
)

func main() {
	cfg := pollsim.DefaultWorkload()
	seed := flag.Uint64("seed", 1, "workload and jitter seed")
	seeds := flag.String("seeds", "", "a range of seeds `A-B`: print only the targets, one column per seed")
	flag.IntVar(&cfg.Copies, "copies", cfg.Copies, "number of simulated copies")
	flag.Func("refresh", "how often the service refreshes x-ms-copy-progress, `MIN-MAX` (default 1s-10s)", func(s string) error {
		lo, hi, err := durationRange(s)
		cfg.RefreshMin, cfg.RefreshMax = lo, hi
		return err
	})
	flag.Float64Var(&cfg.RateSigma, "sigma", cfg.RateSigma, "log-normal spread of the throughput of each stretch of a copy")
	progress := flag.String("progress", "reported", "`reported`: x-ms-copy-progress moves as the copy does; final-only: it stays 0/total until the end")
	flag.Float64Var(&cfg.JumpChance, "jump", cfg.JumpChance, "share of copies whose throughput jumps ×3–5 in their last quarter")
	policy := copyjob.DefaultPollPolicy()
	flag.DurationVar(&policy.MaxDelay, "max-delay", policy.MaxDelay, "the policy's longest wait (SNAPCOPY_POLL_MAX_DELAY)")
	flag.Float64Var(&policy.Surge, "surge", policy.Surge, "the policy's assumed largest speed-up over the measured rate")
	flag.Parse()

	goals := pollsim.ReportedGoals()
	switch *progress {
	case "reported":
	case "final-only":
		cfg.FinalOnly, goals = true, pollsim.FinalOnlyGoals()
	default:
		fail(fmt.Errorf("-progress %q: want reported or final-only", *progress))
	}
	first, last := *seed, *seed
	if *seeds != "" {
		var err error
		if first, last, err = seedRange(*seeds); err != nil {
			fail(err)
		}
	}
	if err := cfg.Validate(); err != nil {
		fail(err)
	}
	if policy.Surge < 1 || policy.MaxDelay < policy.MinDelay {
		fail(fmt.Errorf("-surge %g, -max-delay %s: want a surge of at least 1 and a max delay of at least %s", policy.Surge, policy.MaxDelay, policy.MinDelay))
	}

	began := time.Now()
	bus := pollsim.DefaultBus()
	fixed60 := pollsim.Fixed{Interval: time.Minute}
	adaptive := pollsim.Adaptive{Policy: policy}
	fmt.Printf("%d copies (durations log-uniform %s–%s), progress refreshed every %s–%s, rate σ %g, jump chance %g, progress %s; bus: %s granularity + up to %s latency\n\n",
		cfg.Copies, cfg.MinDuration, cfg.MaxDuration, cfg.RefreshMin, cfg.RefreshMax, cfg.RateSigma, cfg.JumpChance, *progress, bus.Granularity, bus.MaxLatency)

	var columns [][]pollsim.Verdict
	maxState := 0
	for s := first; s <= last; s++ {
		copies := pollsim.GenerateWorkload(cfg, s)
		strategies := []pollsim.Strategy{fixed60, adaptive}
		if *seeds == "" {
			strategies = []pollsim.Strategy{
				pollsim.Fixed{Interval: 15 * time.Second},
				fixed60,
				pollsim.Exponential{Initial: 15 * time.Second, Factor: 2, Max: 10 * time.Minute},
				pollsim.DurableMonitor{Interval: 30 * time.Second, Expiry: cfg.MaxDuration},
				adaptive,
			}
		}
		var sums []pollsim.Summary
		for _, st := range strategies {
			sums = append(sums, pollsim.Summarize(st.Name(), pollsim.Simulate(st, copies, bus, s)))
		}
		if *seeds == "" {
			fmt.Printf("seed %d\n\n", s)
			pollsim.WriteReport(os.Stdout, sums)
			fmt.Println()
		}
		snap := sums[len(sums)-1]
		ref := sums[slices.Index(strategies, pollsim.Strategy(fixed60))]
		columns = append(columns, goals.Check(snap, ref))
		maxState = max(maxState, snap.MaxStateBytes)
	}

	fmt.Printf("targets of %s (max delay %s, surge %g):\n\n", adaptive.Name(), policy.MaxDelay, policy.Surge)
	pollsim.WriteVerdicts(os.Stdout, first, columns)
	fmt.Printf("\nlargest policy state in a poll message: %d bytes of JSON\n", maxState)
	fmt.Printf("simulated in %s\n", time.Since(began).Round(time.Millisecond))
}

func durationRange(s string) (time.Duration, time.Duration, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want MIN-MAX, such as 1s-30s", s)
	}
	a, err1 := time.ParseDuration(lo)
	b, err2 := time.ParseDuration(hi)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return a, b, nil
}

func seedRange(s string) (uint64, uint64, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.ParseUint(lo, 10, 64)
	b, err2 := strconv.ParseUint(hi, 10, 64)
	if err := errors.Join(err1, err2); err != nil || a > b {
		return 0, 0, fmt.Errorf("-seeds %q: want A-B with A ≤ B", s)
	}
	return a, b, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pollbench:", err)
	os.Exit(2)
}
