package busemu

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCodecRoundTrip(t *testing.T) {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 123e6, time.UTC)
	cases := map[string]any{
		"null": nil, "true": true, "false": false,
		"ubyte": uint8(7), "ushort": uint16(600), "uint0": uint32(0), "smalluint": uint32(200), "uint": uint32(70000),
		"ulong0": uint64(0), "smallulong": uint64(9), "ulong": uint64(1 << 40),
		"byte": int8(-3), "short": int16(-300), "smallint": int32(-5), "int": int32(-70000),
		"smalllong": int64(100), "long": int64(-1 << 40), "float": float32(1.5), "double": 2.25, "char": Char('é'),
		"timestamp": ts, "uuid": newUUID(), "vbin8": []byte("abc"), "vbin32": []byte(strings.Repeat("x", 300)),
		"str8": "hello", "str32": strings.Repeat("y", 300), "sym8": Symbol("x-opt-sequence-number"),
		"list0": []any{}, "list": []any{"a", int64(1), nil, []any{true}},
		"map":       Map{{Key: Symbol("k"), Value: "v"}, {Key: "n", Value: int32(1)}},
		"array":     longArray([]int64{1, 2, 1 << 40}),
		"emptyarr":  Array{Code: typeLong, Items: []any{}},
		"symarray":  symbolArray("ANONYMOUS", "PLAIN"),
		"timearray": timestampArray([]time.Time{ts}),
		"chararray": Array{Code: typeChar, Items: []any{Char('a'), Char('é')}},
		"described": Described{Descriptor: uint64(0x77), Value: Map{{Key: "sequence-numbers", Value: longArray([]int64{5})}}},
		"decimal":   Decimal{Code: typeDecimal64, Bytes: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			buf, err := encode(nil, v)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			d := &decoder{b: buf}
			got, err := d.value()
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d.off != len(buf) {
				t.Errorf("decoded %d of %d bytes", d.off, len(buf))
			}
			if !reflect.DeepEqual(got, v) {
				t.Errorf("round trip = %#v, want %#v", got, v)
			}
		})
	}
}

func TestIntegerReadersAcceptAnyWidth(t *testing.T) {
	for _, v := range []any{uint8(7), uint16(7), uint32(7), uint64(7), int8(7), int16(7), int32(7), int64(7)} {
		if n, ok := asUint32(v); !ok || n != 7 {
			t.Errorf("asUint32(%T) = %d, %v", v, n, ok)
		}
		if n, ok := asInt64(v); !ok || n != 7 {
			t.Errorf("asInt64(%T) = %d, %v", v, n, ok)
		}
	}
	if n, _ := asInt64(int8(-2)); n != -2 {
		t.Errorf("asInt64(int8(-2)) = %d", n)
	}
	if _, ok := asUint64(Char('7')); ok {
		t.Error("a char read as an integer")
	}
}

func TestCodecRejectsTruncatedInput(t *testing.T) {
	buf, err := encode(nil, []any{"some", "list", longArray([]int64{1, 2})})
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(buf) - 1 {
		if _, err := (&decoder{b: buf[:n+1]}).value(); !errors.Is(err, errMalformed) {
			t.Fatalf("prefix of %d bytes: err = %v, want errMalformed", n+1, err)
		}
	}
}

func TestMessageSectionsRoundTrip(t *testing.T) {
	m := &message{
		header:        []any{true, nil, uint32(60000), nil, uint32(2)},
		annotations:   Map{{Key: Symbol(annScheduledEnqueueTime), Value: testEpoch}},
		appProperties: Map{{Key: "k", Value: "v"}},
		body:          []Described{{Descriptor: descData, Value: []byte("one")}, {Descriptor: descData, Value: []byte("two")}},
	}
	m.setProperty(propMessageID, "id-1")
	m.setProperty(propSubject, "subj")
	buf, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseMessage(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.messageID() != "id-1" || got.subject() != "subj" || got.ttl() != time.Minute || string(got.dataBody()) != "onetwo" {
		t.Errorf("parsed id %q subject %q ttl %v body %q", got.messageID(), got.subject(), got.ttl(), got.dataBody())
	}
	if at, ok := scheduledTime(got); !ok || !at.Equal(testEpoch) {
		t.Errorf("scheduled time %v, %v", at, ok)
	}
}
