package funcproto

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Function handles one invocation and reports whether the message is done:
// true completes it (2xx), false abandons it (non-2xx: immediate
// redelivery, dead-letter after MaxDeliveryCount).
type Function func(ctx context.Context, inv Invocation) (complete bool)

// okBody is a valid, empty invocation response. The host logs nothing from
// it: our logs go to stdout/stderr, which the host keeps even on failure.
var okBody = []byte(`{"Outputs":{},"Logs":[],"ReturnValue":null}`)

// Server is the custom handler's HTTP server: GET / answers the host's
// readiness probe, POST /<FunctionName> invokes a function.
type Server struct {
	functions map[string]Function
	maxBytes  int64
	// OnPanic, when set, is told about a function that panicked; the
	// invocation is then answered 500 so the broker keeps the message
	// (and dead-letters it after MaxDeliveryCount if it always panics).
	OnPanic func(inv Invocation, recovered any)
}

// NewServer serves functions by name. Requests larger than maxBytes are not
// read past the limit; the function then sees ErrTooLarge.
func NewServer(functions map[string]Function, maxBytes int64) *Server {
	return &Server{functions: functions, maxBytes: maxBytes}
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
	inv := s.read(name, r)
	status := http.StatusInternalServerError
	if s.invoke(r.Context(), fn, inv) {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(okBody)
}

// invoke runs fn, turning a panic into "not complete".
func (s *Server) invoke(ctx context.Context, fn Function, inv Invocation) (complete bool) {
	defer func() {
		if p := recover(); p != nil {
			complete = false
			if s.OnPanic != nil {
				s.OnPanic(inv, p)
			}
		}
	}()
	return fn(ctx, inv)
}

func (s *Server) read(name string, r *http.Request) Invocation {
	id := r.Header.Get("X-Azure-Functions-InvocationId")
	payload, err := io.ReadAll(io.LimitReader(r.Body, s.maxBytes+1))
	if err != nil {
		return Invocation{Function: name, InvocationID: id, Body: payload, DecodeErr: err}
	}
	if int64(len(payload)) > s.maxBytes {
		// Too large to decode, but its MessageId still names it: skim the
		// whole request for it, in constant memory.
		meta := skimMetadata(io.MultiReader(bytes.NewReader(payload), r.Body))
		return Invocation{Function: name, InvocationID: id, Body: payload[:s.maxBytes], DecodeErr: ErrTooLarge,
			MessageID: metaString(meta["MessageId"]), DeliveryCount: int(metaInt(meta["DeliveryCount"]))}
	}
	return Decode(name, id, payload)
}

// ListenAddress is the address for FUNCTIONS_CUSTOMHANDLER_PORT: loopback
// only, because the host connects to 127.0.0.1.
func ListenAddress(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
