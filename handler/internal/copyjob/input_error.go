package copyjob

import (
	"errors"
	"fmt"
)

// InputCode classifies why a message was rejected.
type InputCode string

// Reasons a SnapshotCreated or CopyPoll message is rejected.
const (
	InputMalformed        InputCode = "MalformedMessage"
	InputTooLarge         InputCode = "MessageTooLarge"
	InputUnknownEventType InputCode = "UnknownEventType"
	InputMissingField     InputCode = "MissingField"
	InputInvalidField     InputCode = "InvalidField"
	InputNotAllowed       InputCode = "NotAllowed"
	InputInvalidSAS       InputCode = "InvalidSourceSas"
	// InputUnproven: a poll message whose claims Storage does not back
	// (another copy id, source or snapshot, or no destination at all).
	InputUnproven InputCode = "UnprovenPoll"
)

// InputError is a message that can never succeed, however often it is
// redelivered. It becomes a Rejected event.
type InputError struct {
	Code   InputCode
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Reason) }

func rejectf(code InputCode, format string, args ...any) *InputError {
	return &InputError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// AsInputError returns the InputError in err's chain, if any.
func AsInputError(err error) (*InputError, bool) {
	var ie *InputError
	ok := errors.As(err, &ie)
	return ie, ok
}
