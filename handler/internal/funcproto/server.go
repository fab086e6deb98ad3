package funcproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Function handles one invocation and says how the host should settle its
// message (see StatusOf).
type Function func(ctx context.Context, inv Invocation) copyjob.Settlement

// StatusOf is the HTTP status that tells the host a settlement: 2xx
// completes the message, anything else abandons it (immediate redelivery,
// dead-letter after MaxDeliveryCount). A settlement nobody set abandons.
func StatusOf(s copyjob.Settlement) int {
	if s == copyjob.Complete {
		return http.StatusOK
	}
	return http.StatusInternalServerError
}

// okBody is a valid, empty invocation response. The host logs nothing from
// it: our logs go to stdout/stderr, which the host keeps even on failure.
var okBody = []byte(`{"Outputs":{},"Logs":[],"ReturnValue":null}`)

// ErrBodyStalled and ErrClientGone tell why a request was lost: its body
// did not arrive within Limits.BodyTimeout, or the host closed the
// connection before the exchange ended. Neither is a failure of the
// message: the broker redelivers it.
var (
	ErrBodyStalled = errors.New("the request body stalled past its read deadline")
	ErrClientGone  = errors.New("the host went away mid-request")
)

// Server is the custom handler's HTTP server: GET / answers the host's
// readiness probe, POST /<FunctionName> invokes a function.
type Server struct {
	functions map[string]Function
	maxBytes  int64
	// Limits bound each request; see HTTPServer.
	Limits Limits
	// OnPanic, when set, is told about a function that panicked; the
	// invocation is then answered 500 so the broker keeps the message
	// (and dead-letters it after MaxDeliveryCount if it always panics).
	OnPanic func(inv Invocation, recovered any)
	// OnRequestLost, when set, is told about a request whose body could
	// not be read (the function is not invoked and the request is answered
	// non-2xx) or whose host went away before the answer; err wraps
	// ErrBodyStalled or ErrClientGone.
	OnRequestLost func(inv Invocation, err error)
}

// NewServer serves functions by name. Requests larger than maxBytes are not
// read past the limit; the function then sees ErrTooLarge. A negative limit
// counts as 0 and a limit past what a byte count can hold is capped, so no
// setting makes the server misbehave.
func NewServer(functions map[string]Function, maxBytes int64) *Server {
	return &Server{functions: functions, maxBytes: min(max(maxBytes, 0), math.MaxInt64-1)}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if r.Method == http.MethodGet && name == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	fn, ok := s.functions[name]
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "no function "+name, http.StatusNotFound)
		return
	}
	inv, err := s.read(name, w, r)
	if err != nil {
		s.lost(inv, err)
		// Whatever else the client sends is no request: close, rather
		// than read on for the next one.
		w.Header().Set("Connection", "close")
		status := http.StatusBadRequest
		if errors.Is(err, ErrBodyStalled) {
			status = http.StatusRequestTimeout
		}
		http.Error(w, "request body not read", status)
		return
	}
	// The function's work outlives a host that hangs up: it is bounded by
	// its own timeout, and what it writes makes the redelivery cheap.
	status := StatusOf(s.invoke(context.WithoutCancel(r.Context()), fn, inv))
	if r.Context().Err() != nil {
		s.lost(inv, fmt.Errorf("%w before the answer", ErrClientGone))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(okBody)
}

func (s *Server) lost(inv Invocation, err error) {
	if s.OnRequestLost != nil {
		s.OnRequestLost(inv, err)
	}
}

// invoke runs fn, turning a panic into Retry.
func (s *Server) invoke(ctx context.Context, fn Function, inv Invocation) (settlement copyjob.Settlement) {
	defer func() {
		if p := recover(); p != nil {
			settlement = copyjob.Retry
			if s.OnPanic != nil {
				s.OnPanic(inv, p)
			}
		}
	}()
	return fn(ctx, inv)
}

// read reads and decodes the request within Limits.BodyTimeout. The error
// is set only when the body could not be read whole (ErrBodyStalled,
// ErrClientGone); a body that is read but not understood is the function's
// to reject, through DecodeErr.
func (s *Server) read(name string, w http.ResponseWriter, r *http.Request) (Invocation, error) {
	inv := Invocation{Function: name, InvocationID: r.Header.Get("X-Azure-Functions-InvocationId")}
	// Not every ResponseWriter has deadlines (test recorders): then the
	// body is read unbounded, as any http.Handler would.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.Limits.withDefaults().BodyTimeout))
	body := &readErrors{r: r.Body}
	payload, _ := io.ReadAll(io.LimitReader(body, s.maxBytes+1))
	if int64(len(payload)) > s.maxBytes {
		// Too large to decode, but its MessageId still names it: skim the
		// whole request for it, in constant memory.
		meta := skimMetadata(io.MultiReader(bytes.NewReader(payload), body))
		inv.Body, inv.DecodeErr = payload[:s.maxBytes], ErrTooLarge
		inv.MessageID, inv.DeliveryCount = metaString(meta["MessageId"]), int(metaInt(meta["DeliveryCount"]))
	} else if body.err == nil {
		inv = Decode(name, inv.InvocationID, payload)
	}
	if err := body.err; err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return inv, fmt.Errorf("%w: %w", ErrBodyStalled, err)
		}
		return inv, fmt.Errorf("%w: %w", ErrClientGone, err)
	}
	// The body is in; the deadline must not cut the connection's idle
	// read while the function runs (that would end the request's context).
	_ = rc.SetReadDeadline(time.Time{})
	return inv, nil
}

// readErrors keeps the first error other than io.EOF that reading r met.
type readErrors struct {
	r   io.Reader
	err error
}

func (e *readErrors) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// ListenAddress is the address for FUNCTIONS_CUSTOMHANDLER_PORT: loopback
// only, because the host connects to 127.0.0.1.
func ListenAddress(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
