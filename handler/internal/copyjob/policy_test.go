package copyjob

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// testPolicy is DefaultPollPolicy without jitter, so delays are exact.
func testPolicy() PollPolicy {
	p := DefaultPollPolicy()
	p.Jitter = 0
	return p
}

func TestPollPolicyNext(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	now := t0.Add(10 * time.Minute) // long enough that Horizon does not bind
	before := now.Add(-100 * time.Second)
	longAgo := now.Add(-2 * time.Hour)
	cases := []struct {
		name        string
		state       PolicyState
		obs         Observation
		wantDelay   time.Duration
		wantRate    float64
		wantBytes   int64
		wantRefresh time.Duration
	}{
		{
			name:      "first poll through Next, as the worker schedules it",
			obs:       Observation{Now: t0, StartedAt: t0},
			wantDelay: 5 * time.Second,
		},
		{
			name:      "young copy: the estimate is capped by the span observed",
			obs:       Observation{Now: t0.Add(7 * time.Second), StartedAt: t0, HasProgress: true, Bytes: 10, Total: 10000},
			wantDelay: 8 * time.Second, // (7s - MinDelay) * Horizon
			wantRate:  10.0 / 7, wantBytes: 10,
		},
		{
			name:  "ETA counted from AgeShare of the oldest the figure can be (Stale)",
			state: PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:   Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 3000},
			// 100s left from now-15s: the end is 85s away; wait half of it
			// plus MinDelay.
			wantDelay: 47500 * time.Millisecond,
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "a learnt refresh period narrows the figure's age",
			state:     PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second, Refresh: 4 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 3000},
			wantDelay: 54 * time.Second, // the end 98s away
			wantRate:  10, wantBytes: 2000, wantRefresh: 4 * time.Second,
		},
		{
			name:      "close to the end: poll at the estimated end itself",
			state:     PolicyState{LastBytes: 1000, LastTotal: 2130, LastAt: before, Rate: 10, LastDelay: 100 * time.Second, Refresh: 4 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 2130},
			wantDelay: 10500 * time.Millisecond, // 13s left from now-2s: half of it plus MinDelay
			wantRate:  10, wantBytes: 2000, wantRefresh: 4 * time.Second,
		},
		{
			name:      "due: past the estimated end, poll every Step",
			state:     PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2990, Total: 3000},
			wantDelay: 8 * time.Second,
			wantRate:  19.9, wantBytes: 2990,
		},
		{
			name: "due at the smoothed rate, still moving: the recent pace aims the next poll",
			// Measured 5 B/s moves the rate from 20 to 17 B/s: the 300 B left
			// are due within Step, but at the pace of 5 B/s they take 60s
			// from now-15s.
			state:     PolicyState{LastBytes: 1500, LastTotal: 2300, LastAt: before, Rate: 20, Pace: 5, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 2300},
			wantDelay: 27500 * time.Millisecond,
			wantRate:  17, wantBytes: 2000,
		},
		{
			name:      "every byte copied, still pending: back off",
			state:     PolicyState{LastBytes: 3000, LastTotal: 3000, LastAt: now.Add(-20 * time.Second), Rate: 10, LastDelay: 20 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 3000, Total: 3000},
			wantDelay: 40 * time.Second,
			wantRate:  10, wantBytes: 3000,
		},
		{
			name:      "every byte copied, still pending: the back-off stops at the guard",
			state:     PolicyState{LastBytes: 3000, LastTotal: 3000, LastAt: now.Add(-100 * time.Second), Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 3000, Total: 3000},
			wantDelay: 58 * time.Second,
			wantRate:  10, wantBytes: 3000,
		},
		{
			name: "young copy with a large total: no poll before total/FastestRate",
			// 30 GiB cannot be copied in less than 120s at 256 MiB/s: the
			// span observed (Horizon) does not hold the next poll.
			obs:       Observation{Now: t0.Add(7 * time.Second), StartedAt: t0, HasProgress: true, Bytes: 10 << 20, Total: 30 << 30},
			wantDelay: 113 * time.Second,
			wantRate:  float64(10<<20) / 7, wantBytes: 10 << 20,
		},
		{
			name:      "far from the end: clamped down to MaxDelay",
			state:     PolicyState{LastBytes: 1000, LastTotal: 1 << 40, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 1 << 40},
			wantDelay: 10 * time.Minute,
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:  "guard: a copy that may end within LongCopy is seen within ShortLate even at Surge times the rate",
			state: PolicyState{LastBytes: 1000, LastTotal: 12000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:   Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 12000},
			// 1000s left: the estimate alone would wait 490s, but at 50 B/s
			// the copy could end 170s from now: poll 58s after that.
			wantDelay: 228 * time.Second,
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "guard: a copy that cannot end within LongCopy is held to LongLate",
			state:     PolicyState{LastBytes: 1000, LastTotal: 12000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: longAgo, HasProgress: true, Bytes: 2000, Total: 12000},
			wantDelay: 468 * time.Second, // 170s + 5m - Delivery
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "speed-up is believed at once (Rise 1)",
			state:     PolicyState{LastBytes: 1000, LastTotal: 10000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 5000, Total: 10000},
			wantDelay: 58 * time.Second, // guard: at 200 B/s the 5000 B left take 25s from now-30s
			wantRate:  40, wantBytes: 5000,
		},
		{
			name:      "slow-down is believed slowly (Fall 0.2)",
			state:     PolicyState{LastBytes: 1000, LastTotal: 2800, LastAt: before, Rate: 15, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 1500, Total: 2800},
			wantDelay: 47500 * time.Millisecond, // measured 5 B/s moves 15 to 13: 100s left from now-15s
			wantRate:  13, wantBytes: 1500,
		},
		{
			name:      "restart: progress dropped, the old rate still paces",
			state:     PolicyState{LastBytes: 2000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 500, Total: 3000},
			wantDelay: 78 * time.Second, // guard: at 50 B/s the rest takes 50s from now-30s
			wantRate:  10, wantBytes: 500,
		},
		{
			name: "a figure seen unchanged by several polls is dated by the first",
			// First seen 100s ago, again 20s ago; 1000 B since then is
			// 10 B/s, not 50 B/s.
			state:     PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: now.Add(-20 * time.Second), SeenFor: 80 * time.Second, Age: 5 * time.Second, Rate: 10, LastDelay: 20 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 3000},
			wantDelay: 50 * time.Second, // made within the last 20s: 100s left from now-10s
			wantRate:  10, wantBytes: 2000, wantRefresh: 105 * time.Second,
		},
		{
			name: "refresh period learnt from two successive changes",
			// The previous figure was made 10s-6s ago, this one 6s-0s ago.
			state:     PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: now.Add(-6 * time.Second), Age: 4 * time.Second, Rate: 10, LastDelay: 6 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 1060, Total: 3000},
			wantDelay: 90800 * time.Millisecond, // guard: 194s left at 50 B/s from now-6s, plus 58s
			wantRate:  10, wantBytes: 1060, wantRefresh: 10 * time.Second,
		},
		{
			name:      "stalled far from the end: back off",
			state:     PolicyState{LastBytes: 1000, LastTotal: 100000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 1000, Total: 100000},
			wantDelay: 200 * time.Second,
			wantRate:  10, wantBytes: 1000,
		},
		{
			name:      "stalled near the end: back-off bounded by the estimated end",
			state:     PolicyState{LastBytes: 2900, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 20 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2900, Total: 3000},
			wantDelay: 8 * time.Second, // due: Step
			wantRate:  10, wantBytes: 2900,
		},
		{
			name:      "no progress read: what earlier polls saw still paces",
			state:     PolicyState{LastBytes: 2000, LastTotal: 3000, LastAt: now.Add(-10 * time.Second), Rate: 10, LastDelay: 10 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0},
			wantDelay: 20 * time.Second, // back-off, before the end 60s away
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "nothing known: back off",
			state:     PolicyState{LastDelay: 20 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0},
			wantDelay: 40 * time.Second,
		},
		{
			name:      "nothing known: the back-off stops at ShortLate, so the end is seen within it",
			state:     PolicyState{LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0},
			wantDelay: 58 * time.Second,
		},
		{
			name:      "no bytes reported yet, young: every Step, the first figure may be due",
			state:     PolicyState{LastDelay: 10 * time.Second},
			obs:       Observation{Now: t0.Add(15 * time.Second), StartedAt: t0, HasProgress: true, Bytes: 0, Total: 1 << 30},
			wantDelay: 8 * time.Second,
		},
		{
			name: "no intermediate progress: no poll before total/FastestRate",
			// 64 GiB cannot be copied in less than 256s at 256 MiB/s.
			state:     PolicyState{LastTotal: 64 << 30, LastAt: t0.Add(20 * time.Second), LastDelay: 20 * time.Second},
			obs:       Observation{Now: t0.Add(40 * time.Second), StartedAt: t0, HasProgress: true, Bytes: 0, Total: 64 << 30},
			wantDelay: 216 * time.Second,
		},
		{
			name:      "no intermediate progress, past total/FastestRate: every ShortLate",
			state:     PolicyState{LastTotal: 64 << 30, LastAt: t0.Add(256 * time.Second), LastDelay: 216 * time.Second},
			obs:       Observation{Now: t0.Add(300 * time.Second), StartedAt: t0, HasProgress: true, Bytes: 0, Total: 64 << 30},
			wantDelay: 58 * time.Second,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.obs.Rand = 0.5
			delay, next := testPolicy().Next(c.state, c.obs)
			if delay != c.wantDelay {
				t.Errorf("delay %v, want %v", delay, c.wantDelay)
			}
			if next.LastDelay != delay {
				t.Errorf("LastDelay %v, want the delay %v", next.LastDelay, delay)
			}
			if diff := next.Rate - c.wantRate; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("rate %v, want %v", next.Rate, c.wantRate)
			}
			if next.LastBytes != c.wantBytes || next.Refresh != c.wantRefresh {
				t.Errorf("LastBytes %d, Refresh %v; want %d, %v", next.LastBytes, next.Refresh, c.wantBytes, c.wantRefresh)
			}
			if c.obs.HasProgress && c.obs.Total > 0 && (!next.LastAt.Equal(c.obs.Now) || next.LastTotal != c.obs.Total) {
				t.Errorf("state %+v does not record the observation", next)
			}
		})
	}
}

