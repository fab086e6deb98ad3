package copyjob

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// randomChain draws n ascending source snapshot times, minutes to weeks
// apart, so that every calendar rule meets shared and distinct periods.
func randomChain(rng *rand.Rand, n int) []time.Time {
	gaps := []time.Duration{time.Minute, 3 * time.Hour, 26 * time.Hour, 8 * 24 * time.Hour, 35 * 24 * time.Hour}
	t := time.Date(2025, 12, 29, 23, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(7*24)) * time.Hour)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t
		t = t.Add(time.Duration(1 + rng.Int64N(int64(gaps[rng.IntN(len(gaps))]))))
	}
	return out
}

func randomPolicy(rng *rand.Rand) RetentionPolicy {
	p := RetentionPolicy{Last: rng.IntN(4), Daily: rng.IntN(5), Weekly: rng.IntN(4), Monthly: rng.IntN(4)}
	if !p.Enabled() {
		p.Last = 1
	}
	return p
}

func keptSet(plan RetentionPlan) map[time.Time]bool {
	out := map[time.Time]bool{}
	for _, k := range plan.Keep {
		out[k.SourceSnapshot] = true
	}
	return out
}

// TestPlanRetentionMonotone states why retention runs may repeat and
// overlap: a chain only grows newer (incremental copy refuses older
// snapshots), and
//   - growth: a restore point the policy drops from a chain stays dropped
//     when newer restore points are added, so a run on an older listing
//     deletes nothing a run on a newer listing keeps;
//   - stability: deleting any of the dropped points changes nothing about
//     the others, so a run on a partly pruned listing deletes exactly the
//     rest.
func TestPlanRetentionMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2026))
	for i := range 800 {
		policy := randomPolicy(rng)
		chain := randomChain(rng, 1+rng.IntN(40))
		full := PlanRetention(points(chain...), policy)
		keptFull := keptSet(full)

		older := chain[:1+rng.IntN(len(chain))]
		for _, p := range PlanRetention(points(older...), policy).Delete {
			if keptFull[p.SourceSnapshot] {
				t.Fatalf("case %d, %+v: %s dropped from the first %d points but kept once the chain has %d", i, policy, p.SourceSnapshot, len(older), len(chain))
			}
		}

		var rest []time.Time
		for _, c := range chain {
			dropped := !keptFull[c]
			if dropped && rng.IntN(2) == 0 {
				continue
			}
			rest = append(rest, c)
		}
		if got := keptSet(PlanRetention(points(rest...), policy)); !mapsEqual(got, keptFull) {
			t.Fatalf("case %d, %+v: deleting some dropped points changed what is kept: %v, want %v", i, policy, got, keptFull)
		}
	}
}

// TestRetentionRunsInAnyOrderKeepExactlyThePolicy simulates retention runs
// that list the chain at one moment and delete later, interleaved with new
// copies and with each other: no run deletes a point the policy keeps for
// the whole chain, and after a last run the chain is exactly what it keeps.
func TestRetentionRunsInAnyOrderKeepExactlyThePolicy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	for i := range 500 {
		policy := randomPolicy(rng)
		chain := randomChain(rng, 2+rng.IntN(30))
		keptFull := keptSet(PlanRetention(points(chain...), policy))
		present := map[time.Time]bool{}
		var pending [][]RestorePoint // listed, deletions not yet carried out
		for _, c := range chain {
			present[c] = true
			var listing []time.Time
			for _, p := range chain {
				if present[p] {
					listing = append(listing, p)
				}
			}
			pending = append(pending, PlanRetention(points(listing...), policy).Delete)
			for len(pending) > 0 && rng.IntN(3) > 0 {
				j := rng.IntN(len(pending))
				for _, p := range pending[j] {
					if keptFull[p.SourceSnapshot] {
						t.Fatalf("case %d, %+v: a run deletes %s, which the policy keeps", i, policy, p.SourceSnapshot)
					}
					delete(present, p.SourceSnapshot)
				}
				pending = slices.Delete(pending, j, j+1)
			}
		}
		for _, run := range pending {
			for _, p := range run {
				delete(present, p.SourceSnapshot)
			}
		}
		var listing []time.Time
		for _, p := range chain {
			if present[p] {
				listing = append(listing, p)
			}
		}
		for _, p := range PlanRetention(points(listing...), policy).Delete {
			delete(present, p.SourceSnapshot)
		}
		if !mapsEqual(present, keptFull) {
			t.Fatalf("case %d, %+v: after the last run %d points remain, the policy keeps %d", i, policy, len(present), len(keptFull))
		}
	}
}

func mapsEqual(a, b map[time.Time]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
