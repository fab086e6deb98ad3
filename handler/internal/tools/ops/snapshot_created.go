package ops

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/messaging"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Attributes of the CloudEvents this command produces.
const (
	defaultEventType = "Snapcopy.SnapshotCreated"
	eventSource      = "/snapcopy/send"
)

// routingPlaceholder stands in for the handler's destination routing, which
// this command cannot know, so that a message without destinationBlobUrl
// passes the check when SNAPCOPY_DESTINATION_CONTAINER_URL is not set here.
// Its host is a storage host of the endpoint suffix, as the handler's
// routing must be.
func routingPlaceholder(hosts copyjob.StorageHosts) string {
	suffix := hosts.EndpointSuffix
	if suffix == "" {
		suffix = copyjob.DefaultEndpointSuffix
	}
	return "https://routing.blob." + suffix + "/by-handler-configuration"
}

// snapshotCreated is one SnapshotCreated message to send.
type snapshotCreated struct {
	ID        string
	EventType string
	Data      copyjob.SnapshotCreated
}

// encode returns the structured-mode CloudEvent body.
func (m snapshotCreated) encode(now time.Time) ([]byte, error) {
	opts := &messaging.CloudEventOptions{DataContentType: to.Ptr("application/json"), Time: to.Ptr(now.UTC())}
	ce, err := messaging.NewCloudEvent(eventSource, m.EventType, m.Data, opts)
	if err != nil {
		return nil, fmt.Errorf("build CloudEvent: %w", err)
	}
	ce.ID = m.ID
	return json.Marshal(ce)
}

// checkRules are the handler's rules at their most permissive: what the
// handler would reject under every configuration is refused here. Allow
// lists and SNAPCOPY_ALLOW_MESSAGE_SAS are the deployment's business, so a
// SAS passes (with a warning) and any account passes; the storage host
// rule is the handler's everywhere, so it applies with the hosts given. The
// accepted event types come from the environment as the handler reads
// them, so a typo in -type is caught before the message is sent.
func checkRules(getenv func(string) string, hosts copyjob.StorageHosts) (copyjob.Rules, error) {
	destinationContainerURL := getenv(config.SettingDestinationContainerURL)
	if destinationContainerURL == "" {
		destinationContainerURL = routingPlaceholder(hosts)
	}
	eventTypes := strings.FieldsFunc(getenv(config.SettingTriggerEventTypes), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if err := copyjob.CheckEventTypePatterns(eventTypes); err != nil {
		return copyjob.Rules{}, fmt.Errorf("%s in the environment: %w", config.SettingTriggerEventTypes, err)
	}
	return copyjob.Rules{
		MaxBytes:                config.Defaults().MaxMessageBytes,
		AllowMessageSAS:         true,
		DestinationContainerURL: destinationContainerURL,
		Hosts:                   hosts,
		EventTypes:              eventTypes,
	}, nil
}

// check encodes m and runs the handler's own parser over the body, so the
// user reads the same words the handler would put in a Rejected event.
func (m snapshotCreated) check(rules copyjob.Rules, now time.Time) ([]byte, copyjob.Trigger, error) {
	body, err := m.encode(now)
	if err != nil {
		return nil, copyjob.Trigger{}, err
	}
	t, err := copyjob.ParseTrigger(body, rules, now)
	if err != nil {
		return nil, t, fmt.Errorf("the handler would reject this message: %w%s", err, m.hint(err))
	}
	return body, t, nil
}

// hint names the setting that decides a rejection which depends on the
// environment send runs in, so the user can make it match the handler's.
func (m snapshotCreated) hint(err error) string {
	ie, _ := copyjob.AsInputError(err)
	switch {
	case ie == nil:
		return ""
	case ie.Code == copyjob.InputUnknownEventType:
		return fmt.Sprintf(" (send reads %s from its environment, as the handler reads its app setting: set it here too if the handler's differs)", config.SettingTriggerEventTypes)
	case ie.Code == copyjob.InputNotAllowed && slices.ContainsFunc([]string{m.Data.SourceBlobURL, m.Data.SnapshotURL, m.Data.DestinationBlobURL}, isPlainHTTP):
		return fmt.Sprintf(" (plain http is for the storage emulator, which send knows, as the handler does, from its connection string: give -storage-connection or set %s)", config.SettingStorageConnectionString)
	}
	return ""
}

func isPlainHTTP(raw string) bool { return strings.HasPrefix(strings.ToLower(raw), "http:") }

// serviceBusMessage wraps body the way subscriptions and the handler expect:
// MessageId = CloudEvent id (duplicate detection makes a repeated send
// harmless) and Subject = event type (filters need not parse bodies).
func (m snapshotCreated) serviceBusMessage(body []byte) *azservicebus.Message {
	return &azservicebus.Message{
		MessageID:   to.Ptr(m.ID),
		ContentType: to.Ptr(bus.ContentTypeCloudEvents),
		Subject:     to.Ptr(m.EventType),
		Body:        body,
	}
}
