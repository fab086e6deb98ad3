package storageemu

import (
	"net/http"
	"net/url"
	"strings"
)

// Operation names a REST operation; faults and SAS permissions are keyed by it.
type Operation string

// The operations the emulator implements.
const (
	OpCreateContainer        Operation = "CreateContainer"
	OpDeleteContainer        Operation = "DeleteContainer"
	OpGetContainerProperties Operation = "GetContainerProperties"
	OpSetContainerACL        Operation = "SetContainerACL"
	OpListBlobs              Operation = "ListBlobs"
	OpPutBlob                Operation = "PutBlob"
	OpPutPage                Operation = "PutPage"
	OpClearPage              Operation = "ClearPage"
	OpGetPageRanges          Operation = "GetPageRanges"
	OpGetBlob                Operation = "GetBlob"
	OpGetBlobProperties      Operation = "GetBlobProperties"
	OpSnapshotBlob           Operation = "SnapshotBlob"
	OpDeleteBlob             Operation = "DeleteBlob"
	OpCopyBlob               Operation = "CopyBlob"
	OpIncrementalCopy        Operation = "IncrementalCopyBlob"
	OpAbortCopy              Operation = "AbortCopyBlob"
)

// target is what a request addresses, from its path-style URL.
type target struct {
	account   string
	container string
	blob      string
	snapshot  string // ?snapshot=, "" for the base blob
}

// path is "container/blob", the form faults match on.
func (t target) path() string {
	if t.blob == "" {
		return t.container
	}
	return t.container + "/" + t.blob
}

// parseTarget splits /<account>/<container>/<blob...>.
func parseTarget(u *url.URL) target {
	parts := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 3)
	t := target{account: parts[0], snapshot: u.Query().Get("snapshot")}
	if len(parts) > 1 {
		t.container = parts[1]
	}
	if len(parts) > 2 {
		t.blob = parts[2]
	}
	return t
}

// classify names the operation of r, or returns false when the emulator does
// not implement it.
func classify(r *http.Request, t target) (Operation, bool) {
	q := r.URL.Query()
	comp := q.Get("comp")
	if t.container == "" {
		return "", false
	}
	if t.blob == "" {
		if q.Get("restype") != "container" {
			return "", false
		}
		switch {
		case r.Method == http.MethodPut && comp == "":
			return OpCreateContainer, true
		case r.Method == http.MethodPut && comp == "acl":
			return OpSetContainerACL, true
		case r.Method == http.MethodDelete && comp == "":
			return OpDeleteContainer, true
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && comp == "":
			return OpGetContainerProperties, true
		case r.Method == http.MethodGet && comp == "list":
			return OpListBlobs, true
		}
		return "", false
	}
	switch r.Method {
	case http.MethodPut:
		switch comp {
		case "":
			if r.Header.Get("x-ms-copy-source") != "" {
				return OpCopyBlob, true
			}
			return OpPutBlob, true
		case "page":
			if strings.EqualFold(r.Header.Get("x-ms-page-write"), "clear") {
				return OpClearPage, true
			}
			return OpPutPage, true
		case "snapshot":
			return OpSnapshotBlob, true
		case "incrementalcopy":
			return OpIncrementalCopy, true
		case "copy":
			return OpAbortCopy, true
		}
	case http.MethodGet:
		switch comp {
		case "":
			return OpGetBlob, true
		case "pagelist":
			return OpGetPageRanges, true
		}
	case http.MethodHead:
		if comp == "" {
			return OpGetBlobProperties, true
		}
	case http.MethodDelete:
		if comp == "" {
			return OpDeleteBlob, true
		}
	}
	return "", false
}