func TestPollPolicyJitterRange(t *testing.T) {
	p := DefaultPollPolicy()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	state := PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: t0.Add(10*time.Minute - 100*time.Second), Rate: 10}
	const unjittered = 47500 * time.Millisecond
	lo, hi := time.Duration(float64(unjittered)*(1-p.Jitter)), time.Duration(float64(unjittered)*(1+p.Jitter))
	for _, r := range []float64{0, 0.1, 0.5, 0.9, 0.999999} {
		delay, _ := p.Next(state, Observation{Now: t0.Add(10 * time.Minute), StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 3000, Rand: r})
		if delay < lo || delay > hi {
			t.Errorf("rand %v: delay %v outside [%v, %v]", r, delay, lo, hi)
		}
		if r == 0.5 && delay != unjittered {
			t.Errorf("rand 0.5: delay %v, want %v", delay, unjittered)
		}
	}
	// Jitter never takes a delay outside the bounds.
	for _, r := range []float64{0, 0.999999} {
		if d, _ := p.First(r); d < p.MinDelay || d > p.MinDelay+time.Duration(float64(p.MinDelay)*p.Jitter) {
			t.Errorf("First(%v) = %v", r, d)
		}
	}
}

func TestPollPolicyFirst(t *testing.T) {
	p := testPolicy()
	delay, state := p.First(0.5)
	if delay != p.MinDelay || state != (PolicyState{LastDelay: p.MinDelay}) {
		t.Fatalf("First = %v, %+v", delay, state)
	}
}

