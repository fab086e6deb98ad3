package storageemu

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// operationNames are the REST documentation's names of the implemented
// operations, for messages and the README's table.
var operationNames = map[Operation]string{
	OpCreateContainer:        "Create Container",
	OpDeleteContainer:        "Delete Container",
	OpGetContainerProperties: "Get Container Properties",
	OpSetContainerACL:        "Set Container ACL",
	OpListBlobs:              "List Blobs",
	OpPutBlob:                "Put Blob",
	OpPutPage:                "Put Page",
	OpClearPage:              "Put Page (clear)",
	OpGetPageRanges:          "Get Page Ranges",
	OpGetBlob:                "Get Blob",
	OpGetBlobProperties:      "Get Blob Properties",
	OpSnapshotBlob:           "Snapshot Blob",
	OpDeleteBlob:             "Delete Blob",
	OpCopyBlob:               "Copy Blob",
	OpIncrementalCopy:        "Incremental Copy Blob",
	OpAbortCopy:              "Abort Copy Blob",
}

// name is op's documentation name; unimplemented operations are named so
// already.
func (op Operation) name() string {
	if n, ok := operationNames[op]; ok {
		return n
	}
	return string(op)
}

// unsupportedFeature is a request header or query parameter whose meaning
// the emulator does not implement: ignoring it would answer a different
// question than the one asked.
type unsupportedFeature struct {
	// header is a request header, or "?name" for a query parameter.
	header string
	// ops limits the rule to these operations; nil means every one.
	ops []Operation
	// value, when set, limits the rule to that value (case-insensitive).
	value string
	// what names the feature in the answer.
	what string
}

var containerOps = []Operation{OpCreateContainer, OpDeleteContainer, OpGetContainerProperties, OpSetContainerACL, OpListBlobs}

// unsupportedFeatures lists every header and parameter that changes an
// implemented operation's meaning in a way the emulator does not implement.
var unsupportedFeatures = []unsupportedFeature{
	{header: "x-ms-lease-id", what: "leases (x-ms-lease-id)"},
	{header: "x-ms-if-tags", what: "blob index tag conditions (x-ms-if-tags)"},
	{header: "x-ms-tags", what: "blob index tags (x-ms-tags)"},
	{header: "x-ms-encryption-key", what: "customer-provided keys (x-ms-encryption-key)"},
	{header: "x-ms-encryption-scope", what: "encryption scopes (x-ms-encryption-scope)"},
	{header: "x-ms-default-encryption-scope", what: "encryption scopes (x-ms-default-encryption-scope)"},
	{header: "x-ms-immutability-policy-until-date", what: "immutability policies (x-ms-immutability-policy-until-date)"},
	{header: "x-ms-legal-hold", what: "legal holds (x-ms-legal-hold)"},
	{header: "x-ms-access-tier", what: "access tiers (x-ms-access-tier)"},
	{header: "x-ms-content-crc64", what: "CRC64 transfer checks (x-ms-content-crc64)"},
	{header: "x-ms-range-get-content-crc64", what: "CRC64 of ranges (x-ms-range-get-content-crc64)"},
	{header: "x-ms-blob-type", ops: []Operation{OpPutBlob}, value: "AppendBlob", what: "append blobs (x-ms-blob-type: AppendBlob)"},
	{header: "x-ms-source-if-match", what: "source conditions (x-ms-source-if-match)"},
	{header: "x-ms-source-if-none-match", what: "source conditions (x-ms-source-if-none-match)"},
	{header: "x-ms-source-if-modified-since", what: "source conditions (x-ms-source-if-modified-since)"},
	{header: "x-ms-source-if-unmodified-since", what: "source conditions (x-ms-source-if-unmodified-since)"},
	{header: "x-ms-source-if-tags", what: "source conditions (x-ms-source-if-tags)"},
	{header: "x-ms-copy-source-authorization", what: "OAuth copy-source authorization (x-ms-copy-source-authorization)"},
	{header: "x-ms-rehydrate-priority", what: "archive rehydration (x-ms-rehydrate-priority)"},
	{header: "x-ms-seal-blob", what: "append blobs (x-ms-seal-blob)"},
	{header: "x-ms-meta-", ops: []Operation{OpIncrementalCopy}, what: "metadata on Incremental Copy Blob (x-ms-meta-*)"},
	{header: "x-ms-previous-snapshot-url", what: "diffs against another blob's snapshot (x-ms-previous-snapshot-url)"},
	{header: "?prevsnapshoturl", what: "diffs against another blob's snapshot (prevsnapshoturl)"},
	{header: "?versionid", what: "blob versions (versionid)"},
	{header: "?deletetype", what: "permanent delete of soft-deleted snapshots (deletetype)"},
	{header: "?delimiter", ops: []Operation{OpListBlobs}, what: "hierarchical listing (delimiter)"},
	{header: "If-Match", ops: containerOps, what: "conditional requests on containers (If-Match)"},
	{header: "If-None-Match", ops: containerOps, what: "conditional requests on containers (If-None-Match)"},
	{header: "If-Modified-Since", ops: containerOps, what: "conditional requests on containers (If-Modified-Since)"},
	{header: "If-Unmodified-Since", ops: containerOps, what: "conditional requests on containers (If-Unmodified-Since)"},
}

// maxACLBody bounds a Set Container ACL body: at most five access policies.
const maxACLBody = 64 << 10

// unsupported decides, before anything is authorized, read or changed,
// whether the emulator implements the request: the operation and every
// header or parameter that changes its meaning. It answers 501
// APINotImplemented naming what is not implemented, or nil.
func unsupported(r *http.Request, op Operation) *storageError {
	if _, ok := handlers[op]; !ok {
		return notImplemented(op.name())
	}
	q := r.URL.Query()
	for _, f := range unsupportedFeatures {
		if f.ops != nil && !slices.Contains(f.ops, op) {
			continue
		}
		if present(r, q, f) {
			return notImplemented(f.what + " in " + op.name())
		}
	}
	return nil
}

func present(r *http.Request, q map[string][]string, f unsupportedFeature) bool {
	if name, ok := strings.CutPrefix(f.header, "?"); ok {
		_, has := q[name]
		return has
	}
	for k, vs := range r.Header {
		name := strings.ToLower(k)
		match := name == strings.ToLower(f.header) || (strings.HasSuffix(f.header, "-") && strings.HasPrefix(name, f.header))
		if match && (f.value == "" || slices.ContainsFunc(vs, func(v string) bool { return strings.EqualFold(v, f.value) })) {
			return true
		}
	}
	return false
}

// unsupportedBody refuses a Set Container ACL that carries stored access
// policies, which the emulator does not keep.
func unsupportedBody(op Operation, body []byte) *storageError {
	if op != OpSetContainerACL || len(body) == 0 {
		return nil
	}
	var acl struct {
		Identifiers []struct{} `xml:"SignedIdentifier"`
	}
	if err := xml.Unmarshal(body, &acl); err != nil {
		return errInvalidXML
	}
	if len(acl.Identifiers) > 0 {
		return notImplemented("stored access policies in Set Container ACL")
	}
	return nil
}

func notImplemented(what string) *storageError {
	return newError(http.StatusNotImplemented, "APINotImplemented",
		fmt.Sprintf("%s is not implemented by the snapcopy storage emulator.", what))
}
