package redact

import "strings"

// parameter is a secret written name=value: in a SAS query, a connection
// string or an Authorization value. Names match in any case.
type parameter struct {
	name string
	// inWords also matches the name at the end of a longer word
	// ("StorageAccountKey="); "sig" must start a word so that "design="
	// is left alone.
	inWords bool
}

// parameters: a SAS signature (Storage and Service Bus), account keys in
// Storage connection strings, and the key or SAS of a Service Bus
// connection string.
var parameters = []parameter{
	{name: "sig"},
	{name: "accountkey", inWords: true},
	{name: "sharedaccesskey", inWords: true},
	{name: "sharedaccesssignature", inWords: true},
}

// Authorization schemes whose credential follows after white space.
// SharedKey (and SharedKeyLite) credentials are "account:signature"; only
// the signature is secret.
const (
	schemeBearer        = "bearer"
	schemeSharedKey     = "sharedkey"
	schemeSharedKeyLite = "sharedkeylite"
)

// minJWTHeader is the shortest first segment taken for a JWT header: any
// real header names its "alg", which encodes to more than this.
const minJWTHeader = 10

// span is a secret's place in the decoded view, [from, to).
type span struct{ from, to int }

// findSecrets returns the secrets in v, in order of their start.
func findSecrets(v *view) []span {
	var spans []span
	n := v.len()
	for i := 0; i < n; i++ {
		var s span
		var ok bool
		switch v.dec[i] | 0x20 { // ASCII lower case, enough to pick a rule
		case 's', 'a':
			if s, ok = v.parameterAt(i); !ok {
				s, ok = v.sharedKeyAt(i)
			}
		case 'b':
			s, ok = v.bearerAt(i)
		case 'e':
			s, ok = v.jwtAt(i)
		}
		if ok {
			spans = append(spans, s)
			// Whatever starts inside a secret ends within it too.
			i = s.to - 1
		}
	}
	return spans
}

func (v *view) parameterAt(i int) (span, bool) {
	for _, p := range parameters {
		end := i + len(p.name)
		if !v.hasWordAt(i, p.name) || end >= v.len() || v.char(end) != '=' || (!p.inWords && !v.wordStartsAt(i)) {
			continue
		}
		if to := v.valueEnd(end + 1); to > end+1 {
			return span{end + 1, to}, true
		}
	}
	return span{}, false
}

func (v *view) bearerAt(i int) (span, bool) {
	from, ok := v.credentialAfter(i, schemeBearer)
	if !ok {
		return span{}, false
	}
	to := v.valueEnd(from)
	return span{from, to}, to > from
}

func (v *view) sharedKeyAt(i int) (span, bool) {
	from, ok := v.credentialAfter(i, schemeSharedKeyLite)
	if !ok {
		if from, ok = v.credentialAfter(i, schemeSharedKey); !ok {
			return span{}, false
		}
	}
	to := v.valueEnd(from)
	for j := from; j < to; j++ {
		if v.char(j) == ':' {
			return span{j + 1, to}, to > j+1
		}
	}
	return span{}, false
}

// credentialAfter matches "<scheme> <credential>" at i and returns where
// the credential starts.
func (v *view) credentialAfter(i int, scheme string) (int, bool) {
	if !v.hasWordAt(i, scheme) || !v.wordStartsAt(i) {
		return 0, false
	}
	j := i + len(scheme)
	if j >= v.len() || !isSpace(v.char(j)) {
		return 0, false
	}
	for j < v.len() && isSpace(v.char(j)) {
		j++
	}
	return j, true
}

// jwtAt matches a JWT (or JWE): base64url segments joined by dots, the
// first a JSON header ("eyJ" is `{"` encoded), at least three segments.
func (v *view) jwtAt(i int) (span, bool) {
	if !v.hasCaseAt(i, "eyJ") || (i > 0 && isBase64URL(v.char(i-1))) {
		return span{}, false
	}
	end := v.base64URLEnd(i)
	if end-i < minJWTHeader {
		return span{}, false
	}
	segments := 1
	for end < v.len() && v.char(end) == '.' {
		next := v.base64URLEnd(end + 1)
		if next == end+1 && segments == 1 {
			break // the payload is never empty; the signature may be
		}
		end, segments = next, segments+1
	}
	return span{i, end}, segments >= 3
}

// valueEnd is where a value starting at i ends: at the first delimiter
// that is not percent-encoded data.
func (v *view) valueEnd(i int) int {
	for i < v.len() && (v.isData(i) || !isDelimiter(v.char(i))) {
		i++
	}
	return i
}

func (v *view) base64URLEnd(i int) int {
	for i < v.len() && isBase64URL(v.char(i)) {
		i++
	}
	return i
}

// hasWordAt reports whether the decoded text at i is word, in any case.
func (v *view) hasWordAt(i int, word string) bool {
	if i+len(word) > v.len() {
		return false
	}
	for k := 0; k < len(word); k++ {
		if lower(v.char(i+k)) != word[k] {
			return false
		}
	}
	return true
}

// hasCaseAt is hasWordAt with case.
func (v *view) hasCaseAt(i int, s string) bool {
	if i+len(s) > v.len() {
		return false
	}
	for k := 0; k < len(s); k++ {
		if v.char(i+k) != s[k] {
			return false
		}
	}
	return true
}

func (v *view) wordStartsAt(i int) bool { return i == 0 || !isAlnum(v.char(i-1)) }

// isDelimiter: the characters that end a secret value. No SAS, key or
// token contains one (copyjob refuses a SAS value that does), so a secret
// is always cut whole.
func isDelimiter(c byte) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte(`"'<>\;&`, c) >= 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isAlnum(c byte) bool {
	return 'a' <= lower(c) && lower(c) <= 'z' || '0' <= c && c <= '9'
}

func isBase64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
