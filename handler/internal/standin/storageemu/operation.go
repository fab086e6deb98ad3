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

// classify names the operation of r. Operations the emulator recognises but
// does not implement come back under their REST documentation name (see
// notImplementedOps); requests it cannot place at all get a name saying
// what they look like. Either way they have no handler.
func classify(r *http.Request, t target) Operation {
	q := r.URL.Query()
	comp := q.Get("comp")
	h := r.Header
	switch {
	case t.container == "" && q.Get("restype") == "account":
		return "Get Account Information"
	case t.container == "":
		if op, ok := notImplementedOps["service "+r.Method+" "+comp]; ok {
			return op
		}
		return unknownOperation(r, "the service")
	case t.blob == "" && q.Get("restype") != "container":
		return unknownOperation(r, "a container without restype=container")
	case t.blob == "":
		return classifyContainer(r.Method, comp)
	}
	switch r.Method + " " + comp {
	case "PUT ":
		switch {
		case h.Get("x-ms-copy-source") == "":
			return OpPutBlob
		case strings.EqualFold(h.Get("x-ms-requires-sync"), "true"):
			return opCopyBlobFromURL
		case h.Get("x-ms-blob-type") != "":
			return opPutBlobFromURL
		}
		return OpCopyBlob
	case "PUT page":
		switch {
		case h.Get("x-ms-copy-source") != "":
			return opPutPageFromURL
		case strings.EqualFold(h.Get("x-ms-page-write"), "clear"):
			return OpClearPage
		}
		return OpPutPage
	case "PUT snapshot":
		return OpSnapshotBlob
	case "PUT incrementalcopy":
		return OpIncrementalCopy
	case "PUT copy":
		return OpAbortCopy
	case "GET ":
		return OpGetBlob
	case "GET pagelist":
		return OpGetPageRanges
	case "HEAD ":
		return OpGetBlobProperties
	case "DELETE ":
		return OpDeleteBlob
	}
	if op, ok := notImplementedOps["blob "+r.Method+" "+comp]; ok {
		return op
	}
	return unknownOperation(r, "a blob")
}

func classifyContainer(method, comp string) Operation {
	switch method + " " + comp {
	case "PUT ":
		return OpCreateContainer
	case "PUT acl":
		return OpSetContainerACL
	case "DELETE ":
		return OpDeleteContainer
	case "GET ", "HEAD ":
		return OpGetContainerProperties
	case "GET list":
		return OpListBlobs
	}
	if op, ok := notImplementedOps["container "+method+" "+comp]; ok {
		return op
	}
	return Operation(method + " ?comp=" + comp + " on a container")
}

func unknownOperation(r *http.Request, on string) Operation {
	return Operation(r.Method + " ?" + r.URL.RawQuery + " on " + on)
}

// Operations told apart by their headers that the emulator does not implement.
const (
	opCopyBlobFromURL Operation = "Copy Blob From URL"
	opPutBlobFromURL  Operation = "Put Blob From URL"
	opPutPageFromURL  Operation = "Put Page From URL"
)

// notImplementedOps names the documented operations the emulator does not
// implement, by "level method comp".
var notImplementedOps = map[string]Operation{
	"service GET list":                 "List Containers",
	"service GET properties":           "Get Blob Service Properties",
	"service PUT properties":           "Set Blob Service Properties",
	"service GET stats":                "Get Blob Service Stats",
	"service POST userdelegationkey":   "Get User Delegation Key",
	"service GET blobs":                "Find Blobs by Tags",
	"service POST batch":               "Blob Batch",
	"container PUT metadata":           "Set Container Metadata",
	"container GET acl":                "Get Container ACL",
	"container HEAD acl":               "Get Container ACL",
	"container GET metadata":           "Get Container Metadata",
	"container HEAD metadata":          "Get Container Metadata",
	"container PUT lease":              "Lease Container",
	"container PUT undelete":           "Restore Container",
	"container PUT rename":             "Rename Container",
	"container POST batch":             "Blob Batch",
	"container GET blobs":              "Find Blobs by Tags in Container",
	"blob PUT properties":              "Set Blob Properties",
	"blob PUT metadata":                "Set Blob Metadata",
	"blob GET metadata":                "Get Blob Metadata",
	"blob HEAD metadata":               "Get Blob Metadata",
	"blob PUT lease":                   "Lease Blob",
	"blob PUT block":                   "Put Block",
	"blob PUT blocklist":               "Put Block List",
	"blob GET blocklist":               "Get Block List",
	"blob PUT appendblock":             "Append Block",
	"blob PUT seal":                    "Append Blob Seal",
	"blob PUT tier":                    "Set Blob Tier",
	"blob PUT tags":                    "Set Blob Tags",
	"blob GET tags":                    "Get Blob Tags",
	"blob PUT undelete":                "Undelete Blob",
	"blob PUT expiry":                  "Set Blob Expiry",
	"blob PUT immutabilityPolicies":    "Set Blob Immutability Policy",
	"blob DELETE immutabilityPolicies": "Delete Blob Immutability Policy",
	"blob PUT legalhold":               "Set Blob Legal Hold",
	"blob POST query":                  "Query Blob Contents",
}
