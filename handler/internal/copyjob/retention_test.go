package copyjob

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// points makes one restore point per source snapshot time; the destination
// snapshot is the source time plus a minute, so the two can be told apart.
func points(times ...time.Time) []RestorePoint {
	out := make([]RestorePoint, len(times))
	for i, t := range times {
		out[i] = RestorePoint{SourceSnapshot: t, DestinationSnapshot: FormatSnapshot(t.Add(time.Minute))}
	}
	return out
}

func day(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// everyDay is one snapshot a day at 11:00 from first for n days.
func everyDay(first time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = first.AddDate(0, 0, i)
	}
	return out
}

func keptTimes(plan RetentionPlan) []string {
	var out []string
	for _, k := range plan.Keep {
		out = append(out, k.SourceSnapshot.Format("2006-01-02T15"))
	}
	return out
}

func keptReasons(plan RetentionPlan) map[string]string {
	out := map[string]string{}
	for _, k := range plan.Keep {
		out[k.SourceSnapshot.Format("2006-01-02T15")] = strings.Join(k.Reasons, "+")
	}
	return out
}

// TestPlanRetentionRestic runs the examples of restic's `forget`
// documentation, and the rules it states, as cases.
func TestPlanRetentionRestic(t *testing.T) {
	sundays := everyDay(day(2019, 9, 1, 11), 12*7)
	sundays = slices.DeleteFunc(sundays, func(t time.Time) bool { return t.Weekday() != time.Sunday })
	cases := []struct {
		name   string
		times  []time.Time
		policy RetentionPolicy
		want   []string // kept source snapshots, newest first
	}{
		{
			// "Suppose you have only made one backup every Sunday for 12
			// weeks. Then forget --keep-daily 4 will keep the last four
			// snapshots, for the last four Sundays."
			name: "weekly backups, keep-daily 4", times: sundays, policy: RetentionPolicy{Daily: 4},
			want: []string{"2019-11-17T11", "2019-11-10T11", "2019-11-03T11", "2019-10-27T11"},
		},
		{
			name: "keep-last 3", times: everyDay(day(2026, 1, 1, 11), 6), policy: RetentionPolicy{Last: 3},
			want: []string{"2026-01-06T11", "2026-01-05T11", "2026-01-04T11"},
		},
		{
			// Only the newest snapshot of a day counts for that day.
			name: "several a day, keep-daily 2",
			times: []time.Time{day(2026, 3, 1, 1), day(2026, 3, 1, 9), day(2026, 3, 1, 23),
				day(2026, 3, 2, 0), day(2026, 3, 2, 12), day(2026, 3, 3, 6)},
			policy: RetentionPolicy{Daily: 2},
			want:   []string{"2026-03-03T06", "2026-03-02T12"},
		},
		{
			// "They also only count days which have one or more snapshots":
			// a gap of days does not use up the count.
			name:   "gaps do not count, keep-daily 3",
			times:  []time.Time{day(2026, 1, 1, 11), day(2026, 1, 10, 11), day(2026, 2, 1, 11), day(2026, 2, 20, 11)},
			policy: RetentionPolicy{Daily: 3},
			want:   []string{"2026-02-20T11", "2026-02-01T11", "2026-01-10T11"},
		},
		{
			// Weeks are ISO weeks, Monday to Sunday: Sunday 2026-01-04 and
			// Monday 2026-01-05 fall in different weeks.
			name:   "ISO weeks, keep-weekly 2",
			times:  []time.Time{day(2026, 1, 1, 11), day(2026, 1, 3, 11), day(2026, 1, 4, 11), day(2026, 1, 5, 11), day(2026, 1, 6, 11)},
			policy: RetentionPolicy{Weekly: 2},
			want:   []string{"2026-01-06T11", "2026-01-04T11"},
		},
		{
			// Days are UTC calendar days of the source snapshot time.
			name:   "UTC days, keep-daily 1",
			times:  []time.Time{day(2026, 5, 1, 23), time.Date(2026, 5, 2, 0, 30, 0, 0, time.UTC)},
			policy: RetentionPolicy{Daily: 1},
			want:   []string{"2026-05-02T00"},
		},
		{
			// Policies are ORed: a restore point kept by any rule survives.
			// 40 daily backups, keep-last 2, keep-weekly 2, keep-monthly 2:
			// the last two days, the newest of this and last week, the
			// newest of this and last month.
			name: "rules are ORed", times: everyDay(day(2026, 4, 1, 11), 40), policy: RetentionPolicy{Last: 2, Weekly: 2, Monthly: 2},
			want: []string{"2026-05-10T11", "2026-05-09T11", "2026-05-03T11", "2026-04-30T11"},
		},
		{
			// "If there are not enough snapshots to keep one for each
			// duration related option, the oldest snapshot is kept
			// additionally": three days of backups, keep-daily 7.
			name:   "oldest kept when periods are left",
			times:  []time.Time{day(2026, 6, 1, 8), day(2026, 6, 1, 20), day(2026, 6, 2, 8), day(2026, 6, 3, 8)},
			policy: RetentionPolicy{Daily: 7},
			want:   []string{"2026-06-03T08", "2026-06-02T08", "2026-06-01T20", "2026-06-01T08"},
		},
		{
			name: "disabled keeps everything", times: everyDay(day(2026, 1, 1, 11), 3), policy: RetentionPolicy{},
			want: []string{"2026-01-03T11", "2026-01-02T11", "2026-01-01T11"},
		},
		{
			// The newest restore point is kept even when no rule would:
			// keep-monthly 1 keeps the newest of the month anyway, so use
			// input order that puts the newest last to check sorting too.
			name: "newest kept and input order ignored", times: []time.Time{day(2026, 2, 1, 11), day(2026, 1, 1, 11), day(2026, 3, 1, 11)},
			policy: RetentionPolicy{Last: 1},
			want:   []string{"2026-03-01T11"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := PlanRetention(points(c.times...), c.policy)
			if got := keptTimes(plan); !slices.Equal(got, c.want) {
				t.Fatalf("kept %v, want %v (reasons %v)", got, c.want, keptReasons(plan))
			}
			if len(plan.Keep)+len(plan.Delete) != len(c.times) {
				t.Fatalf("%d kept + %d deleted != %d restore points", len(plan.Keep), len(plan.Delete), len(c.times))
			}
			for _, d := range plan.Delete {
				for _, k := range plan.Keep {
					if d == k.RestorePoint {
						t.Fatalf("%v both kept and deleted", d)
					}
				}
			}
		})
	}
}

