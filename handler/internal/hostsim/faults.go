package hostsim

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// Operation names a broker operation that faults can target.
type Operation string

// Operations that FailNext can target.
const (
	// OpSend is Broker.Send and Sender.SendMessage.
	OpSend Operation = "send"
	// OpSchedule is Broker.Schedule and Sender.ScheduleMessages.
	OpSchedule Operation = "schedule"
)

type fault struct {
	op     Operation
	entity string
	left   int
	err    error
}

// FailNext makes the next n calls of op on entity ("" = any entity) fail
// with err. A nil err fails with ErrInjected joined with an
// *azservicebus.Error of code CodeConnectionLost, which is what the SDK
// returns once its retries are spent, so code that classifies SDK errors
// sees the real thing. Faults are checked in the order they were added.
func (b *Broker) FailNext(op Operation, entity string, n int, err error) {
	if err == nil {
		err = errors.Join(ErrInjected, &azservicebus.Error{Code: azservicebus.CodeConnectionLost})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, &fault{op: op, entity: entity, left: n, err: err})
}

// injected consumes a matching fault. Callers hold b.mu.
func (b *Broker) injected(op Operation, entity string) error {
	for i, f := range b.faults {
		if f.op != op || (f.entity != "" && f.entity != entity) {
			continue
		}
		f.left--
		if f.left <= 0 {
			b.faults = append(b.faults[:i], b.faults[i+1:]...)
		}
		return fmt.Errorf("%s %s: %w", op, entity, f.err)
	}
	return nil
}
