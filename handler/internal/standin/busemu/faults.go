package busemu

import (
	"slices"
	"time"
)

// Operation names a broker operation a Fault can target.
type Operation string

// Operations faults can target.
const (
	OpSend            Operation = "send"             // a message or batch sent to a queue/topic
	OpSchedule        Operation = "schedule"         // com.microsoft:schedule-message
	OpCancelScheduled Operation = "cancel-scheduled" // com.microsoft:cancel-scheduled-message
	OpReceive         Operation = "receive"          // attaching a receiver to a queue/subscription
	OpComplete        Operation = "complete"         // Accepted on a received message
	OpAbandon         Operation = "abandon"          // Modified or Released
	OpDeadLetter      Operation = "dead-letter"      // Rejected
	OpPutToken        Operation = "put-token"        // $cbs put-token
	OpRenewLock       Operation = "renew-lock"       // com.microsoft:renew-lock
	OpPeek            Operation = "peek"             // com.microsoft:peek-message
	OpManagement      Operation = "management"       // any other $management operation
)

// Fault changes how the broker answers matching operations.
type Fault struct {
	// Op is the operation to affect.
	Op Operation
	// Entity limits the fault to one entity path (e.g. "copy-poll",
	// "copy-events/subscriptions/all"); "" matches every entity.
	Entity string
	// Condition, when set, refuses the operation with this AMQP error
	// condition (e.g. CondServerBusy); RPCs answer the matching status code.
	Condition string
	// Description accompanies Condition.
	Description string
	// Delay answers the operation this much later (wall-clock time).
	Delay time.Duration
	// DropConnection closes the client's connection instead of answering.
	DropConnection bool
	// Times is how many matching operations are affected; 0 means all until removed.
	Times int
}

type faultRule struct {
	Fault
	used int
}

// InjectFault makes matching operations fail or slow down; call the
// returned function to remove it.
func (b *Broker) InjectFault(f Fault) (remove func()) {
	f.Entity = normalizePath(f.Entity)
	r := &faultRule{Fault: f}
	b.mu.Lock()
	b.faults = append(b.faults, r)
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		b.faults = slices.DeleteFunc(b.faults, func(x *faultRule) bool { return x == r })
		b.mu.Unlock()
	}
}

// FaultsFired counts the operations of kind op that an injected fault
// refused, delayed or dropped, so that a test can check its faults fired.
func (b *Broker) FaultsFired(op Operation) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faultsFired[op]
}

// ClearFaults removes every injected fault.
func (b *Broker) ClearFaults() {
	b.mu.Lock()
	b.faults = nil
	b.mu.Unlock()
}

// takeFault returns the first fault matching op on entity, consuming one of
// its Times. Caller holds b.mu.
func (b *Broker) takeFault(op Operation, entity string) *Fault {
	for i, r := range b.faults {
		if r.Op != op || (r.Entity != "" && r.Entity != entity) {
			continue
		}
		r.used++
		b.faultsFired[op]++
		if r.Times > 0 && r.used >= r.Times {
			b.faults = slices.Delete(b.faults, i, i+1)
		}
		f := r.Fault
		return &f
	}
	return nil
}

// withFault runs an operation now, later, or not at all, as the matching
// fault says; run gets the refusal to answer with, nil to proceed.
// Caller holds b.mu; a delayed run takes it again.
func (c *conn) withFault(op Operation, entity string, run func(refusal *amqpError)) {
	f := c.b.takeFault(op, entity)
	if f == nil {
		run(nil)
		return
	}
	if f.DropConnection {
		c.drop()
		return
	}
	var refusal *amqpError
	if f.Condition != "" {
		refusal = &amqpError{Condition: Symbol(f.Condition), Description: f.Description}
	}
	if f.Delay <= 0 {
		run(refusal)
		return
	}
	time.AfterFunc(f.Delay, func() {
		c.b.mu.Lock()
		defer c.b.mu.Unlock()
		if !c.gone {
			run(refusal)
		}
	})
}

func managementFault(op string) Operation {
	switch op {
	case opSchedule:
		return OpSchedule
	case opCancelScheduled:
		return OpCancelScheduled
	case opRenewLock:
		return OpRenewLock
	case opPeek:
		return OpPeek
	}
	return OpManagement
}
