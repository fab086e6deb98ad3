// Package redact is the one place where secrets are removed from text that
// leaves the process: log lines, events, poll messages and error texts.
package redact

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
)

// Marker replaces every removed secret.
const Marker = "REDACTED"

// secretPatterns match a secret and keep its name: SAS signatures in any URL
// or query (also JSON-escaped, "\u0026sig="), account keys in connection
// strings, and SAS tokens of Service Bus (which carry sig= too).
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)((?:^|[^a-z])sig=)[^&;\s"'\\]*`),
	regexp.MustCompile(`(?i)((?:^|[;\s"'\\])(?:AccountKey|SharedAccessKey)=)[^;\s"'\\]*`),
}

// triggers are cheap substring checks that gate the regular expressions, so
// clean text (the common case) costs one scan.
var triggers = [][]byte{[]byte("ig="), []byte("IG="), []byte("Ig="), []byte("iG="), []byte("ey="), []byte("EY="), []byte("Ey="), []byte("eY=")}

// Text removes secrets from free text such as an error message.
func Text(s string) string {
	if !mayContainSecret([]byte(s)) {
		return s
	}
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, "${1}"+Marker)
	}
	return s
}

// Bytes is Text for byte slices; it returns b itself when nothing matched.
func Bytes(b []byte) []byte {
	if !mayContainSecret(b) {
		return b
	}
	for _, re := range secretPatterns {
		b = re.ReplaceAll(b, []byte("${1}"+Marker))
	}
	return b
}

func mayContainSecret(b []byte) bool {
	for _, t := range triggers {
		if bytes.Contains(b, t) {
			return true
		}
	}
	return false
}

// URL returns raw with its SAS removed: the snapshot parameter is kept,
// every other query parameter is dropped. Unparseable input is passed
// through Text.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Text(raw)
	}
	q := u.Query()
	if len(q) == 0 {
		return raw
	}
	kept := url.Values{}
	dropped := false
	for k, v := range q {
		if strings.EqualFold(k, "snapshot") {
			kept[k] = v
		} else {
			dropped = true
		}
	}
	u.RawQuery = kept.Encode()
	if dropped {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "sas=" + Marker
	}
	return u.String()
}
