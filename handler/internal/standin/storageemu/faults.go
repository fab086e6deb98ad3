package storageemu

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Fault scripts the answer to matching requests, for tests and --chaos.
type Fault struct {
	// Op is the operation to match; "" matches all.
	Op Operation
	// Account to match; "" matches all.
	Account string
	// Path is "container" or "container/blob" to match exactly; "" matches all.
	Path string
	// Times is how many matching requests the fault affects; 0 means until removed.
	Times int
	// Status is the HTTP status to answer instead of serving; 0 serves normally
	// (after Latency).
	Status int
	// Code is the x-ms-error-code answered with Status.
	Code string
	// Message is the error message; default "Injected fault.".
	Message string
	// Latency is waited (through Options.Sleep) before answering.
	Latency time.Duration
}

// CopyFault makes copies (Copy Blob and Incremental Copy Blob) to matching
// destinations end badly.
type CopyFault struct {
	// Account and Path ("container/blob") of the destination; "" matches all.
	Account, Path string
	// Stall holds the copy pending with its progress frozen at AtBytes
	// instead of failing it there.
	Stall bool
	// AtBytes is how many bytes the copy moves before the fault strikes
	// (capped at the copy's total).
	AtBytes int64
	// Description is the x-ms-copy-status-description of the failed copy.
	Description string
	// Times is how many copies the fault affects; 0 means until removed.
	Times int
}

// copyFaultPlan is the fault one copy carries.
type copyFaultPlan struct {
	fails       bool
	atBytes     int64
	description string
}

type faultRule struct {
	Fault
	left int // remaining matches when Times > 0
}

type copyFaultRule struct {
	CopyFault
	left int
}

// FaultCounts say how often faults struck, so that a test can check that
// the faults it injected fired.
type FaultCounts struct {
	// Requests counts requests a Fault answered with an error or delayed.
	Requests int
	// Copies counts copies a CopyFault failed or stalled.
	Copies int
	// ChaosErrors counts requests chaos answered with an error;
	// ChaosCopies the copies it failed or stalled.
	ChaosErrors, ChaosCopies int
}

// faultTable holds the injected faults; it has its own lock so that latency
// is waited without holding the emulator's state lock.
type faultTable struct {
	mu     sync.Mutex
	rules  []*faultRule
	copies []*copyFaultRule
	chaos  *chaosState
	fired  FaultCounts
}

func newFaultTable(c *Chaos) *faultTable {
	t := &faultTable{}
	if c != nil {
		t.chaos = newChaosState(*c)
	}
	return t
}

// InjectFault adds a request fault; the returned func removes it.
func (e *Emulator) InjectFault(f Fault) (remove func()) {
	return addRule(&e.faults.mu, &e.faults.rules, &faultRule{Fault: f, left: f.Times})
}

// InjectCopyFault adds a copy fault, applied to copies started from now on;
// the returned func removes it.
func (e *Emulator) InjectCopyFault(f CopyFault) (remove func()) {
	return addRule(&e.faults.mu, &e.faults.copies, &copyFaultRule{CopyFault: f, left: f.Times})
}

// addRule appends r to the rules mu guards and returns the func that
// removes it again.
func addRule[R any](mu *sync.Mutex, rules *[]*R, r *R) (remove func()) {
	mu.Lock()
	defer mu.Unlock()
	*rules = append(*rules, r)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		*rules = slices.DeleteFunc(*rules, func(x *R) bool { return x == r })
	}
}

// FaultCounts says how often faults and chaos struck since New.
func (e *Emulator) FaultCounts() FaultCounts {
	t := e.faults
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fired
}

// ClearFaults removes every injected fault (chaos stays on).
func (e *Emulator) ClearFaults() {
	t := e.faults
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rules, t.copies = nil, nil
}

// before applies the first matching fault and chaos to a request: it waits
// the latency and returns the error to answer, or nil to serve normally.
func (t *faultTable) before(ctx context.Context, op Operation, tg target, sleep func(context.Context, time.Duration) error) *storageError {
	latency, answer := t.pick(op, tg)
	if latency > 0 {
		if err := sleep(ctx, latency); err != nil {
			return newError(http.StatusInternalServerError, "OperationTimedOut", "The operation could not be completed within the permitted time.")
		}
	}
	return answer
}

func (t *faultTable) pick(op Operation, tg target) (time.Duration, *storageError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range t.rules {
		if !matches(r.Op == "" || r.Op == op, r.Account, r.Path, tg) {
			continue
		}
		if r.Times > 0 {
			if r.left--; r.left == 0 {
				t.rules = slices.Delete(t.rules, i, i+1)
			}
		}
		var answer *storageError
		if r.Status != 0 {
			msg := r.Message
			if msg == "" {
				msg = "Injected fault."
			}
			answer = newError(r.Status, r.Code, msg)
		}
		if answer != nil || r.Latency > 0 {
			t.fired.Requests++
		}
		return r.Latency, answer
	}
	if t.chaos != nil {
		latency, answer := t.chaos.request()
		if answer != nil {
			t.fired.ChaosErrors++
		}
		return latency, answer
	}
	return 0, nil
}

// copyPlan picks the fault a new copy to tg carries, nil for none.
func (t *faultTable) copyPlan(tg target, total int64) *copyFaultPlan {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range t.copies {
		if !matches(true, r.Account, r.Path, tg) {
			continue
		}
		if r.Times > 0 {
			if r.left--; r.left == 0 {
				t.copies = slices.Delete(t.copies, i, i+1)
			}
		}
		description := r.Description
		if description == "" && !r.Stall {
			description = "500 InternalError \"Injected copy failure.\""
		}
		t.fired.Copies++
		return &copyFaultPlan{fails: !r.Stall, atBytes: r.AtBytes, description: description}
	}
	if t.chaos != nil {
		plan := t.chaos.copy(total)
		if plan != nil {
			t.fired.ChaosCopies++
		}
		return plan
	}
	return nil
}

func matches(opOK bool, account, path string, tg target) bool {
	return opOK && (account == "" || account == tg.account) && (path == "" || path == tg.path())
}
