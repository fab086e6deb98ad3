package storageemu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Chaos is a seeded random fault profile: the same seed and the same request
// sequence give the same faults.
type Chaos struct {
	// Seed makes the profile reproducible.
	Seed uint64
	// ErrorRate is the share (0-1) of requests answered with a transient
	// error the SDK retries: 503 ServerBusy, 500 InternalError or 500
	// OperationTimedOut.
	ErrorRate float64
	// MaxLatency bounds a random delay added to every request; 0 adds none.
	MaxLatency time.Duration
	// CopyFailRate is the share of incremental copies that fail part way.
	CopyFailRate float64
	// CopyStallRate is the share of incremental copies that stall part way.
	CopyStallRate float64
}

func (c Chaos) validate() error {
	for _, r := range []struct {
		name string
		rate float64
	}{{"ErrorRate", c.ErrorRate}, {"CopyFailRate", c.CopyFailRate}, {"CopyStallRate", c.CopyStallRate}} {
		if r.rate < 0 || r.rate > 1 {
			return fmt.Errorf("chaos: %s %v must be within [0, 1]", r.name, r.rate)
		}
	}
	if c.CopyFailRate+c.CopyStallRate > 1 {
		return errors.New("chaos: CopyFailRate + CopyStallRate must not exceed 1")
	}
	if c.MaxLatency < 0 {
		return fmt.Errorf("chaos: MaxLatency %v must not be negative", c.MaxLatency)
	}
	return nil
}

// chaosState draws from the seeded generator; faultTable's lock guards it.
type chaosState struct {
	Chaos
	rng *rand.Rand
}

func newChaosState(c Chaos) *chaosState {
	return &chaosState{Chaos: c, rng: rand.New(rand.NewPCG(c.Seed, c.Seed^0x5eed))}
}

var transientErrors = []*storageError{
	newError(http.StatusServiceUnavailable, "ServerBusy", "The server is currently unable to receive requests. Please retry your request."),
	newError(http.StatusInternalServerError, "InternalError", "The server encountered an internal error. Please retry the request."),
	newError(http.StatusInternalServerError, "OperationTimedOut", "The operation could not be completed within the permitted time."),
}

func (c *chaosState) request() (time.Duration, *storageError) {
	var latency time.Duration
	if c.MaxLatency > 0 {
		latency = time.Duration(c.rng.Int64N(int64(c.MaxLatency) + 1))
	}
	if c.rng.Float64() < c.ErrorRate {
		return latency, transientErrors[c.rng.IntN(len(transientErrors))]
	}
	return latency, nil
}

func (c *chaosState) copy(total int64) *copyFaultPlan {
	roll := c.rng.Float64()
	if roll >= c.CopyFailRate+c.CopyStallRate {
		return nil
	}
	at := c.rng.Int64N(total + 1)
	if roll < c.CopyFailRate {
		return &copyFaultPlan{fails: true, atBytes: at, description: "500 InternalError \"Chaos: copy failed.\""}
	}
	return &copyFaultPlan{atBytes: at}
}
