package ops

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// storageRefusal is a storage error response told in one line, with what
// to do, instead of the SDK's multi-line dump; the response stays in the
// chain for errors.As.
type storageRefusal struct {
	msg string
	err error
}

func (e storageRefusal) Error() string { return e.msg }
func (e storageRefusal) Unwrap() error { return e.err }

// explainStorageError turns a refusal of what (e.g. "snapshot <url>") into
// one line that says what to do: role names the role Azure credentials
// need, fix what to check when the blob is missing. Other errors pass
// unchanged.
func explainStorageError(err error, what, role, fix string) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	switch re.StatusCode {
	case http.StatusNotFound:
		return storageRefusal{fmt.Sprintf("%s: %s (HTTP 404): %s", what, re.ErrorCode, fix), err}
	case http.StatusForbidden:
		return storageRefusal{fmt.Sprintf("%s: %s (HTTP 403): with Azure credentials the identity needs %s (role assignments take minutes to apply); with a connection string, check that its key is the account's", what, re.ErrorCode, role), err}
	}
	return err
}
