package copyjob

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// DefaultEndpointSuffix is the storage endpoint suffix of Azure's public
// cloud; sovereign clouds and Azure Stack have their own.
const DefaultEndpointSuffix = "core.windows.net"

// ErrNotStorageHost is returned for a URL whose host is not a storage
// endpoint: snapcopy sends its credentials (a token, a Shared Key
// signature, a SAS) to storage endpoints only.
var ErrNotStorageHost = errors.New("not a storage endpoint")

// StorageHosts says which URLs address a storage account. The zero value
// admits https://<account>.blob.core.windows.net only.
type StorageHosts struct {
	// EndpointSuffix: a blob URL is https://<account>.blob.<EndpointSuffix>.
	// Empty means DefaultEndpointSuffix.
	EndpointSuffix string
	// Emulator is the blob endpoint of a local emulator (the BlobEndpoint
	// of the storage connection string), such as
	// http://127.0.0.1:10000/devstoreaccount1. URLs on its scheme and
	// host:port may use http and an IP or loopback host; no other URL may.
	// Empty: none.
	Emulator string
}

// CheckURL reports why raw must not receive credentials; nil means it
// addresses a storage account. Errors wrap ErrNotStorageHost.
func (h StorageHosts) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrNotStorageHost)
	}
	return h.Check(u)
}

// Check is CheckURL for a parsed URL.
func (h StorageHosts) Check(u *url.URL) error {
	if u.User != nil {
		return fmt.Errorf("%w: the URL carries user info", ErrNotStorageHost)
	}
	if h.underEmulator(u) {
		return nil
	}
	suffix := h.EndpointSuffix
	if suffix == "" {
		suffix = DefaultEndpointSuffix
	}
	host := strings.ToLower(u.Hostname())
	account, rest, _ := strings.Cut(host, ".")
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("%w: %s://%s is not https (plain http only for the configured emulator endpoint)", ErrNotStorageHost, u.Scheme, u.Host)
	case rest != "blob."+strings.ToLower(suffix) || !accountName.MatchString(account):
		return fmt.Errorf("%w: host %q is not <account>.blob.%s (an account name is 3 to 24 lowercase letters and digits)", ErrNotStorageHost, u.Host, suffix)
	case u.Port() != "" && u.Port() != "443":
		return fmt.Errorf("%w: port %s: storage endpoints listen on 443", ErrNotStorageHost, u.Port())
	}
	return nil
}

// underEmulator reports whether u addresses the emulator endpoint: the
// same scheme and host:port. Its path is not compared: every account of an
// emulator lives behind the same listener, so a credential sent there
// stays with the emulator.
func (h StorageHosts) underEmulator(u *url.URL) bool {
	if h.Emulator == "" {
		return false
	}
	e, err := url.Parse(h.Emulator)
	return err == nil && e.Host != "" && strings.EqualFold(e.Scheme, u.Scheme) && strings.EqualFold(e.Host, u.Host)
}

// accountName matches a storage account name: 3 to 24 lowercase letters
// and digits.
var accountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
