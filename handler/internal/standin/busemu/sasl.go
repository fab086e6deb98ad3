package busemu

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"time"
)

// SASL descriptors and outcome codes (spec part 5, 5.3.3).
const (
	descSASLMechanisms uint64 = 0x40
	descSASLInit       uint64 = 0x41
	descSASLOutcome    uint64 = 0x44

	saslOK   uint8 = 0
	saslAuth uint8 = 1
)

// handshakeTimeout bounds the protocol-header and SASL exchange.
const handshakeTimeout = 10 * time.Second

// handshake reads the client's protocol header and, for the SASL header,
// runs SASL (ANONYMOUS, or PLAIN with the configured key name and key)
// before the AMQP header. A client may also skip SASL.
func (c *conn) handshake() error {
	_ = c.nc.SetReadDeadline(time.Now().Add(handshakeTimeout))
	hdr, err := c.readHeader()
	if err != nil {
		return err
	}
	if bytes.Equal(hdr, protoHeaderSASL) {
		c.writeRaw(protoHeaderSASL)
		if err := c.sasl(); err != nil {
			return err
		}
		if hdr, err = c.readHeader(); err != nil {
			return err
		}
	}
	if !bytes.Equal(hdr, protoHeaderAMQP) {
		c.writeRaw(protoHeaderAMQP) // tell the client what we speak, then hang up
		return fmt.Errorf("%w: unsupported protocol header %q", errMalformed, hdr)
	}
	c.writeRaw(protoHeaderAMQP)
	return nil
}

func (c *conn) readHeader() ([]byte, error) {
	hdr := make([]byte, len(protoHeaderAMQP))
	_, err := io.ReadFull(c.nc, hdr)
	return hdr, err
}

func (c *conn) writeRaw(b []byte) { c.out.push(append([]byte(nil), b...)) }

func (c *conn) sasl() error {
	mechs, err := encodeFrame(frameTypeSASL, 0, describedList(descSASLMechanisms, symbolArray("ANONYMOUS", "PLAIN")), nil)
	if err != nil {
		return err
	}
	c.out.push(mechs)
	f, err := readFrame(c.nc, minMaxFrameSize*16)
	if err != nil {
		return err
	}
	code, fields, ok := described(f.body)
	if !ok || f.kind != frameTypeSASL || code != descSASLInit {
		return fmt.Errorf("%w: expected sasl-init", errMalformed)
	}
	outcome := saslOK
	mechanism := asString(field(fields, 0))
	switch mechanism {
	case "ANONYMOUS":
		// Service Bus clients authenticate later, per entity, over `$cbs`.
	case "PLAIN":
		response, _ := field(fields, 1).([]byte)
		if !c.plainOK(response) {
			outcome = saslAuth
		}
	default:
		outcome = saslAuth
	}
	out, err := encodeFrame(frameTypeSASL, 0, describedList(descSASLOutcome, outcome), nil)
	if err != nil {
		return err
	}
	c.out.push(out)
	if outcome != saslOK {
		c.out.closeAfterFlush()
		return fmt.Errorf("busemu: SASL %s refused", mechanism)
	}
	return nil
}

// plainOK checks a PLAIN response "authzid NUL authcid NUL passwd" against
// the configured key name and key.
func (c *conn) plainOK(response []byte) bool {
	parts := bytes.Split(response, []byte{0})
	if len(parts) != 3 {
		return false
	}
	user, pass := parts[1], parts[2]
	return subtle.ConstantTimeCompare(user, []byte(c.b.opts.KeyName)) == 1 &&
		subtle.ConstantTimeCompare(pass, []byte(c.b.opts.Key)) == 1
}
