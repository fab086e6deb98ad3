package busemu

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Go representations of AMQP 1.0 types (spec part 1). Decoding yields these
// exact types so that re-encoding a decoded value keeps its AMQP type:
// null→nil, boolean→bool, ubyte→uint8, ushort→uint16, uint→uint32,
// ulong→uint64, byte→int8, short→int16, int→int32, long→int64,
// float→float32, double→float64, char→Char, timestamp→time.Time,
// uuid→UUID, binary→[]byte, string→string, symbol→Symbol, list→[]any,
// map→Map, array→Array, described→Described, decimals→Decimal.

// Symbol is an AMQP symbol (ASCII, used for names and keys).
type Symbol string

// UUID is an AMQP uuid in RFC 4122 byte order.
type UUID [16]byte

// Char is an AMQP char (a UTF-32 code point).
type Char rune

// Decimal holds the raw bytes of a decimal32/64/128; busemu never computes with them.
type Decimal struct {
	Code  byte
	Bytes []byte
}

// Described is a value with a descriptor (ulong code or symbol name).
type Described struct {
	Descriptor any
	Value      any
}

// MapEntry is one key/value pair of a Map.
type MapEntry struct {
	Key   any
	Value any
}

// Map is an AMQP map. It keeps wire order and allows keys of any AMQP type
// (symbols for annotations, strings for application properties).
type Map []MapEntry

// Array is an AMQP array: every item has the type of the constructor Code
// (one of the full-width codes, e.g. typeLong for []int64 on the wire).
type Array struct {
	Code  byte
	Items []any
}

func newUUID() UUID {
	var u UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Get returns the value for a string or symbol key, and whether it exists.
func (m Map) Get(key string) (any, bool) {
	for _, e := range m {
		switch k := e.Key.(type) {
		case string:
			if k == key {
				return e.Value, true
			}
		case Symbol:
			if string(k) == key {
				return e.Value, true
			}
		}
	}
	return nil, false
}

// String returns the string or symbol value at key, or "".
func (m Map) String(key string) string {
	v, _ := m.Get(key)
	return asString(v)
}

// Set replaces the value of key (matched as string or symbol) or appends it
// with k as the key.
func (m Map) Set(k, value any) Map {
	key := asString(k)
	for i, e := range m {
		if asString(e.Key) == key {
			m[i].Value = value
			return m
		}
	}
	return append(m, MapEntry{Key: k, Value: value})
}

// longArray is the wire form azservicebus expects for sequence numbers.
func longArray(v []int64) Array {
	items := make([]any, len(v))
	for i, n := range v {
		items[i] = n
	}
	return Array{Code: typeLong, Items: items}
}

func timestampArray(v []time.Time) Array {
	items := make([]any, len(v))
	for i, t := range v {
		items[i] = t
	}
	return Array{Code: typeTimestamp, Items: items}
}

func symbolArray(v ...Symbol) Array {
	items := make([]any, len(v))
	for i, s := range v {
		items[i] = s
	}
	return Array{Code: typeSym32, Items: items}
}

// Type codes (spec part 1, 1.6).
const (
	typeDescribed  byte = 0x00
	typeNull       byte = 0x40
	typeTrue       byte = 0x41
	typeFalse      byte = 0x42
	typeUint0      byte = 0x43
	typeUlong0     byte = 0x44
	typeList0      byte = 0x45
	typeUbyte      byte = 0x50
	typeByte       byte = 0x51
	typeSmallUint  byte = 0x52
	typeSmallUlong byte = 0x53
	typeSmallInt   byte = 0x54
	typeSmallLong  byte = 0x55
	typeBool       byte = 0x56
	typeUshort     byte = 0x60
	typeShort      byte = 0x61
	typeUint       byte = 0x70
	typeInt        byte = 0x71
	typeFloat      byte = 0x72
	typeChar       byte = 0x73
	typeDecimal32  byte = 0x74
	typeUlong      byte = 0x80
	typeLong       byte = 0x81
	typeDouble     byte = 0x82
	typeTimestamp  byte = 0x83
	typeDecimal64  byte = 0x84
	typeDecimal128 byte = 0x94
	typeUUID       byte = 0x98
	typeVbin8      byte = 0xa0
	typeStr8       byte = 0xa1
	typeSym8       byte = 0xa3
	typeVbin32     byte = 0xb0
	typeStr32      byte = 0xb1
	typeSym32      byte = 0xb3
	typeList8      byte = 0xc0
	typeMap8       byte = 0xc1
	typeList32     byte = 0xd0
	typeMap32      byte = 0xd1
	typeArray8     byte = 0xe0
	typeArray32    byte = 0xf0
)
