package busemu

import "strings"

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
)

// inLinkCredit is the credit busemu grants a client sender, refilled at half.
const inLinkCredit uint32 = 1000

// onAttach answers a client's attach: client receivers get an outLink
// (entity messages or RPC replies), client senders an inLink (entity sends,
// `$management` or `$cbs` requests). Caller holds b.mu.
func (s *session) onAttach(a performAttach) {
	if _, busy := s.inLinks[a.Handle]; busy {
		s.c.fail(&amqpError{Condition: "amqp:session:handle-in-use", Description: "handle already attached"})
		return
	}
	if _, busy := s.outLinks[a.Handle]; busy {
		s.c.fail(&amqpError{Condition: "amqp:session:handle-in-use", Description: "handle already attached"})
		return
	}
	if a.Role == roleReceiver {
		s.attachOut(a)
		return
	}
	s.attachIn(a)
}

// attachReply echoes the client's attach as go-amqp requires: same name,
// terminus and settle modes, opposite role.
func (s *session) attachReply(a performAttach) performAttach {
	return performAttach{Name: a.Name, Handle: a.Handle, Role: !a.Role, SndSettleMode: a.SndSettleMode, RcvSettleMode: a.RcvSettleMode,
		Source: a.Source, Target: a.Target, MaxMessageSize: s.c.b.opts.MaxMessageSize}
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
	if err != nil {
		s.refuseAttach(a, &amqpError{Condition: CondNotFound, Description: err.Error()})
		return
	}
	if !s.c.authorized(path) {
		s.refuseAttach(a, unauthorized(path))
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
	reply := s.attachReply(a)
	reply.InitialDeliveryCount = u32p(0)
	s.send(reply.value(), nil)
}

func (s *session) attachIn(a performAttach) {
	target := terminusAddress(a.Target)
	path := normalizePath(target)
	l := &inLink{s: s, name: a.Name, handle: a.Handle, path: path}
	if a.InitialDeliveryCount != nil {
		l.deliveryCount = *a.InitialDeliveryCount
	}
	switch {
	case target == addressCBS:
		l.kind = inCBS
	case strings.HasSuffix(path, suffixManagement):
		l.kind = inManagement
		l.path = strings.TrimSuffix(path, suffixManagement)
		if !s.c.authorized(l.path) {
			s.refuseAttach(a, unauthorized(path))
			return
		}
	default:
		n, err := s.c.b.resolveNode(path)
		if err != nil {
			s.refuseAttach(a, &amqpError{Condition: CondNotFound, Description: err.Error()})
			return
		}
		if !s.c.authorized(path) {
			s.refuseAttach(a, unauthorized(path))
			return
		}
		l.kind, l.node = inEntity, n
	}
	s.inLinks[a.Handle] = l
	s.send(s.attachReply(a).value(), nil)
	l.credit = inLinkCredit
	s.sendFlow(l.flowState())
}

func unauthorized(path string) *amqpError {
	return &amqpError{Condition: CondUnauthorized, Description: "no valid put-token claim covers " + path}
}
