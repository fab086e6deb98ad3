package hostsim

import "errors"

// Sentinel errors; match with errors.Is.
var (
	// ErrInvalidConfig reports a configuration that Validate refused.
	ErrInvalidConfig = errors.New("hostsim: invalid configuration")
	// ErrNoEntity reports a queue, topic or subscription the broker lacks.
	ErrNoEntity = errors.New("hostsim: no such entity")
	// ErrLockLost reports settling a message whose lock expired or whose
	// lock token is unknown.
	ErrLockLost = errors.New("hostsim: message lock lost")
	// ErrInjected is the default error of an injected fault.
	ErrInjected = errors.New("hostsim: injected fault")
	// ErrNotSteppable reports RunUntilIdle on a host whose clock cannot be
	// set or whose sources are not the in-memory broker.
	ErrNotSteppable = errors.New("hostsim: RunUntilIdle needs a fake clock and broker sources")
	// ErrMaxSteps reports that RunUntilIdle hit IdleLimits.MaxSteps.
	ErrMaxSteps = errors.New("hostsim: max steps reached before idle")
	// ErrMaxSimulatedTime reports that RunUntilIdle would have moved the
	// clock past IdleLimits.MaxSimulatedTime.
	ErrMaxSimulatedTime = errors.New("hostsim: max simulated time reached before idle")
	// ErrHandlerStatus reports a non-2xx answer from the handler.
	ErrHandlerStatus = errors.New("hostsim: handler answered non-2xx")
	// ErrInvalidResponse reports a 2xx answer the real host could not read
	// (not JSON, or not a JSON object).
	ErrInvalidResponse = errors.New("hostsim: handler response is not a readable invocation result")
	// ErrProcessExited reports a child handler that exited before it was ready.
	ErrProcessExited = errors.New("hostsim: handler process exited")
	// ErrStartTimeout reports a child handler that did not answer GET / in time.
	ErrStartTimeout = errors.New("hostsim: handler process did not become ready")
)
