// Package bus is the Service Bus adapter: it schedules poll messages and
// deferred triggers and publishes outcome events as CloudEvents, each with a
// deterministic MessageID so that repeating a send after a crash is safe
// (duplicate detection drops the repeat).
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/messaging"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// Sender is the part of *azservicebus.Sender this adapter uses.
type Sender interface {
	SendMessage(ctx context.Context, message *azservicebus.Message, options *azservicebus.SendMessageOptions) error
	ScheduleMessages(ctx context.Context, messages []*azservicebus.Message, scheduledEnqueueTime time.Time, options *azservicebus.ScheduleMessagesOptions) ([]int64, error)
}

var _ Sender = (*azservicebus.Sender)(nil)

// ContentTypeCloudEvents marks a structured-mode CloudEvent body.
const ContentTypeCloudEvents = "application/cloudevents+json"

// contentTypeJSON marks poll messages.
const contentTypeJSON = "application/json"

// Options shape the published events.
type Options struct {
	// EventSource is the CloudEvents source attribute.
	EventSource string
	// EventTypePrefix prefixes the outcome: "<prefix>.Completed".
	EventTypePrefix string
}

// Senders are what a Bus writes through, one per entity. They are
// long-lived: one per entity for the process lifetime.
type Senders struct {
	// Polls sends to the poll queue.
	Polls Sender
	// Triggers sends deferred triggers back to the trigger queue.
	Triggers Sender
	// Events publishes to the events topic.
	Events Sender
}

// Bus sends to the poll queue, the trigger queue (deferrals) and the events
// topic.
type Bus struct {
	polls, triggers, events Sender
	opts                    Options
}

// New returns a Bus over its senders.
func New(s Senders, opts Options) *Bus {
	return &Bus{polls: s.Polls, triggers: s.Triggers, events: s.Events, opts: opts}
}

// SchedulePoll schedules m to arrive at at, with id
// <job>/poll/<attempt>/<tag of the copy id>.
func (b *Bus) SchedulePoll(ctx context.Context, m copyjob.PollMessage, at time.Time) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode poll message: %w", err)
	}
	msg := &azservicebus.Message{
		MessageID:     to.Ptr(copyjob.PollMessageID(m.Job.Key, m.CopyID, m.Attempt)),
		ContentType:   to.Ptr(contentTypeJSON),
		CorrelationID: nonEmpty(m.CorrelationID),
		Subject:       to.Ptr("CopyPoll"),
		Body:          body,
		ApplicationProperties: map[string]any{
			propJobKey: m.Job.Key,
		},
	}
	if _, err := b.polls.ScheduleMessages(ctx, []*azservicebus.Message{msg}, at, nil); err != nil {
		return fmt.Errorf("schedule poll %s: %w", *msg.MessageID, err)
	}
	return nil
}

// DeferTrigger schedules the trigger to arrive again at at.
func (b *Bus) DeferTrigger(ctx context.Context, d copyjob.Deferred, at time.Time) error {
	props := make(map[string]any, len(d.Properties)+4)
	for k, v := range d.Properties {
		props[k] = v
	}
	d.State.SetProperties(props)
	props[propJobKey] = d.JobKey
	msg := &azservicebus.Message{
		MessageID:             to.Ptr(d.MessageID),
		ContentType:           nonEmpty(d.ContentType),
		CorrelationID:         nonEmpty(d.CorrelationID),
		Body:                  d.Body,
		ApplicationProperties: props,
	}
	if _, err := b.triggers.ScheduleMessages(ctx, []*azservicebus.Message{msg}, at, nil); err != nil {
		return fmt.Errorf("defer trigger %s: %w", d.MessageID, err)
	}
	return nil
}

// Publish sends ev to the events topic as a structured CloudEvent whose id
// is also the MessageID, and whose type is also the Subject, so that
// subscriptions can filter without parsing bodies.
func (b *Bus) Publish(ctx context.Context, ev copyjob.Event) error {
	body, err := b.encodeEvent(ev)
	if err != nil {
		return err
	}
	props := map[string]any{propOutcome: string(ev.Outcome)}
	if ev.Data.JobKey != "" {
		props[propJobKey] = ev.Data.JobKey
	}
	msg := &azservicebus.Message{
		MessageID:             to.Ptr(ev.ID),
		ContentType:           to.Ptr(ContentTypeCloudEvents),
		Subject:               to.Ptr(copyjob.EventType(b.opts.EventTypePrefix, ev.Outcome)),
		Body:                  body,
		ApplicationProperties: props,
	}
	if err := b.events.SendMessage(ctx, msg, nil); err != nil {
		return fmt.Errorf("publish %s: %w", ev.ID, err)
	}
	return nil
}

func (b *Bus) encodeEvent(ev copyjob.Event) ([]byte, error) {
	opts := &messaging.CloudEventOptions{DataContentType: to.Ptr("application/json"), Time: to.Ptr(ev.Time)}
	if ev.Subject != "" {
		opts.Subject = to.Ptr(ev.Subject)
	}
	ce, err := messaging.NewCloudEvent(b.opts.EventSource, copyjob.EventType(b.opts.EventTypePrefix, ev.Outcome), ev.Data, opts)
	if err != nil {
		return nil, fmt.Errorf("build event %s: %w", ev.ID, err)
	}
	// NewCloudEvent draws a random id; ours is deterministic.
	ce.ID = ev.ID
	body, err := json.Marshal(ce)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	// Events leave the process: scrub them at this one exit.
	return redact.Bytes(body), nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
