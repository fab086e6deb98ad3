package storageemu

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors of the Go API (configuration and serving), as opposed to
// the storage errors the emulator answers over HTTP.
var (
	// ErrInvalid wraps every problem Options.Validate reports.
	ErrInvalid = errors.New("storageemu: invalid options")
	// ErrNotLoopback is returned by Serve for an address outside 127.0.0.0/8 or ::1.
	ErrNotLoopback = errors.New("storageemu: refusing to listen on a non-loopback address")
)

// storageError is an error answered to the client: status, x-ms-error-code
// and the XML body Azure sends.
type storageError struct {
	status  int
	code    string
	message string
}

func (e *storageError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

func newError(status int, code, message string) *storageError {
	return &storageError{status: status, code: code, message: message}
}

// The service's answers, named after their error codes. Messages follow the
// REST documentation's "user message" column.
var (
	errAuthenticationFailed = newError(http.StatusForbidden, "AuthenticationFailed",
		"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
	errPermissionMismatch = newError(http.StatusForbidden, "AuthorizationPermissionMismatch",
		"This request is not authorized to perform this operation using this permission.")
	errProtocolMismatch = newError(http.StatusForbidden, "AuthorizationProtocolMismatch",
		"This request is not authorized to perform this operation using this protocol.")
	errAnonymousNotAllowed = newError(http.StatusNotFound, "ResourceNotFound",
		"The specified resource does not exist.")
	errAccountNotFound = newError(http.StatusNotFound, "ResourceNotFound",
		"The specified resource does not exist.")
	errContainerNotFound = newError(http.StatusNotFound, "ContainerNotFound",
		"The specified container does not exist.")
	errContainerExists = newError(http.StatusConflict, "ContainerAlreadyExists",
		"The specified container already exists.")
	errInvalidResourceName = newError(http.StatusBadRequest, "InvalidResourceName",
		"The specified resource name contains invalid characters.")
	errBlobNotFound = newError(http.StatusNotFound, "BlobNotFound",
		"The specified blob does not exist.")
	errInvalidBlobType = newError(http.StatusConflict, "InvalidBlobType",
		"The blob type is invalid for this operation.")
	errSnapshotsPresent = newError(http.StatusConflict, "SnapshotsPresent",
		"This operation is not permitted because the blob has snapshots.")
	errDeleteSnapshotsOnSnapshot = newError(http.StatusBadRequest, "InvalidOperation",
		"x-ms-delete-snapshots is not allowed on a request that names a snapshot.")
	errPageBlobSizeUnaligned = newError(http.StatusBadRequest, "InvalidOperation",
		"x-ms-blob-content-length must be aligned to a 512-byte boundary.")
	errPageContentUnaligned = newError(http.StatusBadRequest, "InvalidOperation",
		"content-length must be aligned to a 512-byte boundary.")
	errClearWithBody = newError(http.StatusBadRequest, "InvalidOperation",
		"content-length must be 0 for clear pages operation.")
	errInvalidPageRange = newError(http.StatusRequestedRangeNotSatisfiable, "InvalidPageRange",
		"The page range specified is invalid.")
	errInvalidRange = newError(http.StatusRequestedRangeNotSatisfiable, "InvalidRange",
		"The range specified is invalid for the current size of the resource.")
	errRequestBodyTooLarge = newError(http.StatusRequestEntityTooLarge, "RequestBodyTooLarge",
		"The request body is too large and exceeds the maximum permissible limit.")
	errBlockBlobTooLarge    = notImplemented("Put Blob of a block blob larger than 4 MiB")
	errMissingContentLength = newError(http.StatusLengthRequired, "MissingContentLengthHeader",
		"The Content-Length header was not specified.")
	errIncompleteBody = newError(http.StatusBadRequest, "InvalidInput",
		"The request body ended before the length given in Content-Length.")
	errBlobTooLarge = newError(http.StatusBadRequest, "InvalidHeaderValue",
		"x-ms-blob-content-length exceeds the maximum page blob size of 8 TiB.")
	errInvalidHeaderValue = newError(http.StatusBadRequest, "InvalidHeaderValue",
		"The value for one of the HTTP headers is not in the correct format.")
	errMissingHeader = newError(http.StatusBadRequest, "MissingRequiredHeader",
		"An HTTP header that's mandatory for this request is not specified.")
	errInvalidQueryValue = newError(http.StatusBadRequest, "InvalidQueryParameterValue",
		"Value for one of the query parameters specified in the request URI is invalid.")
	errInvalidMD5 = newError(http.StatusBadRequest, "InvalidMd5",
		"The MD5 value specified in the request is invalid. The MD5 value must be 128 bits and Base64-encoded.")
	errMD5Mismatch = newError(http.StatusBadRequest, "Md5Mismatch",
		"The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
	errSequenceNumberCondition = newError(http.StatusPreconditionFailed, "SequenceNumberConditionNotMet",
		"The sequence number condition specified was not met.")
	errInvalidMetadata = newError(http.StatusBadRequest, "InvalidMetadata",
		"The metadata specified is invalid. It has characters that are not permitted.")
	errContainerNameLength = newError(http.StatusBadRequest, "OutOfRangeInput",
		"The specified resource name length is not within the permissible limits.")
	errUnsatisfiableCondition = newError(http.StatusBadRequest, "UnsatisfiableCondition",
		"The request includes an unsatisfiable condition for this operation.")
	errRangeMD5 = newError(http.StatusBadRequest, "InvalidHeaderValue",
		"x-ms-range-get-content-md5 needs a range of at most 4 MiB.")
	errInvalidXML = newError(http.StatusBadRequest, "InvalidXmlDocument",
		"XML specified is not syntactically valid.")
	errConditionNotMet = newError(http.StatusPreconditionFailed, "ConditionNotMet",
		"The condition specified using HTTP conditional header(s) is not met.")
	errBlobOverwritten = newError(http.StatusConflict, "BlobOverwritten",
		"The blob has been recreated since the previous snapshot was taken.")
	errPreviousSnapshotNotFound = newError(http.StatusConflict, "PreviousSnapshotNotFound",
		"The previous snapshot is not found.")
	errNotAllowedOnIncrementalCopy = newError(http.StatusConflict, "OperationNotAllowedOnIncrementalCopyBlob",
		"The specified operation is not allowed on an incremental copy blob.")
	errSourceMustBeSnapshot = newError(http.StatusConflict, "IncrementalCopySourceMustBeSnapshot",
		"The source for incremental copy request must be a snapshot.")
	errInvalidSourceURL = newError(http.StatusConflict, "InvalidSourceBlobUrl",
		"The source url for incremental copy request must be valid Azure Storage blob URL.")
	errCannotVerifySource = newError(http.StatusForbidden, "CannotVerifyCopySource",
		"Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
	errCopySourceNotFound = newError(http.StatusNotFound, "CannotVerifyCopySource",
		"The specified resource does not exist.")
	errCopySourceIncremental = newError(http.StatusConflict, "CopySourceCannotBeIncrementalCopyBlob",
		"The copy source cannot be an incremental copy blob; copy one of its snapshots.")
	errInvalidSourceBlobType = newError(http.StatusConflict, "InvalidSourceBlobType",
		"The source blob type is invalid for this operation.")
	errIncrementalCopyMismatch = newError(http.StatusConflict, "IncrementalCopyBlobMismatch",
		"The specified source blob is different than the copy source of the existing incremental copy blob.")
	errPendingCopy = newError(http.StatusConflict, "PendingCopyOperation",
		"There is currently a pending copy operation.")
	errNoPendingCopy = newError(http.StatusConflict, "NoPendingCopyOperation",
		"There is currently no pending copy operation.")
	errCopyIDMismatch = newError(http.StatusConflict, "CopyIdMismatch",
		"The specified copy ID did not match the copy ID for the pending copy operation.")
)

// earlierSnapshotError answers an incremental copy of a snapshot that is not
// newer than the last one copied, under the configured spelling.
func earlierSnapshotError(code string) *storageError {
	return newError(http.StatusConflict, code,
		"The specified snapshot is earlier than the last snapshot copied into the incremental copy blob.")
}

// errorBody is the XML document Azure sends with an error.
type errorBody struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

// writeError answers err; HEAD responses carry the code in the header only.
func writeError(w http.ResponseWriter, r *http.Request, requestID string, err *storageError) {
	h := w.Header()
	h.Set("x-ms-error-code", err.code)
	if r.Method == http.MethodHead {
		w.WriteHeader(err.status)
		return
	}
	body, _ := xml.Marshal(errorBody{Code: err.code, Message: err.message + "\nRequestId:" + requestID})
	h.Set("Content-Type", "application/xml")
	w.WriteHeader(err.status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
