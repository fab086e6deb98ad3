package busemu

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Frame types (spec part 2, 2.3).
const (
	frameTypeAMQP byte = 0x00
	frameTypeSASL byte = 0x01
)

// frameHeaderSize is the fixed part of every frame; busemu never sends extended headers.
const frameHeaderSize = 8

// minMaxFrameSize is the smallest max-frame-size the spec lets a peer announce.
const minMaxFrameSize = 512

// frame is one decoded frame. body is nil for an empty (heartbeat) frame.
type frame struct {
	kind    byte
	channel uint16
	body    any    // the performative: a described list
	payload []byte // bytes after the performative (transfer payload)
}

// readFrame reads one frame, refusing frames larger than maxSize.
func readFrame(r io.Reader, maxSize uint32) (frame, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	size := binary.BigEndian.Uint32(hdr[0:4])
	doff := uint32(hdr[4]) * 4
	if size < frameHeaderSize || doff < frameHeaderSize || doff > size || size > maxSize {
		return frame{}, fmt.Errorf("%w: frame size %d, data offset %d", errMalformed, size, doff)
	}
	rest := make([]byte, size-frameHeaderSize)
	if _, err := io.ReadFull(r, rest); err != nil {
		return frame{}, err
	}
	f := frame{kind: hdr[5], channel: binary.BigEndian.Uint16(hdr[6:8])}
	content := rest[doff-frameHeaderSize:]
	if len(content) == 0 {
		return f, nil
	}
	d := &decoder{b: content}
	body, err := d.value()
	if err != nil {
		return frame{}, err
	}
	f.body = body
	f.payload = content[d.off:]
	return f, nil
}

// encodeFrame returns the bytes of a frame carrying body and payload.
func encodeFrame(kind byte, channel uint16, body any, payload []byte) ([]byte, error) {
	buf := make([]byte, frameHeaderSize, 64+len(payload))
	if body != nil {
		var err error
		if buf, err = encode(buf, body); err != nil {
			return nil, err
		}
	}
	buf = append(buf, payload...)
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(buf)))
	buf[4] = 2 // data offset in 4-byte words
	buf[5] = kind
	binary.BigEndian.PutUint16(buf[6:8], channel)
	return buf, nil
}

// Protocol headers (spec part 2, 2.2 and 5.3.1).
var (
	protoHeaderAMQP = []byte{'A', 'M', 'Q', 'P', 0, 1, 0, 0}
	protoHeaderSASL = []byte{'A', 'M', 'Q', 'P', 3, 1, 0, 0}
)
