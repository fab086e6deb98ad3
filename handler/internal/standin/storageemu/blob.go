package storageemu

import (
	"net/http"
	"strconv"
	"strings"
)

// family finds the addressed blob family after settling its copy progress.
func (e *Emulator) family(req *request) (*blobContainer, *blobFamily, *storageError) {
	c, err := e.container(req)
	if err != nil {
		return nil, nil, err
	}
	f, ok := c.blobs[req.t.blob]
	if !ok {
		return c, nil, errBlobNotFound
	}
	e.settle(f, req.now)
	return c, f, nil
}

// addressed finds the base blob or, with ?snapshot=, the snapshot.
func (e *Emulator) addressed(req *request) (*blobFamily, *pageBlob, *storageError) {
	_, f, err := e.family(req)
	if err != nil {
		return nil, nil, err
	}
	if req.t.snapshot == "" {
		return f, f.base, nil
	}
	if s := f.snapshot(req.t.snapshot); s != nil {
		return f, s, nil
	}
	return f, nil, errBlobNotFound
}

// putBlob creates or replaces a page blob (empty, of x-ms-blob-content-length)
// or a block blob (the body). Replacing takes a new generation, which breaks
// the incremental-copy chain of the blob's snapshots.
func (e *Emulator) putBlob(req *request) *storageError {
	c, err := e.container(req)
	if err != nil {
		return err
	}
	old := c.blobs[req.t.blob]
	if old != nil {
		e.settle(old, req.now)
		if old.base.isIncrementalCopy() {
			return errNotAllowedOnIncrementalCopy
		}
		if old.base.copyPending() {
			return errPendingCopy
		}
		if cerr := checkConditions(req.r, old.base); cerr != nil {
			return cerr
		}
	} else if cerr := checkConditions(req.r, nil); cerr != nil {
		return cerr
	}
	b := &pageBlob{
		created: req.now, lastModified: req.now, etag: newETag(),
		contentType: req.r.Header.Get("x-ms-blob-content-type"),
		metadata:    metadataHeaders(req.r.Header), generation: e.nextGeneration(),
		pages: pageSet{}, ownsPages: true,
	}
	switch req.r.Header.Get("x-ms-blob-type") {
	case typePageBlob:
		size, perr := strconv.ParseInt(req.r.Header.Get("x-ms-blob-content-length"), 10, 64)
		if perr != nil || size < 0 {
			return errInvalidHeaderValue
		}
		if size%pageSize != 0 {
			return errPageBlobSizeUnaligned
		}
		if size > maxPageBlobSize {
			return errBlobTooLarge
		}
		b.blobType, b.size = typePageBlob, size
	case typeBlockBlob:
		b.blobType, b.size = typeBlockBlob, int64(len(req.body))
		padded := make([]byte, (len(req.body)+pageSize-1)/pageSize*pageSize)
		copy(padded, req.body)
		b.pages.write(0, padded)
	case "":
		return errMissingHeader
	default:
		return errUnsupportedBlobType
	}
	if b.contentType == "" {
		b.contentType = "application/octet-stream"
	}
	if old != nil {
		old.base = b
	} else {
		c.blobs[req.t.blob] = &blobFamily{base: b}
	}
	writeBlobWriteHeaders(req.w, b)
	req.w.WriteHeader(http.StatusCreated)
	return nil
}

func (e *Emulator) getBlobProperties(req *request) *storageError {
	_, b, err := e.addressed(req)
	if err != nil {
		return err
	}
	if cerr := checkConditions(req.r, b); cerr != nil {
		return cerr
	}
	writeBlobProperties(req.w, b)
	req.w.Header().Set("Content-Length", strconv.FormatInt(b.size, 10))
	req.w.Header().Set("Accept-Ranges", "bytes")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (e *Emulator) snapshotBlob(req *request) *storageError {
	if req.t.snapshot != "" {
		return errInvalidQueryValue
	}
	f, b, err := e.addressed(req)
	if err != nil {
		return err
	}
	switch {
	case b.isIncrementalCopy():
		return errNotAllowedOnIncrementalCopy
	case b.copyPending():
		return errPendingCopy
	}
	if cerr := checkConditions(req.r, b); cerr != nil {
		return cerr
	}
	s := b.takeSnapshot(nextSnapshotTime(req.now, f.lastSnapshotTime()))
	if md := metadataHeaders(req.r.Header); md != nil {
		s.metadata = md
	}
	f.snapshots = append(f.snapshots, s)
	h := req.w.Header()
	h.Set("x-ms-snapshot", s.snapshot)
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(b.lastModified))
	h.Set("x-ms-request-server-encrypted", "false")
	req.w.WriteHeader(http.StatusCreated)
	return nil
}

// deleteBlob deletes a snapshot (?snapshot=), the base with its snapshots
// (x-ms-delete-snapshots: include) or only the snapshots (only). The
// addressed blob must exist (404 first), then x-ms-delete-snapshots must not
// be sent with a snapshot: it only makes sense on the base.
func (e *Emulator) deleteBlob(req *request) *storageError {
	c, err := e.container(req)
	if err != nil {
		return err
	}
	f, b, err := e.addressed(req)
	if err != nil {
		return err
	}
	if cerr := checkConditions(req.r, b); cerr != nil {
		return cerr
	}
	option := req.r.Header.Get("x-ms-delete-snapshots")
	if req.t.snapshot != "" {
		if option != "" {
			return errDeleteSnapshotsOnSnapshot
		}
		f.removeSnapshot(b.snapshot)
		req.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	switch option {
	case "":
		if len(f.snapshots) > 0 {
			return errSnapshotsPresent
		}
		delete(c.blobs, req.t.blob)
	case "include":
		delete(c.blobs, req.t.blob)
	case "only":
		f.snapshots = nil
	default:
		return errInvalidHeaderValue
	}
	req.w.WriteHeader(http.StatusAccepted)
	return nil
}

// writeBlobWriteHeaders answers a write: the blob's new ETag and time.
func writeBlobWriteHeaders(w http.ResponseWriter, b *pageBlob) {
	h := w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(b.lastModified))
	h.Set("x-ms-request-server-encrypted", "true")
}

// writeBlobProperties sets the Get Blob Properties / Get Blob headers.
func writeBlobProperties(w http.ResponseWriter, b *pageBlob) {
	h := w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(b.lastModified))
	h.Set("x-ms-creation-time", httpTime(b.created))
	h.Set("x-ms-blob-type", b.blobType)
	h.Set("Content-Type", b.contentType)
	h.Set("x-ms-server-encrypted", "true")
	if b.snapshot == "" {
		h.Set("x-ms-lease-status", "unlocked")
		h.Set("x-ms-lease-state", "available")
	}
	if b.blobType == typePageBlob {
		h.Set("x-ms-blob-sequence-number", "0")
	}
	for k, v := range b.metadata {
		h.Set("x-ms-meta-"+k, v)
	}
	if b.copy != nil {
		writeCopyHeaders(h, b.copy)
	}
}

// metadataHeaders collects x-ms-meta-* request headers, nil when none.
func metadataHeaders(h http.Header) map[string]string {
	var md map[string]string
	for k, v := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-ms-meta-")
		if !ok {
			continue
		}
		if md == nil {
			md = map[string]string{}
		}
		md[name] = strings.Join(v, ",")
	}
	return md
}
