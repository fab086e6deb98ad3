// Command pollbench compares polling policies on a simulated workload of
// incremental copies and prints Markdown tables.
//
//	go run ./handler/internal/tools/pollsim/cmd/pollbench [-seed N] [-copies N]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/tools/pollsim"
)

func main() {
	cfg := pollsim.DefaultWorkload()
	seed := flag.Uint64("seed", 1, "workload and jitter seed")
	flag.IntVar(&cfg.Copies, "copies", cfg.Copies, "number of simulated copies")
	flag.Parse()

	began := time.Now()
	copies := pollsim.GenerateWorkload(cfg, *seed)
	bus := pollsim.DefaultBus()
	adaptive := pollsim.Adaptive{Policy: copyjob.DefaultPollPolicy()}
	strategies := []pollsim.Strategy{
		pollsim.Fixed{Interval: 15 * time.Second},
		pollsim.Fixed{Interval: time.Minute},
		pollsim.Exponential{Initial: 15 * time.Second, Factor: 2, Max: 10 * time.Minute},
		pollsim.DurableMonitor{Interval: 30 * time.Second, Expiry: cfg.MaxDuration},
		adaptive,
	}
	var sums []pollsim.Summary
	for _, s := range strategies {
		sums = append(sums, pollsim.Summarize(s.Name(), pollsim.Simulate(s, copies, bus, *seed)))
	}

	fmt.Printf("seed %d, %d copies (durations log-uniform %s–%s), bus: %s granularity + up to %s latency\n\n",
		*seed, cfg.Copies, cfg.MinDuration, cfg.MaxDuration, bus.Granularity, bus.MaxLatency)
	pollsim.WriteReport(os.Stdout, sums)

	snap, fixed60 := sums[len(sums)-1], sums[1]
	fmt.Printf("\ntarget: p95 detection delay ≤ 10 s in every class, total polls ≤ 1/3 of fixed 1m0s\n")
	for i, c := range snap.ByClass {
		fmt.Printf("  %-10s p95 %5.1f s  %s\n", pollsim.Classes[i].Label, c.Delay.P95.Seconds(), verdict(c.Delay.P95 <= 10*time.Second))
	}
	ratio := float64(snap.TotalPolls) / float64(fixed60.TotalPolls)
	fmt.Printf("  total polls %d vs %d = %.3f of fixed 1m0s  %s\n", snap.TotalPolls, fixed60.TotalPolls, ratio, verdict(ratio <= 1.0/3))
	fmt.Printf("  largest policy state in a poll message: %d bytes of JSON\n", snap.MaxStateBytes)
	fmt.Printf("\nsimulated in %s\n", time.Since(began).Round(time.Millisecond))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
