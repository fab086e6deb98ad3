package redact_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
	"github.com/snapcopy/snapcopy/handler/internal/redact/redacttest"
)

var agreementNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// agreementRules accept a SAS in the message, so that the parser reports
// every signature it would use.
var agreementRules = copyjob.Rules{AllowMessageSAS: true, DestinationContainerURL: "https://dst.blob.core.windows.net/backups"}

// parsedSignature is the signature the trigger parser takes from body, or
// "" when it takes none.
func parsedSignature(body []byte) string {
	t, err := copyjob.ParseTrigger(body, agreementRules, agreementNow)
	if err != nil {
		return ""
	}
	q, _ := url.ParseQuery(t.SAS.Encode())
	return q.Get("sig")
}

// checkAgreement: where the parser accepts a signature from body, it reads
// none but the marker from the redacted body. It returns the redacted body
// and whether the parser had accepted a signature.
func checkAgreement(t *testing.T, body []byte) ([]byte, bool) {
	t.Helper()
	out := redact.Bytes(body)
	if parsedSignature(body) == "" {
		return out, false
	}
	if again := parsedSignature(out); again != "" && again != redact.Marker {
		t.Fatalf("the parser still reads signature %q from the redacted body %s", again, out)
	}
	return out, true
}

// agreementBodies spell a message SAS every way the parser accepts: in
// sourceSas and in the snapshotUrl query, names percent-encoded and
// JSON-escaped, values with escapes.
func agreementBodies() []string {
	names := []string{`sig`, `%73ig`, `s%69%67`, `\u0073ig`, `\u0025\u0037\u0033ig`, `%\u0037\u0033ig`, `SIG`, `Sig`}
	values := []string{`S3CR3Tc2ln`, `S3CR3T%2Bc2ln%3D`, `S3CR3T\u002Bc2ln`, `S3CR3T+c2ln\/x=`}
	seps := []string{`&`, `\u0026`}
	var bodies []string
	for _, n := range names {
		for _, v := range values {
			for _, s := range seps {
				sas := `sv=2026-12-06` + s + `sr=b` + s + `sp=r` + s + n + `=` + v
				bodies = append(bodies,
					`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.0000000Z","sourceSas":"`+sas+`"}`,
					`{"specversion":"1.0","type":"X.SnapshotCreated","id":"e1","data":{"snapshotUrl":"https://src.blob.core.windows.net/disks/vm1.vhd?snapshot=2026-11-24T10%3A00%3A00.0000000Z`+s+sas+`"}}`)
			}
		}
	}
	return bodies
}

// TestSecurityRedactionAgreesWithTriggerParser: every signature the trigger
// parser accepts is removed by the redactor.
func TestSecurityRedactionAgreesWithTriggerParser(t *testing.T) {
	accepted := 0
	for _, body := range agreementBodies() {
		out, ok := checkAgreement(t, []byte(body))
		if ok {
			accepted++
		}
		if strings.Contains(redacttest.Decode(string(out)), "3CR3") {
			t.Errorf("a piece of the signature survives in %s", out)
		}
	}
	// Most spellings are signatures to the parser; the check above is
	// empty if none is.
	if accepted < len(agreementBodies())/2 {
		t.Fatalf("the parser accepted only %d of %d bodies", accepted, len(agreementBodies()))
	}
}

func FuzzRedactionAgreesWithTriggerParser(f *testing.F) {
	for _, b := range agreementBodies() {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkAgreement(t, body) })
}
