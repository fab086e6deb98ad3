package copyjob

import (
	"encoding/json"
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
	cases := []struct {
		name      string
		state     PolicyState
		obs       Observation
		wantDelay time.Duration
		wantRate  float64
		wantBytes int64
	}{
		{
			name:      "first poll through Next, as the worker schedules it",
			obs:       Observation{Now: t0, StartedAt: t0},
			wantDelay: 5 * time.Second,
		},
		{
			name:      "young copy: the estimate is capped by the span observed",
			obs:       Observation{Now: t0.Add(7 * time.Second), StartedAt: t0, HasProgress: true, Bytes: 10, Total: 10000},
			wantDelay: 10 * time.Second, // (7s - MinDelay) * Horizon
			wantRate:  10.0 / 7, wantBytes: 10,
		},
		{
			name:      "ETA: wait half the time left plus MinDelay",
			state:     PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 3000},
			wantDelay: 55 * time.Second, // 100s left
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "close to the end: poll at the ETA itself",
			state:     PolicyState{LastBytes: 1000, LastTotal: 2080, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 2080},
			wantDelay: 8 * time.Second,
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "nearly done: clamped up to MinDelay",
			state:     PolicyState{LastBytes: 1000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2990, Total: 3000},
			wantDelay: 5 * time.Second,
			wantRate:  19.9, wantBytes: 2990,
		},
		{
			name:      "far from the end: clamped down to MaxDelay",
			state:     PolicyState{LastBytes: 1000, LastTotal: 1 << 40, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2000, Total: 1 << 40},
			wantDelay: 10 * time.Minute,
			wantRate:  10, wantBytes: 2000,
		},
		{
			name:      "speed-up is believed at once (Rise 1)",
			state:     PolicyState{LastBytes: 1000, LastTotal: 10000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 5000, Total: 10000},
			wantDelay: 67500 * time.Millisecond, // 5000 B at 40 B/s = 125s left
			wantRate:  40, wantBytes: 5000,
		},
		{
			name:      "slow-down is believed slowly (Fall 0.2)",
			state:     PolicyState{LastBytes: 1000, LastTotal: 2800, LastAt: before, Rate: 15, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 1500, Total: 2800},
			wantDelay: 55 * time.Second, // measured 5 B/s moves 15 to 13: 100s left
			wantRate:  13, wantBytes: 1500,
		},
		{
			name:      "restart: progress dropped, the old rate still paces",
			state:     PolicyState{LastBytes: 2000, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 500, Total: 3000},
			wantDelay: 130 * time.Second, // 250s left
			wantRate:  10, wantBytes: 500,
		},
		{
			name:      "no progress header: back off",
			state:     PolicyState{LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0},
			wantDelay: 200 * time.Second,
		},
		{
			name:      "no progress header: back-off is capped by MaxDelay",
			state:     PolicyState{LastDelay: 8 * time.Minute},
			obs:       Observation{Now: now, StartedAt: t0},
			wantDelay: 10 * time.Minute,
		},
		{
			name:      "total unknown: back off, nothing to estimate from",
			state:     PolicyState{LastDelay: 10 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 0, Total: 0},
			wantDelay: 20 * time.Second,
		},
		{
			name:      "stalled far from the end: back off",
			state:     PolicyState{LastBytes: 1000, LastTotal: 100000, LastAt: before, Rate: 10, LastDelay: 100 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 1000, Total: 100000},
			wantDelay: 200 * time.Second,
			wantRate:  10, wantBytes: 1000,
		},
		{
			name:      "stalled near the end: back-off bounded by the time the rest would take",
			state:     PolicyState{LastBytes: 2900, LastTotal: 3000, LastAt: before, Rate: 10, LastDelay: 20 * time.Second},
			obs:       Observation{Now: now, StartedAt: t0, HasProgress: true, Bytes: 2900, Total: 3000},
			wantDelay: 10 * time.Second,
			wantRate:  10, wantBytes: 2900,
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
			if next.LastBytes != c.wantBytes {
				t.Errorf("LastBytes %d, want %d", next.LastBytes, c.wantBytes)
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
	const unjittered = 55 * time.Second
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
	in := PolicyState{LastBytes: 1 << 40, LastTotal: 2 << 40, LastAt: at, LastDelay: 90 * time.Second, Rate: 123456.789}
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
