package ops

import (
	"errors"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// reading is one observation of a destination's copy.
type reading struct {
	At       time.Time
	CopyID   string
	Progress copyjob.Progress
}

// eta is what two readings say about the rest of a copy.
type eta struct {
	// BytesPerSecond is the rate between the readings.
	BytesPerSecond float64
	// Remaining is the time left at that rate, from the second reading.
	Remaining time.Duration
	// At is when the copy should finish.
	At time.Time
}

// Reasons an ETA cannot be estimated; the text is shown to the operator.
var (
	errNoProgressHeader = errors.New("the service reports no progress")
	errOtherCopy        = errors.New("another copy started between the readings")
	errNoProgress       = errors.New("no bytes moved between the readings")
	errNoInterval       = errors.New("the readings are not apart in time")
)

// estimateETA extrapolates linearly from two readings of the same copy.
// Incremental copies move changed pages at a roughly steady rate, so the
// rate over a few seconds is a fair guess for the rest; it is only a guess,
// which is why it is shown rounded.
func estimateETA(first, second reading) (eta, error) {
	a, b := first.Progress, second.Progress
	elapsed := second.At.Sub(first.At)
	switch {
	case !a.Known || !b.Known:
		return eta{}, errNoProgressHeader
	case first.CopyID != second.CopyID || a.Total != b.Total || b.Bytes < a.Bytes:
		return eta{}, errOtherCopy
	case elapsed <= 0:
		return eta{}, errNoInterval
	case b.Bytes == a.Bytes:
		return eta{}, errNoProgress
	}
	rate := float64(b.Bytes-a.Bytes) / elapsed.Seconds()
	remaining := time.Duration(float64(b.Total-b.Bytes) / rate * float64(time.Second))
	return eta{BytesPerSecond: rate, Remaining: remaining, At: second.At.Add(remaining)}, nil
}
