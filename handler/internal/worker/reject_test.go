package worker

import (
	"context"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
)

// TestSecurityRejectedEventRedactsEverySpelling sends triggers that are
// rejected while carrying a secret in a spelling a byte-level scrubber
// misses (or in a field the parser never reads), and checks the Rejected
// event and the log for it.
func TestSecurityRejectedEventRedactsEverySpelling(t *testing.T) {
	const secret = "S3CR3Tc2ln"
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tIn0." + secret
	other := func(data string) []byte {
		return []byte(`{"specversion":"1.0","type":"Other.Thing","id":"1","source":"/x","data":{` + data + `}}`)
	}
	cases := map[string][]byte{
		"percent-encoded sig, message SAS denied": triggerBody(`,"sourceSas":"sv=2026-12-06&sr=b&sp=r&%73ig=` + secret + `"`),
		"percent-encoded sig in snapshotUrl":      []byte(`{"snapshotUrl":"` + srcURL + `?snapshot=2026-11-24T10%3A00%3A00.1234567Z&sr=b&sp=r&s%69g=` + secret + `"}`),
		"escaped and encoded sig":                 triggerBody(`,"sourceSas":"sr=b\u0026sp=r\u0026\u0025\u0037\u0033ig=` + secret + `"`),
		"upper-case SIG":                          triggerBody(`,"sourceSas":"sr=b&sp=r&SIG=` + secret + `"`),
		"JWT in an unknown field":                 other(`"extra":{"token":"` + jwt + `"}`),
		"bearer credential":                       other(`"headers":{"Authorization":"Bearer ` + secret + `"}`),
		"shared key credential":                   other(`"headers":{"Authorization":"SharedKey acct:` + secret + `"}`),
		"storage connection string":               other(`"conn":"AccountName=a;AccountKey=` + secret + `=="`),
		"service bus connection string":           other(`"conn":"Endpoint=sb://ns/;SharedAccessKeyName=k;SharedAccessKey=` + secret + `"`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			if h.w.SnapshotCreated(context.Background(), triggerInv(body)) != copyjob.Complete {
				t.Fatal("want 2xx")
			}
			msg, _, data := h.event(t, 0)
			if !strings.HasSuffix(*msg.MessageID, "/Rejected") || (data["originalBody"] == nil && data["originalText"] == nil) {
				t.Fatalf("event %s data %v", *msg.MessageID, data)
			}
			for where, text := range map[string]string{"event": string(msg.Body), "log": h.logs.String()} {
				if leaks := redacttest.Leaks(text); len(leaks) > 0 || strings.Contains(redacttest.Decode(text), secret) {
					t.Errorf("%s holds the secret %v:\n%s", where, leaks, text)
				}
			}
		})
	}
}
