package busemu

import "fmt"

type inKind int

const (
	inEntity     inKind = iota // sends to a queue or topic
	inManagement               // requests to <entity>/$management
	inCBS                      // put-token requests to $cbs
)

// inLink is a link on which the client sends to busemu.
type inLink struct {
	s             *session
	name          string
	handle        uint32
	kind          inKind
	path          string // entity path (without /$management)
	node          *node  // inEntity
	credit        uint32
	deliveryCount uint32
	maxSize       uint64    // largest delivery the link accepts, announced in attach
	partial       *incoming // a multi-frame delivery being assembled
}

// incoming is one delivery from the client, possibly spread over frames.
type incoming struct {
	id      uint32
	settled bool
	format  uint32
	payload []byte
	held    int // bytes of payload counted against the connection's assembly budget
}

func (l *inLink) flowState() *linkFlow {
	return &linkFlow{handle: l.handle, deliveryCount: l.deliveryCount, credit: l.credit}
}

func (l *inLink) onTransfer(t performTransfer, payload []byte) {
	if l.partial == nil {
		in := &incoming{settled: t.Settled}
		if t.DeliveryID != nil {
			in.id = *t.DeliveryID
		}
		if t.MessageFormat != nil {
			in.format = *t.MessageFormat
		}
		l.partial = in
	}
	in := l.partial
	in.settled = in.settled || t.Settled
	if t.Aborted {
		l.dropPartial()
		return
	}
	// Checked frame by frame, so an oversized delivery is refused before
	// it is buffered: Service Bus detaches the link the same way.
	if size := uint64(len(in.payload)) + uint64(len(payload)); size > l.maxSize {
		l.s.closeLink(l.handle, &amqpError{Condition: CondMessageSizeExceeds, Description: fmt.Sprintf(
			"The received message (delivery-id:%d, size:%d bytes) exceeds the limit (%d bytes) currently allowed on the link.", in.id, size, l.maxSize)})
		return
	}
	if t.More && !l.s.c.hold(len(payload)) {
		return
	}
	in.payload = append(in.payload, payload...)
	if t.More {
		in.held += len(payload)
		return
	}
	l.dropPartial()
	l.deliveryCount++
	if l.credit > 0 {
		l.credit--
	}
	if l.credit < inLinkCredit/2 {
		l.credit = inLinkCredit
		l.s.sendFlow(l.flowState())
	}
	switch l.kind {
	case inEntity:
		l.onSend(in)
	case inManagement, inCBS:
		l.onRequest(in)
	}
}

// dropPartial forgets the delivery being assembled and returns its bytes to
// the connection's budget.
func (l *inLink) dropPartial() {
	if l.partial != nil {
		l.s.c.release(l.partial.held)
		l.partial = nil
	}
}

// settleIncoming answers the client's delivery with an outcome.
func (l *inLink) settleIncoming(in *incoming, state Described) {
	if !in.settled {
		l.s.sendDisposition(roleReceiver, in.id, state)
	}
}

// onSend accepts a message (or an azservicebus batch) for the link's entity.
func (l *inLink) onSend(in *incoming) {
	b := l.s.c.b
	msgs, err := decodeSend(in)
	if err != nil {
		l.settleIncoming(in, stateRejected(&amqpError{Condition: CondDecodeError, Description: err.Error()}))
		return
	}
	l.s.c.withFault(OpSend, l.path, func(refusal *amqpError) {
		if refusal != nil {
			l.settleIncoming(in, stateRejected(refusal))
			return
		}
		now := b.now()
		for _, m := range msgs {
			l.node.accept(m, now)
		}
		b.nudge()
		l.settleIncoming(in, stateAccepted())
	})
}

// decodeSend parses a sent message; a batch carries one encoded message
// per data section.
func decodeSend(in *incoming) ([]*message, error) {
	m, err := parseMessage(in.payload)
	if err != nil {
		return nil, err
	}
	if in.format != batchMessageFormat {
		return []*message{m}, nil
	}
	var out []*message
	for _, s := range m.body {
		data, ok := s.Value.([]byte)
		if s.Descriptor != descData || !ok {
			return nil, fmt.Errorf("%w: batch section is not data", errMalformed)
		}
		inner, err := parseMessage(data)
		if err != nil {
			return nil, err
		}
		out = append(out, inner)
	}
	return out, nil
}
