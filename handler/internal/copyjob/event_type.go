package copyjob

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// snapshotCreatedWords is what the last words of a default-accepted type
// spell, lower case, without separators.
const snapshotCreatedWords = "snapshotcreated"

// defaultEventTypes describes the default for a Rejected reason.
const defaultEventTypes = `types whose last words are "snapshot created" in any case, ` +
	`written together or separated by '.', '-' or '_' (Contoso.Backup.SnapshotCreated, com.contoso.backup.snapshot.created)`

// ErrEventTypePattern is wrapped by CheckEventTypePatterns' error.
var ErrEventTypePattern = errors.New("not an event type or type prefix")

// CheckEventTypePatterns reports, in one error, the patterns that are
// neither an exact type name nor a prefix ending in a single '*'.
func CheckEventTypePatterns(patterns []string) error {
	var problems []string
	for _, p := range patterns {
		prefix, _ := strings.CutSuffix(p, "*")
		switch {
		case p == "":
			problems = append(problems, "an empty entry")
		case strings.Contains(prefix, "*"):
			problems = append(problems, fmt.Sprintf("%q has a '*' before its end (only prefix* is supported)", p))
		case strings.IndexFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			problems = append(problems, fmt.Sprintf("%q contains white space", p))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrEventTypePattern, strings.Join(problems, "; "))
}

// AcceptsEventType reports whether a CloudEvent of type t is a trigger:
// with no EventTypes configured, when its last words are "snapshot
// created" (so both Contoso.Backup.SnapshotCreated and the CloudEvents
// convention's com.contoso.backup.snapshot.created pass); otherwise when t
// equals an entry or starts with an entry's prefix before its '*'.
func (r Rules) AcceptsEventType(t string) bool {
	if len(r.EventTypes) == 0 {
		return endsInSnapshotCreated(t)
	}
	for _, p := range r.EventTypes {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(t, prefix) {
				return true
			}
		} else if t == p {
			return true
		}
	}
	return false
}

// acceptedEventTypes says what AcceptsEventType accepts, for a Rejected
// reason.
func (r Rules) acceptedEventTypes() string {
	if len(r.EventTypes) == 0 {
		return defaultEventTypes
	}
	return "the configured types " + strings.Join(r.EventTypes, ", ")
}

// endsInSnapshotCreated reports whether the last words of t, lower case and
// joined, spell "snapshotcreated", starting at a word boundary: so
// "NotSnapshotCreated" passes (its last words are snapshot, created) but
// "notsnapshotcreated" (one word) does not.
func endsInSnapshotCreated(t string) bool {
	words := typeWords(t)
	tail := ""
	for i := len(words) - 1; i >= 0 && len(tail) < len(snapshotCreatedWords); i-- {
		tail = strings.ToLower(words[i]) + tail
		if tail == snapshotCreatedWords {
			return true
		}
	}
	return false
}

// typeWords splits an event type into words at '.', '-' and '_' and where
// the case changes: "Contoso.Backup.SnapshotCreated" → Contoso, Backup,
// Snapshot, Created; "VMSnapshot" → VM, Snapshot.
func typeWords(t string) []string {
	var words []string
	runes := []rune(t)
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, string(runes[start:end]))
		}
		start = end
	}
	for i, r := range runes {
		switch {
		case r == '.' || r == '-' || r == '_':
			flush(i)
			start = i + 1
		case i > start && unicode.IsUpper(r):
			prev := runes[i-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if !unicode.IsUpper(prev) || nextLower {
				flush(i)
			}
		}
	}
	flush(len(runes))
	return words
}
