package busemu

import "fmt"

// Message annotations Service Bus adds on delivery (azservicebus message.go).
const (
	annSequenceNumber       = "x-opt-sequence-number"
	annEnqueuedTime         = "x-opt-enqueued-time"
	annLockedUntil          = "x-opt-locked-until"
	annScheduledEnqueueTime = "x-opt-scheduled-enqueue-time"
	annDeadLetterSource     = "x-opt-deadletter-source"
	annMessageState         = "x-opt-message-state"
)

// outLink is a link on which busemu sends: an entity receiver (messages
// from a store) or an RPC reply link (`$cbs`, `$management`).
type outLink struct {
	s             *session
	name          string
	handle        uint32
	sndSettle     uint8
	rcvSettle     uint8
	credit        uint32
	deliveryCount uint32
	detached      bool
	store         *store   // entity receiver
	replyTo       string   // reply link: the address requests name in reply-to
	replies       [][]byte // reply link: encoded replies waiting for credit
}

// preSettled is receive-and-delete: deliveries are settled when sent.
func (l *outLink) preSettled() bool { return l.sndSettle == sndSettleSettled }

// outDelivery is a peek-locked delivery the client has yet to settle.
type outDelivery struct {
	link  *outLink
	store *store
	token UUID
}

// deliver sends sm to the client: locked (peek-lock) or removed (receive-and-delete).
func (l *outLink) deliver(st *store, sm *storedMessage) {
	m := sm.msg.clone()
	m.setHeader(hdrDeliveryCount, sm.failedDeliveries)
	m.annotations = m.annotations.Set(Symbol(annSequenceNumber), sm.seq)
	m.annotations = m.annotations.Set(Symbol(annEnqueuedTime), sm.enqueued)
	if sm.deadLetterSource != "" {
		m.annotations = m.annotations.Set(Symbol(annDeadLetterSource), sm.deadLetterSource)
	}
	var tag []byte
	if l.preSettled() {
		u := newUUID()
		tag = u[:]
	} else {
		st.lock(sm, l)
		m.annotations = m.annotations.Set(Symbol(annLockedUntil), sm.lockedUntil)
		tag = lockTokenTag(sm.lockToken)
	}
	payload, err := m.encode()
	if err != nil {
		l.s.c.b.logf("encode message %d: %v", sm.seq, err)
		return
	}
	id := l.s.sendTransfer(l.handle, tag, payload, l.preSettled())
	if !l.preSettled() {
		l.s.unsettled[id] = &outDelivery{link: l, store: st, token: sm.lockToken}
	}
	l.credit--
	l.deliveryCount++
}

// lockTokenTag is the delivery tag for a lock token: Service Bus sends the
// token in .NET Guid byte order, which azservicebus swaps back.
func lockTokenTag(u UUID) []byte {
	t := u
	t[0], t[3] = t[3], t[0]
	t[1], t[2] = t[2], t[1]
	t[4], t[5] = t[5], t[4]
	t[6], t[7] = t[7], t[6]
	return t[:]
}

// onFlow takes the client's credit; new credit also re-checks due times,
// so a receiver on a fake clock sees what a Tick would show it.
func (l *outLink) onFlow(f performFlow) {
	if f.LinkCredit != nil {
		dc := l.deliveryCount
		if f.DeliveryCount != nil {
			dc = *f.DeliveryCount
		}
		l.credit = dc + *f.LinkCredit - l.deliveryCount
	}
	if l.store != nil {
		l.s.c.b.tickLocked()
	} else {
		l.flushReplies()
	}
	if f.Drain && l.credit > 0 {
		l.deliveryCount += l.credit
		l.credit = 0
		l.s.sendFlow(&linkFlow{handle: l.handle, deliveryCount: l.deliveryCount, credit: 0, drain: true})
		return
	}
	if f.Echo {
		l.s.sendFlow(&linkFlow{handle: l.handle, deliveryCount: l.deliveryCount, credit: l.credit})
	}
}

// sendReply queues an RPC reply and sends what credit allows. A client
// that keeps sending requests without granting credit for the answers
// loses its reply link instead of growing busemu's memory.
func (l *outLink) sendReply(payload []byte) {
	if len(l.replies) >= maxPendingReplies {
		l.s.closeLink(l.handle, &amqpError{Condition: CondResourceLimitExceeded,
			Description: fmt.Sprintf("%d replies are waiting for link credit", len(l.replies))})
		return
	}
	l.replies = append(l.replies, payload)
	l.flushReplies()
}

func (l *outLink) flushReplies() {
	for len(l.replies) > 0 && l.credit > 0 && !l.detached {
		u := newUUID()
		l.s.sendTransfer(l.handle, u[:], l.replies[0], true)
		l.replies = l.replies[1:]
		l.credit--
		l.deliveryCount++
	}
}

// close forgets the link: a receiver's locked messages become available again.
func (l *outLink) close() {
	if l.detached {
		return
	}
	l.detached = true
	l.replies = nil
	if l.replyTo != "" && l.s.c.replyLinks[l.replyTo] == l {
		delete(l.s.c.replyLinks, l.replyTo)
	}
	for id, d := range l.s.unsettled {
		if d.link == l {
			delete(l.s.unsettled, id)
		}
	}
	if l.store != nil {
		l.store.removeReceiver(l)
	}
}
