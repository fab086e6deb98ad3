package copyjob

import (
	"fmt"
	"sort"
	"time"
)

// RetentionPolicy says which restore points of a chain survive, with the
// semantics backup operators know from restic's `forget`: keep the Last n
// restore points, plus the newest one of each of the last Daily days,
// Weekly ISO weeks and Monthly months that have restore points. A restore
// point kept by any rule survives. Calendar periods are UTC and keyed by
// the source snapshot time, the moment the disk was captured, so that a
// slow copy never moves a restore point into another day. The newest
// restore point is always kept: it is the one a disaster would restore.
type RetentionPolicy struct {
	Last, Daily, Weekly, Monthly int
}

// Enabled reports whether the policy deletes anything at all; the zero
// policy keeps every restore point.
func (p RetentionPolicy) Enabled() bool {
	return p.Last > 0 || p.Daily > 0 || p.Weekly > 0 || p.Monthly > 0
}

// Validate reports negative counts.
func (p RetentionPolicy) Validate() error {
	if p.Last < 0 || p.Daily < 0 || p.Weekly < 0 || p.Monthly < 0 {
		return fmt.Errorf("retention counts must be 0 (not used) or positive, got last %d, daily %d, weekly %d, monthly %d",
			p.Last, p.Daily, p.Weekly, p.Monthly)
	}
	return nil
}

// RestorePoint is one destination snapshot and the source snapshot it holds.
type RestorePoint struct {
	SourceSnapshot      time.Time `json:"sourceSnapshot"`
	DestinationSnapshot string    `json:"destinationSnapshot"`
}

// Keep reasons, as restic names them.
const (
	KeptNewest  = "newest"
	KeptLast    = "last"
	KeptDaily   = "daily"
	KeptWeekly  = "weekly"
	KeptMonthly = "monthly"
	// keptOldestPrefix marks the oldest restore point kept by a calendar
	// rule that still had periods to fill: keeping it makes the history as
	// long as the policy allows.
	keptOldestPrefix = "oldest "
)

// KeptPoint is a surviving restore point and every rule that kept it.
type KeptPoint struct {
	RestorePoint
	Reasons []string `json:"reasons"`
}

// RetentionPlan is what a policy makes of a chain, newest first.
type RetentionPlan struct {
	Keep   []KeptPoint    `json:"kept"`
	Delete []RestorePoint `json:"deleted"`
}

// retentionRule is one keep-n rule: the period a restore point falls in,
// and how many periods are left to fill.
type retentionRule struct {
	reason string
	left   int
	period func(t time.Time, index int) int
	last   int
	seen   bool
}

// PlanRetention applies the policy to a chain's restore points. Points are
// judged newest first: a rule keeps a point when it opens a period the rule
// has not seen yet and the rule still has periods left; a calendar rule
// with periods left when it reaches the oldest point keeps that one too (as
// restic does since 0.17). Points with equal source snapshots (one source
// snapshot copied twice) count as separate points. A disabled policy keeps
// everything.
func PlanRetention(points []RestorePoint, p RetentionPolicy) RetentionPlan {
	sorted := append([]RestorePoint(nil), points...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.SourceSnapshot.Equal(b.SourceSnapshot) {
			return a.SourceSnapshot.After(b.SourceSnapshot)
		}
		return a.DestinationSnapshot > b.DestinationSnapshot
	})
	var plan RetentionPlan
	if !p.Enabled() {
		for _, pt := range sorted {
			plan.Keep = append(plan.Keep, KeptPoint{RestorePoint: pt, Reasons: []string{"retention disabled"}})
		}
		return plan
	}
	rules := []*retentionRule{
		{reason: KeptLast, left: p.Last, period: func(_ time.Time, i int) int { return i }},
		{reason: KeptDaily, left: p.Daily, period: func(t time.Time, _ int) int { y, m, d := t.Date(); return y*10000 + int(m)*100 + d }},
		{reason: KeptWeekly, left: p.Weekly, period: func(t time.Time, _ int) int { y, w := t.ISOWeek(); return y*100 + w }},
		{reason: KeptMonthly, left: p.Monthly, period: func(t time.Time, _ int) int { y, m, _ := t.Date(); return y*100 + int(m) }},
	}
	for i, pt := range sorted {
		var reasons []string
		if i == 0 {
			reasons = append(reasons, KeptNewest)
		}
		oldest := i == len(sorted)-1
		t := pt.SourceSnapshot.UTC()
		for _, r := range rules {
			if r.left <= 0 {
				continue
			}
			period := r.period(t, i)
			newPeriod := !r.seen || period != r.last
			if !newPeriod && !oldest {
				continue
			}
			reason := r.reason
			if !newPeriod {
				reason = keptOldestPrefix + reason
			}
			reasons = append(reasons, reason)
			r.last, r.seen = period, true
			r.left--
		}
		if len(reasons) > 0 {
			plan.Keep = append(plan.Keep, KeptPoint{RestorePoint: pt, Reasons: reasons})
		} else {
			plan.Delete = append(plan.Delete, pt)
		}
	}
	return plan
}
