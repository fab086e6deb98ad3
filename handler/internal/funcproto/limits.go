package funcproto

import (
	"math"
	"net/http"
	"time"
)

// Limits bound what one request may cost the server. The host sends small
// headers and its whole body at once over loopback, so a request slower or
// larger than these is a stalled or hostile client. Zero fields take the
// defaults.
type Limits struct {
	// HeaderTimeout bounds reading a request's line and headers. Default 10s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds reading a request's body, from the end of its
	// headers. Default 30s: with HeaderTimeout, well inside the
	// invocation's own bound (2 minutes), so a stalled body never holds a
	// connection longer than an invocation may run.
	BodyTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers. Default 64 KiB;
	// the host sends a few hundred bytes.
	MaxHeaderBytes int
	// IdleTimeout closes a keep-alive connection idle this long. Default 2m.
	IdleTimeout time.Duration
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = 10 * time.Second
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = 30 * time.Second
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 2 * time.Minute
	}
	return l
}

// DefaultLimits are the limits of a zero Limits.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

// HTTPServer returns an http.Server serving s within s.Limits. The body
// deadline is set per request by s itself: http.Server's ReadTimeout would
// also cut the connection's background read while a function runs, which
// cancels the request's context mid-invocation.
func (s *Server) HTTPServer() *http.Server {
	l := s.Limits.withDefaults()
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: l.HeaderTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		IdleTimeout:       l.IdleTimeout,
	}
}

// envelopeOverhead is room for the host's metadata around a message body.
const envelopeOverhead = 64 << 10

// PayloadLimit is the request size to read for messages of up to
// maxMessageBytes: the host's envelope escapes the body (up to 6 bytes per
// byte, for control characters) and adds metadata. It saturates instead of
// overflowing.
func PayloadLimit(maxMessageBytes int) int64 {
	n := max(int64(maxMessageBytes), 0)
	if n > (math.MaxInt64-envelopeOverhead)/6 {
		return math.MaxInt64
	}
	return n*6 + envelopeOverhead
}
