package busemu

import "errors"

// Sentinel errors of the in-process API; match with errors.Is.
var (
	// ErrEntityNotFound means no queue, topic or subscription has that path.
	ErrEntityNotFound = errors.New("busemu: entity not found")
	// ErrEntityExists means an entity with that name already exists.
	ErrEntityExists = errors.New("busemu: entity already exists")
	// ErrInvalid wraps every configuration problem Validate reports.
	ErrInvalid = errors.New("busemu: invalid options")
	// ErrNotLoopback refuses listening anywhere but loopback.
	ErrNotLoopback = errors.New("busemu: address is not loopback")
	// ErrClosed means the broker was closed.
	ErrClosed = errors.New("busemu: broker closed")
	// errMalformed means bytes on the wire do not decode as AMQP.
	errMalformed = errors.New("busemu: malformed AMQP data")
)
