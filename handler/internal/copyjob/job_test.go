package copyjob

import (
	"strings"
	"testing"
)

// TestParseMessageID: every id snapcopy writes parses back to what wrote
// it, and a producer's id, however close in shape, is foreign.
func TestParseMessageID(t *testing.T) {
	const key = "3f2a9c0d41b7e815"
	poll := PollMessageID(key, "c9d2b0a4-6a51-4c1e-9f0d-2b7a3e8c5d10", 3)
	deferral := DeferMessageID(key, 12, "7b0c8c1e-2b9b-4d5e-9f5e-0d7f3f1b2a11", []byte(`{"data":{}}`))
	pollTag, deferTag := poll[strings.LastIndex(poll, "/")+1:], deferral[strings.LastIndex(deferral, "/")+1:]
	cases := []struct {
		id   string
		want MessageID
	}{
		{poll, MessageID{Kind: KindPoll, JobKey: key, N: 3, Tag: pollTag}},
		{deferral, MessageID{Kind: KindDeferral, JobKey: key, N: 12, Tag: deferTag}},
		{EventID(key, Completed), MessageID{Kind: KindEvent, JobKey: key, Outcome: Completed}},
		{EventID(key, Rejected), MessageID{Kind: KindEvent, JobKey: key, Outcome: Rejected}},
		{EventID(key, Pruned), MessageID{Kind: KindEvent, JobKey: key, Outcome: Pruned}},
		{"7b0c8c1e-2b9b-4d5e-9f5e-0d7f3f1b2a11", MessageID{}},
		{"backup/defer/x/" + deferTag, MessageID{}},
		{"backup/defer/01/" + deferTag, MessageID{}},
		{"backup/poll/0/" + pollTag, MessageID{}},
		{"backup/poll/2", MessageID{}},
		{"backup/poll/2/3", MessageID{}},
		{"backup/poll/2/" + strings.ToUpper(pollTag), MessageID{}},
		{"backup/poll/2/" + pollTag + "/x", MessageID{}},
		{"backup/wait/2/" + pollTag, MessageID{}},
		{"/defer/2/" + deferTag, MessageID{}},
		{"nightly/Done", MessageID{}},
		{"", MessageID{}},
	}
	for _, c := range cases {
		if got := ParseMessageID(c.id); got != c.want {
			t.Errorf("ParseMessageID(%q) = %+v, want %+v", c.id, got, c.want)
		}
	}
	if len(pollTag) != 16 || len(deferTag) != 16 {
		t.Errorf("tags %q and %q: want 16 hex digits (64 bits)", pollTag, deferTag)
	}
}
