package funcproto

import (
	"bufio"
	"io"
)

// skimmedKeys are the envelope's Metadata fields an oversized invocation
// still needs: its MessageId names its Rejected event (two different
// oversized messages must not share one), DeliveryCount goes to the log.
var skimmedKeys = map[string]bool{"MessageId": true, "DeliveryCount": true}

// Bounds of what the skimmer keeps: keys longer than any it looks for are
// skipped, and values longer than maxSkimValue are cut.
const (
	maxSkimKey   = 32
	maxSkimValue = 1024
)

// skimMetadata streams through an envelope too large to decode and returns
// the raw JSON values of skimmedKeys in its top-level Metadata object, in
// constant memory: strings are skipped byte by byte, never buffered. It
// does not validate; on broken JSON it returns what it found.
func skimMetadata(r io.Reader) map[string][]byte {
	s := skimmer{in: bufio.NewReaderSize(r, 32<<10), found: map[string][]byte{}}
	s.run()
	return s.found
}

type skimmer struct {
	in    *bufio.Reader
	found map[string][]byte

	depth     int    // nesting of objects and arrays
	inMeta    bool   // inside the top-level "Metadata" object (depth 2)
	expectKey bool   // at depth 1 or 2: the next string is a key
	lastKey   string // the last key read at depth 1 or 2
	capture   string // the skimmedKeys entry whose value is being read
	value     []byte // its raw JSON so far
}

func (s *skimmer) run() {
	for {
		c, err := s.in.ReadByte()
		if err != nil {
			return
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			s.onString()
		case '{', '[':
			s.depth++
			s.expectKey = c == '{'
			s.capture = "" // a nested value is not one we look for
			if s.depth == 2 {
				s.inMeta = c == '{' && s.lastKey == "Metadata"
			}
		case '}', ']':
			s.store()
			s.depth--
			if s.depth < 2 {
				s.inMeta = false
			}
		case ',':
			s.store()
			s.expectKey = s.depth <= 2
		case ':':
			s.expectKey = false
			if s.depth == 2 && s.inMeta && skimmedKeys[s.lastKey] {
				s.capture, s.value = s.lastKey, nil
			}
		default: // a number, true, false or null
			if s.capture != "" && len(s.value) < maxSkimValue {
				s.value = append(s.value, c)
			}
		}
	}
}

// onString consumes a string after its opening quote: a key at depth 1 or
// 2 is remembered, a captured value is kept as its raw JSON token, and
// anything else is skipped without being stored.
func (s *skimmer) onString() {
	switch {
	case s.expectKey && s.depth <= 2:
		key, ok := s.readString(maxSkimKey)
		s.lastKey = ""
		if ok {
			s.lastKey = string(key)
		}
	case s.capture != "":
		text, ok := s.readString(maxSkimValue)
		if ok {
			s.value = append(append(append(s.value, '"'), text...), '"')
		}
	default:
		s.readString(0)
	}
}

// readString reads to the closing quote, keeping the raw text (escapes
// included) if it is at most limit bytes; ok is false when it was longer
// or the input ended.
func (s *skimmer) readString(limit int) (text []byte, ok bool) {
	escaped, long := false, false
	for {
		c, err := s.in.ReadByte()
		if err != nil {
			return nil, false
		}
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			return text, !long
		}
		if len(text) < limit {
			text = append(text, c)
		} else {
			long = true
		}
	}
}

// store records the captured value when its entry ends.
func (s *skimmer) store() {
	if s.capture != "" && s.depth == 2 {
		s.found[s.capture] = s.value
	}
	s.capture = ""
}