func TestPolicyStateJSON(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)
	in := PolicyState{LastBytes: 1 << 40, LastTotal: 2 << 40, LastAt: at, LastDelay: 90 * time.Second, Rate: 123456.789, Pace: 65432.1,
		SeenFor: 40 * time.Second, Age: 9 * time.Second, Refresh: 12 * time.Second}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out PolicyState
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip %s → %+v, %v", b, out, err)
	}
	// A poll message written before Rate existed still decodes; the rate is
	// measured again from its progress.
	var old PolicyState
	if err := json.Unmarshal([]byte(`{"lastBytes":5,"lastTotal":10,"lastAt":"2026-11-24T10:00:00Z","lastDelay":5000000000}`), &old); err != nil || old.Rate != 0 || old.LastBytes != 5 {
		t.Fatalf("old state %+v, %v", old, err)
	}
	if b, _ := json.Marshal(PolicyState{}); string(b) != "{}" {
		t.Errorf("empty state marshals to %s", b)
	}
}

// TestPollPolicyHostileState: a poll message is untrusted input, its policy
// state included. Whatever it says, the delay stays within the bounds and
// the guard, and the state carried on is sane.
func TestPollPolicyHostileState(t *testing.T) {
	p := testPolicy()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	now := t0.Add(10 * time.Minute)
	obs := Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 3000, Rand: 0.5}
	for _, s := range []PolicyState{
		{LastBytes: -5, LastTotal: -1, LastAt: now.Add(time.Hour), Rate: -3, Pace: -3},
		{LastBytes: 1000, LastTotal: 3000, LastAt: now.Add(-time.Second), Rate: 10, Pace: math.Inf(1)},
		{LastBytes: 1000, LastTotal: 3000, LastAt: now.Add(-time.Second), Rate: 10, Pace: 1e-300},
		{LastBytes: 1000, LastTotal: 3000, LastAt: t0.Add(-time.Hour), Rate: 1e308},
		{LastBytes: 1000, LastTotal: 3000, LastAt: now.Add(-time.Second), SeenFor: -time.Hour, Age: -time.Hour, Refresh: -time.Hour, LastDelay: -time.Hour, Rate: 10},
		{LastBytes: 1000, LastTotal: 3000, LastAt: now.Add(-time.Second), SeenFor: 1 << 62, Age: 1 << 62, Refresh: 1, LastDelay: 1 << 62, Rate: 1e-300},
	} {
		delay, next := p.Next(s, obs)
		if delay < p.MinDelay || delay > p.MaxDelay {
			t.Errorf("state %+v: delay %v", s, delay)
		}
		if next.SeenFor < 0 || next.Age < 0 || next.Refresh < 0 || next.Rate < 0 || !(next.Pace >= 0) || math.IsInf(next.Pace, 0) || next.LastAt != now {
			t.Errorf("state %+v carried on as %+v", s, next)
		}
	}
}

