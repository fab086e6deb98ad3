package copyjob

import "testing"

// TestParseMessageID: every id snapcopy writes parses back to what wrote
// it, and a producer's id, however close in shape, is foreign.
func TestParseMessageID(t *testing.T) {
	const key = "3f2a9c0d41b7e815"
	cases := []struct {
		id   string
		want MessageID
	}{
		{PollMessageID(key, 3), MessageID{Kind: KindPoll, JobKey: key, N: 3}},
		{DeferMessageID(key, 12), MessageID{Kind: KindDeferral, JobKey: key, N: 12}},
		{EventID(key, Completed), MessageID{Kind: KindEvent, JobKey: key, Outcome: Completed}},
		{EventID(key, Rejected), MessageID{Kind: KindEvent, JobKey: key, Outcome: Rejected}},
		{"7b0c8c1e-2b9b-4d5e-9f5e-0d7f3f1b2a11", MessageID{}},
		{"backup/defer/x", MessageID{}},
		{"backup/defer/01", MessageID{}},
		{"backup/poll/0", MessageID{}},
		{"backup/poll/2/3", MessageID{}},
		{"/defer/2", MessageID{}},
		{"nightly/Done", MessageID{}},
		{"", MessageID{}},
	}
	for _, c := range cases {
		if got := ParseMessageID(c.id); got != c.want {
			t.Errorf("ParseMessageID(%q) = %+v, want %+v", c.id, got, c.want)
		}
	}
}
