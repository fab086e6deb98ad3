package config

// The Service Bus entities infra creates, written once: the settings default
// to them, and the stand-ins, `handler local` and the tests create and read
// them under these names.
const (
	DefaultTriggerQueue = "snapshot-created"
	DefaultPollQueue    = "copy-poll"
	DefaultEventsTopic  = "copy-events"
	// EventsSubscription is the events topic's catch-all subscription. The
	// handler never reads it; subscribers (the demo, the tests) do.
	EventsSubscription = "all"
	// DefaultRetentionSubscription receives only Completed events: the
	// Retention function's trigger.
	DefaultRetentionSubscription = "retention"
)

// DefaultEventTypePrefix is the default SNAPCOPY_EVENT_TYPE_PREFIX: outcome
// events are typed "<prefix>.Completed" and so on, and the message's
// Subject carries the type.
const DefaultEventTypePrefix = "Snapcopy.IncrementalCopy"