// simCopy is a copy on a simulated clock: its true progress, and the figure
// the service reports, refreshed every refresh from the start.
type simCopy struct {
	total    int64
	end      time.Duration
	progress func(time.Duration) int64 // true bytes copied at a time before end
	refresh  time.Duration
	// finalOnly: the figure stays 0 until the end.
	finalOnly bool
}

// poll drives p over c as the worker does: the first poll after First, then
// Next after every poll that saw the copy pending, each delivered 1s late.
// It returns the times of the polls, the last one seeing the end.
func (c simCopy) poll(t *testing.T, p PollPolicy) []time.Duration {
	t.Helper()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	delay, state := p.First(0.5)
	at := delay + time.Second
	var polls []time.Duration
	for range 10000 {
		polls = append(polls, at)
		if at >= c.end {
			return polls
		}
		bytes := int64(0)
		if !c.finalOnly {
			bytes = c.progress(at / c.refresh * c.refresh)
		}
		delay, state = p.Next(state, Observation{Now: t0.Add(at), StartedAt: t0, Attempt: len(polls), HasProgress: true, Bytes: bytes, Total: c.total, Rand: 0.5})
		at += delay + time.Second
	}
	t.Fatalf("no end after %d polls", len(polls))
	return nil
}

func steadyThenJump(total int64, end, jumpAt time.Duration, factor float64) func(time.Duration) int64 {
	// Rate r before jumpAt and factor*r after, reaching total at end.
	r := float64(total) / (jumpAt.Seconds() + factor*(end-jumpAt).Seconds())
	return func(t time.Duration) int64 {
		if t <= jumpAt {
			return int64(r * t.Seconds())
		}
		return int64(r*jumpAt.Seconds() + factor*r*(t-jumpAt).Seconds())
	}
}

