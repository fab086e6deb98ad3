package pollsim

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// TestAccounting checks the simulator against workloads computed by hand.
func TestAccounting(t *testing.T) {
	exact := Bus{}
	cases := []struct {
		name         string
		strategy     Strategy
		copy         Copy
		bus          Bus
		wantPolls    int
		wantDetected bool
		wantDelay    time.Duration
	}{
		// Polls at 60s (pending) and 120s (done, 30s after the end).
		{"fixed 60s, 90s copy", Fixed{Interval: time.Minute}, SteadyCopy(90*time.Second, 1<<30), exact, 2, true, 30 * time.Second},
		// The poll at exactly the end sees it done.
		{"fixed 60s, 120s copy", Fixed{Interval: time.Minute}, SteadyCopy(2*time.Minute, 1<<30), exact, 2, true, 0},
		// Polls at 15s, 45s, 105s.
		{"exponential, 90s copy", Exponential{Initial: 15 * time.Second, Factor: 2, Max: 10 * time.Minute}, SteadyCopy(90*time.Second, 1<<30), exact, 3, true, 15 * time.Second},
		// Polls at 15, 45, 105, 225, 345: the delay stops growing at 2m.
		{"exponential capped, 300s copy", Exponential{Initial: 15 * time.Second, Factor: 2, Max: 2 * time.Minute}, SteadyCopy(5*time.Minute, 1<<30), exact, 5, true, 45 * time.Second},
		// Polls at 30s and 60s; one at 90s would pass the expiry.
		{"durable monitor expires", DurableMonitor{Interval: 30 * time.Second, Expiry: time.Minute}, SteadyCopy(90*time.Second, 1<<30), exact, 2, false, 0},
		// Scheduled for 60s and 120s: delivered on whole seconds.
		{"bus granularity", Fixed{Interval: time.Minute}, SteadyCopy(90500*time.Millisecond, 1<<30), Bus{Granularity: time.Second}, 2, true, 29500 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := Simulate(c.strategy, []Copy{c.copy}, c.bus, 1)
			o := out[0]
			if o.Polls != c.wantPolls || o.Detected != c.wantDetected || o.Delay != c.wantDelay {
				t.Fatalf("polls %d detected %v delay %v, want %d %v %v", o.Polls, o.Detected, o.Delay, c.wantPolls, c.wantDetected, c.wantDelay)
			}
			s := Summarize(c.strategy.Name(), out)
			if s.TotalPolls != c.wantPolls || s.PollsMean != float64(c.wantPolls) || s.Missed != btoi(!c.wantDetected) {
				t.Fatalf("summary %+v", s)
			}
			if c.wantDetected && (s.Delay.P95 != c.wantDelay || s.Fraction.Max != c.wantDelay.Seconds()/c.copy.Duration.Seconds()) {
				t.Fatalf("summary delay %+v fraction %+v", s.Delay, s.Fraction)
			}
		})
	}
}

