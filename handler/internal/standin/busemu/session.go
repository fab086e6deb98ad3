package busemu

// sessionWindow is the incoming window busemu announces; it is refreshed
// with a session flow once half of it is used.
const sessionWindow uint32 = 5000

// session is one AMQP session: transfer ids, the links attached on it
// (by the client's handle, which busemu mirrors as its own), and the
// deliveries it sent that the client has not settled yet.
type session struct {
	c                 *conn
	channel           uint16
	nextOutgoingID    uint32 // transfer-id of busemu's next transfer
	nextDeliveryID    uint32
	nextIncomingID    uint32
	receivedSinceFlow uint32
	inLinks           map[uint32]*inLink  // client senders
	outLinks          map[uint32]*outLink // client receivers
	closing           map[uint32]bool     // handles busemu detached, awaiting the client's detach
	unsettled         map[uint32]*outDelivery
}

func newSession(c *conn, channel uint16, b performBegin) *session {
	return &session{c: c, channel: channel, nextIncomingID: b.NextOutgoingID,
		inLinks: map[uint32]*inLink{}, outLinks: map[uint32]*outLink{}, closing: map[uint32]bool{}, unsettled: map[uint32]*outDelivery{}}
}

// handleInUse reports whether handle names a link, or one busemu detached
// whose detach the client has not answered yet.
func (s *session) handleInUse(handle uint32) bool {
	_, in := s.inLinks[handle]
	_, out := s.outLinks[handle]
	return in || out || s.closing[handle]
}

func (s *session) send(body any, payload []byte) { s.c.send(s.channel, body, payload) }

// handle processes one frame of this session. Caller holds b.mu.
func (s *session) handle(code uint64, fields []any, payload []byte) {
	switch code {
	case descAttach:
		s.onAttach(parseAttach(fields))
	case descFlow:
		s.onFlow(parseFlow(fields))
	case descTransfer:
		s.onTransfer(parseTransfer(fields), payload)
	case descDisposition:
		s.onDisposition(parseDisposition(fields))
	case descDetach:
		s.onDetach(parseDetach(fields))
	case descEnd:
		s.detachAll()
		delete(s.c.sessions, s.channel)
		s.send(endOrClose(descEnd, nil), nil)
	default:
		s.c.fail(&amqpError{Condition: "amqp:not-implemented", Description: "unexpected performative"})
	}
}

func (s *session) onFlow(f performFlow) {
	if f.Handle == nil {
		if f.Echo {
			s.sendFlow(nil)
		}
		return
	}
	if l, ok := s.outLinks[*f.Handle]; ok {
		l.onFlow(f)
	} else if l, ok := s.inLinks[*f.Handle]; ok && f.Echo {
		s.sendFlow(l.flowState())
	}
}

// linkFlow is the link part of a flow frame.
type linkFlow struct {
	handle, deliveryCount, credit uint32
	drain                         bool
}

// sendFlow sends a flow frame with the session state and, if lf is set, a link's.
func (s *session) sendFlow(lf *linkFlow) {
	next := s.nextIncomingID
	f := performFlow{NextIncomingID: &next, IncomingWindow: sessionWindow, NextOutgoingID: s.nextOutgoingID, OutgoingWindow: sessionWindow}
	if lf != nil {
		f.Handle, f.DeliveryCount, f.LinkCredit, f.Drain = u32p(lf.handle), u32p(lf.deliveryCount), u32p(lf.credit), lf.drain
	}
	s.receivedSinceFlow = 0
	s.send(f.value(), nil)
}

func (s *session) onTransfer(t performTransfer, payload []byte) {
	s.nextIncomingID++
	s.receivedSinceFlow++
	if s.receivedSinceFlow >= sessionWindow/2 {
		s.sendFlow(nil)
	}
	if s.closing[t.Handle] {
		return // frames the client sent before it saw busemu's detach
	}
	l, ok := s.inLinks[t.Handle]
	if !ok {
		s.c.fail(&amqpError{Condition: "amqp:session:unattached-handle", Description: "transfer on an unknown handle"})
		return
	}
	l.onTransfer(t, payload)
}

// onDisposition applies the client's settlement of busemu's deliveries.
// Dispositions from the client as sender (settling after busemu's outcome)
// need nothing.
func (s *session) onDisposition(d performDisposition) {
	if d.Role != roleReceiver {
		return
	}
	last := d.First
	if d.Last != nil {
		last = *d.Last
	}
	for id := d.First; ; id++ {
		if del, ok := s.unsettled[id]; ok {
			delete(s.unsettled, id)
			del.settle(id, d.State, d.Settled)
		}
		if id == last {
			break
		}
	}
}

// sendTransfer sends payload as one delivery, split into frames that fit
// the client's max-frame-size, and returns its delivery-id.
func (s *session) sendTransfer(handle uint32, tag, payload []byte, settled bool) uint32 {
	id := s.nextDeliveryID
	s.nextDeliveryID++
	format := uint32(0)
	t := performTransfer{Handle: handle, DeliveryID: &id, DeliveryTag: tag, MessageFormat: &format, Settled: settled, More: true}
	overhead, _ := encode(nil, t.value())
	room := max(int(s.c.peerMaxFrame)-frameHeaderSize-len(overhead), 1)
	for {
		chunk := payload
		t.More = len(chunk) > room
		if t.More {
			chunk = payload[:room]
		}
		payload = payload[len(chunk):]
		s.send(t.value(), chunk)
		s.nextOutgoingID++
		if !t.More {
			return id
		}
	}
}

// sendDisposition settles a delivery the client sent (role receiver) or
// one busemu sent (role sender).
func (s *session) sendDisposition(r role, id uint32, state any) {
	s.send(performDisposition{Role: r, First: id, Settled: true, State: state}.value(), nil)
}

func (s *session) onDetach(d performDetach) {
	if s.closing[d.Handle] {
		delete(s.closing, d.Handle) // the answer to busemu's own detach
		return
	}
	if !s.forget(d.Handle) {
		return // the answer to busemu refusing an attach
	}
	s.send(performDetach{Handle: d.Handle, Closed: true}.value(), nil)
}

// closeLink detaches a link with an error; frames the client sends on the
// handle until it answers are ignored.
func (s *session) closeLink(handle uint32, err *amqpError) {
	if !s.forget(handle) {
		return
	}
	s.closing[handle] = true
	s.send(performDetach{Handle: handle, Closed: true, Error: err}.value(), nil)
	s.c.b.logf("detached link %d: %v", handle, err)
}

// forget removes the link at handle, releasing what it held, and reports
// whether there was one.
func (s *session) forget(handle uint32) bool {
	if l, ok := s.inLinks[handle]; ok {
		delete(s.inLinks, handle)
		l.dropPartial()
		return true
	}
	if l, ok := s.outLinks[handle]; ok {
		delete(s.outLinks, handle)
		l.close()
		return true
	}
	return false
}

// detachAll forgets every link of the session (end, close or lost connection).
func (s *session) detachAll() {
	for h := range s.outLinks {
		s.forget(h)
	}
	for h := range s.inLinks {
		s.forget(h)
	}
	clear(s.closing)
}

// refuseAttach answers an attach it cannot serve the way go-amqp expects:
// an attach with no terminus, then a detach carrying the error.
func (s *session) refuseAttach(a performAttach, err *amqpError) {
	s.send(performAttach{Name: a.Name, Handle: a.Handle, Role: !a.Role}.value(), nil)
	s.send(performDetach{Handle: a.Handle, Closed: true, Error: err}.value(), nil)
	s.c.b.logf("refused attach %q: %v", a.Name, err)
}
