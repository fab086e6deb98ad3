// Package redacttest finds secrets that survived redaction in text a test
// captured (log lines, events, poll messages). It is written apart from the
// redactor: it decodes the whole text first and matches afterwards with
// regular expressions, so a blind spot of one is unlikely to be one of the
// other.
package redacttest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// marker is redact.Marker, restated so that this package checks the
// redactor instead of sharing its constants.
const marker = "REDACTED"

var (
	jsonEscape    = regexp.MustCompile(`\\+(u[0-9a-fA-F]{4}|["/'bfnrt])`)
	percentEscape = regexp.MustCompile(`%[0-9a-fA-F]{2}`)

	// A value runs to the first character no SAS, key or token contains:
	// control characters, space, quotes, angle brackets, backslash, ; and &.
	value = `([^\x00-\x20\x7f"'<>\\;&]+)`

	named = []*regexp.Regexp{
		regexp.MustCompile(`(?i)(?:^|[^a-z0-9])sig=` + value),
		regexp.MustCompile(`(?i)(?:accountkey|sharedaccesskey|sharedaccesssignature)=` + value),
		regexp.MustCompile(`(?i)(?:^|[^a-z0-9])bearer[ \t]+` + value),
		regexp.MustCompile(`(?i)(?:^|[^a-z0-9])sharedkey(?:lite)?[ \t]+[^\x00-\x20\x7f"'<>\\;&:]*:` + value),
	}
	jwt = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)`)
)

// Leaks returns one description per secret found in text: a SAS signature,
// a connection-string key or signature, a Bearer or SharedKey credential
// whose value is not the redaction marker, or any JWT; in any case, behind
// JSON escapes of any depth and one layer of percent-encoding.
func Leaks(text string) []string {
	plain := Decode(text)
	var found []string
	for _, re := range named {
		for _, m := range re.FindAllStringSubmatchIndex(plain, -1) {
			if v := plain[m[2]:m[3]]; v != marker {
				found = append(found, "unredacted "+snippet(plain, m[0], m[1]))
			}
		}
	}
	for _, m := range jwt.FindAllStringSubmatchIndex(plain, -1) {
		found = append(found, "JWT "+snippet(plain, m[2], m[3]))
	}
	return found
}

// Decode undoes JSON string escapes (every layer: nested JSON doubles the
// backslashes) and then one layer of percent-encoding, as a SAS parser
// reading a JSON body does.
func Decode(text string) string {
	text = jsonEscape.ReplaceAllStringFunc(text, func(esc string) string {
		esc = strings.TrimLeft(esc, `\`)
		switch esc[0] {
		case 'u':
			r, _ := strconv.ParseUint(esc[1:], 16, 32)
			if r >= 0x80 {
				return "\u00ff"
			}
			return string(rune(r))
		case 'b':
			return "\b"
		case 'f':
			return "\f"
		case 'n':
			return "\n"
		case 'r':
			return "\r"
		case 't':
			return "\t"
		}
		return esc
	})
	return percentEscape.ReplaceAllStringFunc(text, func(esc string) string {
		b, _ := strconv.ParseUint(esc[1:], 16, 8)
		return string([]byte{byte(b)})
	})
}

func snippet(s string, from, to int) string {
	return fmt.Sprintf("%q", s[max(0, from-40):min(len(s), to+20)])
}
