package storageemu

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// DevAccountName and DevAccountKey are the well-known development account
// that Azurite and the Azure SDKs' "UseDevelopmentStorage=true" use.
const (
	DevAccountName = "devstoreaccount1"
	DevAccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Spellings of the 409 for an incremental copy of a snapshot that is not newer
// than the last one copied. The service historically answered the misspelled
// code; a newer service version documents the corrected one.
const (
	EarlierSnapshotCodeHistoric = "IncrementalCopyOfEralierVersionSnapshotNotAllowed"
	EarlierSnapshotCodeCurrent  = "IncrementalCopyOfEarlierSnapshotNotAllowed"
)

// DefaultCopyRate is the incremental-copy speed when Options.CopyRate is zero.
const DefaultCopyRate = 64 << 20 // bytes per second

// Account is a storage account the emulator serves.
type Account struct {
	// Name is the account name, the first path segment of every URL.
	Name string
	// Key is the base64 account key that signs Shared Key requests and SAS.
	Key string
}

// Options configures an Emulator. The zero value is usable.
type Options struct {
	// Clock drives snapshot times, SAS validity and copy progress. Default: clock.Real.
	Clock clock.Clock
	// Accounts served besides DevAccountName, which is always present.
	Accounts []Account
	// CopyRate is how many bytes of changed pages an incremental copy moves per
	// second of Clock time. Default: DefaultCopyRate.
	CopyRate int64
	// EarlierSnapshotErrorCode is the code for copying an older-or-equal
	// snapshot. Default: EarlierSnapshotCodeHistoric.
	EarlierSnapshotErrorCode string
	// Sleep waits for injected latency. Default: a timer honouring ctx; tests
	// pass a recorder so that nothing really waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Chaos, when set, injects seeded random faults into every request.
	Chaos *Chaos
	// TrustHTTPAsHTTPS makes SAS tokens restricted to HTTPS (spr=https) usable
	// over the emulator's plain HTTP. Azure and Azurite refuse them.
	TrustHTTPAsHTTPS bool
}

func (o *Options) setDefaults() {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.CopyRate == 0 {
		o.CopyRate = DefaultCopyRate
	}
	if o.EarlierSnapshotErrorCode == "" {
		o.EarlierSnapshotErrorCode = EarlierSnapshotCodeHistoric
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	hasDev := false
	for _, a := range o.Accounts {
		hasDev = hasDev || a.Name == DevAccountName
	}
	if !hasDev {
		o.Accounts = append([]Account{{Name: DevAccountName, Key: DevAccountKey}}, o.Accounts...)
	}
}

// Validate reports every option that cannot work, wrapped in ErrInvalid.
func (o Options) Validate() error {
	var errs []error
	if o.CopyRate < 0 {
		errs = append(errs, fmt.Errorf("CopyRate %d must not be negative", o.CopyRate))
	}
	switch o.EarlierSnapshotErrorCode {
	case "", EarlierSnapshotCodeHistoric, EarlierSnapshotCodeCurrent:
	default:
		errs = append(errs, fmt.Errorf("EarlierSnapshotErrorCode %q must be %q or %q",
			o.EarlierSnapshotErrorCode, EarlierSnapshotCodeHistoric, EarlierSnapshotCodeCurrent))
	}
	seen := map[string]bool{}
	for i, a := range o.Accounts {
		if !validAccountName(a.Name) {
			errs = append(errs, fmt.Errorf("Accounts[%d].Name %q must be 3-24 lowercase letters and digits", i, a.Name))
		}
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("Accounts[%d].Name %q is listed twice", i, a.Name))
		}
		seen[a.Name] = true
		if _, err := base64.StdEncoding.DecodeString(a.Key); err != nil || a.Key == "" {
			errs = append(errs, fmt.Errorf("Accounts[%d].Key of %q must be non-empty base64", i, a.Name))
		}
	}
	if o.Chaos != nil {
		if err := o.Chaos.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

func validAccountName(name string) bool {
	if len(name) < 3 || len(name) > 24 {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