// stallThenRun copies share of total steadily until from, nothing until
// to, and the rest steadily until end.
func stallThenRun(total int64, share float64, from, to, end time.Duration) func(time.Duration) int64 {
	head := share * float64(total)
	return func(t time.Duration) int64 {
		switch {
		case t <= from:
			return int64(head * t.Seconds() / from.Seconds())
		case t <= to:
			return int64(head)
		default:
			return int64(head + (float64(total)-head)*(t-to).Seconds()/(end-to).Seconds())
		}
	}
}

// TestPollPolicyOnSimulatedTime: whole copies, poll by poll.
func TestPollPolicyOnSimulatedTime(t *testing.T) {
	p := testPolicy()
	late := func(polls []time.Duration, end time.Duration) time.Duration { return polls[len(polls)-1] - end }

	t.Run("steady 30 min copy, fresh figure: seen within Step, in few polls", func(t *testing.T) {
		c := simCopy{total: 1 << 36, end: 30 * time.Minute, refresh: time.Second}
		c.progress = steadyThenJump(c.total, c.end, c.end, 1)
		polls := c.poll(t, p)
		if l := late(polls, c.end); l > p.Step+time.Second || len(polls) > 30 {
			t.Errorf("seen %v late after %d polls: %v", l, len(polls), polls)
		}
	})
	t.Run("figure refreshed every 30s: still seen within Step", func(t *testing.T) {
		c := simCopy{total: 1 << 36, end: 30 * time.Minute, refresh: 30 * time.Second}
		c.progress = steadyThenJump(c.total, c.end, c.end, 1)
		polls := c.poll(t, p)
		if l := late(polls, c.end); l > p.Step+time.Second {
			t.Errorf("seen %v late: %v", l, polls)
		}
	})
	t.Run("throughput ×5 in the last quarter: seen within ShortLate", func(t *testing.T) {
		c := simCopy{total: 1 << 36, end: 40 * time.Minute, refresh: 5 * time.Second}
		c.progress = steadyThenJump(c.total, c.end, 30*time.Minute, 5)
		polls := c.poll(t, p)
		if l := late(polls, c.end); l > p.ShortLate {
			t.Errorf("seen %v late: %v", l, polls)
		}
	})
	t.Run("5 h copy at a steady rate: at most MaxDelay apart, seen within Step", func(t *testing.T) {
		c := simCopy{total: 1 << 40, end: 5 * time.Hour, refresh: 10 * time.Second}
		c.progress = steadyThenJump(c.total, c.end, c.end, 1)
		polls := c.poll(t, p)
		if l := late(polls, c.end); l > p.Step+time.Second || len(polls) > 5*6+15 {
			t.Errorf("seen %v late after %d polls", l, len(polls))
		}
	})
	t.Run("every byte copied 45 min before the end: backs off to the guard, not every Step", func(t *testing.T) {
		c := simCopy{total: 1 << 36, end: 50 * time.Minute, refresh: 5 * time.Second}
		steady := steadyThenJump(c.total, 5*time.Minute, 5*time.Minute, 1)
		c.progress = func(t time.Duration) int64 { return min(c.total, steady(t)) }
		polls := c.poll(t, p)
		// Every ShortLate for 45 min is about 46 polls; every Step, 300.
		if l := late(polls, c.end); l > p.ShortLate || len(polls) > 70 {
			t.Errorf("seen %v late after %d polls", l, len(polls))
		}
	})
	t.Run("every byte copied 5 s before the end, while the copy finalises: seen within Step", func(t *testing.T) {
		c := simCopy{total: 1 << 36, end: 30 * time.Minute, refresh: 2 * time.Second}
		steady := steadyThenJump(c.total, c.end-5*time.Second, c.end-5*time.Second, 1)
		c.progress = func(t time.Duration) int64 { return min(c.total, steady(t)) }
		polls := c.poll(t, p)
		if l := late(polls, c.end); l > p.Step+time.Second {
			t.Errorf("seen %v late: %v", l, polls)
		}
	})
	t.Run("stalled from 3 s to 30 s, figure refreshed every 25 s: seen within ShortLate", func(t *testing.T) {
		// The first figures say 5 % in 30 s; the copy then does the rest
		// in a minute, past Surge of that rate: the span observed
		// (Horizon) holds the wait, not the guard.
		c := simCopy{total: 1 << 34, end: 90 * time.Second, refresh: 25 * time.Second}
		c.progress = stallThenRun(c.total, 0.05, 3*time.Second, 30*time.Second, c.end)
		polls := c.poll(t, p)
		if l := late(polls, c.end); l > p.ShortLate {
			t.Errorf("seen %v late: %v", l, polls)
		}
	})
	t.Run("no intermediate progress: nothing from Stale to total/FastestRate, then every ShortLate", func(t *testing.T) {
		c := simCopy{total: 100 << 30, end: 50 * time.Minute, refresh: 5 * time.Second, finalOnly: true}
		polls := c.poll(t, p)
		earliest := time.Duration(float64(c.total) / p.FastestRate * float64(time.Second))
		for i, at := range polls[1:] {
			gap := at - polls[i]
			switch {
			case at < earliest && at > p.Stale+p.Step+time.Second:
				t.Errorf("poll at %v, before the copy could end at %v", at, earliest)
			case polls[i] >= earliest && gap > p.ShortLate:
				t.Errorf("%v between polls at %v and %v", gap, polls[i], at)
			}
		}
		if l := late(polls, c.end); l > p.ShortLate {
			t.Errorf("seen %v late: %v", l, polls)
		}
	})
}

