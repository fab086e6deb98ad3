package copyjob

import (
	"math"
	"strconv"
	"time"
)

// Deferred is a trigger to see again later: the producer's body unchanged,
// with the deferral counters in application properties.
type Deferred struct {
	Body          []byte
	ContentType   string
	CorrelationID string
	// Properties are the original application properties; deferral
	// counters are added to a copy.
	Properties map[string]any
	State      DeferState
	MessageID  string
	JobKey     string
}

// Application properties that carry a DeferState.
const (
	propWaits         = "snapcopyWaits"
	propRetries       = "snapcopyRetries"
	propFirstDeferred = "snapcopyFirstDeferredAt"
)

// SetProperties writes the counters into a deferred message's application
// properties.
func (s DeferState) SetProperties(props map[string]any) {
	props[propWaits] = int64(s.Waits)
	props[propRetries] = int64(s.Retries)
	props[propFirstDeferred] = s.FirstAt.UTC().Format(time.RFC3339Nano)
}

// ReadDeferState recovers the deferral counters from a delivered message's
// application properties. The Functions host turns numbers into JSON
// numbers or strings, so both are accepted; anything else counts as zero.
// Whoever sends the trigger writes these properties, so counts are held
// to [0, maxDeferCount]: a negative one, or one that overflows when
// counted on, would buy extra deferrals.
func ReadDeferState(props map[string]any) DeferState {
	var s DeferState
	s.Waits = min(max(0, intProp(props[propWaits])), maxDeferCount)
	s.Retries = min(max(0, intProp(props[propRetries])), maxDeferCount)
	if v, ok := props[propFirstDeferred].(string); ok {
		s.FirstAt, _ = time.Parse(time.RFC3339Nano, v)
	}
	return s
}

// maxDeferCount is far beyond any real count of deferrals (MaxWait over
// MinDelay) and far from overflowing.
const maxDeferCount = math.MaxInt32

func intProp(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int64:
		return int(n)
	case int:
		return n
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return 0
}
