package storageemu

import (
	"net/http"
	"time"
)

func (e *Emulator) createContainer(req *request) *storageError {
	if n := len(req.t.container); n < 3 || n > 63 {
		return errContainerNameLength
	}
	if !validContainerName(req.t.container) {
		return errInvalidResourceName
	}
	if _, ok := req.acct.containers[req.t.container]; ok {
		return errContainerExists
	}
	access, err := publicAccessHeader(req.r)
	if err != nil {
		return err
	}
	metadata, err := metadataHeaders(req.r.Header)
	if err != nil {
		return err
	}
	c := &blobContainer{
		name: req.t.container, created: req.now, etag: newETag(),
		publicAccess: access, metadata: metadata, blobs: map[string]*blobFamily{},
	}
	req.acct.containers[c.name] = c
	writeContainerHeaders(req.w, c)
	req.w.WriteHeader(http.StatusCreated)
	return nil
}

func (e *Emulator) deleteContainer(req *request) *storageError {
	if _, err := e.container(req); err != nil {
		return err
	}
	delete(req.acct.containers, req.t.container)
	req.w.WriteHeader(http.StatusAccepted)
	return nil
}

func (e *Emulator) getContainerProperties(req *request) *storageError {
	c, err := e.container(req)
	if err != nil {
		return err
	}
	writeContainerHeaders(req.w, c)
	h := req.w.Header()
	if c.publicAccess != accessPrivate {
		h.Set("x-ms-blob-public-access", c.publicAccess)
	}
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-has-immutability-policy", "false")
	h.Set("x-ms-has-legal-hold", "false")
	for k, v := range c.metadata {
		h.Set("x-ms-meta-"+k, v)
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// setContainerACL changes the public access level; stored access policies in
// the body are accepted and ignored.
func (e *Emulator) setContainerACL(req *request) *storageError {
	c, err := e.container(req)
	if err != nil {
		return err
	}
	access, err := publicAccessHeader(req.r)
	if err != nil {
		return err
	}
	c.publicAccess = access
	c.etag = newETag()
	writeContainerHeaders(req.w, c)
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func publicAccessHeader(r *http.Request) (string, *storageError) {
	switch v := r.Header.Get("x-ms-blob-public-access"); v {
	case accessPrivate, accessBlob, accessContainer:
		return v, nil
	default:
		return "", errInvalidHeaderValue
	}
}

func writeContainerHeaders(w http.ResponseWriter, c *blobContainer) {
	w.Header().Set("ETag", c.etag)
	w.Header().Set("Last-Modified", httpTime(c.created))
}

// container finds the addressed container.
func (e *Emulator) container(req *request) (*blobContainer, *storageError) {
	c, ok := req.acct.containers[req.t.container]
	if !ok {
		return nil, errContainerNotFound
	}
	return c, nil
}

func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
