package ops

import (
	"errors"

	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// ErrUsage marks an error already explained on stderr (bad flags, -h).
var ErrUsage = errors.New("usage")

// scrubbed hides secrets in an error's text while keeping its chain for
// errors.Is/As: SDK errors may quote request URLs and connection strings.
type scrubbed struct{ err error }

func (s scrubbed) Error() string { return redact.Text(s.err.Error()) }
func (s scrubbed) Unwrap() error { return s.err }

// scrub wraps err so that printing it never shows a SAS or key.
func scrub(err error) error {
	if err == nil || errors.Is(err, ErrUsage) {
		return err
	}
	return scrubbed{err}
}
