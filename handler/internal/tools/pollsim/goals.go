package pollsim

import (
	"fmt"
	"time"
)

// Goals are the targets a strategy is held to, against a reference
// strategy's poll count. A zero field is not checked.
type Goals struct {
	// P95 and P99 bound the detection delay percentiles in every class.
	P95, P99 time.Duration
	// WorstShort bounds the detection delay of every copy shorter than
	// LongCopy; WorstLong that of every longer one.
	WorstShort, WorstLong time.Duration
	// PollRatio bounds the total polls as a share of the reference's.
	PollRatio float64
}

// LongCopy separates the copies held to Goals.WorstShort from those held to
// Goals.WorstLong.
const LongCopy = time.Hour

// ReportedGoals are the targets when the service reports intermediate
// progress: close to the end in nearly every case, never later than fixed
// 60 s polling would be for a copy under an hour (nor 5 min for a longer
// one), at under a third of fixed 60 s's polls.
func ReportedGoals() Goals {
	return Goals{P95: 10 * time.Second, P99: 20 * time.Second, WorstShort: 61 * time.Second, WorstLong: 5 * time.Minute, PollRatio: 0.30}
}

// FinalOnlyGoals are the targets when the progress figure stays 0/total
// until the copy ends: no estimate is possible, so the policy must do no
// worse than fixed 60 s polling.
func FinalOnlyGoals() Goals {
	return Goals{P95: 60 * time.Second, PollRatio: 1}
}

// Verdict is one checked target.
type Verdict struct {
	// Target says what was required; Got what was measured.
	Target, Got string
	Met         bool
}

// Check holds s to the goals, with reference's total polls as the base of
// PollRatio.
func (g Goals) Check(s, reference Summary) []Verdict {
	var out []Verdict
	add := func(target string, got, limit time.Duration) {
		out = append(out, Verdict{Target: fmt.Sprintf("%s ≤ %s", target, limit), Got: fmt.Sprintf("%.1f s", got.Seconds()), Met: got <= limit})
	}
	for i, c := range s.ByClass {
		if g.P95 > 0 {
			add(Classes[i].Label+" p95", c.Delay.P95, g.P95)
		}
		if g.P99 > 0 {
			add(Classes[i].Label+" p99", c.Delay.P99, g.P99)
		}
	}
	var short, long time.Duration
	for i, c := range s.ByClass {
		if Classes[i].To <= LongCopy {
			short = max(short, c.Delay.Max)
		} else {
			long = max(long, c.Delay.Max)
		}
	}
	if g.WorstShort > 0 {
		add("worst < 1 h", short, g.WorstShort)
	}
	if g.WorstLong > 0 {
		add("worst > 1 h", long, g.WorstLong)
	}
	out = append(out, Verdict{Target: "every copy seen", Got: fmt.Sprintf("%d missed", s.Missed), Met: s.Missed == 0})
	if g.PollRatio > 0 {
		ratio := float64(s.TotalPolls) / float64(max(1, reference.TotalPolls))
		out = append(out, Verdict{
			Target: fmt.Sprintf("polls ≤ %.2f of %s", g.PollRatio, reference.Name),
			Got:    fmt.Sprintf("%d / %d = %.3f", s.TotalPolls, reference.TotalPolls, ratio),
			Met:    ratio <= g.PollRatio,
		})
	}
	return out
}
