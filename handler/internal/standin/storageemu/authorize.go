package storageemu

import (
	"net/http"
	"strings"
	"time"
)

// publicReadOps are what anonymous callers may do, per container access level.
var publicReadOps = map[string]map[Operation]bool{
	accessBlob: {
		OpGetBlob: true, OpGetBlobProperties: true, OpGetPageRanges: true,
	},
	accessContainer: {
		OpGetBlob: true, OpGetBlobProperties: true, OpGetPageRanges: true,
		OpGetContainerProperties: true, OpListBlobs: true,
	},
}

// authorize decides whether the request may run: Shared Key, else a service
// SAS, else the container's anonymous public access.
func (e *Emulator) authorize(r *http.Request, acct *account, t target, op Operation) *storageError {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if strings.HasPrefix(auth, sharedKeyPrefix) && verifySharedKey(r, acct) {
			return nil
		}
		return errAuthenticationFailed
	}
	q := r.URL.Query()
	if sas, ok := sasFromQuery(q); ok {
		return e.authorizeSAS(sas, acct, t, op, requestScheme(r))
	}
	if publicReadOps[e.publicAccess(acct, t.container)][op] {
		return nil
	}
	return errAnonymousNotAllowed
}

func (e *Emulator) authorizeSAS(sas serviceSAS, acct *account, t target, op Operation, scheme string) *storageError {
	if err := sas.verify(acct, t, scheme, e.now(), e.opts.TrustHTTPAsHTTPS); err != nil {
		return err
	}
	if !sas.allows(op, e.blobExists(acct, t)) {
		return errPermissionMismatch
	}
	return nil
}

func (e *Emulator) publicAccess(acct *account, containerName string) string {
	if c, ok := acct.containers[containerName]; ok {
		return c.publicAccess
	}
	return accessPrivate
}

func (e *Emulator) blobExists(acct *account, t target) bool {
	c, ok := acct.containers[t.container]
	if !ok {
		return false
	}
	_, ok = c.blobs[t.blob]
	return ok
}

func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// now is the emulator's clock at the service's 100 ns resolution.
func (e *Emulator) now() time.Time {
	return e.opts.Clock.Now().UTC().Truncate(100 * time.Nanosecond)
}
