package redact

// view is text as the parsers downstream read it: JSON string escapes
// undone (any depth of nesting: a JSON body inside a JSON log line doubles
// the backslashes) and then one layer of percent-encoding, as url.ParseQuery
// and the SAS parser do. Every decoded byte remembers where it starts in the
// raw text, so a secret found in the view is cut out of the raw text.
type view struct {
	raw []byte
	// dec is the decoded text; raw itself when raw has nothing to decode.
	dec []byte
	// at[i] is the raw offset where dec[i] begins; at[len(dec)] = len(raw).
	// nil when dec is raw.
	at []int32
	// data[i] tells that dec[i] came from a percent escape: part of a
	// value, never a delimiter ("sig=a%26b" is one value). nil when dec is
	// raw.
	data []bool
}

// nonASCII stands for any decoded character outside ASCII: none is part of
// a secret's name or a delimiter, so one placeholder does.
const nonASCII = 0x80

func newView(raw []byte) view {
	v := view{raw: raw, dec: raw}
	if !hasEscapes(raw) {
		return v
	}
	v.dec = make([]byte, 0, len(raw))
	v.at = make([]int32, 0, len(raw)+1)
	v.data = make([]bool, 0, len(raw))
	for i := 0; i < len(raw); {
		c, n := jsonUnit(raw, i)
		if c == '%' {
			if h, m := percentUnit(raw, i+n); m > 0 {
				v.push(h, i, true)
				i += n + m
				continue
			}
		}
		v.push(c, i, false)
		i += n
	}
	v.at = append(v.at, int32(len(raw)))
	return v
}

func hasEscapes(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c == '%' {
			return true
		}
	}
	return false
}

func (v *view) push(c byte, at int, data bool) {
	v.dec = append(v.dec, c)
	v.at = append(v.at, int32(at))
	v.data = append(v.data, data)
}

// len is the length of the decoded text.
func (v *view) len() int { return len(v.dec) }

// char is decoded byte i.
func (v *view) char(i int) byte { return v.dec[i] }

// rawOffset is where decoded byte i (or the end, i = len) starts in raw.
func (v *view) rawOffset(i int) int {
	if v.at == nil {
		return i
	}
	return int(v.at[i])
}

// isData reports whether decoded byte i came from a percent escape.
func (v *view) isData(i int) bool { return v.data != nil && v.data[i] }

// jsonUnit decodes one character at raw[i]: a plain byte, or a JSON escape
// behind any run of backslashes (\u0073, \\u0073, \/, \\\"). It returns the
// character and the raw bytes it spans.
func jsonUnit(raw []byte, i int) (byte, int) {
	if raw[i] != '\\' {
		return raw[i], 1
	}
	j := i
	for j < len(raw) && raw[j] == '\\' {
		j++
	}
	if j == len(raw) {
		return '\\', j - i
	}
	if raw[j] == 'u' && j+5 <= len(raw) {
		if r, ok := hexValue(raw[j+1 : j+5]); ok {
			if r >= 0x80 {
				return nonASCII, j + 5 - i
			}
			return byte(r), j + 5 - i
		}
	}
	switch raw[j] {
	case '"', '/', '\'':
		return raw[j], j + 1 - i
	case 'b':
		return '\b', j + 1 - i
	case 'f':
		return '\f', j + 1 - i
	case 'n':
		return '\n', j + 1 - i
	case 'r':
		return '\r', j + 1 - i
	case 't':
		return '\t', j + 1 - i
	}
	return '\\', j - i
}

// percentUnit decodes the two hex digits after a '%' at raw[i:], each
// possibly JSON-escaped itself; m is 0 when they are not hex digits.
func percentUnit(raw []byte, i int) (c byte, m int) {
	if i >= len(raw) {
		return 0, 0
	}
	hi, n1 := jsonUnit(raw, i)
	if i+n1 >= len(raw) {
		return 0, 0
	}
	lo, n2 := jsonUnit(raw, i+n1)
	h, ok := hexValue([]byte{hi, lo})
	if !ok {
		return 0, 0
	}
	return byte(h), n1 + n2
}

func hexValue(digits []byte) (int, bool) {
	v := 0
	for _, d := range digits {
		switch {
		case '0' <= d && d <= '9':
			v = v*16 + int(d-'0')
		case 'a' <= d && d <= 'f':
			v = v*16 + int(d-'a'+10)
		case 'A' <= d && d <= 'F':
			v = v*16 + int(d-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
