package copyjob

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// SnapshotCreated is the data of a SnapshotCreated message, as sent.
type SnapshotCreated struct {
	SourceBlobURL      string `json:"sourceBlobUrl,omitempty"`
	Snapshot           string `json:"snapshot,omitempty"`
	SnapshotURL        string `json:"snapshotUrl,omitempty"`
	DestinationBlobURL string `json:"destinationBlobUrl,omitempty"`
	SourceSAS          string `json:"sourceSas,omitempty"`
}

// cloudEventEnvelope is the part of a structured CloudEvent read here.
type cloudEventEnvelope struct {
	SpecVersion string          `json:"specversion"`
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	Data        json.RawMessage `json:"data"`
}

// Rules are the configured limits a trigger is checked against.
type Rules struct {
	// MaxBytes is the largest accepted message body.
	MaxBytes int
	// DestinationContainerURL routes triggers that name no destination.
	DestinationContainerURL string
	// AllowedSources and AllowedDestinations are URL prefixes; empty allows all.
	AllowedSources, AllowedDestinations []string
	// AllowMessageSAS accepts a sourceSas in the message.
	AllowMessageSAS bool
	// Hosts are the storage endpoints every source and destination must
	// address, allow-listed or not: the handler's credentials go there.
	Hosts StorageHosts
	// EventTypes are the accepted CloudEvents types: exact names, or
	// prefixes ending in '*'. Empty accepts any type whose last words are
	// "snapshot created" (AcceptsEventType).
	EventTypes []string
}

// Trigger is a validated request to copy one source snapshot.
type Trigger struct {
	Source      BlobRef
	Snapshot    time.Time
	Destination BlobRef
	// SAS is the source SAS from the message; zero means "mint one".
	SAS SAS
	// EventID is the producer's CloudEvent id, kept for correlation.
	EventID string
}

// Job is the trigger without secrets: what poll messages and events carry.
func (t Trigger) Job() Job {
	return NewJob(t.Source.URL, FormatSnapshot(t.Snapshot), t.Destination.URL)
}

// ParseTrigger decodes and validates a SnapshotCreated message body: a
// structured CloudEvent, or its data object alone. Every failure is an
// *InputError.
func ParseTrigger(body []byte, rules Rules, now time.Time) (Trigger, error) {
	body, env, err := decodeEnvelope(body, rules.MaxBytes)
	if err != nil {
		return Trigger{}, err
	}
	data := body
	if env.SpecVersion != "" {
		if env.SpecVersion != "1.0" {
			return Trigger{}, rejectf(InputMalformed, "CloudEvents specversion %q is not 1.0", env.SpecVersion)
		}
		if !rules.AcceptsEventType(env.Type) {
			return Trigger{}, rejectf(InputUnknownEventType, "event type %q is not accepted; accepted are %s", env.Type, rules.acceptedEventTypes())
		}
		if len(env.Data) == 0 || env.Data[0] != '{' {
			return Trigger{}, rejectf(InputMalformed, "CloudEvent has no data object")
		}
		data = env.Data
	}
	var msg SnapshotCreated
	if err := json.Unmarshal(data, &msg); err != nil {
		return Trigger{}, rejectf(InputInvalidField, "data does not match the SnapshotCreated contract: %v", err)
	}
	t, err := msg.validate(rules, now)
	t.EventID = env.ID
	return t, err
}

// decodeEnvelope checks a message body's size and that it is a JSON
// object, and reads the CloudEvents attributes it may carry; body comes
// back trimmed.
func decodeEnvelope(body []byte, maxBytes int) ([]byte, cloudEventEnvelope, error) {
	var env cloudEventEnvelope
	if maxBytes > 0 && len(body) > maxBytes {
		return nil, env, rejectf(InputTooLarge, "message body is %d bytes, the limit is %d", len(body), maxBytes)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, env, rejectf(InputMalformed, "message body is not a JSON object")
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, env, rejectf(InputMalformed, "message body is not valid JSON: %v", err)
	}
	return body, env, nil
}

