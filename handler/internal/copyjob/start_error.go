package copyjob

import "fmt"

// StartErrorKind classifies why Incremental Copy Blob refused to start. The
// storage adapter maps service error codes to kinds; DecideStartError maps
// kinds to actions.
type StartErrorKind int

// Kinds of start failures.
const (
	// StartErrOther is a refusal no rule covers.
	StartErrOther StartErrorKind = iota
	// StartErrPending: a copy is already pending (PendingCopyOperation) —
	// for a redelivered trigger, that is our own copy.
	StartErrPending
	// StartErrEarlier: the snapshot is older than the last copied one
	// (all three spellings of the code).
	StartErrEarlier
	// StartErrConflict: the destination belongs to another source or is
	// not an incremental-copy page blob.
	StartErrConflict
	// StartErrChainBroken: the source was re-created or the previous
	// snapshot is gone.
	StartErrChainBroken
	// StartErrSourceDenied: the service could not read the source (bad,
	// expired or missing SAS; source missing; network rules).
	StartErrSourceDenied
	// StartErrInvalidSource: the source is not a usable page-blob snapshot.
	StartErrInvalidSource
	// StartErrTransient: throttling, timeouts, server errors, a race on
	// the destination, or RBAC not yet propagated: worth retrying later.
	StartErrTransient
)

// StartError is a classified failure to start a copy.
type StartError struct {
	Kind StartErrorKind
	// Code is the service error code (x-ms-error-code), if any.
	Code string
	// Status is the HTTP status, if any.
	Status int
	// Err is the underlying error; its text is never published unredacted.
	Err error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("incremental copy refused: %d %s: %v", e.Status, e.Code, e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// DecideStartError is what to do when the copy could not be started.
func DecideStartError(e *StartError) StartDecision {
	switch e.Kind {
	case StartErrPending:
		return StartDecision{Action: AlreadyPending}
	case StartErrEarlier:
		return StartDecision{Action: Supersede, Reason: "the service refused the snapshot as older than the last copied one (" + e.Code + ")"}
	case StartErrConflict:
		return StartDecision{Action: Fail, Code: DestinationConflict, Reason: "the service refused the destination (" + e.Code + "): it is bound to another source or is not an incremental-copy page blob"}
	case StartErrChainBroken:
		return StartDecision{Action: Fail, Code: ChainBroken, Reason: e.Code + ": " + ChainBrokenRemedy}
	case StartErrSourceDenied:
		return StartDecision{Action: Fail, Code: SourceUnauthorized, Reason: "the service could not read the source snapshot (" + e.Code + "): check that the snapshot exists, that the SAS is valid (sr=b, read, not expired) and that the source account's network rules admit the service"}
	case StartErrInvalidSource:
		return StartDecision{Action: Fail, Code: InvalidSource, Reason: "the service refused the source (" + e.Code + "): it must be a snapshot of a page blob that is not itself an incremental copy (managed-disk snapshots cannot be used)"}
	case StartErrTransient:
		code := RetriesExhausted
		if e.Code == "CannotVerifyCopySource" {
			code = SourceUnauthorized
		}
		return StartDecision{Action: RetryLater, Code: code, Reason: fmt.Sprintf("transient refusal %d %s", e.Status, e.Code)}
	default:
		return StartDecision{Action: Fail, Code: CopyRejected, Reason: fmt.Sprintf("the service refused the copy: %d %s", e.Status, e.Code)}
	}
}
