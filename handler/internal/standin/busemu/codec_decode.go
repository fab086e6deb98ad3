package busemu

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// decoder reads AMQP values from a byte slice.
type decoder struct {
	b     []byte
	off   int
	depth int // enclosing compounds and descriptors, bounded by maxDecodeDepth
}

// decodeAll decodes consecutive values until b is exhausted (message sections).
func decodeAll(b []byte) ([]any, error) {
	d := &decoder{b: b}
	var out []any
	for d.off < len(d.b) {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || len(d.b)-d.off < n {
		return nil, fmt.Errorf("%w: need %d bytes at offset %d of %d", errMalformed, n, d.off, len(d.b))
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *decoder) byte1() (byte, error) {
	s, err := d.need(1)
	if err != nil {
		return 0, err
	}
	return s[0], nil
}

// value reads one constructor and its value.
func (d *decoder) value() (any, error) {
	code, err := d.byte1()
	if err != nil {
		return nil, err
	}
	if code != typeDescribed {
		return d.body(code)
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	desc, err := d.value()
	if err != nil {
		return nil, err
	}
	val, err := d.value()
	if err != nil {
		return nil, err
	}
	return Described{Descriptor: desc, Value: val}, nil
}

// errTooDeep refuses input nested beyond maxDecodeDepth: a constructor byte
// per level would otherwise cost a stack frame each.
var errTooDeep = fmt.Errorf("%w: values nested deeper than %d", errMalformed, maxDecodeDepth)

// enter goes one level deeper into a described value.
func (d *decoder) enter() error {
	if d.depth >= maxDecodeDepth {
		return errTooDeep
	}
	d.depth++
	return nil
}

func (d *decoder) leave() { d.depth-- }

// inner returns a decoder for a compound's content, one level deeper.
func (d *decoder) inner(content []byte) (*decoder, error) {
	if d.depth >= maxDecodeDepth {
		return nil, errTooDeep
	}
	return &decoder{b: content, depth: d.depth + 1}, nil
}

// body reads a value in the format of constructor code (already consumed).
func (d *decoder) body(code byte) (any, error) {
	switch code {
	case typeNull:
		return nil, nil
	case typeTrue:
		return true, nil
	case typeFalse:
		return false, nil
	case typeUint0:
		return uint32(0), nil
	case typeUlong0:
		return uint64(0), nil
	case typeList0:
		return []any{}, nil
	}
	width := fixedWidth(code)
	if width >= 0 {
		s, err := d.need(width)
		if err != nil {
			return nil, err
		}
		return fixedValue(code, s)
	}
	switch code {
	case typeVbin8, typeStr8, typeSym8, typeVbin32, typeStr32, typeSym32:
		n, err := d.length(code == typeVbin8 || code == typeStr8 || code == typeSym8)
		if err != nil {
			return nil, err
		}
		s, err := d.need(n)
		if err != nil {
			return nil, err
		}
		switch code {
		case typeVbin8, typeVbin32:
			return append([]byte(nil), s...), nil
		case typeStr8, typeStr32:
			return string(s), nil
		}
		return Symbol(s), nil
	case typeList8, typeList32, typeMap8, typeMap32:
		items, err := d.compound(code == typeList8 || code == typeMap8)
		if err != nil {
			return nil, err
		}
		if code == typeList8 || code == typeList32 {
			return items, nil
		}
		if len(items)%2 != 0 {
			return nil, fmt.Errorf("%w: map with odd item count", errMalformed)
		}
		m := make(Map, 0, len(items)/2)
		for i := 0; i < len(items); i += 2 {
			m = append(m, MapEntry{Key: items[i], Value: items[i+1]})
		}
		return m, nil
	case typeArray8, typeArray32:
		return d.array(code == typeArray8)
	}
	return nil, fmt.Errorf("%w: unknown type code 0x%02x", errMalformed, code)
}

// length reads a 1- or 4-byte size field.
func (d *decoder) length(small bool) (int, error) {
	if small {
		b, err := d.byte1()
		return int(b), err
	}
	s, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint32(s)), nil
}

func (d *decoder) compound(small bool) ([]any, error) {
	size, err := d.length(small)
	if err != nil {
		return nil, err
	}
	content, err := d.need(size)
	if err != nil {
		return nil, err
	}
	inner, err := d.inner(content)
	if err != nil {
		return nil, err
	}
	count, err := inner.length(small)
	if err != nil {
		return nil, err
	}
	if count > len(content) {
		return nil, fmt.Errorf("%w: count %d exceeds size %d", errMalformed, count, size)
	}
	items := make([]any, 0, count)
	for range count {
		v, err := inner.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}

func (d *decoder) array(small bool) (Array, error) {
	size, err := d.length(small)
	if err != nil {
		return Array{}, err
	}
	content, err := d.need(size)
	if err != nil {
		return Array{}, err
	}
	inner, err := d.inner(content)
	if err != nil {
		return Array{}, err
	}
	count, err := inner.length(small)
	if err != nil {
		return Array{}, err
	}
	if count > len(content) {
		return Array{}, fmt.Errorf("%w: array count %d exceeds size %d", errMalformed, count, size)
	}
	code, err := inner.byte1()
	if err != nil {
		return Array{}, err
	}
	if code == typeDescribed {
		return Array{}, fmt.Errorf("%w: arrays of described types are not supported", errMalformed)
	}
	items := make([]any, 0, count)
	for range count {
		v, err := inner.body(code)
		if err != nil {
			return Array{}, err
		}
		items = append(items, v)
	}
	return Array{Code: wideOf(code), Items: items}, nil
}

// wideOf maps a compact constructor to the full-width one of the same type,
// so a decoded Array re-encodes whatever its items are.
func wideOf(code byte) byte {
	switch code {
	case typeTrue, typeFalse:
		return typeBool
	case typeUint0, typeSmallUint:
		return typeUint
	case typeUlong0, typeSmallUlong:
		return typeUlong
	case typeSmallInt:
		return typeInt
	case typeSmallLong:
		return typeLong
	case typeVbin8:
		return typeVbin32
	case typeStr8:
		return typeStr32
	case typeSym8:
		return typeSym32
	case typeList0, typeList8:
		return typeList32
	case typeMap8:
		return typeMap32
	case typeArray8:
		return typeArray32
	}
	return code
}

// fixedWidth is the byte width of fixed-size types, or -1.
func fixedWidth(code byte) int {
	switch code {
	case typeUbyte, typeByte, typeSmallUint, typeSmallUlong, typeSmallInt, typeSmallLong, typeBool:
		return 1
	case typeUshort, typeShort:
		return 2
	case typeUint, typeInt, typeFloat, typeChar, typeDecimal32:
		return 4
	case typeUlong, typeLong, typeDouble, typeTimestamp, typeDecimal64:
		return 8
	case typeUUID, typeDecimal128:
		return 16
	}
	return -1
}

func fixedValue(code byte, s []byte) (any, error) {
	switch code {
	case typeUbyte:
		return s[0], nil
	case typeByte:
		return int8(s[0]), nil
	case typeSmallUint:
		return uint32(s[0]), nil
	case typeSmallUlong:
		return uint64(s[0]), nil
	case typeSmallInt:
		return int32(int8(s[0])), nil
	case typeSmallLong:
		return int64(int8(s[0])), nil
	case typeBool:
		return s[0] != 0, nil
	case typeUshort:
		return binary.BigEndian.Uint16(s), nil
	case typeShort:
		return int16(binary.BigEndian.Uint16(s)), nil
	case typeUint:
		return binary.BigEndian.Uint32(s), nil
	case typeInt:
		return int32(binary.BigEndian.Uint32(s)), nil
	case typeFloat:
		return math.Float32frombits(binary.BigEndian.Uint32(s)), nil
	case typeChar:
		return Char(binary.BigEndian.Uint32(s)), nil
	case typeUlong:
		return binary.BigEndian.Uint64(s), nil
	case typeLong:
		return int64(binary.BigEndian.Uint64(s)), nil
	case typeDouble:
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case typeTimestamp:
		return time.UnixMilli(int64(binary.BigEndian.Uint64(s))).UTC(), nil
	case typeUUID:
		var u UUID
		copy(u[:], s)
		return u, nil
	case typeDecimal32, typeDecimal64, typeDecimal128:
		return Decimal{Code: code, Bytes: append([]byte(nil), s...)}, nil
	}
	return nil, fmt.Errorf("%w: unknown fixed type 0x%02x", errMalformed, code)
}
