package storageemu

import (
	"net/http"
	"strings"
	"time"
)

var errNotModified = newError(http.StatusNotModified, "ConditionNotMet",
	"The condition specified using HTTP conditional header(s) is not met.")

// checkConditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since against b (nil: the blob does not exist). Reads that
// fail If-None-Match or If-Modified-Since answer 304, everything else 412.
// If-None-Match: * means "only if it does not exist": a read can never
// satisfy it (400 UnsatisfiableCondition, as Azurite answers), a write on
// an existing blob fails it (412).
func checkConditions(r *http.Request, b *pageBlob) *storageError {
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	h := r.Header
	if read && strings.TrimSpace(h.Get("If-None-Match")) == "*" {
		return errUnsatisfiableCondition
	}
	if v := h.Get("If-Match"); v != "" && (b == nil || !etagMatches(v, b.etag)) {
		return errConditionNotMet
	}
	if v := h.Get("If-None-Match"); v != "" && b != nil && etagMatches(v, b.etag) {
		if read {
			return errNotModified
		}
		return errConditionNotMet
	}
	if b == nil {
		return nil
	}
	modified := b.lastModified.Truncate(time.Second)
	if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && !modified.After(t) {
		if read {
			return errNotModified
		}
		return errConditionNotMet
	}
	if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && modified.After(t) {
		return errConditionNotMet
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		if v = strings.TrimSpace(v); v == "*" || v == etag || "\""+v+"\"" == etag {
			return true
		}
	}
	return false
}
