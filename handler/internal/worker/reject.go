package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// maxOriginalBody bounds the original body carried by a Rejected event, so
// the event fits in a Service Bus message.
const maxOriginalBody = 64 * 1024

// reject publishes a Rejected event carrying the reason and the original
// body (SAS removed), so a message that can never succeed is neither lost
// nor redelivered forever.
func (w *Worker) reject(ctx context.Context, in *invocation, ie *copyjob.InputError) error {
	key := rejectKey(in.MessageID, in.Body)
	w.withJob(in, key)
	in.log.Warn().Str("code", string(ie.Code)).Str("reason", ie.Reason).Msg("message rejected")
	data := copyjob.EventData{
		JobKey:             key,
		MessageID:          in.MessageID,
		FailureCode:        string(ie.Code),
		FailureDescription: ie.Reason,
	}
	// Redacted before it is cut, so that no secret is cut in two.
	body := redact.Bytes(in.Body)
	switch {
	case len(body) > maxOriginalBody:
		data.OriginalText = string(body[:maxOriginalBody])
	case json.Valid(body):
		data.OriginalBody = body
	default:
		data.OriginalText = string(body)
	}
	ev := copyjob.Event{ID: copyjob.EventID(key, copyjob.Rejected), Outcome: copyjob.Rejected, Time: in.now, Data: data}
	return w.publish(ctx, in, ev)
}

// rejectKey identifies a rejected message by its MessageId and body:
// redeliveries share both, so they share the event id, and a message
// that borrows another's MessageId (anyone can set one) cannot take the
// other's Rejected event id from it.
func rejectKey(messageID string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(messageID))
	h.Write([]byte{0})
	h.Write(body)
	return "msg-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// decodeInputError is the reason to reject a payload the protocol layer
// could not decode.
func decodeInputError(err error) *copyjob.InputError {
	code := copyjob.InputMalformed
	if errors.Is(err, funcproto.ErrTooLarge) {
		code = copyjob.InputTooLarge
	}
	return &copyjob.InputError{Code: code, Reason: err.Error()}
}
