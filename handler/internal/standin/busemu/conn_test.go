package busemu

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestHeartbeatsAndIdleTimeout opens a raw connection that announces a
// 100 ms idle timeout and then stays silent: the broker must send empty
// frames meanwhile and close the connection after its own idle timeout.
func TestHeartbeatsAndIdleTimeout(t *testing.T) {
	b, _ := startBroker(t, Options{IdleTimeout: 400 * time.Millisecond})
	nc, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	open, err := encodeFrame(frameTypeAMQP, 0, performOpen{ContainerID: "raw", MaxFrameSize: 65536, ChannelMax: 1, IdleTimeout: 100}.value(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(append(append([]byte(nil), protoHeaderAMQP...), open...)); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(nc, hdr); err != nil || !bytes.Equal(hdr, protoHeaderAMQP) {
		t.Fatalf("header %q, %v", hdr, err)
	}
	f, err := readFrame(nc, 1<<16)
	if code, fields, _ := described(f.body); err != nil || code != descOpen || parseOpen(fields).IdleTimeout != 400 {
		t.Fatalf("expected open with idle-timeout 400, got %#v, %v", f.body, err)
	}
	heartbeats := 0
	for {
		f, err := readFrame(nc, 1<<16)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading: %v (after %d heartbeats)", err, heartbeats)
		}
		if f.body == nil {
			heartbeats++
		}
	}
	if heartbeats == 0 {
		t.Error("no heartbeat before the idle timeout closed the connection")
	}
}
