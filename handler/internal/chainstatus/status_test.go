package chainstatus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func reading(at time.Duration, bytes, total int64) Reading {
	return Reading{At: t0.Add(at), Progress: copyjob.Progress{Known: true, Bytes: bytes, Total: total}}
}

func TestEstimateRemaining(t *testing.T) {
	cases := []struct {
		name   string
		a, b   Reading
		want   time.Duration
		wantOK bool
	}{
		{"steady", reading(0, 100, 1000), reading(3*time.Second, 400, 1000), 6 * time.Second, true},
		{"no progress", reading(0, 100, 1000), reading(3*time.Second, 100, 1000), 0, false},
		{"restart", reading(0, 500, 1000), reading(3*time.Second, 100, 1000), 0, false},
		{"other copy", reading(0, 100, 1000), reading(3*time.Second, 200, 2000), 0, false},
		{"no second reading", reading(0, 100, 1000), Reading{}, 0, false},
	}
	for _, c := range cases {
		got, ok := EstimateRemaining(c.a, c.b)
		if ok != c.wantOK || got != c.want {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}

func TestRenderRedactsAndShowsProgress(t *testing.T) {
	snap, _ := copyjob.ParseSnapshot("2026-11-24T10:00:00.0000000Z")
	d := copyjob.Destination{Exists: true, Incremental: true, CopySource: "https://src.blob.core.windows.net/disks/vm1.vhd?sp=r&sig=c2VjcmV0",
		CopySourceSnapshot: snap, CopyStatus: copyjob.StatusPending, CopyID: "c1", Progress: copyjob.Progress{Known: true, Bytes: 512 << 20, Total: 1 << 30}}
	h := copyjob.History{{SourceSnapshot: snap.Add(-time.Hour), DestinationSnapshot: "2026-11-24T09:05:00.0000000Z"}}
	s := New("https://dst.blob.core.windows.net/backups/vm1.vhd", d, h)
	s.ETA = "42s"
	var text, js bytes.Buffer
	s.WriteText(&text)
	if err := s.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"50.0%", "[###############...............]", "ETA 42s", "2026-11-24T09:05:00.0000000Z", "last copied   2026-11-24T10:00:00.0000000Z"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String()+js.String(), "c2VjcmV0") {
		t.Fatal("SAS printed")
	}
	var back Status
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.BytesTotal != 1<<30 || len(back.Snapshots) != 1 {
		t.Fatalf("json %s %v", js.String(), err)
	}
}
