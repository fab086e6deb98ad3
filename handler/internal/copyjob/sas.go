package copyjob

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// sasParams are the query parameters that make up a SAS; anything else in a
// source URL's query is not allowed.
var sasParams = map[string]bool{
	"sv": true, "ss": true, "srt": true, "sp": true, "se": true, "st": true, "spr": true, "sip": true,
	"sr": true, "sig": true, "si": true, "sdd": true, "skoid": true, "sktid": true, "skt": true, "ske": true,
	"sks": true, "skv": true, "saoid": true, "suoid": true, "scid": true, "sduoid": true, "skdutid": true,
	"rscc": true, "rscd": true, "rsce": true, "rscl": true, "rsct": true, "ses": true,
}

// SAS is a source SAS, kept as parsed values so it is re-encoded safely: a
// raw "+" in a hand-pasted signature stays a "+" (the SDK's query round trip
// would turn it into a space and break the signature).
type SAS struct {
	values url.Values
}

// IsZero reports whether no SAS was given.
func (s SAS) IsZero() bool { return len(s.values) == 0 }

// Encode returns the SAS as a query string, properly escaped.
func (s SAS) Encode() string { return s.values.Encode() }

// ParseSAS parses a SAS query ("sv=…&sig=…", with or without a leading "?").
func ParseSAS(raw string) (SAS, error) {
	values := url.Values{}
	for _, pair := range strings.Split(strings.TrimPrefix(strings.TrimSpace(raw), "?"), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		// PathUnescape, not QueryUnescape: "+" is data here, not a space.
		key, err1 := url.PathUnescape(k)
		val, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return SAS{}, fmt.Errorf("SAS has a malformed escape in parameter %q", k)
		}
		values.Add(key, val)
	}
	return sasFromValues(values)
}

func sasFromValues(values url.Values) (SAS, error) {
	for k, vs := range values {
		if !sasParams[k] {
			return SAS{}, fmt.Errorf("query parameter %q is not part of a SAS", k)
		}
		for _, v := range vs {
			if i := strings.IndexFunc(v, notInSASValue); i >= 0 {
				return SAS{}, fmt.Errorf("SAS parameter %q holds %q, which no SAS value contains (in a URL an unencoded + reads as a space: write %%2B)", k, v[i])
			}
		}
	}
	return SAS{values: values}, nil
}

// notInSASValue reports the characters no SAS value contains once decoded
// (signatures are base64, the rest are times, versions, GUIDs and letters).
// Refusing them keeps every accepted signature whole for the redactor, which
// ends a secret at the first of them.
func notInSASValue(r rune) bool {
	return r <= ' ' || r == 0x7f || strings.ContainsRune(`"'<>\;`, r)
}

// CheckForIncrementalCopy reports why the SAS cannot authorize reading the
// source of an incremental copy: it must be signed for the base blob
// (sr=b; sr=bs pins one snapshot and the service rejects it here), grant
// read, and not be expired at now.
func (s SAS) CheckForIncrementalCopy(now time.Time) error {
	if s.values.Get("sig") == "" {
		return fmt.Errorf("SAS has no signature (sig)")
	}
	switch sr := s.values.Get("sr"); sr {
	case "b":
	case "bs":
		return fmt.Errorf("SAS is signed for one snapshot (sr=bs); incremental copy needs a SAS on the base blob (sr=b)")
	default:
		return fmt.Errorf("SAS resource sr=%q: incremental copy needs a blob SAS (sr=b)", sr)
	}
	if !strings.Contains(s.values.Get("sp"), "r") {
		return fmt.Errorf("SAS permissions sp=%q do not include read (r)", s.values.Get("sp"))
	}
	if se := s.values.Get("se"); se != "" {
		exp, err := parseSASTime(se)
		if err != nil {
			return fmt.Errorf("SAS expiry se=%q is not a time", se)
		}
		if !exp.After(now) {
			return fmt.Errorf("SAS expired at %s", exp.Format(time.RFC3339))
		}
	}
	return nil
}

// parseSASTime accepts the ISO 8601 forms the service accepts for se/st.
func parseSASTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}
