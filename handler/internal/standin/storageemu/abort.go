package storageemu

import (
	"net/http"
	"strings"
)

// abortCopy is Abort Copy Blob: a pending copy ends as aborted (see
// pageBlob.endUnfinishedCopy for what the destination keeps).
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
	if !f.base.copyPending() {
		return errNoPendingCopy
	}
	c := f.base.copy
	if req.r.URL.Query().Get("copyid") != c.id {
		return errCopyIDMismatch
	}
	c.status, c.completed, c.target = copyAborted, req.now, nil
	f.base.endUnfinishedCopy()
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
