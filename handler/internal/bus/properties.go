package bus

import (
	"strconv"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Application property names set by snapcopy.
const (
	propJobKey        = "snapcopyJobKey"
	propOutcome       = "snapcopyOutcome"
	propWaits         = "snapcopyWaits"
	propRetries       = "snapcopyRetries"
	propFirstDeferred = "snapcopyFirstDeferredAt"
)

func writeDeferState(props map[string]any, s copyjob.DeferState) {
	props[propWaits] = int64(s.Waits)
	props[propRetries] = int64(s.Retries)
	props[propFirstDeferred] = s.FirstAt.UTC().Format(time.RFC3339Nano)
}

// ReadDeferState recovers the deferral counters from a delivered message's
// application properties. The Functions host turns numbers into JSON
// numbers or strings, so both are accepted; anything else counts as zero.
func ReadDeferState(props map[string]any) copyjob.DeferState {
	var s copyjob.DeferState
	s.Waits = intProp(props[propWaits])
	s.Retries = intProp(props[propRetries])
	if v, ok := props[propFirstDeferred].(string); ok {
		s.FirstAt, _ = time.Parse(time.RFC3339Nano, v)
	}
	return s
}

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
