// Package config turns app settings (environment variables) into a validated
// Config. Every setting name the program reads is declared here, so
// function.json, host.json, local.settings.json.example and infra can be
// checked against one list.
package config

// App setting names.
const (
	// SettingPort is set by the Functions host: the port to listen on.
	SettingPort = "FUNCTIONS_CUSTOMHANDLER_PORT"

	// SettingServiceBusConnection is the binding's connection name. Its value
	// is a connection string (local stand-ins, key-based namespaces); for
	// managed identity set SettingServiceBusNamespace instead.
	SettingServiceBusConnection = "ServiceBusConnection"
	// SettingServiceBusNamespace is the identity-based form used by the
	// trigger binding and, reused here, by the handler's own client.
	SettingServiceBusNamespace = "ServiceBusConnection__fullyQualifiedNamespace"

	// SettingTriggerQueue is the queue of SnapshotCreated messages.
	SettingTriggerQueue = "SNAPCOPY_TRIGGER_QUEUE"
	// SettingPollQueue is the queue of scheduled CopyPoll messages.
	SettingPollQueue = "SNAPCOPY_POLL_QUEUE"
	// SettingEventsTopic is the topic that receives outcome events.
	SettingEventsTopic = "SNAPCOPY_EVENTS_TOPIC"
	// SettingEventSource is the CloudEvents source attribute of events.
	SettingEventSource = "SNAPCOPY_EVENT_SOURCE"
	// SettingEventTypePrefix prefixes event types (…IncrementalCopy.Completed).
	SettingEventTypePrefix = "SNAPCOPY_EVENT_TYPE_PREFIX"
	// SettingRetentionSubscription is the events topic's subscription that
	// receives Completed events for the Retention function.
	SettingRetentionSubscription = "SNAPCOPY_RETENTION_SUBSCRIPTION"

	// SettingDestinationContainerURL routes messages that name no
	// destination: the destination is this container + the source blob name.
	SettingDestinationContainerURL = "SNAPCOPY_DESTINATION_CONTAINER_URL"
	// SettingAllowedSources lists allowed source account or container URLs.
	SettingAllowedSources = "SNAPCOPY_ALLOWED_SOURCES"
	// SettingAllowedDestinations lists allowed destination account or container URLs.
	SettingAllowedDestinations = "SNAPCOPY_ALLOWED_DESTINATIONS"
	// SettingAllowMessageSAS accepts a sourceSas carried by the message.
	SettingAllowMessageSAS = "SNAPCOPY_ALLOW_MESSAGE_SAS"
	// SettingTriggerEventTypes lists the CloudEvents types accepted as
	// SnapshotCreated (exact names or prefix*); empty accepts any type whose
	// last words are "snapshot created".
	SettingTriggerEventTypes = "SNAPCOPY_TRIGGER_EVENT_TYPES"

	// SettingStorageConnectionString selects Shared Key auth for both
	// accounts (local emulators); empty means managed identity.
	SettingStorageConnectionString = "SNAPCOPY_STORAGE_CONNECTION_STRING"
	// SettingStorageEndpointSuffix is the storage endpoint suffix: blob
	// URLs must be https://<account>.blob.<suffix> (sovereign clouds set
	// theirs). The handler sends its credentials to no other host.
	SettingStorageEndpointSuffix = "SNAPCOPY_STORAGE_ENDPOINT_SUFFIX"
	// SettingClientID selects a user-assigned managed identity (azidentity's
	// standard variable).
	SettingClientID = "AZURE_CLIENT_ID"

	// SettingCopyDeadline bounds how long one copy may stay pending.
	SettingCopyDeadline = "SNAPCOPY_COPY_DEADLINE"
	// SettingAbortOnTimeout aborts a copy that passed its deadline.
	SettingAbortOnTimeout = "SNAPCOPY_ABORT_ON_TIMEOUT"
	// SettingPollMinDelay and SettingPollMaxDelay bound the poll cadence.
	SettingPollMinDelay = "SNAPCOPY_POLL_MIN_DELAY"
	SettingPollMaxDelay = "SNAPCOPY_POLL_MAX_DELAY"
	// SettingSASLifetime is how long a minted source SAS stays valid.
	SettingSASLifetime = "SNAPCOPY_SAS_LIFETIME"
	// SettingMaxMessageBytes rejects larger trigger bodies.
	SettingMaxMessageBytes = "SNAPCOPY_MAX_MESSAGE_BYTES"
	// SettingRetainLast, SettingRetainDaily, SettingRetainWeekly and
	// SettingRetainMonthly are the retention policy: keep the last n
	// restore points and the newest of each of the last n days, ISO weeks
	// and months (UTC, by source snapshot time). All 0 keeps everything.
	SettingRetainLast    = "SNAPCOPY_RETAIN_LAST"
	SettingRetainDaily   = "SNAPCOPY_RETAIN_DAILY"
	SettingRetainWeekly  = "SNAPCOPY_RETAIN_WEEKLY"
	SettingRetainMonthly = "SNAPCOPY_RETAIN_MONTHLY"
	// SettingPruneSource deletes source snapshots older than the newest
	// copied one that the destination's snapshot list proves copied.
	SettingPruneSource = "SNAPCOPY_PRUNE_SOURCE"

	// SettingLogLevel is the minimum zerolog level.
	SettingLogLevel = "SNAPCOPY_LOG_LEVEL"
)
