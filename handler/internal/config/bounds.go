package config

import (
	"fmt"
	"time"
)

// bound is the range a numeric setting must lie in, and why.
type bound[T int | time.Duration] struct {
	min, max T
	why      string
}

func (b bound[T]) check(name string, v T) error {
	if v < b.min || v > b.max {
		return fmt.Errorf("%s=%v is out of range: it must lie between %v and %v (%s)", name, v, b.min, b.max, b.why)
	}
	return nil
}

// Bounds of the numeric settings: what the services allow and what the
// handler can afford. The README's settings table shows them.
var (
	portBound = bound[int]{1, 65535, "a TCP port"}
	// A SnapshotCreated message is about 1 KiB with a SAS. Service Bus
	// carries 256 KiB per message on Standard and up to 100 MiB on Premium
	// (1 MiB unless raised); every invocation buffers up to 6 times the
	// limit (the host's escaping), so 1 MiB keeps a busy instance's memory
	// bounded while anything larger is junk that ends as a Rejected event.
	messageBytesBound = bound[int]{1024, 1 << 20, "a trigger is about 1 KiB; the invocation buffers 6 times this"}
	// No copy waits longer than its source could be authorized: a minted
	// SAS lives at most as long as a user delegation key.
	copyDeadlineBound = bound[time.Duration]{time.Minute, maxUserDelegationKey, "at most the longest SAS lifetime"}
	// A poll is scheduled at most this far ahead; the queues'
	// duplicate-detection window (one hour in infra) must cover it.
	pollDelayBound   = bound[time.Duration]{time.Second, time.Hour, "the queues' duplicate-detection window is an hour"}
	sasLifetimeBound = bound[time.Duration]{time.Minute, maxUserDelegationKey, "the user delegation key limit"}
	// Ten thousand restore points (27 years of dailies) is beyond any
	// real policy; 0 leaves a rule unused.
	retainBound = bound[int]{0, 10000, "0 leaves the rule unused"}
)

// maxUserDelegationKey is the service's limit on a user delegation key.
const maxUserDelegationKey = 7 * 24 * time.Hour
