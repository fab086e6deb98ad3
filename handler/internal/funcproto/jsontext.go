package funcproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// unquote appends the text of the JSON string v to dst and reports whether
// v is exactly one JSON string, optionally followed by whitespace: the
// result and ok of json.Unmarshal into a string, for a v that starts with
// a quote. The host's string layers only escape quotes and backslashes, so
// those strings are unescaped here in one pass; any other escape, and
// invalid UTF-8 (which encoding/json replaces), go through encoding/json.
// dst may be v[:0]: v is checked before anything is written, and the text
// is never longer than v.
func unquote(dst, v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0] != '"' {
		return dst, false
	}
	if end, ok := plainStringEnd(v); ok {
		inner := v[1:end]
		for {
			i := bytes.IndexByte(inner, '\\')
			if i < 0 {
				return append(dst, inner...), true
			}
			dst = append(dst, inner[:i]...)
			dst = append(dst, inner[i+1])
			inner = inner[i+2:]
		}
	}
	// A copy: escape analysis cannot tell that encoding/json keeps nothing,
	// and v is often a stack buffer of metaString's.
	var s string
	if json.Unmarshal(bytes.Clone(v), &s) != nil {
		return dst, false
	}
	return append(dst, s...), true
}

// plainStringEnd returns the index of the closing quote of the JSON string
// v, which starts with a quote, if the string's only escapes are \" \\ and
// \/, its text is valid UTF-8 and only whitespace follows it.
func plainStringEnd(v []byte) (int, bool) {
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return i, isSpace(v[i+1:]) && utf8.Valid(v[1:i])
		case c == '\\':
			if i+1 == len(v) || (v[i+1] != '"' && v[i+1] != '\\' && v[i+1] != '/') {
				return 0, false
			}
			i++
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

// isSpace reports whether b is only JSON whitespace.
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

var errNotObject = errors.New("not a JSON object")

// eachMember calls fn with the key (quotes included) and the value of each
// member of the JSON object obj, in order, as subslices of obj. obj comes
// from encoding/json, which has checked that it is valid JSON, so this
// only finds the boundaries; it fails, rather than panics, on anything
// that is not an object.
func eachMember(obj []byte, fn func(key, value []byte)) error {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' {
		return errNotObject
	}
	i++
	for {
		i = skipSpace(obj, i)
		switch {
		case i == len(obj):
			return errNotObject
		case obj[i] == '}':
			return nil
		case obj[i] == ',':
			i++
			continue
		case obj[i] != '"':
			return errNotObject
		}
		keyEnd := stringEnd(obj, i)
		colon := skipSpace(obj, keyEnd)
		if colon == len(obj) || obj[colon] != ':' {
			return errNotObject
		}
		start := skipSpace(obj, colon+1)
		end := valueEnd(obj, start)
		fn(obj[i:keyEnd], obj[start:end])
		i = end
	}
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value starting at b[i]: a
// string, an object or array (with everything nested in it), or a literal,
// which ends at the next delimiter.
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = stringEnd(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
