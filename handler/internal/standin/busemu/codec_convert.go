package busemu

import "time"

// Lenient readers for decoded fields: peers may pick any width for a number.

// asUint64 reads any AMQP integer as its two's-complement bits. It is the
// codec's one list of integer types: the narrower readers below and the
// encoder, which writes as many low bytes as the type code calls for, use it.
func asUint64(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int8:
		return uint64(x), true
	case int16:
		return uint64(x), true
	case int32:
		return uint64(x), true
	case int64:
		return uint64(x), true
	}
	return 0, false
}

func asUint32(v any) (uint32, bool) {
	n, ok := asUint64(v)
	return uint32(n), ok
}

func asInt64(v any) (int64, bool) {
	n, ok := asUint64(v)
	return int64(n), ok
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Symbol:
		return string(x)
	}
	return ""
}

func asBool(v any) bool {
	b, _ := v.(bool)
	return b
}

func asTime(v any) (time.Time, bool) {
	t, ok := v.(time.Time)
	return t, ok
}

// field returns item i of a decoded list, or nil past its end (trailing
// nulls may be omitted on the wire).
func field(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// described returns the numeric descriptor and list value of v, if v is a
// described list such as a performative.
func described(v any) (uint64, []any, bool) {
	d, ok := v.(Described)
	if !ok {
		return 0, nil, false
	}
	code, ok := asUint64(d.Descriptor)
	if !ok {
		return 0, nil, false
	}
	l, _ := d.Value.([]any)
	return code, l, true
}

// trimNulls drops trailing nil fields, as the spec allows, to keep frames small.
func trimNulls(l []any) []any {
	for len(l) > 0 && l[len(l)-1] == nil {
		l = l[:len(l)-1]
	}
	return l
}

func describedList(code uint64, fields ...any) Described {
	return Described{Descriptor: code, Value: trimNulls(fields)}
}
