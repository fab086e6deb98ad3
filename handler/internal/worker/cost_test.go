package worker

import (
	"context"
	"errors"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func TestCompletedCarriesBytesChangedSincePreviousRestorePoint(t *testing.T) {
	history := chainOf(3)
	newest := history[2].DestinationSnapshot
	cases := []struct {
		name         string
		listed       int
		err          error
		wantPrevious string
		wantField    bool
	}{
		{name: "diff from the previous restore point", listed: 3, wantPrevious: history[1].DestinationSnapshot, wantField: true},
		{name: "first restore point: all its page ranges", listed: 1, wantPrevious: "", wantField: true},
		{name: "a fault leaves it out", listed: 3, err: errors.New("503"), wantPrevious: history[1].DestinationSnapshot},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.store.dest = running("success")
			h.store.dest.DestinationSnapshot = newest
			h.store.history = append(history[:c.listed-1:c.listed-1], history[2])
			h.store.changedBytes, h.store.changedErr = 12288, c.err
			if h.w.CopyPoll(context.Background(), pollInv(t, pollMessage(2))) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			if len(h.store.measured) != 1 || h.store.measured[0] != [2]string{newest, c.wantPrevious} {
				t.Fatalf("measured %v, want %s against %q", h.store.measured, newest, c.wantPrevious)
			}
			_, ce, data := h.event(t, 0)
			got, ok := data["bytesChanged"]
			if ok != c.wantField || (ok && got != float64(12288)) {
				t.Fatalf("%v: bytesChanged %v (present %v)", ce["type"], got, ok)
			}
		})
	}
}
