package hostsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrFunctionTimeout reports an invocation that outlived FunctionTimeout.
var ErrFunctionTimeout = errors.New("hostsim: function timeout")

// Bounds on work the host does around an invocation.
const (
	// maxResponseBytes caps how much of an answer is read.
	maxResponseBytes = 16 << 20
	// settleTimeout bounds a complete or abandon, which must run even
	// when the invocation's context has ended.
	settleTimeout = 30 * time.Second
)

// Invocation is one finished call of the handler and its settlement.
type Invocation struct {
	Function     string
	InvocationID string
	MessageID    string
	// DeliveryCount of the message in this delivery (1 = first).
	DeliveryCount int
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	// Logs are the answer's Logs (recorded only on success, like the host).
	Logs []string
	// Err says why the invocation failed (ErrHandlerStatus,
	// ErrInvalidResponse, ErrFunctionTimeout, or a connection error).
	Err error
	// Completed is true when the message was completed, false when abandoned.
	Completed bool
	// SettleErr is set when the complete or abandon itself failed (for
	// example ErrLockLost).
	SettleErr error
	// Duration is the wall time of the HTTP call.
	Duration time.Duration
}

// Host delivers Service Bus messages to a custom handler the way the
// Functions host does.
type Host struct {
	cfg HostConfig
	mu  sync.Mutex
	rng *rand.Rand
}

// NewHost checks cfg and returns a Host.
func NewHost(cfg HostConfig) (*Host, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return &Host{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x696e766f6b65))}, nil
}

// invoke posts the invocation and judges the answer.
func (h *Host) invoke(ctx context.Context, fn Function, d *Delivery, invocationID string) Invocation {
	inv := Invocation{Function: fn.Name, InvocationID: invocationID, MessageID: d.Message.MessageID, DeliveryCount: d.Message.DeliveryCount}
	body, err := encodeInvocation(&d.Message, invocationContext{
		function: fn.Name, invocationID: invocationID, now: h.cfg.Clock.Now(),
		layers: h.cfg.StringLayers, namespace: h.cfg.Namespace,
	})
	if err != nil {
		inv.Err = fmt.Errorf("encode invocation: %w", err)
		return inv
	}
	callCtx, cancel := context.WithTimeout(ctx, h.cfg.FunctionTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, h.cfg.URL+"/"+fn.Name, bytes.NewReader(body))
	if err != nil {
		inv.Err = err
		return inv
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-Azure-Functions-InvocationId", invocationID)
	req.Header.Set("X-Azure-Functions-HostVersion", h.cfg.HostVersion)
	req.Header.Set("User-Agent", "Azure-Functions-Host/"+h.cfg.HostVersion)
	start := time.Now()
	defer func() { inv.Duration = time.Since(start) }()
	resp, err := h.cfg.Client.Do(req)
	if err != nil {
		inv.Err = h.callError(ctx, callCtx, err)
		return inv
	}
	defer resp.Body.Close()
	inv.Status = resp.StatusCode
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		inv.Err = h.callError(ctx, callCtx, err)
		return inv
	}
	inv.Logs, inv.Err = readResult(resp.StatusCode, resp.Header.Get("Content-Type"), answer)
	return inv
}

// callError names a timeout as such rather than as a context error.
func (h *Host) callError(ctx, callCtx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v): %w", ErrFunctionTimeout, h.cfg.FunctionTimeout, err)
	}
	return err
}

// settle completes a successful invocation's message and abandons any
// other, like the host with autoCompleteMessages.
func (h *Host) settle(ctx context.Context, fn Function, d *Delivery, inv *Invocation) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if inv.Err == nil {
		inv.SettleErr = fn.Source.Complete(ctx, d)
		inv.Completed = inv.SettleErr == nil
	} else {
		inv.SettleErr = fn.Source.Abandon(ctx, d)
	}
}

// report runs the hooks for a settled invocation.
func (h *Host) report(fn Function, d *Delivery, inv Invocation) {
	if h.cfg.OnInvocation != nil {
		h.cfg.OnInvocation(inv)
	}
	if inv.Completed && h.cfg.OnCompleted != nil {
		h.cfg.OnCompleted(fn.Name, d.Message)
	}
}

// invocationID draws a fresh GUID from the seeded generator.
func (h *Host) invocationID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return formatGUID(h.rng.Uint64(), h.rng.Uint64())
}
