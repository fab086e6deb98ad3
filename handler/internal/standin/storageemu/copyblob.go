package storageemu

import (
	"maps"
	"net/http"
)

// copyBlob starts Copy Blob: the target (new, or an existing blob of the
// source's type) becomes a copy of a blob or snapshot. Like the service's,
// the copy is asynchronous: it moves the source's written pages at CopyRate
// (see settle), and the source is read as it is when the copy starts.
func (e *Emulator) copyBlob(req *request) *storageError {
	if req.t.snapshot != "" {
		return errInvalidQueryValue
	}
	c, err := e.container(req)
	if err != nil {
		return err
	}
	rawSource := req.r.Header.Get("x-ms-copy-source")
	src, err := e.resolveBlobCopySource(rawSource, req)
	if err != nil {
		return err
	}
	f, dest, err := e.copyTarget(c, req)
	if err != nil {
		return err
	}
	if dest != nil {
		switch {
		case dest.isIncrementalCopy():
			return errNotAllowedOnIncrementalCopy
		case dest.copyPending():
			return errPendingCopy
		case dest.blobType != src.blobType:
			return errInvalidBlobType
		}
	}

	metadata, err := metadataHeaders(req.r.Header)
	if err != nil {
		return err
	}
	if metadata == nil {
		metadata = maps.Clone(src.metadata)
	}
	src.ownsPages = false // its next write clones: the copy reads the pages as they are now
	stored := int64(len(src.pages)) * pageSize
	b := &pageBlob{
		blobType: src.blobType, size: src.size, pages: pageSet{}, ownsPages: true,
		created: req.now, lastModified: req.now, etag: newETag(),
		content: src.content, metadata: metadata, generation: e.nextGeneration(),
		sequenceNumber: src.sequenceNumber,
		copy: &copyState{
			id: newUUID(), sourceURL: rawSource, status: copyPending, started: req.now,
			total: stored, reportedTotal: src.size,
			target: src.pages, targetSize: src.size, rate: e.opts.CopyRate,
			fault: e.faults.copyPlan(req.t, stored),
		},
	}
	if f != nil {
		f.base = b
	} else {
		c.blobs[req.t.blob] = &blobFamily{base: b}
	}

	h := req.w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(b.lastModified))
	h.Set("x-ms-copy-id", b.copy.id)
	h.Set("x-ms-copy-status", copyPending)
	req.w.WriteHeader(http.StatusAccepted)
	return nil
}

// resolveBlobCopySource finds the blob or snapshot a Copy Blob names and
// checks that the copy may read it: through public access, a SAS in the
// URL, or, for a source in the request's own account, the Shared Key the
// request is signed with.
func (e *Emulator) resolveBlobCopySource(raw string, req *request) (*pageBlob, *storageError) {
	if raw == "" {
		return nil, errMissingHeader
	}
	u, t, err := parseCopySourceURL(raw)
	if err != nil {
		return nil, err
	}
	acct, ok := e.accounts[t.account]
	if !ok {
		return nil, errCopySourceNotFound
	}
	_, hasSAS := sasFromQuery(u.Query())
	ownKey := req.sharedKey && acct == req.acct && !hasSAS
	if !ownKey && !e.mayReadCopySource(acct, t, u) {
		return nil, errCannotVerifySource
	}
	src := e.lookupCopySource(acct, t, req.now)
	switch {
	case src == nil && ownKey:
		return nil, errBlobNotFound
	case src == nil:
		return nil, errCopySourceNotFound
	case src.snapshot == "" && src.isIncrementalCopy():
		return nil, errCopySourceIncremental
	}
	return src, nil
}
