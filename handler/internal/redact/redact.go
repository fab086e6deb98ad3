// Package redact is the one place where secrets are removed from text that
// leaves the process: log lines, events, poll messages and error texts.
//
// Secrets are found in the text as the parsers downstream would read it
// (see view): JSON escapes and percent-encoding undone, names in any case,
// so "&%73ig=", "\u0026SIG=" and "Sig=" are all a SAS signature. Removed
// are SAS signatures, account and Service Bus keys and signatures of
// connection strings, Authorization credentials (Bearer, SharedKey,
// SharedKeyLite) and JWTs anywhere.
package redact

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
)

// Marker replaces every removed secret.
const Marker = "REDACTED"

// Text removes secrets from free text such as an error message.
func Text(s string) string { return string(Bytes([]byte(s))) }

// Bytes is Text for byte slices; it returns b itself when nothing matched.
func Bytes(b []byte) []byte {
	v := newView(b)
	spans := findSecrets(&v)
	if len(spans) == 0 {
		return b
	}
	return cut(&v, spans)
}

// cut replaces each span's raw bytes with Marker; overlapping spans merge.
func cut(v *view, spans []span) []byte {
	raw := make([]span, len(spans))
	for i, s := range spans {
		raw[i] = span{v.rawOffset(s.from), v.rawOffset(s.to)}
	}
	slices.SortFunc(raw, func(a, b span) int { return a.from - b.from })
	var out bytes.Buffer
	out.Grow(len(v.raw))
	next := 0
	for _, s := range raw {
		if s.to <= next {
			continue
		}
		if s.from >= next {
			out.Write(v.raw[next:s.from])
			out.WriteString(Marker)
		}
		next = s.to
	}
	out.Write(v.raw[next:])
	return out.Bytes()
}

// URL returns raw with its SAS removed: the snapshot parameter is kept,
// every other query parameter is dropped, and so is a password in the user
// info. Unparseable input is passed through Text.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Text(raw)
	}
	_, hasPassword := u.User.Password()
	q := u.Query()
	if !hasPassword && len(q) == 0 {
		return Text(raw)
	}
	if hasPassword {
		u.User = url.UserPassword(u.User.Username(), Marker)
	}
	if len(q) > 0 {
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
	}
	return Text(u.String())
}
