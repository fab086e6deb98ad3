package busemu

import (
	"fmt"
	"net/url"
	"strings"
)

// Address suffixes Service Bus uses for sub-queues and the management node.
const (
	suffixDeadLetter    = "/$deadletterqueue"
	suffixManagement    = "/$management"
	segmentSubscription = "/subscriptions/"
	addressCBS          = "$cbs"
)

// normalizePath turns a link address or audience into a lower-case entity
// path: no scheme, host or surrounding slashes (entity names are
// case-insensitive in Service Bus).
func normalizePath(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.Scheme != "" && u.Host != "" {
		addr = u.Path
	}
	return strings.ToLower(strings.Trim(addr, "/"))
}

func validateName(name string) error {
	if name == "" || strings.ContainsAny(name, "/\\?#") || strings.HasPrefix(name, "$") {
		return fmt.Errorf("%w: entity name %q", ErrInvalid, name)
	}
	return nil
}

// subscriptionPath is the address of a topic's subscription.
func subscriptionPath(topic, sub string) string {
	return strings.ToLower(topic) + segmentSubscription + strings.ToLower(sub)
}

// resolveStore finds the receivable store (queue, subscription or either's
// DLQ) at path. Caller holds b.mu.
func (b *Broker) resolveStore(path string) (*store, error) {
	path = normalizePath(path)
	dlq := strings.HasSuffix(path, suffixDeadLetter)
	base := strings.TrimSuffix(path, suffixDeadLetter)
	var s *store
	if n, ok := b.nodes[base]; ok && n.queue != nil {
		s = n.queue
	} else if topic, sub, ok := strings.Cut(base, segmentSubscription); ok {
		if n, ok := b.nodes[topic]; ok {
			if sb, ok := n.subs[sub]; ok {
				s = sb.store
			}
		}
	}
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrEntityNotFound, path)
	}
	if dlq {
		return s.dlq, nil
	}
	return s, nil
}

// resolveNode finds the queue or topic accepting sends at path. Caller holds b.mu.
func (b *Broker) resolveNode(path string) (*node, error) {
	n, ok := b.nodes[normalizePath(path)]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrEntityNotFound, normalizePath(path))
	}
	return n, nil
}
