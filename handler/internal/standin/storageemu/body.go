package storageemu

import (
	"io"
	"net/http"
)

// Service limits on what one request may carry or create.
const (
	// maxPutPageBytes is the most one Put Page may write.
	maxPutPageBytes = 4 << 20
	// maxPageBlobSize is the largest page blob the service creates.
	maxPageBlobSize = 8 << 40
	// maxPutBlobBytes bounds the single-shot block blobs the emulator keeps in
	// memory. The service takes far larger ones; the emulator refuses them as
	// not implemented rather than hold gigabytes for a blob type it only has
	// so that a wrongly typed blob can be represented.
	maxPutBlobBytes = 4 << 20
)

// readBody reads the body of an operation that carries one, before the state
// lock is taken, so that a slow or stalled client never holds up other
// requests. The declared Content-Length is checked against the operation's
// limit before a byte is read or a buffer allocated; the body must then hold
// exactly that many bytes. Operations without a body get nil.
func readBody(op Operation, r *http.Request) ([]byte, *storageError) {
	var limit int64
	var tooLarge *storageError
	switch {
	case op == OpPutPage:
		limit, tooLarge = maxPutPageBytes, errRequestBodyTooLarge
	case op == OpPutBlob && r.Header.Get("x-ms-blob-type") == typeBlockBlob:
		limit, tooLarge = maxPutBlobBytes, errBlockBlobTooLarge
	case op == OpSetContainerACL:
		if r.ContentLength == 0 {
			return nil, nil
		}
		limit, tooLarge = maxACLBody, errRequestBodyTooLarge
	default:
		return nil, nil
	}
	switch n := r.ContentLength; {
	case n < 0:
		return nil, errMissingContentLength
	case n > limit:
		return nil, tooLarge
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, errIncompleteBody
	}
	return body, nil
}
