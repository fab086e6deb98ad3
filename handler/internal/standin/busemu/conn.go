package busemu

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// conn is one client connection: handshake, frame dispatch to sessions,
// heartbeats, and the claims its `$cbs` put-tokens established.
type conn struct {
	b            *Broker
	nc           net.Conn
	out          *outQueue
	stopped      chan struct{} // closed when the connection is finished
	peerMaxFrame uint32
	peerIdle     time.Duration
	channelMax   uint16 // highest channel the client may begin a session on
	opened       bool
	gone         bool                // no more frames are handled or sent
	sessions     map[uint16]*session // by the client's channel
	replyLinks   map[string]*outLink // reply-to address → the client's receiver
	claims       []claim
	assembling   int // bytes held in multi-frame deliveries not yet complete
}

func newConn(b *Broker, nc net.Conn) *conn {
	return &conn{b: b, nc: nc, out: newOutQueue(maxQueuedOutput, func() {
		b.logf("connection %s: more than %d bytes wait for a peer that does not read; dropping it", nc.RemoteAddr(), maxQueuedOutput)
		_ = nc.Close()
	}), stopped: make(chan struct{}),
		peerMaxFrame: minMaxFrameSize, sessions: map[uint16]*session{}, replyLinks: map[string]*outLink{}}
}

// serve runs the connection until the peer closes it or it fails.
func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	err := c.handshake()
	if err == nil {
		err = c.readLoop()
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.b.logf("connection %s: %v", c.nc.RemoteAddr(), err)
	}
	c.b.mu.Lock()
	c.finish()
	delete(c.b.conns, c)
	c.b.mu.Unlock()
	<-writerDone
	_ = c.nc.Close()
}

func (c *conn) readLoop() error {
	for {
		if idle := c.b.opts.IdleTimeout; idle > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		f, err := readFrame(c.nc, c.b.opts.MaxFrameSize)
		if netErr := (net.Error)(nil); errors.As(err, &netErr) && netErr.Timeout() {
			c.b.mu.Lock()
			c.fail(&amqpError{Condition: CondResourceLimitExceeded, Description: "idle timeout expired"})
			c.b.mu.Unlock()
		}
		if err != nil {
			return err
		}
		if f.body == nil {
			continue // heartbeat
		}
		c.b.mu.Lock()
		if !c.gone {
			c.handle(f)
		}
		c.b.mu.Unlock()
	}
}

// writeLoop writes queued frames until the connection finishes.
func (c *conn) writeLoop() {
	for {
		frames, closing := c.out.take()
		for _, f := range frames {
			if _, err := c.nc.Write(f); err != nil {
				_ = c.nc.Close()
				return
			}
		}
		if closing {
			_ = c.nc.Close()
			return
		}
		select {
		case <-c.out.notify:
		case <-c.stopped:
			// flush the last frames (a close), then stop
			last, _ := c.out.take()
			for _, f := range last {
				if _, err := c.nc.Write(f); err != nil {
					break
				}
			}
			return
		}
	}
}

// heartbeatLoop sends empty frames at half the peer's idle timeout.
func (c *conn) heartbeatLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.out.push(emptyFrame)
		case <-c.stopped:
			return
		}
	}
}

var emptyFrame = []byte{0, 0, 0, frameHeaderSize, 2, frameTypeAMQP, 0, 0}

// handle dispatches one frame. Caller holds b.mu.
func (c *conn) handle(f frame) {
	code, fields, ok := described(f.body)
	if !ok || f.kind != frameTypeAMQP {
		c.fail(&amqpError{Condition: "amqp:decode-error", Description: "frame body is not a performative"})
		return
	}
	if !c.opened {
		if code != descOpen {
			c.fail(&amqpError{Condition: "amqp:not-allowed", Description: "expected open"})
			return
		}
		c.onOpen(parseOpen(fields))
		return
	}
	switch code {
	case descClose:
		c.send(0, endOrClose(descClose, nil), nil)
		c.finish()
		c.out.closeAfterFlush()
	case descBegin:
		c.onBegin(f.channel, parseBegin(fields))
	default:
		s, ok := c.sessions[f.channel]
		if !ok {
			c.fail(&amqpError{Condition: "amqp:connection:framing-error", Description: "frame on a channel without a session"})
			return
		}
		s.handle(code, fields, f.payload)
	}
}

