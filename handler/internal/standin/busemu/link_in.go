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
	partial       *incoming // a multi-frame delivery being assembled
}

// incoming is one delivery from the client, possibly spread over frames.
type incoming struct {
	id      uint32
	settled bool
	format  uint32
	payload []byte
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
	in.payload = append(in.payload, payload...)
	if t.Aborted {
		l.partial = nil
		return
	}
	if t.More {
		return
	}
	l.partial = nil
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

// settleIncoming answers the client's delivery with an outcome.
func (l *inLink) settleIncoming(in *incoming, state Described) {
	if !in.settled {
		l.s.sendDisposition(roleReceiver, in.id, state)
	}
}

// onSend accepts a message (or an azservicebus batch) for the link's entity.
func (l *inLink) onSend(in *incoming) {
	b := l.s.c.b
	if uint64(len(in.payload)) > b.opts.MaxMessageSize {
		l.settleIncoming(in, stateRejected(&amqpError{Condition: CondMessageSizeExceeds,
			Description: fmt.Sprintf("message of %d bytes exceeds the limit of %d", len(in.payload), b.opts.MaxMessageSize)}))
		return
	}
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
