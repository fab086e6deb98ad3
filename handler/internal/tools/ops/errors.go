package ops

import (
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// scrubbed hides secrets in an error's text while keeping its chain for
// errors.Is/As: SDK errors may quote request URLs and connection strings.
type scrubbed struct{ err error }

func (s scrubbed) Error() string { return redact.Text(s.err.Error()) }
func (s scrubbed) Unwrap() error { return s.err }

// scrub wraps err so that printing it never shows a SAS or key.
func scrub(err error) error {
	if err == nil {
		return nil
	}
	return scrubbed{err}
}
