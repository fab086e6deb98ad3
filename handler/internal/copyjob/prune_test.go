package copyjob

import (
	"strings"
	"testing"
	"time"
)

// copied is a listed destination snapshot of srcURL's snapshot s, taken a
// minute after it.
func copied(s time.Time) CopiedSnapshot {
	return CopiedSnapshot{SourceBlobURL: srcURL, SourceSnapshot: s, DestinationSnapshot: FormatSnapshot(s.Add(time.Minute))}
}

func chainEvent(c CopiedSnapshot) ChainEvent {
	return ChainEvent{DestinationSnapshot: c.DestinationSnapshot}
}

func TestDecidePrune(t *testing.T) {
	history := History{copied(snapNew), copied(snapOld), copied(snapMid)}
	keepLast2 := RetentionPolicy{Last: 2}
	cases := []struct {
		name        string
		event       ChainEvent
		history     History
		skip        string
		wantDeleted []time.Time
	}{
		{name: "newest acts", event: chainEvent(copied(snapNew)), history: history, wantDeleted: []time.Time{snapOld}},
		{name: "newest with fewer digits", event: ChainEvent{DestinationSnapshot: strings.TrimRight(FormatSnapshot(snapNew.Add(time.Minute)), "0Z") + "Z"}, history: history, wantDeleted: []time.Time{snapOld}},
		{name: "an older event", event: chainEvent(copied(snapMid)), history: history, skip: "newest restore point is " + FormatSnapshot(snapNew.Add(time.Minute))},
		{name: "a snapshot not listed", event: ChainEvent{DestinationSnapshot: FormatSnapshot(snapNew.Add(time.Hour))}, history: history, skip: "newest restore point"},
		{name: "nothing listed", event: chainEvent(copied(snapNew)), skip: "no restore points"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := DecidePrune(PruneInput{Event: c.event, History: c.history, Policy: keepLast2})
			if c.skip != "" {
				if !strings.Contains(d.Skip, c.skip) || len(d.Plan.Delete) > 0 {
					t.Fatalf("skip %q, deletes %v; want a skip saying %q", d.Skip, d.Plan.Delete, c.skip)
				}
				return
			}
			if d.Skip != "" {
				t.Fatalf("skipped: %s", d.Skip)
			}
			if !d.Newest.SourceSnapshot.Equal(snapNew) {
				t.Errorf("newest %v", d.Newest.SourceSnapshot)
			}
			var got []time.Time
			for _, p := range d.Plan.Delete {
				got = append(got, p.SourceSnapshot)
			}
			if len(got) != len(c.wantDeleted) || (len(got) > 0 && !got[0].Equal(c.wantDeleted[0])) {
				t.Fatalf("deletes %v, want %v", got, c.wantDeleted)
			}
		})
	}
}

func TestHistoryNewestBreaksTiesByDestinationSnapshot(t *testing.T) {
	again := copied(snapNew)
	again.DestinationSnapshot = FormatSnapshot(snapNew.Add(time.Hour))
	newest, ok := History{again, copied(snapNew)}.Newest()
	if !ok || newest.DestinationSnapshot != again.DestinationSnapshot {
		t.Fatalf("newest %+v", newest)
	}
	if _, ok := (History{}).Newest(); ok {
		t.Fatal("an empty history has a newest restore point")
	}
}

func TestHistoryPrevious(t *testing.T) {
	h := History{copied(snapNew), copied(snapOld), copied(snapMid)}
	if p, ok := h.Previous(copied(snapNew).DestinationSnapshot); !ok || p.DestinationSnapshot != copied(snapMid).DestinationSnapshot {
		t.Fatalf("previous of the newest: %+v %v", p, ok)
	}
	if p, ok := h.Previous(copied(snapOld).DestinationSnapshot); ok {
		t.Fatalf("the first restore point has a previous one: %+v", p)
	}
}
