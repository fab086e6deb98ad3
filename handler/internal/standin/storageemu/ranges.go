package storageemu

import (
	"net/http"
	"strconv"
	"strings"
)

// requestRange reads x-ms-range, else Range, as "bytes=start-[end]". ok is
// false without either header; end is -1 when open.
func requestRange(h http.Header) (start, end int64, ok bool, err *storageError) {
	v := h.Get("x-ms-range")
	if v == "" {
		v = h.Get("Range")
	}
	if v == "" {
		return 0, -1, false, nil
	}
	spec, found := strings.CutPrefix(v, "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !found || !dash {
		return 0, 0, false, errInvalidHeaderValue
	}
	start, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || start < 0 {
		return 0, 0, false, errInvalidHeaderValue
	}
	end = -1
	if last != "" {
		if end, perr = strconv.ParseInt(last, 10, 64); perr != nil || end < start {
			return 0, 0, false, errInvalidHeaderValue
		}
	}
	return start, end, true, nil
}

// pageRange reads the range of a Put Page: required, closed and 512-aligned.
func pageRange(h http.Header) (start, end int64, err *storageError) {
	start, end, ok, err := requestRange(h)
	switch {
	case err != nil:
		return 0, 0, err
	case !ok:
		return 0, 0, errMissingHeader
	case end < 0 || start%pageSize != 0 || (end+1)%pageSize != 0:
		return 0, 0, errInvalidPageRange
	}
	return start, end, nil
}
