package copyjob

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// SnapshotLayout is how Azure Storage writes snapshot times (7 fractional
// digits, UTC). Parsed times are written back in this layout so that equal
// snapshots always have equal strings.
const SnapshotLayout = "2006-01-02T15:04:05.0000000Z"

// ParseSnapshot parses a snapshot time such as 2026-11-24T10:00:00.1234567Z.
func ParseSnapshot(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return time.Time{}, fmt.Errorf("%q is not a snapshot time like 2026-11-24T10:00:00.1234567Z", s)
	}
	return t.UTC(), nil
}

// FormatSnapshot writes t in SnapshotLayout.
func FormatSnapshot(t time.Time) string { return t.UTC().Format(SnapshotLayout) }

// BlobRef names a blob by its base URL, without query.
type BlobRef struct {
	// URL is scheme://host[:port]/[account/]container/blob, no query.
	URL string
	// Account, Container and Name are the parts of URL. Account comes from
	// the host (account.blob.core.windows.net) or, for path-style emulator
	// URLs (an IP or localhost host), from the first path segment.
	Account, Container, Name string
}

// ParseBlobURL parses a blob URL and splits off its query, which the caller
// interprets (snapshot, SAS).
func ParseBlobURL(raw string) (BlobRef, url.Values, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return BlobRef{}, nil, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return BlobRef{}, nil, fmt.Errorf("scheme %q: a blob URL is https (or http for local emulators)", u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return BlobRef{}, nil, fmt.Errorf("not a blob URL: needs a host and no user info or fragment")
	}
	if strings.ContainsAny(u.Path, "?#") {
		return BlobRef{}, nil, fmt.Errorf("blob name contains an escaped ? or #, which snapcopy does not accept (it would smuggle a query into the name)")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return BlobRef{}, nil, fmt.Errorf("malformed query: %w", err)
	}
	path := strings.TrimPrefix(u.Path, "/")
	host := u.Hostname()
	ref := BlobRef{}
	if pathStyle(host) {
		account, rest, ok := strings.Cut(path, "/")
		if !ok || account == "" {
			return BlobRef{}, nil, fmt.Errorf("path-style blob URL needs /account/container/blob")
		}
		ref.Account, path = account, rest
	} else {
		ref.Account, _, _ = strings.Cut(host, ".")
	}
	container, name, ok := strings.Cut(path, "/")
	if !ok || container == "" || name == "" || strings.HasSuffix(name, "/") {
		return BlobRef{}, nil, fmt.Errorf("blob URL needs a container and a blob name")
	}
	ref.Container, ref.Name = container, name
	base := url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: u.Path, RawPath: u.RawPath}
	ref.URL = base.String()
	return ref, query, nil
}

// pathStyle reports whether host addresses an emulator, which puts the
// account name in the path.
func pathStyle(host string) bool {
	return host == "localhost" || net.ParseIP(host) != nil
}

// ContainerURL is the blob's container URL, no trailing slash.
func (b BlobRef) ContainerURL() string {
	return strings.TrimSuffix(b.URL, "/"+escapePath(b.Name))
}

// AccountURL is the blob service endpoint of the blob's account, with a
// trailing slash (path-style emulator URLs include the account).
func (b BlobRef) AccountURL() string {
	u, err := url.Parse(b.URL)
	if err != nil {
		return ""
	}
	if pathStyle(u.Hostname()) {
		return u.Scheme + "://" + u.Host + "/" + b.Account + "/"
	}
	return u.Scheme + "://" + u.Host + "/"
}

func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// Under reports whether the blob lies under prefix, an account or container
// URL, compared on whole path segments (…/disks does not cover …/disks2).
func (b BlobRef) Under(prefix string) bool {
	p, err := url.Parse(prefix)
	if err != nil {
		return false
	}
	u, err := url.Parse(b.URL)
	if err != nil {
		return false
	}
	if !strings.EqualFold(p.Scheme, u.Scheme) || !strings.EqualFold(p.Host, u.Host) {
		return false
	}
	pp := strings.Trim(p.Path, "/")
	return pp == "" || u.Path == "/"+pp || strings.HasPrefix(u.Path, "/"+pp+"/")
}
