package copyjob

import (
	"math"
	"testing"
)

// TestSecurityIDsNeedWhatOutsidersLack: a poll's id depends on its copy id
// and a deferral's on the delivered trigger's MessageId and body, so an
// outsider who knows only the job cannot send a message under either id
// first (duplicate detection would drop the genuine one). Each stays the
// same for the same inputs, so a redelivery's send is still deduplicated.
func TestSecurityIDsNeedWhatOutsidersLack(t *testing.T) {
	const key = "3f2a9c0d41b7e815"
	const copyID = "c9d2b0a4-6a51-4c1e-9f0d-2b7a3e8c5d10"
	body := []byte(`{"data":{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd"}}`)

	poll := PollMessageID(key, copyID, 2)
	if PollMessageID(key, copyID, 2) != poll {
		t.Fatal("a redelivered poll would schedule the next under another id")
	}
	for _, guess := range []string{"", "00000000-0000-0000-0000-000000000000", "c9d2b0a4-6a51-4c1e-9f0d-2b7a3e8c5d11"} {
		if PollMessageID(key, guess, 2) == poll {
			t.Errorf("copy id %q guesses the id of copy %s's poll", guess, copyID)
		}
	}

	deferral := DeferMessageID(key, 1, "m-1", body)
	if DeferMessageID(key, 1, "m-1", body) != deferral {
		t.Fatal("a redelivered trigger would defer under another id")
	}
	guesses := []struct {
		messageID string
		body      []byte
	}{
		{"", body},
		{"m-2", body},
		{"m-1", append(append([]byte(nil), body...), ' ')},
		{"m-1" + string(body), nil}, // the same bytes, split elsewhere
	}
	for _, g := range guesses {
		if DeferMessageID(key, 1, g.messageID, g.body) == deferral {
			t.Errorf("MessageId %q and body %q guess the deferral id of m-1", g.messageID, g.body)
		}
	}

	// The longest ids fit Service Bus's MessageId limit.
	for _, id := range []string{PollMessageID(key, copyID, math.MaxInt), DeferMessageID(key, math.MaxInt, "m-1", body)} {
		if len(id) > 128 {
			t.Errorf("id %q is %d characters; Service Bus allows 128", id, len(id))
		}
	}
}