func (m SnapshotCreated) validate(rules Rules, now time.Time) (Trigger, error) {
	var t Trigger
	sourceURL, snapshot := m.SourceBlobURL, m.Snapshot
	switch {
	case m.SnapshotURL != "" && (sourceURL != "" || snapshot != ""):
		return t, rejectf(InputInvalidField, "give either snapshotUrl or sourceBlobUrl+snapshot, not both")
	case m.SnapshotURL != "":
		sourceURL = m.SnapshotURL
	case sourceURL == "":
		return t, rejectf(InputMissingField, "sourceBlobUrl (or snapshotUrl) is required")
	}
	src, query, err := ParseBlobURL(sourceURL)
	if err != nil {
		return t, rejectf(InputInvalidField, "source: %v", err)
	}
	if q := query.Get("snapshot"); q != "" {
		if snapshot != "" && snapshot != q {
			return t, rejectf(InputInvalidField, "snapshot %q differs from the URL's snapshot %q", snapshot, q)
		}
		snapshot = q
	}
	query.Del("snapshot")
	if snapshot == "" {
		return t, rejectf(InputMissingField, "snapshot is required (field snapshot, or snapshot= in snapshotUrl)")
	}
	if t.Snapshot, err = ParseSnapshot(snapshot); err != nil {
		return t, rejectf(InputInvalidField, "snapshot: %v", err)
	}
	if t.Snapshot.After(now.Add(time.Hour)) {
		return t, rejectf(InputInvalidField, "snapshot %s lies in the future", snapshot)
	}
	t.Source = src

	if t.SAS, err = messageSAS(m.SourceSAS, query); err != nil {
		return t, err
	}
	if !t.SAS.IsZero() {
		if !rules.AllowMessageSAS {
			return t, rejectf(InputNotAllowed, "a source SAS in the message is not allowed by configuration; the handler mints its own")
		}
		if err := t.SAS.CheckForIncrementalCopy(now); err != nil {
			return t, rejectf(InputInvalidSAS, "%v", err)
		}
	}

	if t.Destination, err = destinationOf(m.DestinationBlobURL, src, rules); err != nil {
		return t, err
	}
	if t.Destination.URL == src.URL {
		return t, rejectf(InputInvalidField, "destination is the source blob itself")
	}
	if err := rules.checkBlob("source", src, rules.AllowedSources); err != nil {
		return t, err
	}
	return t, rules.checkBlob("destination", t.Destination, rules.AllowedDestinations)
}

// checkBlob applies the storage host rule and the allow-list to the blob
// in role (source or destination): the handler sends credentials there.
func (r Rules) checkBlob(role string, b BlobRef, allowList []string) error {
	if err := r.Hosts.CheckURL(b.URL); err != nil {
		return rejectf(InputNotAllowed, "%s %s: %v", role, b.ContainerURL(), err)
	}
	if !allowed(b, allowList) {
		return rejectf(InputNotAllowed, "%s %s is not under an allowed %s (%s)", role, b.ContainerURL(), role, strings.Join(allowList, ", "))
	}
	return nil
}

// messageSAS takes the SAS from the sourceSas field or from the source URL's
// query, but not from both.
func messageSAS(field string, query map[string][]string) (SAS, error) {
	if field != "" && len(query) > 0 {
		return SAS{}, rejectf(InputInvalidField, "the source URL carries a query and sourceSas is set too")
	}
	var sas SAS
	var err error
	if field != "" {
		sas, err = ParseSAS(field)
	} else if len(query) > 0 {
		sas, err = sasFromValues(query)
	}
	if err != nil {
		return SAS{}, rejectf(InputInvalidSAS, "%v", err)
	}
	return sas, nil
}

func destinationOf(raw string, src BlobRef, rules Rules) (BlobRef, error) {
	if raw == "" {
		if rules.DestinationContainerURL == "" {
			return BlobRef{}, rejectf(InputMissingField, "destinationBlobUrl is required: no default destination container is configured")
		}
		raw = strings.TrimSuffix(rules.DestinationContainerURL, "/") + "/" + escapePath(src.Name)
	}
	dst, query, err := ParseBlobURL(raw)
	if err != nil {
		return BlobRef{}, rejectf(InputInvalidField, "destination: %v", err)
	}
	if len(query) > 0 {
		return BlobRef{}, rejectf(InputInvalidField, "destinationBlobUrl must not carry a query (the handler authenticates itself)")
	}
	return dst, nil
}

// SourceAllowed reports whether the handler may send its credentials to
// source b: a storage host, under an allowed source.
func (r Rules) SourceAllowed(b BlobRef) bool {
	return r.checkBlob("source", b, r.AllowedSources) == nil
}

func allowed(b BlobRef, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if b.Under(p) {
			return true
		}
	}
	return false
}
