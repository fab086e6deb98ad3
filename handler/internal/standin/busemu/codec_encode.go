package busemu

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// encode appends the AMQP encoding of v to buf, choosing the most compact
// constructor for v's Go type (see codec_types.go for the mapping).
func encode(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, typeNull), nil
	case bool:
		if x {
			return append(buf, typeTrue), nil
		}
		return append(buf, typeFalse), nil
	case uint32:
		switch {
		case x == 0:
			return append(buf, typeUint0), nil
		case x < 256:
			return append(buf, typeSmallUint, byte(x)), nil
		}
	case uint64:
		switch {
		case x == 0:
			return append(buf, typeUlong0), nil
		case x < 256:
			return append(buf, typeSmallUlong, byte(x)), nil
		}
	case uint:
		return encode(buf, uint64(x))
	case int32:
		if x >= math.MinInt8 && x <= math.MaxInt8 {
			return append(buf, typeSmallInt, byte(int8(x))), nil
		}
	case int64:
		if x >= math.MinInt8 && x <= math.MaxInt8 {
			return append(buf, typeSmallLong, byte(int8(x))), nil
		}
	case int:
		return encode(buf, int64(x))
	case []byte:
		if len(x) < 256 {
			return encodeBody(append(buf, typeVbin8), typeVbin8, x)
		}
	case string:
		if len(x) < 256 {
			return encodeBody(append(buf, typeStr8), typeStr8, x)
		}
	case Symbol:
		if len(x) < 256 {
			return encodeBody(append(buf, typeSym8), typeSym8, x)
		}
	case []any:
		if len(x) == 0 {
			return append(buf, typeList0), nil
		}
	case Described:
		buf = append(buf, typeDescribed)
		buf, err := encode(buf, x.Descriptor)
		if err != nil {
			return nil, err
		}
		return encode(buf, x.Value)
	case map[string]any:
		m := make(Map, 0, len(x))
		for k, val := range x {
			m = append(m, MapEntry{Key: k, Value: val})
		}
		return encode(buf, m)
	case []int64:
		return encode(buf, longArray(x))
	}
	code, err := wideCode(v)
	if err != nil {
		return nil, err
	}
	return encodeBody(append(buf, code), code, v)
}

// wideCode is the full-width constructor for v's Go type; arrays use it for
// their items and encode falls back to it when no compact form fits.
func wideCode(v any) (byte, error) {
	switch x := v.(type) {
	case bool:
		return typeBool, nil
	case uint8:
		return typeUbyte, nil
	case uint16:
		return typeUshort, nil
	case uint32:
		return typeUint, nil
	case uint64:
		return typeUlong, nil
	case int8:
		return typeByte, nil
	case int16:
		return typeShort, nil
	case int32:
		return typeInt, nil
	case int64:
		return typeLong, nil
	case float32:
		return typeFloat, nil
	case float64:
		return typeDouble, nil
	case Char:
		return typeChar, nil
	case time.Time:
		return typeTimestamp, nil
	case UUID:
		return typeUUID, nil
	case []byte:
		return typeVbin32, nil
	case string:
		return typeStr32, nil
	case Symbol:
		return typeSym32, nil
	case []any:
		return typeList32, nil
	case Map:
		return typeMap32, nil
	case Array:
		return typeArray32, nil
	case Decimal:
		return x.Code, nil
	}
	return 0, fmt.Errorf("busemu: cannot encode %T as AMQP", v)
}

// encodeBody appends v's bytes in the format of constructor code, without
// the constructor itself (arrays share one constructor for all items).
func encodeBody(buf []byte, code byte, v any) ([]byte, error) {
	bad := func() ([]byte, error) { return nil, fmt.Errorf("busemu: cannot encode %T as type 0x%02x", v, code) }
	switch code {
	case typeNull, typeTrue, typeFalse, typeUint0, typeUlong0, typeList0:
		return buf, nil
	case typeBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		if b {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case typeUbyte, typeSmallUint, typeSmallUlong, typeByte, typeSmallInt, typeSmallLong:
		n, ok := asUint64(v)
		if !ok {
			return bad()
		}
		return append(buf, byte(n)), nil
	case typeUshort, typeShort:
		n, ok := asUint64(v)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint16(buf, uint16(n)), nil
	case typeUint, typeInt:
		n, ok := asUint64(v)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint32(buf, uint32(n)), nil
	case typeChar:
		c, ok := v.(Char)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint32(buf, uint32(c)), nil
	case typeFloat:
		f, ok := v.(float32)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(f)), nil
	case typeUlong, typeLong:
		n, ok := asUint64(v)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint64(buf, n), nil
	case typeDouble:
		f, ok := v.(float64)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), nil
	case typeTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint64(buf, uint64(t.UnixMilli())), nil
	case typeUUID:
		u, ok := v.(UUID)
		if !ok {
			return bad()
		}
		return append(buf, u[:]...), nil
	case typeDecimal32, typeDecimal64, typeDecimal128:
		d, ok := v.(Decimal)
		if !ok {
			return bad()
		}
		return append(buf, d.Bytes...), nil
	case typeVbin8, typeStr8, typeSym8:
		s, ok := asBytes(v)
		if !ok || len(s) > math.MaxUint8 {
			return bad()
		}
		return append(append(buf, byte(len(s))), s...), nil
	case typeVbin32, typeStr32, typeSym32:
		s, ok := asBytes(v)
		if !ok {
			return bad()
		}
		return append(binary.BigEndian.AppendUint32(buf, uint32(len(s))), s...), nil
	case typeList32:
		l, ok := v.([]any)
		if !ok {
			return bad()
		}
		return encodeCompound(buf, l, len(l))
	case typeMap32:
		m, ok := v.(Map)
		if !ok {
			return bad()
		}
		flat := make([]any, 0, 2*len(m))
		for _, e := range m {
			flat = append(flat, e.Key, e.Value)
		}
		return encodeCompound(buf, flat, len(flat))
	case typeArray32:
		a, ok := v.(Array)
		if !ok {
			return bad()
		}
		return encodeArray(buf, a)
	}
	return bad()
}

// encodeCompound writes the 32-bit size and count of a list or map, then its items.
func encodeCompound(buf []byte, items []any, count int) ([]byte, error) {
	sizeAt := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, uint32(count))
	for _, it := range items {
		var err error
		if buf, err = encode(buf, it); err != nil {
			return nil, err
		}
	}
	binary.BigEndian.PutUint32(buf[sizeAt:], uint32(len(buf)-sizeAt-4))
	return buf, nil
}

func encodeArray(buf []byte, a Array) ([]byte, error) {
	sizeAt := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.Items)))
	code := a.Code
	if code == 0 {
		code = typeNull // an empty, untyped array
	}
	buf = append(buf, code)
	for _, it := range a.Items {
		var err error
		if buf, err = encodeBody(buf, code, it); err != nil {
			return nil, err
		}
	}
	binary.BigEndian.PutUint32(buf[sizeAt:], uint32(len(buf)-sizeAt-4))
	return buf, nil
}

func asBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	case Symbol:
		return []byte(x), true
	}
	return nil, false
}
