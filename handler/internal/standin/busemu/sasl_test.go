package busemu

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// saslPlainOutcome runs the SASL exchange by hand and returns the outcome code.
func saslPlainOutcome(t *testing.T, addr, user, pass string) uint8 {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(protoHeaderSASL); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(nc, hdr); err != nil || !bytes.Equal(hdr, protoHeaderSASL) {
		t.Fatalf("header %q, %v", hdr, err)
	}
	mechs, err := readFrame(nc, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := described(mechs.body); code != descSASLMechanisms {
		t.Fatalf("expected sasl-mechanisms, got %#v", mechs.body)
	}
	response := []byte("\x00" + user + "\x00" + pass)
	init, err := encodeFrame(frameTypeSASL, 0, describedList(descSASLInit, Symbol("PLAIN"), response), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(init); err != nil {
		t.Fatal(err)
	}
	out, err := readFrame(nc, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	code, fields, _ := described(out.body)
	if code != descSASLOutcome {
		t.Fatalf("expected sasl-outcome, got %#v", out.body)
	}
	n, _ := field(fields, 0).(uint8)
	return n
}
