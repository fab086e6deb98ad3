package storageemu

import (
	"crypto/hmac"
	"net/url"
	"strings"
	"time"
)

// Signed resource types of a service SAS (sr).
const (
	sasBlob         = "b"
	sasBlobSnapshot = "bs"
	sasContainer    = "c"
)

// minSASVersion is the oldest signed version (sv) the emulator verifies:
// the first that carries sv at all.
const minSASVersion = "2012-02-12"

// serviceSAS is a service SAS read from a request's query.
type serviceSAS struct {
	query       url.Values
	resource    string
	permissions string
}

// sasFromQuery returns the SAS in q, or false when q carries no signature.
func sasFromQuery(q url.Values) (serviceSAS, bool) {
	if q.Get("sig") == "" {
		return serviceSAS{}, false
	}
	return serviceSAS{query: q, resource: q.Get("sr"), permissions: q.Get("sp")}, true
}

// verify checks the SAS signature and validity window for a request on t,
// sent with the given scheme. It returns the storage error to answer, or nil.
func (s serviceSAS) verify(acct *account, t target, scheme string, now time.Time, trustHTTP bool) *storageError {
	q := s.query
	switch {
	case q.Get("srt") != "" || q.Get("ss") != "":
		return errAuthenticationFailed // account SAS: not implemented
	case q.Get("skoid") != "":
		return errAuthenticationFailed // user delegation SAS: no Entra ID here
	case q.Get("si") != "":
		return errAuthenticationFailed // stored access policies: not implemented
	case q.Get("sv") < minSASVersion:
		return errAuthenticationFailed
	}
	version := q.Get("sv")
	name := "/blob/" + acct.name + "/" + t.container
	if version < "2015-02-21" {
		name = "/" + acct.name + "/" + t.container // before the service prefix
	}
	signedSnapshot := ""
	switch s.resource {
	case sasBlob:
		name += "/" + t.blob
	case sasBlobSnapshot:
		name += "/" + t.blob
		signedSnapshot = t.snapshot // the snapshot a bs SAS grants is the URL's
	case sasContainer:
	default:
		return errAuthenticationFailed
	}
	if !hmac.Equal([]byte(q.Get("sig")), []byte(sign(acct.key, sasStringToSign(q, name, s.resource, signedSnapshot)))) {
		return errAuthenticationFailed
	}
	if !withinWindow(now, q.Get("st"), q.Get("se")) {
		return errAuthenticationFailed
	}
	if q.Get("spr") == "https" && scheme != "https" && !trustHTTP {
		return errProtocolMismatch
	}
	return nil
}

// sasStringToSign lays out a service SAS's string-to-sign as its signed
// version (sv) defines it: each version added fields to the one before.
func sasStringToSign(q url.Values, canonicalName, resource, snapshot string) string {
	v := q.Get("sv")
	fields := []string{q.Get("sp"), q.Get("st"), q.Get("se"), canonicalName, q.Get("si")}
	if v >= "2015-04-05" {
		fields = append(fields, q.Get("sip"), q.Get("spr"))
	}
	fields = append(fields, v)
	if v >= "2018-11-09" {
		fields = append(fields, resource, snapshot)
	}
	if v >= "2020-12-06" {
		fields = append(fields, q.Get("ses"))
	}
	if v >= "2013-08-15" {
		fields = append(fields, q.Get("rscc"), q.Get("rscd"), q.Get("rsce"), q.Get("rscl"), q.Get("rsct"))
	}
	return strings.Join(fields, "\n")
}

// withinWindow reports whether now lies in [st, se]; a missing start means
// "already valid", an unparsable time means "never valid".
func withinWindow(now time.Time, st, se string) bool {
	expiry, ok := parseSASTime(se)
	if !ok || now.After(expiry) {
		return false
	}
	if st == "" {
		return true
	}
	start, ok := parseSASTime(st)
	return ok && !now.Before(start)
}

func parseSASTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// allows reports whether the SAS permissions cover op. Creating or
// overwriting a blob needs write unless the blob is new (then create will do).
func (s serviceSAS) allows(op Operation, blobExists bool) bool {
	has := func(p string) bool { return strings.Contains(s.permissions, p) }
	switch op {
	case OpGetBlob, OpGetBlobProperties, OpGetPageRanges:
		return has("r")
	case OpListBlobs:
		return s.resource == sasContainer && has("l")
	case OpPutPage, OpClearPage, OpAbortCopy:
		return has("w")
	case OpPutBlob, OpCopyBlob, OpIncrementalCopy:
		return has("w") || (!blobExists && has("c"))
	case OpSnapshotBlob:
		return has("w") || has("c")
	case OpDeleteBlob:
		return has("d")
	}
	return false // container operations but listing need an account SAS or a key
}
