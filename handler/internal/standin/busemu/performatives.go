package busemu

// Descriptor codes of performatives and the types they carry (spec part 2
// 2.7, part 3 3.4-3.5, part 5 5.3.3).
const (
	descOpen        uint64 = 0x10
	descBegin       uint64 = 0x11
	descAttach      uint64 = 0x12
	descFlow        uint64 = 0x13
	descTransfer    uint64 = 0x14
	descDisposition uint64 = 0x15
	descDetach      uint64 = 0x16
	descEnd         uint64 = 0x17
	descClose       uint64 = 0x18
	descError       uint64 = 0x1d
	descAccepted    uint64 = 0x24
	descRejected    uint64 = 0x25
	descReleased    uint64 = 0x26
	descModified    uint64 = 0x27
)

// role is a link endpoint's role as the wire encodes it (false = sender).
type role bool

// Link roles and settle modes.
const (
	roleSender   role = false
	roleReceiver role = true

	sndSettleSettled uint8 = 1
	sndSettleMixed   uint8 = 2
	rcvSettleFirst   uint8 = 0
)

// amqpError is the AMQP error type (condition, description, info).
type amqpError struct {
	Condition   Symbol
	Description string
	Info        Map
}

func (e *amqpError) Error() string {
	return string(e.Condition) + ": " + e.Description
}

func (e *amqpError) value() any {
	if e == nil {
		return nil
	}
	var info any
	if len(e.Info) > 0 {
		info = e.Info
	}
	return describedList(descError, e.Condition, e.Description, info)
}

func parseError(v any) *amqpError {
	code, l, ok := described(v)
	if !ok || code != descError {
		return nil
	}
	info, _ := field(l, 2).(Map)
	return &amqpError{Condition: Symbol(asString(field(l, 0))), Description: asString(field(l, 1)), Info: info}
}

type performOpen struct {
	ContainerID  string
	Hostname     string
	MaxFrameSize uint32
	ChannelMax   uint16
	IdleTimeout  uint32 // milliseconds, 0 = none
	Properties   Map
}

func parseOpen(l []any) performOpen {
	o := performOpen{ContainerID: asString(field(l, 0)), Hostname: asString(field(l, 1)), MaxFrameSize: 1<<32 - 1, ChannelMax: 1<<16 - 1}
	if v, ok := asUint32(field(l, 2)); ok {
		o.MaxFrameSize = v
	}
	if v, ok := asUint32(field(l, 3)); ok {
		o.ChannelMax = uint16(v)
	}
	o.IdleTimeout, _ = asUint32(field(l, 4))
	o.Properties, _ = field(l, 9).(Map)
	return o
}

func (o performOpen) value() Described {
	var idle, props any
	if o.IdleTimeout > 0 {
		idle = o.IdleTimeout
	}
	if len(o.Properties) > 0 {
		props = o.Properties
	}
	return describedList(descOpen, o.ContainerID, nilIfEmpty(o.Hostname), o.MaxFrameSize, o.ChannelMax, idle,
		nil, nil, nil, nil, props)
}

type performBegin struct {
	RemoteChannel  *uint16
	NextOutgoingID uint32
	IncomingWindow uint32
	OutgoingWindow uint32
	HandleMax      uint32
}

func parseBegin(l []any) performBegin {
	b := performBegin{HandleMax: 1<<32 - 1}
	if v, ok := asUint32(field(l, 0)); ok {
		ch := uint16(v)
		b.RemoteChannel = &ch
	}
	b.NextOutgoingID, _ = asUint32(field(l, 1))
	b.IncomingWindow, _ = asUint32(field(l, 2))
	b.OutgoingWindow, _ = asUint32(field(l, 3))
	if v, ok := asUint32(field(l, 4)); ok {
		b.HandleMax = v
	}
	return b
}

func (b performBegin) value() Described {
	var rc any
	if b.RemoteChannel != nil {
		rc = *b.RemoteChannel
	}
	return describedList(descBegin, rc, b.NextOutgoingID, b.IncomingWindow, b.OutgoingWindow, b.HandleMax)
}

type performAttach struct {
	Name                 string
	Handle               uint32
	Role                 role
	SndSettleMode        *uint8
	RcvSettleMode        *uint8
	Source               any // raw described source, echoed back as received
	Target               any // raw described target
	InitialDeliveryCount *uint32
	MaxMessageSize       uint64
	Properties           Map
}

func parseAttach(l []any) performAttach {
	a := performAttach{Name: asString(field(l, 0)), Role: role(asBool(field(l, 2))), Source: field(l, 5), Target: field(l, 6)}
	a.Handle, _ = asUint32(field(l, 1))
	if v, ok := asUint32(field(l, 3)); ok {
		m := uint8(v)
		a.SndSettleMode = &m
	}
	if v, ok := asUint32(field(l, 4)); ok {
		m := uint8(v)
		a.RcvSettleMode = &m
	}
	a.MaxMessageSize, _ = asUint64(field(l, 10))
	a.Properties, _ = field(l, 13).(Map)
	return a
}

