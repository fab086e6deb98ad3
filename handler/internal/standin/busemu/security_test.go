package busemu

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// chunk is one continuation frame's payload in the flooding tests.
var chunk = bytes.Repeat([]byte{0xAB}, 60<<10)

// expectLinkError reads until busemu detaches handle and returns the error.
func expectLinkError(t *testing.T, c *rawClient, handle uint32) *amqpError {
	t.Helper()
	for {
		code, fields, ok := c.next()
		if !ok {
			t.Fatalf("connection closed before handle %d was detached", handle)
		}
		if code == descDetach {
			if d := parseDetach(fields); d.Handle == handle {
				if d.Error == nil || !d.Closed {
					t.Fatalf("detach of handle %d: closed %v, error %v", handle, d.Closed, d.Error)
				}
				return d.Error
			}
		}
	}
}

// expectCloseError reads until busemu closes the connection and returns
// the close frame's error.
func expectCloseError(t *testing.T, c *rawClient) *amqpError {
	t.Helper()
	fields := c.expect(descClose)
	err := parseError(field(fields, 0))
	if err == nil {
		t.Fatal("close without an error")
	}
	return err
}

// settle answers busemu's detach of handle and ends the session: once the
// end comes back, busemu has handled every frame sent before.
func settle(c *rawClient, channel uint16, handle uint32) {
	c.send(channel, performDetach{Handle: handle, Closed: true}.value(), nil)
	c.send(channel, endOrClose(descEnd, nil), nil)
	c.expect(descEnd)
}

// TestSecurityBusemuCBSContinuationFramesAreCapped floods `$cbs` with
// continuation frames before any authentication, as the attack that took
// busemu from 15 MB to 475 MB did: the link must be detached with
// message-size-exceeded once the small `$cbs` cap is crossed, and the bytes
// held must never exceed it.
func TestSecurityBusemuCBSContinuationFramesAreCapped(t *testing.T) {
	b, _ := startBroker(t, Options{})
	c := dialRaw(t, b.Addr())
	c.begin(0)
	if a := c.attach(0, 0, roleSender, addressCBS, ""); a.MaxMessageSize != cbsMaxMessageSize {
		t.Errorf("$cbs attach announces max-message-size %d, want %d", a.MaxMessageSize, cbsMaxMessageSize)
	}
	const frames = 64 // 3.75 MiB, well past the cap
	for range frames {
		c.transfer(0, 0, 0, true, chunk)
	}
	err := expectLinkError(t, c, 0)
	if err.Condition != CondMessageSizeExceeds || !strings.Contains(err.Description, fmt.Sprint(cbsMaxMessageSize)) {
		t.Errorf("detach error %v, want %s naming the limit", err, CondMessageSizeExceeds)
	}
	settle(c, 0, 0)
	st := b.Stats()
	if st.PeakAssemblingBytes > int(cbsMaxMessageSize) || st.AssemblingBytes != 0 {
		t.Errorf("after %d KiB of continuation frames: peak %d bytes held (cap %d), %d still held",
			frames*len(chunk)>>10, st.PeakAssemblingBytes, cbsMaxMessageSize, st.AssemblingBytes)
	}
}

// TestSecurityBusemuEntityDeliveryCappedAtMaxMessageSize: an
// authenticated sender that ignores the announced max-message-size loses
// its link at the entity's limit, and nothing is enqueued.
func TestSecurityBusemuEntityDeliveryCappedAtMaxMessageSize(t *testing.T) {
	const limit = 128 << 10
	b, fake := startBroker(t, Options{MaxMessageSize: limit})
	c := dialRaw(t, b.Addr())
	c.begin(0)
	c.authenticate(0, 0, 1, "amqp://"+b.Addr()+"/", fake.Now().Add(1e12))
	if a := c.attach(0, 2, roleSender, confQueue, ""); a.MaxMessageSize != limit {
		t.Errorf("queue attach announces max-message-size %d, want %d", a.MaxMessageSize, limit)
	}
	for range 16 { // 960 KiB
		c.transfer(0, 2, 1, true, chunk)
	}
	if err := expectLinkError(t, c, 2); err.Condition != CondMessageSizeExceeds {
		t.Errorf("detach error %v, want %s", err, CondMessageSizeExceeds)
	}
	settle(c, 0, 2)
	if st := b.Stats(); st.PeakAssemblingBytes > limit || st.AssemblingBytes != 0 {
		t.Errorf("peak %d bytes held (limit %d), %d still held", st.PeakAssemblingBytes, limit, st.AssemblingBytes)
	}
	if counts, _ := b.Counts(confQueue); counts.Active != 0 {
		t.Errorf("queue holds %d messages after a refused delivery", counts.Active)
	}
}

// TestSecurityBusemuUnauthenticatedConnectionBudget: many `$cbs` links
// each staying under the per-link cap still cannot make an unauthenticated
// connection hold more than one `$cbs` request's worth of bytes.
func TestSecurityBusemuUnauthenticatedConnectionBudget(t *testing.T) {
	b, _ := startBroker(t, Options{})
	c := dialRaw(t, b.Addr())
	c.begin(0)
	// Three halves of the budget on three links: the third crosses it.
	part := chunk[:cbsMaxMessageSize/2]
	for h := range uint32(3) {
		c.attach(0, h, roleSender, addressCBS, "")
	}
	for h := range uint32(3) {
		c.transfer(0, h, h, true, part)
	}
	if err := expectCloseError(t, c); err.Condition != CondResourceLimitExceeded {
		t.Errorf("close error %v, want %s", err, CondResourceLimitExceeded)
	}
	if st := b.Stats(); st.PeakAssemblingBytes > int(cbsMaxMessageSize) {
		t.Errorf("peak %d bytes held by an unauthenticated connection (budget %d)", st.PeakAssemblingBytes, cbsMaxMessageSize)
	}
}

