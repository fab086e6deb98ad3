package pollsim

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Billed operations per poll. Each poll is one scheduled message: the send
// that scheduled it, its receive (peek-lock) by the Functions host and its
// completion are three Service Bus operations, and the poll itself is one
// Get Blob Properties. The start of the copy and the final event are the
// same for every strategy and are not counted.
const (
	BusOpsPerPoll     = 3
	StorageOpsPerPoll = 1
)

// Class is a range of copy durations reported on its own.
type Class struct {
	Label    string
	From, To time.Duration // From <= duration < To
}

// Classes group copies by duration, because a policy that is good for
// seconds-long copies can be wasteful for hours-long ones and vice versa.
var Classes = []Class{
	{"< 1 min", 0, time.Minute},
	{"1–10 min", time.Minute, 10 * time.Minute},
	{"10–60 min", 10 * time.Minute, time.Hour},
	{"> 1 h", time.Hour, 1 << 62},
}

// Summary condenses the outcomes of one strategy.
type Summary struct {
	Name   string
	Copies int
	// Missed counts copies the strategy gave up on before they ended.
	Missed int
	// TotalPolls is the sum over the workload; PollsMean and PollsP95 are
	// per copy.
	TotalPolls          int
	PollsMean, PollsP95 float64
	// Delay is the detection delay of detected copies; Fraction is it
	// divided by the copy's duration.
	Delay    Percentiles[time.Duration]
	Fraction Percentiles[float64]
	// ByClass follows Classes.
	ByClass []ClassSummary
	// MaxStateBytes is the largest policy state carried in a poll message.
	MaxStateBytes int
}

// ClassSummary is a Summary restricted to one duration class.
type ClassSummary struct {
	Copies     int
	PollsMean  float64
	Delay      Percentiles[time.Duration]
	TotalPolls int
}

// Percentiles of a distribution, by nearest rank.
type Percentiles[T time.Duration | float64] struct{ P50, P95, P99, Max T }

func percentiles[T time.Duration | float64](v []T) Percentiles[T] {
	if len(v) == 0 {
		return Percentiles[T]{}
	}
	slices.Sort(v)
	rank := func(q float64) T { return v[min(len(v)-1, int(q*float64(len(v))))] }
	return Percentiles[T]{P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: v[len(v)-1]}
}

// Summarize condenses outcomes.
func Summarize(name string, outcomes []Outcome) Summary {
	s := Summary{Name: name, Copies: len(outcomes)}
	var polls []float64
	var delays []time.Duration
	var fractions []float64
	classDelays := make([][]time.Duration, len(Classes))
	s.ByClass = make([]ClassSummary, len(Classes))
	for _, o := range outcomes {
		polls = append(polls, float64(o.Polls))
		s.TotalPolls += o.Polls
		s.MaxStateBytes = max(s.MaxStateBytes, o.StateBytes)
		c := slices.IndexFunc(Classes, func(c Class) bool { return o.Duration >= c.From && o.Duration < c.To })
		s.ByClass[c].Copies++
		s.ByClass[c].TotalPolls += o.Polls
		if !o.Detected {
			s.Missed++
			continue
		}
		delays = append(delays, o.Delay)
		fractions = append(fractions, o.Delay.Seconds()/o.Duration.Seconds())
		classDelays[c] = append(classDelays[c], o.Delay)
	}
	s.PollsMean = float64(s.TotalPolls) / float64(max(1, s.Copies))
	s.PollsP95 = percentiles(polls).P95
	s.Delay, s.Fraction = percentiles(delays), percentiles(fractions)
	for i := range s.ByClass {
		s.ByClass[i].PollsMean = float64(s.ByClass[i].TotalPolls) / float64(max(1, s.ByClass[i].Copies))
		s.ByClass[i].Delay = percentiles(classDelays[i])
	}
	return s
}

// WriteReport prints the comparison as Markdown tables.
func WriteReport(w io.Writer, sums []Summary) {
	fmt.Fprintln(w, "| policy | polls/copy mean | p95 | delay p50 s | p95 s | max s | delay/duration p50 | p95 | max | SB ops/copy | storage ops/copy | all ops/copy | missed |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s | %.1f | %.0f | %.1f | %.1f | %.1f | %.4f | %.3f | %.2f | %.1f | %.1f | %.1f | %d |\n",
			s.Name, s.PollsMean, s.PollsP95,
			s.Delay.P50.Seconds(), s.Delay.P95.Seconds(), s.Delay.Max.Seconds(),
			s.Fraction.P50, s.Fraction.P95, s.Fraction.Max,
			s.PollsMean*BusOpsPerPoll, s.PollsMean*StorageOpsPerPoll, s.PollsMean*(BusOpsPerPoll+StorageOpsPerPoll), s.Missed)
	}
	header := func(title string) {
		fmt.Fprintf(w, "\n| %s |", title)
		for _, c := range Classes {
			fmt.Fprintf(w, " %s (%d) |", c.Label, sums[0].ByClass[slices.Index(Classes, c)].Copies)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(Classes)))
	}
	header("p95 / p99 / max detection delay, s")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s |", s.Name)
		for _, c := range s.ByClass {
			fmt.Fprintf(w, " %.1f / %.1f / %.0f |", c.Delay.P95.Seconds(), c.Delay.P99.Seconds(), c.Delay.Max.Seconds())
		}
		fmt.Fprintln(w)
	}
	header("polls/copy mean")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s |", s.Name)
		for _, c := range s.ByClass {
			fmt.Fprintf(w, " %.1f |", c.PollsMean)
		}
		fmt.Fprintln(w)
	}
}

// WriteVerdicts prints checked targets as a Markdown table, one column per
// seed from first on, and a line that says whether all were met.
func WriteVerdicts(w io.Writer, first uint64, columns [][]Verdict) {
	if len(columns) == 0 {
		return
	}
	fmt.Fprint(w, "| target |")
	for i := range columns {
		fmt.Fprintf(w, " seed %d |", first+uint64(i))
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(columns)))
	missed := 0
	for row, v := range columns[0] {
		fmt.Fprintf(w, "| %s |", v.Target)
		for _, col := range columns {
			fmt.Fprintf(w, " %s %s |", col[row].Got, verdict(col[row].Met))
			if !col[row].Met {
				missed++
			}
		}
		fmt.Fprintln(w)
	}
	if missed == 0 {
		fmt.Fprintf(w, "\nall targets met on every seed\n")
	} else {
		fmt.Fprintf(w, "\n%d target(s) MISSED\n", missed)
	}
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