func (a performAttach) value() Described {
	var snd, rcv, idc, mms, props any
	if a.SndSettleMode != nil {
		snd = *a.SndSettleMode
	}
	if a.RcvSettleMode != nil {
		rcv = *a.RcvSettleMode
	}
	if a.InitialDeliveryCount != nil {
		idc = *a.InitialDeliveryCount
	}
	if a.MaxMessageSize > 0 {
		mms = a.MaxMessageSize
	}
	if len(a.Properties) > 0 {
		props = a.Properties
	}
	return describedList(descAttach, a.Name, a.Handle, bool(a.Role), snd, rcv, a.Source, a.Target,
		nil, nil, idc, mms, nil, nil, props)
}

// terminusAddress is the address of a source or target (field 0 of both).
func terminusAddress(t any) string {
	_, l, ok := described(t)
	if !ok {
		return ""
	}
	return asString(field(l, 0))
}

type performFlow struct {
	NextIncomingID *uint32
	IncomingWindow uint32
	NextOutgoingID uint32
	OutgoingWindow uint32
	Handle         *uint32
	DeliveryCount  *uint32
	LinkCredit     *uint32
	Available      *uint32
	Drain          bool
	Echo           bool
}

func parseFlow(l []any) performFlow {
	var f performFlow
	f.NextIncomingID = optU32(field(l, 0))
	f.IncomingWindow, _ = asUint32(field(l, 1))
	f.NextOutgoingID, _ = asUint32(field(l, 2))
	f.OutgoingWindow, _ = asUint32(field(l, 3))
	f.Handle = optU32(field(l, 4))
	f.DeliveryCount = optU32(field(l, 5))
	f.LinkCredit = optU32(field(l, 6))
	f.Available = optU32(field(l, 7))
	f.Drain = asBool(field(l, 8))
	f.Echo = asBool(field(l, 9))
	return f
}

func (f performFlow) value() Described {
	return describedList(descFlow, u32OrNil(f.NextIncomingID), f.IncomingWindow, f.NextOutgoingID, f.OutgoingWindow,
		u32OrNil(f.Handle), u32OrNil(f.DeliveryCount), u32OrNil(f.LinkCredit), u32OrNil(f.Available), f.Drain, f.Echo)
}

type performTransfer struct {
	Handle        uint32
	DeliveryID    *uint32
	DeliveryTag   []byte
	MessageFormat *uint32
	Settled       bool
	More          bool
	State         any
	Aborted       bool
}

func parseTransfer(l []any) performTransfer {
	t := performTransfer{Settled: asBool(field(l, 4)), More: asBool(field(l, 5)), State: field(l, 7), Aborted: asBool(field(l, 9))}
	t.Handle, _ = asUint32(field(l, 0))
	t.DeliveryID = optU32(field(l, 1))
	t.DeliveryTag, _ = field(l, 2).([]byte)
	t.MessageFormat = optU32(field(l, 3))
	return t
}

func (t performTransfer) value() Described {
	var tag any
	if t.DeliveryTag != nil {
		tag = t.DeliveryTag
	}
	var more any
	if t.More {
		more = true
	}
	return describedList(descTransfer, t.Handle, u32OrNil(t.DeliveryID), tag, u32OrNil(t.MessageFormat), t.Settled, more, nil, t.State)
}

type performDisposition struct {
	Role    role
	First   uint32
	Last    *uint32
	Settled bool
	State   any
}

func parseDisposition(l []any) performDisposition {
	d := performDisposition{Role: role(asBool(field(l, 0))), Settled: asBool(field(l, 3)), State: field(l, 4)}
	d.First, _ = asUint32(field(l, 1))
	d.Last = optU32(field(l, 2))
	return d
}

func (d performDisposition) value() Described {
	return describedList(descDisposition, bool(d.Role), d.First, u32OrNil(d.Last), d.Settled, d.State)
}

type performDetach struct {
	Handle uint32
	Closed bool
	Error  *amqpError
}

func parseDetach(l []any) performDetach {
	d := performDetach{Closed: asBool(field(l, 1)), Error: parseError(field(l, 2))}
	d.Handle, _ = asUint32(field(l, 0))
	return d
}

func (d performDetach) value() Described {
	return describedList(descDetach, d.Handle, d.Closed, d.Error.value())
}

// endOrClose builds an end or close performative, whose only field is an error.
func endOrClose(code uint64, err *amqpError) Described {
	return describedList(code, err.value())
}

// Delivery states and outcomes (spec part 3, 3.4).
func stateAccepted() Described { return describedList(descAccepted) }
func stateReleased() Described { return describedList(descReleased) }
func stateRejected(err *amqpError) Described {
	return describedList(descRejected, err.value())
}

func optU32(v any) *uint32 {
	n, ok := asUint32(v)
	if !ok {
		return nil
	}
	return &n
}

func u32OrNil(p *uint32) any {
	if p == nil {
		return nil
	}
	return *p
}

func u32p(v uint32) *uint32 { return &v }

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