// SteadyCopy is a copy at constant rate whose progress is always fresh and
// exact; for hand-computed cases.
func SteadyCopy(duration time.Duration, total int64) Copy {
	return Copy{Duration: duration, Total: total, pieces: []piece{{rate: float64(total) / duration.Seconds()}}, refresh: time.Nanosecond, chunk: 1}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSummaryClassesAndOperations(t *testing.T) {
	out := Simulate(Fixed{Interval: time.Minute}, []Copy{
		SteadyCopy(30*time.Second, 1<<30), // 1 poll, 30s late
		SteadyCopy(90*time.Second, 1<<30), // 2 polls, 30s late
		SteadyCopy(2*time.Hour, 1<<30),    // 120 polls, on time
	}, Bus{}, 1)
	s := Summarize("fixed", out)
	if s.TotalPolls != 123 || s.ByClass[0].Copies != 1 || s.ByClass[1].TotalPolls != 2 || s.ByClass[2].Copies != 0 || s.ByClass[3].PollsMean != 120 {
		t.Fatalf("summary %+v", s)
	}
	if s.Delay.P50 != 30*time.Second || s.Delay.Max != 30*time.Second || s.ByClass[3].Delay.P95 != 0 {
		t.Fatalf("delays %+v", s.Delay)
	}
	var b strings.Builder
	WriteReport(&b, []Summary{s})
	// 41 polls per copy: 123 Service Bus and 41 storage operations.
	if !strings.Contains(b.String(), "| fixed | 41.0 | 120 | 30.0 | 30.0 | 30.0 | 0.3333 | 1.000 | 1.00 | 123.0 | 41.0 | 164.0 | 0 |") {
		t.Fatalf("report:\n%s", b.String())
	}
}

// TestAdaptiveOnSteadyCopy: with exact progress the policy closes in on the
// end and sees it within MinDelay plus the bus's rounding and latency.
func TestAdaptiveOnSteadyCopy(t *testing.T) {
	p := copyjob.DefaultPollPolicy()
	o := Simulate(Adaptive{Policy: p}, []Copy{SteadyCopy(3*time.Hour, 1<<40)}, DefaultBus(), 7)[0]
	if !o.Detected || o.Delay > p.MinDelay+1500*time.Millisecond || o.Polls > 3*60/10+12 {
		t.Fatalf("outcome %+v", o)
	}
	if o.StateBytes == 0 || o.StateBytes > 250 {
		t.Fatalf("policy state of %d bytes", o.StateBytes)
	}
}

func TestWorkload(t *testing.T) {
	cfg := DefaultWorkload()
	cfg.Copies = 2000
	a, b := GenerateWorkload(cfg, 42), GenerateWorkload(cfg, 42)
	restarts := 0
	for i := range a {
		c := &a[i]
		if c.Duration != b[i].Duration || c.Total != b[i].Total || len(c.pieces) != len(b[i].pieces) {
			t.Fatalf("copy %d differs between runs of one seed", i)
		}
		if c.Duration < cfg.MinDuration || c.Duration > cfg.MaxDuration || c.Total <= 0 {
			t.Fatalf("copy %d: duration %v total %d", i, c.Duration, c.Total)
		}
		last := c.pieces[len(c.pieces)-1]
		if end := last.bytes + last.rate*(c.Duration-last.start).Seconds(); math.Abs(end-float64(c.Total)) > 1e-6*float64(c.Total) {
			t.Fatalf("copy %d reaches %.0f of %d bytes at its end", i, end, c.Total)
		}
		prev := int64(0)
		for at := time.Duration(0); at < c.Duration; at += c.Duration / 50 {
			got := c.Progress(at)
			if got < 0 || got > c.Total || got%cfg.Chunk != 0 && got != c.Total {
				t.Fatalf("copy %d: progress %d of %d at %v", i, got, c.Total, at)
			}
			if got < prev {
				restarts++
				break
			}
			prev = got
		}
	}
	if restarts == 0 {
		t.Error("no copy restarted")
	}
}

// TestWorkloadRestartNeverPassesTotal: a copy that starts over drops back
// and runs again at the same throughput, ending at its duration with its
// total, so its progress never passes the total on the way: a figure above
// it would read total/total (the reading is capped) while the copy is
// pending. Progress is piecewise linear: its largest values are at the
// ends of the pieces.
func TestWorkloadRestartNeverPassesTotal(t *testing.T) {
	cfg := DefaultWorkload()
	cfg.Copies, cfg.RestartChance = 500, 1
	restarts := 0
	for seed := range uint64(20) {
		for i, c := range GenerateWorkload(cfg, seed) {
			for j, p := range c.pieces {
				end := c.Duration
				if j+1 < len(c.pieces) {
					end = c.pieces[j+1].start
				}
				if peak := p.bytes + p.rate*(end-p.start).Seconds(); peak > float64(c.Total)*(1+1e-9) {
					t.Fatalf("seed %d copy %d: %.0f of %d bytes at %v, before its end at %v", seed, i, peak, c.Total, end, c.Duration)
				}
				if j > 0 && p.bytes < c.pieces[j-1].bytes+c.pieces[j-1].rate*(p.start-c.pieces[j-1].start).Seconds()-1 {
					restarts++
				}
			}
		}
	}
	if restarts < 20*500*9/10 {
		t.Errorf("%d of %d copies drop back", restarts, 20*500)
	}
}

// TestWorkloadModels: the model flags change what polls read, and only
// what they name.
func TestWorkloadModels(t *testing.T) {
	cfg := DefaultWorkload()
	cfg.Copies = 300
	base := GenerateWorkload(cfg, 3)

	final := cfg
	final.FinalOnly = true
	for i, c := range GenerateWorkload(final, 3) {
		if c.Duration != base[i].Duration || c.Total != base[i].Total {
			t.Fatalf("copy %d: final-only changed the copy", i)
		}
		if got := c.Progress(c.Duration * 99 / 100); got != 0 {
			t.Fatalf("copy %d: final-only progress %d before the end", i, got)
		}
	}

	jumpy := cfg
	jumpy.JumpChance = 1
	jumped := 0
	for i, c := range GenerateWorkload(jumpy, 3) {
		if c.Duration != base[i].Duration || c.Total != base[i].Total {
			t.Fatalf("copy %d: jumps changed the duration or size", i)
		}
		// The last quarter runs faster than the first three did on average,
		// unless a stall or a restart falls into it.
		last := c.pieces[len(c.pieces)-1]
		head := c.Duration * 3 / 4
		if last.start >= head && last.rate > 2.5*float64(c.Total)/c.Duration.Seconds() {
			jumped++
		}
	}
	if jumped < 150 {
		t.Errorf("%d of 300 copies end faster than 2.5× their mean rate with jumps on", jumped)
	}

	for _, bad := range []func(*WorkloadConfig){
		func(c *WorkloadConfig) { c.Copies = 0 },
		func(c *WorkloadConfig) { c.RefreshMax = c.RefreshMin - 1 },
		func(c *WorkloadConfig) { c.RateSigma = -1 },
		func(c *WorkloadConfig) { c.JumpChance = 1.5 },
		func(c *WorkloadConfig) { c.JumpChance, c.JumpMin = 0.2, 0 },
	} {
		c := DefaultWorkload()
		bad(&c)
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := DefaultWorkload().Validate(); err != nil {
		t.Error(err)
	}
}

func TestGoalsCheck(t *testing.T) {
	ref := Summarize("fixed", Simulate(Fixed{Interval: time.Minute}, []Copy{SteadyCopy(30*time.Minute, 1<<30)}, Bus{}, 1))
	// 30 polls for fixed 60 s; the strategy under test polls every 10 min:
	// 3 polls, the end seen 0 s late; then 12 polls of a copy of 1 h 53 min,
	// seen 7 min late. 15 polls are half of the reference's.
	out := Simulate(Fixed{Interval: 10 * time.Minute}, []Copy{SteadyCopy(30*time.Minute, 1<<30), SteadyCopy(2*time.Hour-7*time.Minute, 1<<30)}, Bus{}, 1)
	got := ReportedGoals().Check(Summarize("five", out), ref)
	want := map[string]bool{
		"> 1 h p95 ≤ 10s": false, "10–60 min p95 ≤ 10s": true, "worst < 1 h ≤ 1m1s": true,
		"worst > 1 h ≤ 5m0s": false, "every copy seen": true, "polls ≤ 0.30 of fixed": false,
	}
	for _, v := range got {
		if met, ok := want[v.Target]; ok && met != v.Met {
			t.Errorf("%s: %s, met %v", v.Target, v.Got, v.Met)
		}
		delete(want, v.Target)
	}
	if len(want) > 0 {
		t.Errorf("targets not checked: %v", want)
	}
}
