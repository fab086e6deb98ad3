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

// readable finds the blob a read of its pages or bytes addresses: the base
// blob of an incremental copy is read only through its snapshots.
func (e *Emulator) readable(req *request) (*blobFamily, *pageBlob, *storageError) {
	f, b, err := e.addressed(req)
	if err != nil {
		return nil, nil, err
	}
	if b.snapshot == "" && b.isIncrementalCopy() {
		return nil, nil, errNotAllowedOnIncrementalCopy
	}
	return f, b, nil
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
	content, err := contentFromRequest(req.r.Header)
	if err != nil {
		return err
	}
	metadata, err := metadataHeaders(req.r.Header)
	if err != nil {
		return err
	}
	b := &pageBlob{
		created: req.now, lastModified: req.now, etag: newETag(),
		content: content, metadata: metadata, pages: pageSet{}, ownsPages: true,
	}
	switch req.r.Header.Get("x-ms-blob-type") {
	case typePageBlob:
		if b.sequenceNumber, err = sequenceNumber(req.r.Header); err != nil {
			return err
		}
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
		if err := checkTransferMD5(req.r.Header, req.body); err != nil {
			return err
		}
		if b.content.md5 == "" {
			b.content.md5 = md5Base64(req.body) // the service keeps the MD5 of a blob it received whole
		}
		b.blobType, b.size = typeBlockBlob, int64(len(req.body))
		padded := make([]byte, (len(req.body)+pageSize-1)/pageSize*pageSize)
		copy(padded, req.body)
		b.pages.write(0, padded)
	case "":
		return errMissingHeader
	default:
		return errInvalidHeaderValue
	}
	b.generation = e.nextGeneration()
	if old != nil {
		old.base = b
	} else {
		c.blobs[req.t.blob] = &blobFamily{base: b}
	}
	writeBlobWriteHeaders(req.w, b)
	if b.content.md5 != "" {
		req.w.Header().Set("Content-MD5", b.content.md5)
	}
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
	writeBlobProperties(req.w, b, req.r)
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
	md, err := metadataHeaders(req.r.Header)
	if err != nil {
		return err
	}
	s := b.takeSnapshot(nextSnapshotTime(req.now, f.lastSnapshotTime()))
	if md != nil {
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
		req.w.Header().Set("x-ms-delete-type-permanent", "true")
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
	req.w.Header().Set("x-ms-delete-type-permanent", "true") // no soft delete here
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

// writeBlobProperties sets the Get Blob Properties / Get Blob headers; r's
// SAS may override content headers.
func writeBlobProperties(w http.ResponseWriter, b *pageBlob, r *http.Request) {
	h := w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(b.lastModified))
	h.Set("x-ms-creation-time", httpTime(b.created))
	h.Set("x-ms-blob-type", b.blobType)
	writeContentHeaders(h, b.content, r)
	if b.content.md5 != "" {
		h.Set("Content-MD5", b.content.md5)
	}
	h.Set("x-ms-server-encrypted", "true")
	if b.snapshot == "" {
		h.Set("x-ms-lease-status", "unlocked")
		h.Set("x-ms-lease-state", "available")
	}
	if b.blobType == typePageBlob {
		h.Set("x-ms-blob-sequence-number", strconv.FormatInt(b.sequenceNumber, 10))
	}
	for k, v := range b.metadata {
		h.Set("x-ms-meta-"+k, v)
	}
	if b.copy != nil {
		writeCopyHeaders(h, b.copy)
	}
}

// metadataHeaders collects x-ms-meta-* request headers, nil when none. A
// name must be a C# identifier, as the service requires.
func metadataHeaders(h http.Header) (map[string]string, *storageError) {
	var md map[string]string
	for k, v := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-ms-meta-")
		if !ok {
			continue
		}
		if !validMetadataName(name) {
			return nil, errInvalidMetadata
		}
		if md == nil {
			md = map[string]string{}
		}
		md[name] = strings.Join(v, ",")
	}
	return md, nil
}

// validMetadataName: a letter or underscore, then letters, digits and
// underscores.
func validMetadataName(name string) bool {
	for i, c := range name {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}