// TestSecurityBusemuChannelAndHandleLimits: sessions and links are bounded
// by the channel-max and handle-max busemu announces (Service Bus's) and a
// per-connection link count.
func TestSecurityBusemuChannelAndHandleLimits(t *testing.T) {
	b, _ := startBroker(t, Options{})
	t.Run("channel", func(t *testing.T) {
		c := dialRaw(t, b.Addr())
		c.send(channelMax+1, performBegin{IncomingWindow: 10, OutgoingWindow: 10}.value(), nil)
		if err := expectCloseError(t, c); err.Condition != condFramingError {
			t.Errorf("begin on channel %d: %v, want %s", channelMax+1, err, condFramingError)
		}
	})
	t.Run("handle", func(t *testing.T) {
		c := dialRaw(t, b.Addr())
		c.begin(0)
		c.send(0, performAttach{Name: "x", Handle: handleMax + 1, Role: roleSender, Target: describedList(descTarget, addressCBS)}.value(), nil)
		if err := expectCloseError(t, c); err.Condition != condFramingError {
			t.Errorf("attach on handle %d: %v, want %s", handleMax+1, err, condFramingError)
		}
	})
	t.Run("links", func(t *testing.T) {
		c := dialRaw(t, b.Addr())
		perSession := int(handleMax) + 1
		for i := range maxLinksPerConnection {
			ch, h := uint16(i/perSession), uint32(i%perSession)
			if h == 0 {
				c.begin(ch)
			}
			c.attach(ch, h, roleSender, addressCBS, "")
		}
		ch := uint16(maxLinksPerConnection / perSession)
		c.begin(ch)
		refused := c.attach(ch, 0, roleSender, addressCBS, "")
		if refused.Target != nil {
			t.Fatalf("link %d attached; want a refusal", maxLinksPerConnection+1)
		}
		if err := expectLinkError(t, c, 0); err.Condition != CondResourceLimitExceeded {
			t.Errorf("link %d: %v, want %s", maxLinksPerConnection+1, err, CondResourceLimitExceeded)
		}
		if st := b.Stats(); st.Links > maxLinksPerConnection {
			t.Errorf("%d links held (limit %d)", st.Links, maxLinksPerConnection)
		}
	})
}

// TestSecurityBusemuRepliesWithoutCreditAreBounded: a peer that sends
// `$cbs` requests but grants its reply link no credit loses the reply link
// instead of piling up answers.
func TestSecurityBusemuRepliesWithoutCreditAreBounded(t *testing.T) {
	b, _ := startBroker(t, Options{})
	c := dialRaw(t, b.Addr())
	c.begin(0)
	c.attach(0, 0, roleReceiver, addressCBS, "raw-reply") // no flow: zero credit
	c.attach(0, 1, roleSender, addressCBS, "")
	request := putTokenRequest(t, "r", "raw-reply", "amqp://"+b.Addr()+"/", "SharedAccessSignature sr=x&sig=forged&se=1&skn=k")
	for id := range uint32(maxPendingReplies + 10) {
		c.transfer(0, 1, id, false, request)
	}
	if err := expectLinkError(t, c, 0); err.Condition != CondResourceLimitExceeded {
		t.Errorf("reply link detached with %v, want %s", err, CondResourceLimitExceeded)
	}
	settle(c, 0, 0)
	if st := b.Stats(); st.PendingReplies != 0 {
		t.Errorf("%d replies still pending after the reply link went", st.PendingReplies)
	}
}

// TestSecurityBusemuOutputQueueBounded: frames for a peer that stops
// reading are capped; past the cap the queue drops them and hangs up.
func TestSecurityBusemuOutputQueueBounded(t *testing.T) {
	var hungUp atomic.Int32
	q := newOutQueue(1<<20, func() { hungUp.Add(1) })
	frame := make([]byte, 60<<10)
	for range 100 { // 6 MiB pushed, nothing taken
		q.push(frame)
		if q.queued() > 1<<20 {
			t.Fatalf("%d bytes queued, limit %d", q.queued(), 1<<20)
		}
	}
	if hungUp.Load() != 1 {
		t.Errorf("overflow called %d times, want once", hungUp.Load())
	}
	if frames, closing := q.take(); len(frames) != 0 || !closing {
		t.Errorf("after overflow: %d frames queued, closing %v", len(frames), closing)
	}
}

// TestSecurityBusemuDecoderDepthBounded: nesting costs the decoder a stack
// frame per level, so input nested deeper than any Service Bus message is
// refused.
func TestSecurityBusemuDecoderDepthBounded(t *testing.T) {
	nested := func(depth int) any {
		var v any = "leaf"
		for range depth {
			v = []any{v}
		}
		return v
	}
	for _, tc := range []struct {
		depth int
		ok    bool
	}{{maxDecodeDepth - 1, true}, {maxDecodeDepth + 8, false}, {4096, false}} {
		buf, err := encode(nil, nested(tc.depth))
		if err != nil {
			t.Fatal(err)
		}
		_, err = (&decoder{b: buf}).value()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, errMalformed)) {
			t.Errorf("%d nested lists: err = %v, want ok=%v", tc.depth, err, tc.ok)
		}
	}
	described := bytes.Repeat([]byte{typeDescribed}, 1<<16)
	if _, err := (&decoder{b: described}).value(); !errors.Is(err, errTooDeep) {
		t.Errorf("64 Ki nested descriptors: err = %v, want errTooDeep", err)
	}
}
