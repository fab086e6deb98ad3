package ops

import (
	"errors"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

func at(seconds float64, copyID string, bytes, total int64) reading {
	return reading{At: testStart.Add(time.Duration(seconds * float64(time.Second))), CopyID: copyID, Progress: copyjob.Progress{Known: true, Bytes: bytes, Total: total}}
}

func TestEstimateETA(t *testing.T) {
	cases := []struct {
		name          string
		first, second reading
		want          eta
		wantErr       error
	}{
		{"steady", at(0, "c", 100, 1000), at(3, "c", 400, 1000), eta{BytesPerSecond: 100, Remaining: 6 * time.Second, At: testStart.Add(9 * time.Second)}, nil},
		{"fractional rate", at(0, "c", 0, 10), at(3, "c", 1, 10), eta{BytesPerSecond: 1.0 / 3, Remaining: 27 * time.Second, At: testStart.Add(30 * time.Second)}, nil},
		{"done at second reading", at(0, "c", 500, 1000), at(1, "c", 1000, 1000), eta{BytesPerSecond: 500, At: testStart.Add(time.Second)}, nil},
		{"stalled", at(0, "c", 100, 1000), at(3, "c", 100, 1000), eta{}, errNoProgress},
		{"new copy id", at(0, "c", 100, 1000), at(3, "d", 400, 1000), eta{}, errOtherCopy},
		{"total changed", at(0, "c", 100, 1000), at(3, "c", 200, 2000), eta{}, errOtherCopy},
		{"went backwards", at(0, "c", 500, 1000), at(3, "c", 100, 1000), eta{}, errOtherCopy},
		{"same instant", at(0, "c", 100, 1000), at(0, "c", 200, 1000), eta{}, errNoInterval},
		{"reversed readings", at(3, "c", 100, 1000), at(0, "c", 200, 1000), eta{}, errNoInterval},
		{"no progress header", reading{At: testStart, CopyID: "c"}, at(3, "c", 200, 1000), eta{}, errNoProgressHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := estimateETA(c.first, c.second)
			if !errors.Is(err, c.wantErr) || got != c.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, c.want, c.wantErr)
			}
		})
	}
}
