package bus

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

type captured struct {
	sent      []*azservicebus.Message
	scheduled []*azservicebus.Message
	at        []time.Time
}

func (c *captured) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	c.sent = append(c.sent, m)
	return nil
}

func (c *captured) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	c.scheduled = append(c.scheduled, ms...)
	c.at = append(c.at, at)
	return []int64{1}, nil
}

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestPublishIsAStructuredCloudEventWithOurID(t *testing.T) {
	events := &captured{}
	b := New(Senders{Polls: &captured{}, Triggers: &captured{}, Events: events}, Options{EventSource: "/snapcopy/x", EventTypePrefix: "Snapcopy.IncrementalCopy"})
	job := copyjob.NewJob("https://s.blob.core.windows.net/c/d", "2026-11-24T10:00:00.0000000Z", "https://d.blob.core.windows.net/c/d")
	ev := copyjob.JobEvent(job, copyjob.Completed, now, copyjob.EventData{DestinationSnapshot: "2026-11-24T11:00:00.0000000Z", FailureDescription: "see https://s/c/d?sig=c2VjcmV0"})
	if err := b.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	m := events.sent[0]
	var ce map[string]any
	if err := json.Unmarshal(m.Body, &ce); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"specversion": "1.0", "id": job.Key + "/Completed", "source": "/snapcopy/x", "type": "Snapcopy.IncrementalCopy.Completed",
		"subject": "/c/d", "datacontenttype": "application/json", "time": "2026-11-24T12:00:00Z",
	}
	for k, v := range want {
		if ce[k] != v {
			t.Errorf("%s = %v, want %v", k, ce[k], v)
		}
	}
	data := ce["data"].(map[string]any)
	if data["destinationSnapshot"] != "2026-11-24T11:00:00.0000000Z" || data["jobKey"] != job.Key {
		t.Errorf("data %v", data)
	}
	if d := data["failureDescription"].(string); d != "see https://s/c/d?sig=REDACTED" {
		t.Errorf("event not scrubbed: %q", d)
	}
	if *m.MessageID != job.Key+"/Completed" || *m.Subject != "Snapcopy.IncrementalCopy.Completed" || *m.ContentType != ContentTypeCloudEvents {
		t.Errorf("message %s %s %s", *m.MessageID, *m.Subject, *m.ContentType)
	}
	if m.ApplicationProperties["snapcopyOutcome"] != "Completed" || m.ApplicationProperties["snapcopyJobKey"] != job.Key {
		t.Errorf("properties %v", m.ApplicationProperties)
	}
}

func TestDeferStateRoundTrip(t *testing.T) {
	triggers := &captured{}
	b := New(Senders{Polls: &captured{}, Triggers: triggers, Events: &captured{}}, Options{})
	state := copyjob.DeferState{Waits: 3, Retries: 1, FirstAt: now}
	err := b.DeferTrigger(context.Background(), copyjob.Deferred{Body: []byte("{}"), MessageID: "k/defer/4", JobKey: "k", State: state, Properties: map[string]any{"own": "kept"}}, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	m := triggers.scheduled[0]
	if *m.MessageID != "k/defer/4" || !triggers.at[0].Equal(now.Add(time.Minute)) || m.ApplicationProperties["own"] != "kept" {
		t.Fatalf("deferred %+v", m)
	}
	if got := copyjob.ReadDeferState(m.ApplicationProperties); got != state {
		t.Fatalf("round trip %+v, want %+v", got, state)
	}
	// As the Functions host delivers them: JSON numbers, or strings.
	asJSON := map[string]any{"snapcopyWaits": float64(3), "snapcopyRetries": "1", "snapcopyFirstDeferredAt": now.Format(time.RFC3339Nano)}
	if got := copyjob.ReadDeferState(asJSON); got != state {
		t.Fatalf("from host JSON %+v", got)
	}
	if got := copyjob.ReadDeferState(nil); got != (copyjob.DeferState{}) {
		t.Fatalf("from nothing %+v", got)
	}
}
