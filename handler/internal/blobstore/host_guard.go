package blobstore

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// hostGuard refuses a request to anything but a storage endpoint before it
// leaves the pipeline. It runs per call, ahead of the retry policy and of
// the credential policies (bearer token, Shared Key), so a refused request
// never gets a token or a signature, whatever URL the caller passed. The
// source named in x-ms-copy-source carries a SAS the service will send
// there, so it must be a storage endpoint too.
type hostGuard struct {
	hosts copyjob.StorageHosts
}

func (g hostGuard) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	if err := g.hosts.Check(raw.URL); err != nil {
		return nil, fmt.Errorf("blobstore: refusing %s %s://%s: %w", raw.Method, raw.URL.Scheme, raw.URL.Host, err)
	}
	for name, values := range raw.Header {
		// The SDK sets x-ms-* headers by their lowercase names, not in
		// canonical form, so Header.Get would miss them.
		if !strings.EqualFold(name, "x-ms-copy-source") {
			continue
		}
		for _, source := range values {
			if err := g.hosts.CheckURL(source); err != nil {
				return nil, fmt.Errorf("blobstore: refusing a copy from a source that is not a storage endpoint: %w", err)
			}
		}
	}
	return req.Next()
}

// guarded returns client options whose pipeline starts with the host guard.
func guarded(o Options) Options {
	perCall := make([]policy.Policy, 0, len(o.Client.PerCallPolicies)+1)
	perCall = append(perCall, hostGuard{hosts: o.Hosts})
	o.Client.PerCallPolicies = append(perCall, o.Client.PerCallPolicies...)
	return o
}
