// Package pollsim measures polling policies on a simulated clock: a
// workload of copies whose x-ms-copy-progress is noisy, stalls and restarts,
// a Service Bus that delivers scheduled messages late and on whole seconds,
// and the accounting of polls, billed operations and detection delay.
package pollsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// WorkloadConfig describes the simulated copies.
type WorkloadConfig struct {
	// Copies is the number of copies.
	Copies int
	// MinDuration and MaxDuration bound the copy durations, drawn
	// log-uniformly: as many copies take seconds as take hours.
	MinDuration, MaxDuration time.Duration
	// MinRate and MaxRate bound a copy's mean throughput in bytes per
	// second, drawn log-uniformly; with the duration it gives the size.
	MinRate, MaxRate float64
	// Segments is the mean number of stretches of steady throughput per
	// copy; RateSigma is the log-normal spread of each stretch's rate.
	Segments, RateSigma float64
	// StallChance is the share of copies whose progress stops up to
	// MaxStalls times, each for StallMin to StallMax of the duration.
	StallChance        float64
	MaxStalls          int
	StallMin, StallMax float64
	// RestartChance is the share of copies whose progress drops back once
	// (to between 0 and half of what was copied, but never by more than the
	// rest of the run copies again) and runs again.
	RestartChance float64
	// JumpChance is the share of copies whose throughput is multiplied by
	// JumpMin to JumpMax at a point of their last quarter: the estimate
	// made at the slower rate then comes too late.
	JumpChance       float64
	JumpMin, JumpMax float64
	// RefreshMin and RefreshMax bound how often the service refreshes
	// x-ms-copy-progress; between refreshes polls see the old figure.
	RefreshMin, RefreshMax time.Duration
	// Chunk is the granularity of the reported bytes.
	Chunk int64
	// FinalOnly makes x-ms-copy-progress read 0/total until the copy ends,
	// as if the service reported no intermediate progress.
	FinalOnly bool
}

// DefaultWorkload is the benchmark's workload: 10,000 copies from 5 s to
// 6 h at 10–250 MiB/s, the range a disk backup sees.
func DefaultWorkload() WorkloadConfig {
	return WorkloadConfig{
		Copies:      10000,
		MinDuration: 5 * time.Second, MaxDuration: 6 * time.Hour,
		MinRate: 10 << 20, MaxRate: 250 << 20,
		Segments: 6, RateSigma: 0.4,
		StallChance: 0.2, MaxStalls: 2, StallMin: 0.05, StallMax: 0.25,
		RestartChance: 0.05,
		JumpMin:       3, JumpMax: 5,
		RefreshMin: time.Second, RefreshMax: 10 * time.Second,
		Chunk: 4 << 20,
	}
}

// Validate reports a configuration the generator cannot draw from.
func (c WorkloadConfig) Validate() error {
	switch {
	case c.Copies < 1:
		return fmt.Errorf("%d copies: want at least 1", c.Copies)
	case c.RefreshMin <= 0 || c.RefreshMax < c.RefreshMin:
		return fmt.Errorf("progress refresh %s–%s: want 0 < min ≤ max", c.RefreshMin, c.RefreshMax)
	case c.RateSigma < 0:
		return fmt.Errorf("rate sigma %g: want ≥ 0", c.RateSigma)
	case c.JumpChance < 0 || c.JumpChance > 1:
		return fmt.Errorf("jump chance %g: want a share between 0 and 1", c.JumpChance)
	case c.JumpChance > 0 && (c.JumpMin <= 0 || c.JumpMax < c.JumpMin):
		return fmt.Errorf("jump ×%g–%g: want 0 < min ≤ max", c.JumpMin, c.JumpMax)
	}
	return nil
}

// Copy is one simulated copy: it starts at time 0 and succeeds at Duration.
type Copy struct {
	Duration time.Duration
	Total    int64
	// pieces hold the true progress, piecewise linear, sorted by start.
	pieces []piece
	// refresh and phase place the instants at which the reported figure
	// is refreshed: phase, phase+refresh, …
	refresh, phase time.Duration
	chunk          int64
	finalOnly      bool
}

type piece struct {
	start time.Duration
	bytes float64 // copied at start
	rate  float64 // bytes per second from start on
}

// Progress is the x-ms-copy-progress byte count a poll at t (before the
// copy's end) reads: the true progress at the last refresh, rounded down to
// the chunk.
func (c *Copy) Progress(t time.Duration) int64 {
	if c.finalOnly {
		return 0
	}
	at := time.Duration(0)
	if t >= c.phase {
		at = t - (t-c.phase)%c.refresh
	}
	i := sort.Search(len(c.pieces), func(i int) bool { return c.pieces[i].start > at }) - 1
	p := c.pieces[i]
	b := int64(p.bytes + p.rate*(at-p.start).Seconds())
	return min(c.Total, b/c.chunk*c.chunk)
}

