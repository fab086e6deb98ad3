package copyjob

// Settlement is the answer to the Functions host for one message. A custom
// handler can only complete (2xx) or abandon (non-2xx, which redelivers at
// once and dead-letters after MaxDeliveryCount), so the rule is:
//
//   - Complete when the job is finished, its next step is durably scheduled,
//     or the input was turned into a Rejected/Failed event.
//   - Retry only when nothing durable could be written (Service Bus
//     unreachable), so that the broker keeps the message.
//
// The zero value is neither: whoever turns it into an answer must treat it
// as Retry, so a settlement nobody set never loses a message.
type Settlement int

// Settlements.
const (
	Complete Settlement = iota + 1
	Retry
)

// Settle applies the rule: a message is complete exactly when what it asked
// for has been carried out or durably handed on.
func Settle(durableErr error) Settlement {
	if durableErr != nil {
		return Retry
	}
	return Complete
}

func (s Settlement) String() string {
	if s == Complete {
		return "complete"
	}
	return "retry"
}
