package storageemu

import (
	"net/http"
	"time"
)

// incrementalCopy starts Incremental Copy Blob: the destination (new, or an
// incremental copy of the same source) receives the pages of a source
// snapshot, moving only those written since the last snapshot it copied.
// The copy runs asynchronously; see settle.
func (e *Emulator) incrementalCopy(req *request) *storageError {
	c, err := e.container(req)
	if err != nil {
		return err
	}
	rawSource := req.r.Header.Get("x-ms-copy-source")
	if rawSource == "" {
		return errMissingHeader
	}
	src, srcRef, snapTime, err := e.resolveCopySource(rawSource, req)
	if err != nil {
		return err
	}
	_, dest, err := e.copyTarget(c, req)
	if err != nil {
		return err
	}
	prev := pageSet{}
	if dest != nil {
		bound := dest.copy
		switch {
		case dest.blobType != typePageBlob:
			return errInvalidBlobType
		case !dest.isIncrementalCopy() || bound.source != srcRef:
			return errIncrementalCopyMismatch
		case bound.status == copyPending:
			return errPendingCopy
		case !bound.lastCopied.IsZero() && !snapTime.After(bound.lastCopied):
			return earlierSnapshotError(e.opts.EarlierSnapshotErrorCode)
		case !bound.lastCopied.IsZero() && src.generation != bound.lastGeneration:
			return errBlobOverwritten
		}
		if !bound.lastCopied.IsZero() {
			prev = dest.pages // equal to the last copied snapshot, sharing its pages
		}
	} else {
		dest = &pageBlob{
			blobType: typePageBlob, size: src.size, pages: pageSet{}, ownsPages: true,
			created: req.now, content: contentProperties{contentType: defaultContentType},
			generation: e.nextGeneration(), copy: &copyState{incremental: true, source: srcRef},
		}
		c.blobs[req.t.blob] = &blobFamily{base: dest}
	}

	cs := dest.copy
	cs.id, cs.sourceURL = newUUID(), rawSource
	cs.snapshot, cs.generation = snapTime, src.generation
	cs.status, cs.description, cs.started, cs.copied = copyPending, "", req.now, 0
	cs.total = src.pages.changedBytes(prev)
	cs.reportedTotal = cs.total
	cs.target, cs.targetSize, cs.rate = src.pages, src.size, e.opts.CopyRate
	cs.fault = e.faults.copyPlan(req.t, cs.total)
	dest.etag, dest.lastModified = newETag(), req.now

	h := req.w.Header()
	h.Set("ETag", dest.etag)
	h.Set("Last-Modified", httpTime(dest.lastModified))
	h.Set("x-ms-copy-id", cs.id)
	h.Set("x-ms-copy-status", copyPending)
	req.w.WriteHeader(http.StatusAccepted)
	return nil
}

// resolveCopySource finds the source snapshot an incremental copy names on
// this emulator (whatever its host) and checks that the copy may read it:
// anonymously through public access, or with a SAS in the URL.
func (e *Emulator) resolveCopySource(raw string, req *request) (*pageBlob, sourceRef, time.Time, *storageError) {
	u, t, err := parseCopySourceURL(raw)
	if err != nil {
		return nil, sourceRef{}, time.Time{}, err
	}
	if t.snapshot == "" {
		return nil, sourceRef{}, time.Time{}, errSourceMustBeSnapshot
	}
	snapTime, ok := parseSnapshot(t.snapshot)
	if !ok {
		return nil, sourceRef{}, time.Time{}, errInvalidSourceURL
	}
	acct, ok := e.accounts[t.account]
	if !ok {
		return nil, sourceRef{}, time.Time{}, errCopySourceNotFound
	}
	if !e.mayReadCopySource(acct, t, u) {
		return nil, sourceRef{}, time.Time{}, errCannotVerifySource
	}
	switch snap := e.lookupCopySource(acct, t, req.now); {
	case snap == nil:
		return nil, sourceRef{}, time.Time{}, errCopySourceNotFound
	case snap.blobType != typePageBlob:
		return nil, sourceRef{}, time.Time{}, errInvalidSourceBlobType
	default:
		return snap, sourceRef{account: t.account, container: t.container, blob: t.blob}, snapTime, nil
	}
}
