package copyjob

import (
	"encoding/json"
	"errors"
)

// ErrNotCompleted marks a well-formed CloudEvent of another type: the
// retention function has nothing to do with it. Without the subscription's
// filter every outcome arrives; ignoring them (rather than rejecting them)
// keeps a Rejected event from triggering another Rejected event.
var ErrNotCompleted = errors.New("not a Completed event")

// ChainEvent is what a retention run takes from a Completed event: which
// chain changed and the restore point the event names. Nothing else in the
// event is used: what is deleted follows from the destination's own
// snapshot list, so a forged event can at most ask for the pruning that a
// genuine one would do.
type ChainEvent struct {
	Destination         BlobRef
	DestinationSnapshot string
	// ID is the event's id, for the logs.
	ID string
}

// completedData is the part of a Completed event's data read here.
type completedData struct {
	DestinationBlobURL  string `json:"destinationBlobUrl"`
	DestinationSnapshot string `json:"destinationSnapshot"`
}

// ParseCompleted decodes a Completed event published on the events topic
// (type completedType) and checks its destination with the same URL rules
// and allow-list as a trigger's. It returns ErrNotCompleted for a
// well-formed CloudEvent of another type, and an *InputError for anything
// that is not a well-formed Completed event.
func ParseCompleted(body []byte, completedType string, rules Rules) (ChainEvent, error) {
	_, env, err := decodeEnvelope(body, rules.MaxBytes)
	if err != nil {
		return ChainEvent{}, err
	}
	if env.SpecVersion != "1.0" {
		return ChainEvent{}, rejectf(InputMalformed, "not a CloudEvents 1.0 event (specversion %q)", env.SpecVersion)
	}
	if env.Type != completedType {
		return ChainEvent{}, ErrNotCompleted
	}
	if len(env.Data) == 0 || env.Data[0] != '{' {
		return ChainEvent{}, rejectf(InputMalformed, "Completed event has no data object")
	}
	var data completedData
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return ChainEvent{}, rejectf(InputInvalidField, "data does not match the Completed contract: %v", err)
	}
	if data.DestinationBlobURL == "" || data.DestinationSnapshot == "" {
		return ChainEvent{}, rejectf(InputMissingField, "destinationBlobUrl and destinationSnapshot are required")
	}
	dest, query, err := ParseBlobURL(data.DestinationBlobURL)
	if err != nil {
		return ChainEvent{}, rejectf(InputInvalidField, "destination: %v", err)
	}
	if len(query) > 0 {
		return ChainEvent{}, rejectf(InputInvalidField, "destinationBlobUrl must not carry a query")
	}
	if err := rules.checkBlob("destination", dest, rules.AllowedDestinations); err != nil {
		return ChainEvent{}, err
	}
	snap, err := ParseSnapshot(data.DestinationSnapshot)
	if err != nil {
		return ChainEvent{}, rejectf(InputInvalidField, "destinationSnapshot: %v", err)
	}
	return ChainEvent{Destination: dest, DestinationSnapshot: FormatSnapshot(snap), ID: env.ID}, nil
}