// TestPlanRetentionAgainstPeriods checks restic's "one backup every day"
// example without yearly (--keep-daily 7 --keep-weekly 5 --keep-monthly 12)
// for chains ending on every weekday, against an independent statement of
// the rule: group the points by period, take the newest point of each of the
// n newest periods, and keep the union over the rules.
func TestPlanRetentionAgainstPeriods(t *testing.T) {
	all := everyDay(day(2024, 1, 1, 11), 3*365)
	policy := RetentionPolicy{Daily: 7, Weekly: 5, Monthly: 12}
	periods := []struct {
		n   int
		key func(time.Time) string
	}{
		{policy.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{policy.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprint(y, "-W", w) }},
		{policy.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
	}
	for end := 400; end <= len(all); end += 13 {
		chain := all[:end]
		want := map[string]bool{}
		for _, p := range periods {
			newest := map[string]time.Time{}
			var order []string
			for _, t := range chain {
				k := p.key(t)
				if _, ok := newest[k]; !ok {
					order = append(order, k)
				}
				if t.After(newest[k]) {
					newest[k] = t
				}
			}
			for _, k := range order[max(0, len(order)-p.n):] {
				want[newest[k].Format("2006-01-02T15")] = true
			}
		}
		got := map[string]bool{}
		for _, k := range keptTimes(PlanRetention(points(chain...), policy)) {
			got[k] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("chain ending %s: kept %v, want %v", chain[end-1].Format("2006-01-02 Mon"), got, want)
		}
		// restic's own count: the 7 dailies, then only the weeklies and
		// monthlies that the dailies do not already hold.
		if n := len(got); n > 7+4+11 {
			t.Fatalf("chain ending %s: %d kept, more than 7 dailies + 4 weeklies + 11 monthlies", chain[end-1].Format("2006-01-02"), n)
		}
	}
}

func TestPlanRetentionReasons(t *testing.T) {
	plan := PlanRetention(points(everyDay(day(2026, 1, 1, 11), 3)...), RetentionPolicy{Last: 1, Daily: 5})
	got := keptReasons(plan)
	want := map[string]string{
		"2026-01-03T11": "newest+last+daily",
		"2026-01-02T11": "daily",
		"2026-01-01T11": "daily",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reasons %v, want %v", got, want)
	}
}

func TestRetentionPolicyValidate(t *testing.T) {
	if err := (RetentionPolicy{Last: 1, Monthly: 12}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (RetentionPolicy{Weekly: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "weekly -1") {
		t.Fatalf("negative count: %v", err)
	}
}
