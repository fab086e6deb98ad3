package clock

import (
	"testing"
	"time"
)

func TestFakeOnlyMovesForward(t *testing.T) {
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f := NewFake(start)
	f.Advance(time.Minute)
	f.Advance(-time.Hour)
	f.Set(start)
	if got, want := f.Now(), start.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
	f.Set(start.Add(time.Hour))
	if got, want := f.Now(), start.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("after Set: Now() = %v, want %v", got, want)
	}
}
