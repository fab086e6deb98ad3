package copyjob

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlanSourcePrune(t *testing.T) {
	from := func(source string, s time.Time) CopiedSnapshot {
		c := copied(s)
		c.SourceBlobURL = source
		return c
	}
	again := copied(snapMid) // one source snapshot copied twice
	again.DestinationSnapshot = FormatSnapshot(snapMid.Add(time.Hour))
	cases := []struct {
		name    string
		history History
		rules   Rules
		gone    []time.Time // deleted at the source before
		want    []time.Time
		skip    string
	}{
		{name: "older copied ones go, the newest copied stays", history: History{copied(snapNew), copied(snapOld), copied(snapMid)}, want: []time.Time{snapOld, snapMid}},
		{name: "only the newest is copied", history: History{copied(snapNew)}},
		{name: "already deleted at the source", history: History{copied(snapNew), copied(snapOld), copied(snapMid)}, gone: []time.Time{snapOld}, want: []time.Time{snapMid}},
		{name: "copied twice is deleted once", history: History{copied(snapNew), copied(snapMid), again}, want: []time.Time{snapMid}},
		// A listed restore point of another blob proves nothing about the
		// chain's source.
		{name: "another source blob is never touched", history: History{copied(snapNew), from(otherURL, snapOld), copied(snapMid)}, want: []time.Time{snapMid}},
		{name: "host case does not matter", history: History{copied(snapNew), from(strings.Replace(srcURL, "src.blob", "SRC.blob", 1), snapOld)}, want: []time.Time{snapOld}},
		{name: "allowed source", history: History{copied(snapNew), copied(snapOld)}, rules: Rules{AllowedSources: []string{"https://src.blob.core.windows.net/disks"}}, want: []time.Time{snapOld}},
		{name: "source outside the allow-list", history: History{copied(snapNew), copied(snapOld)}, rules: Rules{AllowedSources: []string{"https://src.blob.core.windows.net/other"}}, skip: "not a storage host under an allowed source"},
		{name: "copy source not a storage host", history: History{from("https://src.example.com/disks/vm1.vhd", snapNew), from("https://src.example.com/disks/vm1.vhd", snapOld)}, skip: "not a storage host"},
		{name: "copy source not a blob URL", history: History{from("", snapNew), copied(snapOld)}, skip: "not a base blob URL"},
		{name: "nothing listed", skip: "no restore points"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			existing := []time.Time{snapOld, snapMid, snapNew}
			existing = slices.DeleteFunc(existing, func(t time.Time) bool { return slices.ContainsFunc(c.gone, t.Equal) })
			p := PlanSourcePrune(c.history, existing, c.rules)
			if c.skip != "" {
				if !strings.Contains(p.Skip, c.skip) || len(p.Snapshots) > 0 {
					t.Fatalf("skip %q, deletes %v; want a skip saying %q", p.Skip, p.Snapshots, c.skip)
				}
				return
			}
			if p.Skip != "" || p.Source.URL != srcURL {
				t.Fatalf("skip %q, source %q", p.Skip, p.Source.URL)
			}
			if fmt.Sprint(p.Snapshots) != fmt.Sprint(c.want) {
				t.Fatalf("deletes %v, want %v", p.Snapshots, c.want)
			}
			newest, _ := c.history.Newest()
			for _, s := range p.Snapshots {
				if !s.Before(newest.SourceSnapshot) {
					t.Fatalf("deletes %v, not older than the newest copied %v", s, newest.SourceSnapshot)
				}
			}
		})
	}
}
