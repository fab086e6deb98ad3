package busemu

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// rawClient drives an AMQP connection frame by frame: what a hostile peer
// uses, since the real client never sends what busemu's limits refuse.
type rawClient struct {
	t  *testing.T
	nc net.Conn
}

// Terminus descriptors (spec part 3, 3.5.3-3.5.4).
const (
	descSource uint64 = 0x28
	descTarget uint64 = 0x29
)

// dialRaw opens a connection without SASL (busemu allows skipping it) and
// exchanges open frames.
func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	c := &rawClient{t: t, nc: nc}
	c.write(protoHeaderAMQP)
	hdr := make([]byte, len(protoHeaderAMQP))
	if _, err := io.ReadFull(nc, hdr); err != nil || !bytes.Equal(hdr, protoHeaderAMQP) {
		t.Fatalf("protocol header %q, %v", hdr, err)
	}
	c.send(0, performOpen{ContainerID: "raw", MaxFrameSize: 1 << 20, ChannelMax: 1<<16 - 1}.value(), nil)
	c.expect(descOpen)
	return c
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *rawClient) send(channel uint16, body any, payload []byte) {
	c.t.Helper()
	f, err := encodeFrame(frameTypeAMQP, channel, body, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(f)
}

// next returns the next performative busemu sends (heartbeats skipped),
// its code and fields; ok is false once the connection is closed.
func (c *rawClient) next() (code uint64, fields []any, ok bool) {
	c.t.Helper()
	for {
		f, err := readFrame(c.nc, 1<<20)
		if err != nil {
			return 0, nil, false
		}
		if f.body == nil {
			continue
		}
		code, fields, _ := described(f.body)
		return code, fields, true
	}
}

// expect skips frames until one with code arrives, and returns its fields.
func (c *rawClient) expect(code uint64) []any {
	c.t.Helper()
	for {
		got, fields, ok := c.next()
		if !ok {
			c.t.Fatalf("connection closed while waiting for performative 0x%x", code)
		}
		if got == code {
			return fields
		}
	}
}

// begin starts a session on channel.
func (c *rawClient) begin(channel uint16) {
	c.t.Helper()
	c.send(channel, performBegin{NextOutgoingID: 0, IncomingWindow: 1 << 20, OutgoingWindow: 1 << 20, HandleMax: handleMax}.value(), nil)
	c.expect(descBegin)
}

// attach attaches a link on channel: a sender to address (r == roleSender)
// or a receiver from address whose target is replyTo.
func (c *rawClient) attach(channel uint16, handle uint32, r role, address, replyTo string) performAttach {
	c.t.Helper()
	a := performAttach{Name: address + "-" + replyTo, Handle: handle, Role: r,
		Source: describedList(descSource, address), Target: describedList(descTarget, address)}
	if r == roleReceiver {
		a.Target = describedList(descTarget, replyTo)
	}
	c.send(channel, a.value(), nil)
	return parseAttach(c.expect(descAttach))
}

// transfer sends one frame of delivery id on handle.
func (c *rawClient) transfer(channel uint16, handle, id uint32, more bool, payload []byte) {
	c.t.Helper()
	format := uint32(0)
	c.send(channel, performTransfer{Handle: handle, DeliveryID: &id, DeliveryTag: []byte{byte(id), byte(id >> 8)},
		MessageFormat: &format, More: more}.value(), payload)
}

// request encodes a `$cbs` put-token request carrying token for audience.
func putTokenRequest(t *testing.T, id, replyTo, audience, token string) []byte {
	t.Helper()
	m := &message{appProperties: Map{
		{Key: "operation", Value: "put-token"},
		{Key: "type", Value: "servicebus.windows.net:sastoken"},
		{Key: "name", Value: audience},
	}, body: []Described{{Descriptor: descAMQPValue, Value: token}}}
	m.setProperty(propMessageID, id)
	m.setProperty(propReplyTo, replyTo)
	b, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// authenticate runs a put-token for the whole namespace on channel, with
// a reply receiver on replyHandle and a `$cbs` sender on cbsHandle.
func (c *rawClient) authenticate(channel uint16, cbsHandle, replyHandle uint32, audience string, expiry time.Time) {
	c.t.Helper()
	c.attach(channel, replyHandle, roleReceiver, addressCBS, "raw-reply")
	c.send(channel, performFlow{NextIncomingID: u32p(0), IncomingWindow: 1 << 20, OutgoingWindow: 1 << 20,
		Handle: u32p(replyHandle), DeliveryCount: u32p(0), LinkCredit: u32p(10)}.value(), nil)
	c.attach(channel, cbsHandle, roleSender, addressCBS, "")
	token := signSAS(audience, DevKeyName, DevKey, expiry)
	c.transfer(channel, cbsHandle, 0, false, putTokenRequest(c.t, "auth", "raw-reply", audience, token))
	reply, err := parseMessage(c.expectTransferPayload(replyHandle))
	if err != nil {
		c.t.Fatal(err)
	}
	if status, _ := reply.appProperties.Get("status-code"); status != statusAccepted {
		c.t.Fatalf("put-token answered %v: %v", status, reply.appProperties)
	}
}

// expectTransferPayload returns the payload of the next single-frame
// transfer on handle.
func (c *rawClient) expectTransferPayload(handle uint32) []byte {
	c.t.Helper()
	for {
		f, err := readFrame(c.nc, 1<<20)
		if err != nil {
			c.t.Fatalf("waiting for a transfer on handle %d: %v", handle, err)
		}
		code, fields, _ := described(f.body)
		if code == descTransfer && parseTransfer(fields).Handle == handle {
			return f.payload
		}
	}
}
