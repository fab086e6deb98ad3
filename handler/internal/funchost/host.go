package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// HostOptions configure a Host.
type HostOptions struct {
	// Broker holds the messages; its clock is the host's clock.
	Broker *Broker
	// BaseURL is the custom handler, e.g. http://127.0.0.1:PORT.
	BaseURL string
	// Client posts invocations. Default: a plain client.
	Client *http.Client
	// Functions maps function names to the entity their trigger reads.
	Functions map[string]string
	// MaxConcurrentCalls bounds invocations in flight per function. Default 16.
	MaxConcurrentCalls int
	// FunctionTimeout abandons an invocation that takes longer. Default 5 min.
	FunctionTimeout time.Duration
	// StringLayers is how often the body is string-encoded (1 or 2; the
	// host has been seen doing both). Default 1.
	StringLayers int
	// OnInvocation, when set, is told about every finished invocation.
	OnInvocation func(Invocation)
}

// Invocation is one finished call of the handler.
type Invocation struct {
	Function      string
	MessageID     string
	DeliveryCount int
	Status        int
	Err           error
	Completed     bool
	Duration      time.Duration
}

// Host delivers messages to a custom handler like the Functions host.
type Host struct {
	opts HostOptions
}

// NewHost returns a Host.
func NewHost(opts HostOptions) (*Host, error) {
	if opts.Broker == nil || opts.BaseURL == "" || len(opts.Functions) == 0 {
		return nil, fmt.Errorf("%w: Broker, BaseURL and Functions are required", ErrBadOptions)
	}
	for fn, entity := range opts.Functions {
		if _, ok := opts.Broker.queues[entity]; !ok {
			return nil, fmt.Errorf("%w: function %s reads %q: %s", ErrNoEntity, fn, entity, declareHint)
		}
	}
	if opts.StringLayers < 0 || opts.StringLayers > 2 {
		return nil, fmt.Errorf("%w: StringLayers must be 1 or 2", ErrBadOptions)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.MaxConcurrentCalls == 0 {
		opts.MaxConcurrentCalls = 16
	}
	if opts.FunctionTimeout == 0 {
		opts.FunctionTimeout = 5 * time.Minute
	}
	if opts.StringLayers == 0 {
		opts.StringLayers = 1
	}
	return &Host{opts: opts}, nil
}

// Dispatch delivers every message visible now, at most MaxConcurrentCalls
// at a time per function, waits for the answers and settles them. It
// returns how many invocations it made.
func (h *Host) Dispatch(ctx context.Context) int {
	var wg sync.WaitGroup
	total := 0
	names := make([]string, 0, len(h.opts.Functions))
	for fn := range h.opts.Functions {
		names = append(names, fn)
	}
	sort.Strings(names) // deterministic order on a fake clock
	for _, fn := range names {
		entity := h.opts.Functions[fn]
		slots := make(chan struct{}, h.opts.MaxConcurrentCalls)
		for ctx.Err() == nil {
			m, ok := h.opts.Broker.receive(entity)
			if !ok {
				break
			}
			total++
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				h.invoke(ctx, fn, entity, m)
			}()
		}
	}
	wg.Wait()
	return total
}

func (h *Host) invoke(ctx context.Context, fn, entity string, m *Message) {
	now := h.opts.Broker.opts.Clock.Now()
	id := uuid.NewString()
	rec := Invocation{Function: fn, MessageID: m.ID, DeliveryCount: m.DeliveryCount}
	started := time.Now()
	rec.Status, rec.Err = h.post(ctx, fn, m, now, id)
	rec.Duration = time.Since(started)
	rec.Completed = rec.Err == nil && rec.Status >= 200 && rec.Status < 300
	// A lost lock (the invocation outlived it) is the broker's business:
	// the message was already released.
	_ = h.opts.Broker.settle(entity, m.lockToken, rec.Completed)
	if h.opts.OnInvocation != nil {
		h.opts.OnInvocation(rec)
	}
}

func (h *Host) post(ctx context.Context, fn string, m *Message, now time.Time, id string) (int, error) {
	body, err := encodeInvocation(fn, m, h.opts.StringLayers, now, id)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.opts.FunctionTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.opts.BaseURL+"/"+fn, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", id)
	req.Header.Set("X-Azure-Functions-HostVersion", "4.1044.0")
	req.Header.Set("User-Agent", "Azure-Functions-Host/4.1044.0")
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	// The host fails a 2xx whose body is not JSON.
	if resp.StatusCode < 300 && !json.Valid(answer) {
		return resp.StatusCode, fmt.Errorf("2xx answer is not JSON: %.100q", answer)
	}
	return resp.StatusCode, nil
}

// Limits bound RunUntilIdle, so a chain that never ends is reported
// instead of running forever.
type Limits struct {
	// MaxRounds bounds dispatch rounds. Default 100000.
	MaxRounds int
	// MaxSimulated bounds how far the fake clock may move. Default 48 h.
	MaxSimulated time.Duration
}

// ErrNotIdle is returned when RunUntilIdle hits a limit.
var ErrNotIdle = fmt.Errorf("funchost: still busy at the limit")

// RunUntilIdle delivers messages and, whenever nothing is visible, moves
// the fake clock to the next scheduled message or lock expiry, until no
// message is left anywhere but in dead-letter queues and unread
// subscriptions (entities no function reads).
func (h *Host) RunUntilIdle(ctx context.Context, fake *clock.Fake, limits Limits) error {
	if limits.MaxRounds == 0 {
		limits.MaxRounds = 100000
	}
	if limits.MaxSimulated == 0 {
		limits.MaxSimulated = 48 * time.Hour
	}
	start := fake.Now()
	for round := 0; round < limits.MaxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.Dispatch(ctx) > 0 {
			continue
		}
		next, ok := h.nextDue()
		if !ok {
			return nil
		}
		if next.Sub(start) > limits.MaxSimulated {
			return fmt.Errorf("%w: next message due %s after start (limit %s)", ErrNotIdle, next.Sub(start), limits.MaxSimulated)
		}
		fake.Set(next)
	}
	return fmt.Errorf("%w: %d rounds", ErrNotIdle, limits.MaxRounds)
}

// nextDue is the broker's next due time among entities this host reads.
func (h *Host) nextDue() (time.Time, bool) {
	b := h.opts.Broker
	b.mu.Lock()
	defer b.mu.Unlock()
	var next time.Time
	found := false
	for _, entity := range h.opts.Functions {
		e := b.queues[entity]
		candidates := make([]time.Time, 0, len(e.locked)+1)
		if len(e.ready) > 0 {
			candidates = append(candidates, e.ready[0].EnqueuedAt)
		}
		for _, m := range e.locked {
			candidates = append(candidates, m.lockedUntil)
		}
		for _, t := range candidates {
			if !found || t.Before(next) {
				next, found = t, true
			}
		}
	}
	return next, found
}

// Run delivers messages on the real clock until ctx ends.
func (h *Host) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if h.Dispatch(ctx) > 0 {
			continue
		}
		wait := time.Hour
		if next, ok := h.nextDue(); ok {
			wait = max(time.Until(next), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.opts.Broker.Changed():
		case <-timer.C:
		}
	}
}
