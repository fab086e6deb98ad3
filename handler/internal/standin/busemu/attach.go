package busemu

import (
	"fmt"
	"strings"
)

// Standard AMQP and Service Bus error conditions busemu answers with.
const (
	CondServerBusy         = "com.microsoft:server-busy"
	CondTimeout            = "com.microsoft:timeout"
	CondLockLost           = "com.microsoft:message-lock-lost"
	CondNotFound           = "amqp:not-found"
	CondUnauthorized       = "amqp:unauthorized-access"
	CondNotImplemented     = "amqp:not-implemented"
	CondDecodeError        = "amqp:decode-error"
	CondMessageSizeExceeds = "amqp:link:message-size-exceeded"
	CondInternalError      = "amqp:internal-error"
	// CondResourceLimitExceeded refuses what would exceed one of busemu's
	// per-connection bounds (links, buffered bytes, pending replies).
	CondResourceLimitExceeded = "amqp:resource-limit-exceeded"
	condFramingError          = "amqp:connection:framing-error"
)

// inLinkCredit is the credit busemu grants a client sender, refilled at half.
const inLinkCredit uint32 = 1000

// onAttach answers a client's attach: client receivers get an outLink
// (entity messages or RPC replies), client senders an inLink (entity sends,
// `$management` or `$cbs` requests). Caller holds b.mu.
func (s *session) onAttach(a performAttach) {
	if a.Handle > handleMax {
		s.c.fail(&amqpError{Condition: condFramingError, Description: fmt.Sprintf("handle %d exceeds handle-max %d", a.Handle, handleMax)})
		return
	}
	if s.handleInUse(a.Handle) {
		s.c.fail(&amqpError{Condition: "amqp:session:handle-in-use", Description: "handle already attached"})
		return
	}
	if s.c.linkCount() >= maxLinksPerConnection {
		s.refuseAttach(a, &amqpError{Condition: CondResourceLimitExceeded,
			Description: fmt.Sprintf("a connection may hold at most %d links", maxLinksPerConnection)})
		return
	}
	if a.Role == roleReceiver {
		s.attachOut(a)
		return
	}
	s.attachIn(a)
}

// attachReply echoes the client's attach as go-amqp requires: same name,
// terminus and settle modes, opposite role, and the largest message
// busemu accepts on the link.
func (s *session) attachReply(a performAttach, maxSize uint64) performAttach {
	return performAttach{Name: a.Name, Handle: a.Handle, Role: !a.Role, SndSettleMode: a.SndSettleMode, RcvSettleMode: a.RcvSettleMode,
		Source: a.Source, Target: a.Target, MaxMessageSize: maxSize}
}

func (s *session) attachOut(a performAttach) {
	source := terminusAddress(a.Source)
	l := &outLink{s: s, name: a.Name, handle: a.Handle, sndSettle: sndSettleMixed, rcvSettle: rcvSettleFirst}
	if a.SndSettleMode != nil {
		l.sndSettle = *a.SndSettleMode
	}
	if a.RcvSettleMode != nil {
		l.rcvSettle = *a.RcvSettleMode
	}
	path := normalizePath(source)
	if source == addressCBS || strings.HasSuffix(path, suffixManagement) {
		if source != addressCBS && !s.c.authorized(strings.TrimSuffix(path, suffixManagement)) {
			s.refuseAttach(a, unauthorized(path))
			return
		}
		l.replyTo = terminusAddress(a.Target)
		s.c.replyLinks[l.replyTo] = l
		s.acceptOut(a, l)
		return
	}
	st, err := s.c.b.resolveStore(path)
	if refusal := s.entityRefusal(path, err); refusal != nil {
		s.refuseAttach(a, refusal)
		return
	}
	s.c.withFault(OpReceive, path, func(refusal *amqpError) {
		if refusal != nil {
			s.refuseAttach(a, refusal)
			return
		}
		l.store = st
		s.acceptOut(a, l)
		st.addReceiver(l)
	})
}

func (s *session) acceptOut(a performAttach, l *outLink) {
	s.outLinks[a.Handle] = l
	reply := s.attachReply(a, s.c.b.opts.MaxMessageSize)
	reply.InitialDeliveryCount = u32p(0)
	s.send(reply.value(), nil)
}

func (s *session) attachIn(a performAttach) {
	target := terminusAddress(a.Target)
	path := normalizePath(target)
	// A schedule-message request carries whole messages, so `$management`
	// takes the entity's limit; a `$cbs` request is only a token.
	l := &inLink{s: s, name: a.Name, handle: a.Handle, path: path, maxSize: s.c.b.opts.MaxMessageSize}
	if a.InitialDeliveryCount != nil {
		l.deliveryCount = *a.InitialDeliveryCount
	}
	switch {
	case target == addressCBS:
		l.kind, l.maxSize = inCBS, cbsMaxMessageSize
	case strings.HasSuffix(path, suffixManagement):
		l.kind = inManagement
		l.path = strings.TrimSuffix(path, suffixManagement)
		if !s.c.authorized(l.path) {
			s.refuseAttach(a, unauthorized(path))
			return
		}
	default:
		n, err := s.c.b.resolveNode(path)
		if refusal := s.entityRefusal(path, err); refusal != nil {
			s.refuseAttach(a, refusal)
			return
		}
		l.kind, l.node = inEntity, n
	}
	s.inLinks[a.Handle] = l
	s.send(s.attachReply(a, l.maxSize).value(), nil)
	l.credit = inLinkCredit
	s.sendFlow(l.flowState())
}

// entityRefusal is why a link to the entity at path is refused: it does
// not exist (resolveErr, the error resolving it) or no token of the
// connection covers it; nil when neither.
func (s *session) entityRefusal(path string, resolveErr error) *amqpError {
	if resolveErr != nil {
		return &amqpError{Condition: CondNotFound, Description: resolveErr.Error()}
	}
	if !s.c.authorized(path) {
		return unauthorized(path)
	}
	return nil
}

func unauthorized(path string) *amqpError {
	return &amqpError{Condition: CondUnauthorized, Description: "no valid put-token claim covers " + path}
}