func (c *conn) onOpen(o performOpen) {
	c.opened = true
	c.channelMax = min(o.ChannelMax, channelMax)
	c.peerMaxFrame = max(o.MaxFrameSize, minMaxFrameSize)
	c.peerIdle = time.Duration(o.IdleTimeout) * time.Millisecond
	c.send(0, performOpen{
		ContainerID:  "busemu",
		MaxFrameSize: c.b.opts.MaxFrameSize,
		ChannelMax:   c.channelMax,
		IdleTimeout:  uint32(c.b.opts.IdleTimeout / time.Millisecond),
	}.value(), nil)
	if c.peerIdle > 0 {
		go c.heartbeatLoop(c.peerIdle / 2)
	}
}

func (c *conn) onBegin(channel uint16, b performBegin) {
	if channel > c.channelMax {
		c.fail(&amqpError{Condition: condFramingError, Description: fmt.Sprintf("channel %d exceeds channel-max %d", channel, c.channelMax)})
		return
	}
	if _, exists := c.sessions[channel]; exists {
		c.fail(&amqpError{Condition: "amqp:not-allowed", Description: "channel already has a session"})
		return
	}
	s := newSession(c, channel, b)
	c.sessions[channel] = s
	c.send(channel, performBegin{RemoteChannel: &channel, NextOutgoingID: s.nextOutgoingID,
		IncomingWindow: sessionWindow, OutgoingWindow: sessionWindow, HandleMax: handleMax}.value(), nil)
}

// send queues one frame. Caller holds b.mu.
func (c *conn) send(channel uint16, body any, payload []byte) {
	if c.gone {
		return
	}
	buf, err := encodeFrame(frameTypeAMQP, channel, body, payload)
	if err != nil {
		c.b.logf("encode frame: %v", err)
		return
	}
	c.out.push(buf)
}

// fail closes the connection with an error, as the spec asks on protocol errors.
func (c *conn) fail(err *amqpError) {
	c.b.logf("closing connection: %v", err)
	c.send(0, endOrClose(descClose, err), nil)
	c.finish()
	c.out.closeAfterFlush()
}

// drop closes the socket at once, without a close frame. Caller holds b.mu.
func (c *conn) drop() {
	c.finish()
	_ = c.nc.Close()
}

// finish detaches everything the connection had, returning locked messages.
// Caller holds b.mu; safe to call more than once.
func (c *conn) finish() {
	if c.gone {
		return
	}
	for _, s := range c.sessions {
		s.detachAll()
	}
	c.gone = true
	close(c.stopped)
}

// linkCount is the number of links attached across the connection's sessions.
func (c *conn) linkCount() int {
	n := 0
	for _, s := range c.sessions {
		n += len(s.inLinks) + len(s.outLinks) + len(s.closing)
	}
	return n
}

// assemblyBudget is how many bytes of incomplete deliveries the connection
// may hold: one `$cbs` request until a put-token succeeds, then a few
// maximum-size messages.
func (c *conn) assemblyBudget() int {
	if len(c.claims) == 0 {
		return int(cbsMaxMessageSize)
	}
	return assemblyBudgetMessages * int(c.b.opts.MaxMessageSize)
}

// hold counts n more buffered bytes against the budget, or closes the
// connection when they would exceed it. Caller holds b.mu.
func (c *conn) hold(n int) bool {
	if c.assembling+n > c.assemblyBudget() {
		c.fail(&amqpError{Condition: CondResourceLimitExceeded, Description: fmt.Sprintf(
			"incomplete deliveries would hold more than %d bytes on this connection", c.assemblyBudget())})
		return false
	}
	c.assembling += n
	c.b.assembling += n
	c.b.peakAssembling = max(c.b.peakAssembling, c.b.assembling)
	return true
}

// release returns n buffered bytes. Caller holds b.mu.
func (c *conn) release(n int) {
	c.assembling -= n
	c.b.assembling -= n
}
