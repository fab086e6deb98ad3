package storageemu

import (
	"net/url"
	"strings"
	"time"
)

// parseCopySourceURL reads an x-ms-copy-source URL. The source is resolved
// on this emulator whatever the URL's host, path-style like every request.
func parseCopySourceURL(raw string) (*url.URL, target, *storageError) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, target{}, errInvalidSourceURL
	}
	t := parseTarget(u)
	if t.container == "" || t.blob == "" {
		return nil, target{}, errInvalidSourceURL
	}
	return u, t, nil
}

// copyTarget finds the base blob a copy writes to (nil when new), settled,
// and applies the request's destination conditions to it.
func (e *Emulator) copyTarget(c *blobContainer, req *request) (*blobFamily, *pageBlob, *storageError) {
	f := c.blobs[req.t.blob]
	var dest *pageBlob
	if f != nil {
		e.settle(f, req.now)
		dest = f.base
	}
	if err := checkConditions(req.r, dest); err != nil {
		return nil, nil, err
	}
	return f, dest, nil
}

// lookupCopySource finds the blob or snapshot t names in acct, nil when it
// does not exist, after settling the family's own pending copy.
func (e *Emulator) lookupCopySource(acct *account, t target, now time.Time) *pageBlob {
	c, ok := acct.containers[t.container]
	if !ok {
		return nil
	}
	f, ok := c.blobs[t.blob]
	if !ok {
		return nil
	}
	e.settle(f, now)
	if t.snapshot == "" {
		return f.base
	}
	if s := f.snapshot(t.snapshot); s != nil {
		return s
	}
	// Clients may spell the time differently (fewer digits): compare instants.
	if ts, ok := parseSnapshot(t.snapshot); ok {
		for _, s := range f.snapshots {
			if s.snapshotTime.Equal(ts) {
				return s
			}
		}
	}
	return nil
}

// mayReadCopySource applies public access or the URL's SAS (read permission)
// to the source; the copy engine reads it with the URL's scheme.
func (e *Emulator) mayReadCopySource(acct *account, t target, u *url.URL) bool {
	if publicReadOps[e.publicAccess(acct, t.container)][OpGetBlob] {
		return true
	}
	sas, ok := sasFromQuery(u.Query())
	if !ok {
		return false
	}
	return e.authorizeSAS(sas, acct, t, OpGetBlob, strings.ToLower(u.Scheme)) == nil
}