// BenchmarkPollPolicyNext is the CPU of one decision, with the state's JSON
// round trip that a poll message costs reported apart.
func BenchmarkPollPolicyNext(b *testing.B) {
	p := DefaultPollPolicy()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	state := PolicyState{LastBytes: 1 << 38, LastTotal: 1 << 40, LastAt: t0.Add(50 * time.Minute), LastDelay: 5 * time.Minute,
		Rate: 123456789.5, SeenFor: 30 * time.Second, Age: 8 * time.Second, Refresh: 11 * time.Second}
	obs := Observation{Now: t0.Add(55 * time.Minute), StartedAt: t0, Attempt: 12, HasProgress: true, Bytes: 1<<38 + 1<<35, Total: 1 << 40, Rand: 0.3}
	b.Run("decide", func(b *testing.B) {
		for b.Loop() {
			_, state = p.Next(state, obs)
		}
	})
	b.Run("decide+json", func(b *testing.B) {
		buf, _ := json.Marshal(state)
		for b.Loop() {
			var s PolicyState
			if err := json.Unmarshal(buf, &s); err != nil {
				b.Fatal(err)
			}
			_, next := p.Next(s, obs)
			buf, _ = json.Marshal(next)
		}
		b.ReportMetric(float64(len(buf)), "state-bytes")
	})
}
