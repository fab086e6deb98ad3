package storageemu

import (
	"net/http"
	"strings"
)

// abortCopy is Abort Copy Blob: a pending incremental copy ends as aborted
// and the destination keeps what it had from the last successful copy.
func (e *Emulator) abortCopy(req *request) *storageError {
	if !strings.EqualFold(req.r.Header.Get("x-ms-copy-action"), "abort") {
		return errInvalidHeaderValue
	}
	if req.t.snapshot != "" {
		return errInvalidQueryValue
	}
	_, f, err := e.family(req)
	if err != nil {
		return err
	}
	c := f.base.copy
	if c == nil || c.status != copyPending {
		return errNoPendingCopy
	}
	if req.r.URL.Query().Get("copyid") != c.id {
		return errCopyIDMismatch
	}
	c.status, c.completed, c.target = copyAborted, req.now, nil
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