// GenerateWorkload draws cfg.Copies copies; the same seed gives the same
// copies.
func GenerateWorkload(cfg WorkloadConfig, seed uint64) []Copy {
	copies := make([]Copy, cfg.Copies)
	for i := range copies {
		copies[i] = generateCopy(cfg, rand.New(rand.NewPCG(seed, uint64(i))))
	}
	return copies
}

func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

func generateCopy(cfg WorkloadConfig, r *rand.Rand) Copy {
	d := time.Duration(logUniform(r, float64(cfg.MinDuration), float64(cfg.MaxDuration)))
	total := int64(logUniform(r, cfg.MinRate, cfg.MaxRate) * d.Seconds())

	// Relative throughput over time: stretches of log-normal rate, zero
	// inside stalls. Stalls end before the copy does, since a copy does
	// not finish in a jump.
	type mark struct {
		at   time.Duration
		rate float64
	}
	var marks []mark
	for t := time.Duration(0); t < d; t += time.Duration(r.ExpFloat64() * float64(d) / cfg.Segments) {
		marks = append(marks, mark{t, math.Exp(cfg.RateSigma * r.NormFloat64())})
	}
	var stalls [][2]time.Duration
	if r.Float64() < cfg.StallChance {
		for range 1 + r.IntN(cfg.MaxStalls) {
			from := time.Duration((0.02 + 0.88*r.Float64()) * float64(d))
			length := time.Duration((cfg.StallMin + (cfg.StallMax-cfg.StallMin)*r.Float64()) * float64(d))
			stalls = append(stalls, [2]time.Duration{from, min(from+length, d*97/100)})
		}
	}
	restartAt := time.Duration(-1)
	if r.Float64() < cfg.RestartChance {
		restartAt = time.Duration((0.1 + 0.7*r.Float64()) * float64(d))
	}
	// Drawn only when jumps are on, so that the other models' copies stay
	// the same for a seed.
	jumpAt, jump := d, 1.0
	if cfg.JumpChance > 0 && r.Float64() < cfg.JumpChance {
		jumpAt = time.Duration((0.75 + 0.25*r.Float64()) * float64(d))
		jump = cfg.JumpMin + (cfg.JumpMax-cfg.JumpMin)*r.Float64()
	}

	starts := []time.Duration{0}
	for _, m := range marks {
		starts = append(starts, m.at)
	}
	for _, s := range stalls {
		starts = append(starts, s[0], s[1])
	}
	if restartAt >= 0 {
		starts = append(starts, restartAt)
	}
	if jumpAt < d {
		starts = append(starts, jumpAt)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	rateAt := func(t time.Duration) float64 {
		for _, s := range stalls {
			if t >= s[0] && t < s[1] {
				return 0
			}
		}
		i := sort.Search(len(marks), func(i int) bool { return marks[i].at > t }) - 1
		if t >= jumpAt {
			return marks[i].rate * jump
		}
		return marks[i].rate
	}

	// Work done at each start, in relative units, then scaled so that the
	// copy reaches total at d. A restart throws part of the work done away
	// at the same throughput, so the run after it is not faster; and never
	// more than that run does again, or the work before it, scaled to the
	// total, would pass the total.
	var pieces []piece
	work := 0.0
	for i, s := range starts {
		if i > 0 && s == starts[i-1] {
			continue
		}
		if n := len(pieces); n > 0 {
			work += pieces[n-1].rate * (s - pieces[n-1].start).Seconds()
		}
		pieces = append(pieces, piece{start: s, bytes: work, rate: rateAt(s)})
	}
	last := pieces[len(pieces)-1]
	work += last.rate * (d - last.start).Seconds()
	cut, lost := len(pieces), 0.0
	if restartAt >= 0 {
		cut = sort.Search(len(pieces), func(i int) bool { return pieces[i].start >= restartAt })
		done := pieces[cut].bytes
		kept := done * r.Float64() / 2 // 0 to half of the work done
		lost = min(done-kept, work-done)
	}
	k := float64(total) / (work - lost)
	for i := range pieces {
		if i >= cut {
			pieces[i].bytes -= lost
		}
		pieces[i].bytes *= k
		pieces[i].rate *= k
	}

	refresh := cfg.RefreshMin + time.Duration(r.Float64()*float64(cfg.RefreshMax-cfg.RefreshMin))
	return Copy{
		Duration: d, Total: total, pieces: pieces,
		refresh: refresh, phase: time.Duration(r.Float64() * float64(refresh)),
		chunk: cfg.Chunk, finalOnly: cfg.FinalOnly,
	}
}
