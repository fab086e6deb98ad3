package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Sentinel errors.
var (
	// ErrInvalid wraps every problem NewHost finds in its options.
	ErrInvalid = errors.New("funchost: invalid options")
	// ErrLockLost: the message was not received by this source, or was
	// settled already.
	ErrLockLost = errors.New("funchost: lock token unknown or expired")
)

// HostOptions configure a Host.
type HostOptions struct {
	// Functions maps function names to their trigger's source.
	Functions map[string]Source
	// BaseURL is the custom handler, e.g. http://127.0.0.1:PORT.
	BaseURL string
	// Clock stamps the invocation metadata. Default: the real clock.
	Clock clock.Clock
	// Client posts invocations. Default: a plain client.
	Client *http.Client
	// MaxConcurrentCalls bounds invocations in flight per function. Default 16.
	MaxConcurrentCalls int
	// FunctionTimeout abandons an invocation that takes longer. Default 5 min.
	FunctionTimeout time.Duration
	// StringLayers is how often the body is string-encoded (1 or 2; the
	// host has been seen doing both). Default 1.
	StringLayers int
	// OnInvocation, when set, is told about every finished invocation.
	OnInvocation func(InvocationResult)
}

// InvocationResult is one finished call of the handler: what the host saw
// and how it settled the message.
type InvocationResult struct {
	Function      string
	MessageID     string
	DeliveryCount int
	Status        int
	Err           error
	// Settlement is what the host made of the answer: Complete for a 2xx
	// with a JSON body, Retry for anything else.
	Settlement copyjob.Settlement
	Duration   time.Duration
}

// Host delivers messages to a custom handler like the Functions host.
type Host struct {
	opts  HostOptions
	names []string // function names, sorted: a deterministic order on a fake clock
	slots map[string]chan struct{}
}

// NewHost returns a Host.
func NewHost(opts HostOptions) (*Host, error) {
	if opts.BaseURL == "" || len(opts.Functions) == 0 {
		return nil, fmt.Errorf("%w: BaseURL and Functions are required", ErrInvalid)
	}
	if opts.StringLayers < 0 || opts.StringLayers > 2 || opts.MaxConcurrentCalls < 0 || opts.FunctionTimeout < 0 {
		return nil, fmt.Errorf("%w: StringLayers must be 1 or 2; MaxConcurrentCalls and FunctionTimeout must not be negative", ErrInvalid)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
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
	h := &Host{opts: opts, slots: map[string]chan struct{}{}}
	for fn, src := range opts.Functions {
		if src == nil {
			return nil, fmt.Errorf("%w: function %s has no source", ErrInvalid, fn)
		}
		h.names = append(h.names, fn)
		h.slots[fn] = make(chan struct{}, opts.MaxConcurrentCalls)
	}
	sort.Strings(h.names)
	return h, nil
}

// settleTimeout bounds completing or abandoning one message.
const settleTimeout = 30 * time.Second

// Dispatch delivers every message available now, at most
// MaxConcurrentCalls at a time per function, waits for the answers and
// settles them. It returns how many invocations it made.
func (h *Host) Dispatch(ctx context.Context) (int, error) {
	var wg sync.WaitGroup
	defer wg.Wait()
	total := 0
	for _, fn := range h.names {
		for {
			n := h.takeSlots(ctx, fn)
			if n == 0 {
				return total, ctx.Err()
			}
			msgs, err := h.opts.Functions[fn].Receive(ctx, n, false)
			h.start(ctx, &wg, fn, msgs, n)
			total += len(msgs)
			if err != nil {
				return total, fmt.Errorf("receive for %s: %w", fn, err)
			}
			if len(msgs) == 0 {
				break
			}
		}
	}
	return total, nil
}

// takeSlots waits for one free invocation slot of fn and takes every other
// free one too, so one receive fetches as many messages as may run.
func (h *Host) takeSlots(ctx context.Context, fn string) int {
	slots := h.slots[fn]
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < cap(slots) {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// start invokes fn for each message, each in its own slot, and gives back
// the slots it did not need.
func (h *Host) start(ctx context.Context, wg *sync.WaitGroup, fn string, msgs []*Message, taken int) {
	slots := h.slots[fn]
	for i := len(msgs); i < taken; i++ {
		<-slots
	}
	for _, m := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			h.invoke(ctx, fn, m)
		}()
	}
}

func (h *Host) invoke(ctx context.Context, fn string, m *Message) {
	id := uuid.NewString()
	rec := InvocationResult{Function: fn, MessageID: m.ID, DeliveryCount: m.DeliveryCount}
	started := time.Now()
	rec.Status, rec.Err = h.post(ctx, fn, m, h.opts.Clock.Now(), id)
	rec.Duration = time.Since(started)
	rec.Settlement = copyjob.Retry
	if rec.Err == nil && rec.Status >= 200 && rec.Status < 300 {
		rec.Settlement = copyjob.Complete
	}
	// A lost lock (the invocation outlived it) is the broker's business:
	// the message was already released. Settling outlives a stopping host,
	// within a bound.
	settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	_ = h.opts.Functions[fn].Settle(settleCtx, m, rec.Settlement)
	cancel()
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
		n, err := h.Dispatch(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
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

// nextDue is the earliest moment a source has something new.
func (h *Host) nextDue() (time.Time, bool) {
	var next time.Time
	found := false
	for _, fn := range h.names {
		if t, ok := h.opts.Functions[fn].NextDue(); ok && (!found || t.Before(next)) {
			next, found = t, true
		}
	}
	return next, found
}

// Run delivers messages until ctx ends or a source fails, each function's
// listener blocking in its source like the host's Service Bus extension.
func (h *Host) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, fn := range h.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.listen(ctx, &wg, fn); err != nil {
				cancel(fmt.Errorf("receive for %s: %w", fn, err))
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// Start runs the host in the background until the returned stop is
// called; stop waits for it to end. onStop hears why the host stopped on its
// own before that (a source failed): a test or demo goes on without a host
// otherwise.
func (h *Host) Start(ctx context.Context, onStop func(error)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.Run(ctx); ctx.Err() == nil {
			onStop(err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// listen receives for fn until ctx ends (nil) or its source fails.
func (h *Host) listen(ctx context.Context, wg *sync.WaitGroup, fn string) error {
	for {
		n := h.takeSlots(ctx, fn)
		if n == 0 {
			return nil
		}
		msgs, err := h.opts.Functions[fn].Receive(ctx, n, true)
		h.start(ctx, wg, fn, msgs, n)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
