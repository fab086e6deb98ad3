package storageemu

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strconv"
)

// contentProperties are a blob's standard HTTP properties, set by Put Blob
// (x-ms-blob-*), carried by snapshots and copies, and returned by Get Blob,
// Get Blob Properties and List Blobs.
type contentProperties struct {
	contentType, encoding, language, md5, cacheControl, disposition string
}

// defaultContentType is what the service reports when none was given.
const defaultContentType = "application/octet-stream"

// contentFromRequest reads the x-ms-blob-* properties of a create request.
// A Content-MD5 that is not 16 bytes of base64 is refused.
func contentFromRequest(h http.Header) (contentProperties, *storageError) {
	c := contentProperties{
		contentType:  h.Get("x-ms-blob-content-type"),
		encoding:     h.Get("x-ms-blob-content-encoding"),
		language:     h.Get("x-ms-blob-content-language"),
		md5:          h.Get("x-ms-blob-content-md5"),
		cacheControl: h.Get("x-ms-blob-cache-control"),
		disposition:  h.Get("x-ms-blob-content-disposition"),
	}
	if c.contentType == "" {
		c.contentType = defaultContentType
	}
	if c.md5 != "" && !validMD5(c.md5) {
		return contentProperties{}, errInvalidMD5
	}
	return c, nil
}

func validMD5(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == md5.Size
}

func md5Base64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// checkTransferMD5 verifies a request body against its Content-MD5 header.
func checkTransferMD5(h http.Header, body []byte) *storageError {
	v := h.Get("Content-MD5")
	switch {
	case v == "":
		return nil
	case !validMD5(v):
		return errInvalidMD5
	case v != md5Base64(body):
		return errMD5Mismatch
	}
	return nil
}

// SAS parameters that override a response header of a read (rscc, rscd,
// rsce, rscl, rsct), applied when the request is authorized by that SAS.
var sasResponseOverrides = []struct{ param, header string }{
	{"rscc", "Cache-Control"}, {"rscd", "Content-Disposition"}, {"rsce", "Content-Encoding"},
	{"rscl", "Content-Language"}, {"rsct", "Content-Type"},
}

// writeContentHeaders sets a read's content headers: the blob's properties,
// then any SAS overrides.
func writeContentHeaders(h http.Header, c contentProperties, r *http.Request) {
	for _, kv := range [][2]string{
		{"Content-Type", c.contentType}, {"Content-Encoding", c.encoding}, {"Content-Language", c.language},
		{"Cache-Control", c.cacheControl}, {"Content-Disposition", c.disposition},
	} {
		if kv[1] != "" {
			h.Set(kv[0], kv[1])
		}
	}
	q := r.URL.Query()
	if _, ok := sasFromQuery(q); !ok || r.Header.Get("Authorization") != "" {
		return
	}
	for _, o := range sasResponseOverrides {
		if v := q.Get(o.param); v != "" {
			h.Set(o.header, v)
		}
	}
}

// sequenceNumber reads x-ms-blob-sequence-number (0 when absent).
func sequenceNumber(h http.Header) (int64, *storageError) {
	v := h.Get("x-ms-blob-sequence-number")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errInvalidHeaderValue
	}
	return n, nil
}

// checkSequenceConditions applies x-ms-if-sequence-number-le/-lt/-eq to a
// page write.
func checkSequenceConditions(h http.Header, seq int64) *storageError {
	for _, c := range []struct {
		header string
		holds  func(n int64) bool
	}{
		{"x-ms-if-sequence-number-le", func(n int64) bool { return seq <= n }},
		{"x-ms-if-sequence-number-lt", func(n int64) bool { return seq < n }},
		{"x-ms-if-sequence-number-eq", func(n int64) bool { return seq == n }},
	} {
		v := h.Get(c.header)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errInvalidHeaderValue
		}
		if !c.holds(n) {
			return errSequenceNumberCondition
		}
	}
	return nil
}
