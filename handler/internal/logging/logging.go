// Package logging builds the process logger: zerolog JSON lines, debug and
// info to stdout and warn and above to stderr (the Functions host logs
// stdout lines as Information and stderr lines as Warning/Error), with every
// line scrubbed of secrets on its way out.
package logging

import (
	"io"
	"sync"

	"github.com/rs/zerolog"

	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// Field names every invocation's lines carry.
const (
	FieldInvocationID = "invocationId"
	FieldMessageID    = "messageId"
	FieldJobKey       = "jobKey"
	FieldFunction     = "function"
)

// splitWriter routes lines by level. zerolog writes one whole line per call.
type splitWriter struct {
	mu          sync.Mutex
	out, errOut io.Writer
}

func (w *splitWriter) Write(p []byte) (int, error) {
	return w.WriteLevel(zerolog.NoLevel, p)
}

func (w *splitWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	dst := w.out
	if level >= zerolog.WarnLevel && level != zerolog.NoLevel {
		dst = w.errOut
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := dst.Write(redact.Bytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// New returns a logger writing to out and errOut at level and above
// (debug, info, warn, error; anything else means info).
func New(out, errOut io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(&splitWriter{out: out, errOut: errOut}).Level(lvl).With().Timestamp().Logger()
}
