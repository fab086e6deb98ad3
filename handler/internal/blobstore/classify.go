package blobstore

import (
	"errors"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Codes missing from bloberror v1.8.3, compared by value.
const (
	// codeEarlierVersionFixed is the corrected spelling some SDKs expect;
	// the service historically returned the misspelled one and now returns
	// IncrementalCopyOfEarlierSnapshotNotAllowed. All three mean the same.
	codeEarlierVersionFixed           bloberror.Code = "IncrementalCopyOfEarlierVersionSnapshotNotAllowed"
	codeSourceCannotBeIncrementalCopy bloberror.Code = "CopySourceCannotBeIncrementalCopyBlob"
	codePreviousSnapshotDoesNotExist  bloberror.Code = "IncrementalCopyBlobPreviousSnapshotDoesNotExist"
)

// startErrorKinds maps service error codes to what they mean for a start.
var startErrorKinds = map[bloberror.Code]copyjob.StartErrorKind{
	bloberror.PendingCopyOperation: copyjob.StartErrPending,

	//lint:ignore SA1019 the service still returns the misspelled code
	bloberror.IncrementalCopyOfEralierVersionSnapshotNotAllowed: copyjob.StartErrEarlier,
	bloberror.IncrementalCopyOfEarlierSnapshotNotAllowed:        copyjob.StartErrEarlier,
	codeEarlierVersionFixed:                                     copyjob.StartErrEarlier,

	bloberror.IncrementalCopyBlobMismatch:              copyjob.StartErrConflict,
	bloberror.InvalidBlobType:                          copyjob.StartErrConflict,
	bloberror.OperationNotAllowedOnIncrementalCopyBlob: copyjob.StartErrConflict,

	bloberror.BlobOverwritten:                       copyjob.StartErrChainBroken,
	bloberror.PreviousSnapshotNotFound:              copyjob.StartErrChainBroken,
	bloberror.PreviousSnapshotOperationNotSupported: copyjob.StartErrChainBroken,
	codePreviousSnapshotDoesNotExist:                copyjob.StartErrChainBroken,

	bloberror.IncrementalCopySourceMustBeSnapshot: copyjob.StartErrInvalidSource,
	bloberror.InvalidSourceBlobURL:                copyjob.StartErrInvalidSource,
	bloberror.InvalidSourceBlobType:               copyjob.StartErrInvalidSource,
	bloberror.CopyAcrossAccountsNotSupported:      copyjob.StartErrInvalidSource,
	codeSourceCannotBeIncrementalCopy:             copyjob.StartErrInvalidSource,

	// A race with another writer of the destination: read it again.
	bloberror.ConditionNotMet:   copyjob.StartErrTransient,
	bloberror.BlobAlreadyExists: copyjob.StartErrTransient,
	// One snapshot per copy: the rate limit passes, the count limit does not.
	bloberror.SnapshotOperationRateExceeded: copyjob.StartErrTransient,
	// Role assignments take minutes to propagate.
	bloberror.AuthorizationPermissionMismatch: copyjob.StartErrTransient,
}

// classifyStart turns an Incremental Copy Blob error into a StartError.
func classifyStart(err error) *copyjob.StartError {
	se := &copyjob.StartError{Kind: copyjob.StartErrTransient, Err: err}
	if errors.Is(err, copyjob.ErrNotStorageHost) {
		// Refused here, before any request: no retry can change that.
		se.Kind = copyjob.StartErrOther
		return se
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		// No response at all: network trouble or a timeout.
		return se
	}
	se.Code, se.Status = re.ErrorCode, re.StatusCode
	if kind, ok := startErrorKinds[bloberror.Code(re.ErrorCode)]; ok {
		se.Kind = kind
		return se
	}
	switch {
	case re.ErrorCode == string(bloberror.CannotVerifyCopySource):
		// 500 means "could not verify within the time"; 403/404 mean the
		// SAS or the source is bad.
		se.Kind = copyjob.StartErrSourceDenied
		if re.StatusCode >= 500 {
			se.Kind = copyjob.StartErrTransient
		}
	case isTransientStatus(re.StatusCode):
		se.Kind = copyjob.StartErrTransient
	default:
		se.Kind = copyjob.StartErrOther
	}
	return se
}

// isTransientStatus lists the statuses azcore itself retries.
func isTransientStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isNotFound reports a 404 for the blob or its container.
func isNotFound(err error) bool {
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return true
	}
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// isForbidden reports a refusal of the caller's identity or signature.
func isForbidden(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusForbidden
}
