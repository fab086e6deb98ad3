package blobstore

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// clockSkew back-dates SAS start times so that a service clock slightly
// behind ours accepts them.
const clockSkew = 5 * time.Minute

// SourceSAS mints a read-only SAS for the source base blob (sr=b). Never
// sr=bs: incremental copy adds snapshot= itself and the service rejects a
// snapshot-pinned SAS for it. With a token credential this is a user
// delegation SAS; with a Shared Key, a service SAS.
func (s *Store) SourceSAS(ctx context.Context, source copyjob.BlobRef) (copyjob.SAS, error) {
	return s.readSAS(ctx, source, time.Time{}, s.opts.SASLifetime)
}

// SnapshotSAS mints a read-only SAS for one snapshot of ref (sr=bs), valid
// for lifetime: what Copy Blob needs to read a restore point, and nothing
// more (not the base blob, not another snapshot).
func (s *Store) SnapshotSAS(ctx context.Context, ref copyjob.BlobRef, snapshot string, lifetime time.Duration) (copyjob.SAS, error) {
	t, err := copyjob.ParseSnapshot(snapshot)
	if err != nil {
		return copyjob.SAS{}, err
	}
	return s.readSAS(ctx, ref, t, lifetime)
}

// readSAS signs read access to ref, or to its snapshot when snapshot is
// set, for lifetime.
func (s *Store) readSAS(ctx context.Context, ref copyjob.BlobRef, snapshot time.Time, lifetime time.Duration) (copyjob.SAS, error) {
	// A Shared Key SAS is signed without a request, so the host guard
	// never sees it: refuse here to sign for a blob elsewhere.
	if err := s.opts.Hosts.CheckURL(ref.URL); err != nil {
		return copyjob.SAS{}, fmt.Errorf("mint read SAS: %w", err)
	}
	now := s.opts.Clock.Now()
	values := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     now.Add(-clockSkew),
		ExpiryTime:    now.Add(lifetime),
		Permissions:   to.Ptr(sas.BlobPermissions{Read: true}).String(),
		ContainerName: ref.Container,
		BlobName:      ref.Name,
		// Zero for the base blob (sr=b). UTC: the SDK signs the time as
		// given, and the service compares it with the request's snapshot=.
		SnapshotTime: snapshot.UTC(),
	}
	if u, err := url.Parse(ref.URL); err == nil && u.Scheme == "http" {
		// Local emulators only speak http.
		values.Protocol = sas.ProtocolHTTPSandHTTP
	}
	var qp sas.QueryParameters
	var err error
	if s.opts.Credentials.Token != nil {
		var key *service.UserDelegationCredential
		if key, err = s.keys.get(ctx, ref, values.ExpiryTime); err == nil {
			qp, err = values.SignWithUserDelegation(key)
		}
	} else {
		var key *sas.SharedKeyCredential
		if key, err = s.opts.Credentials.sharedKey(ref.Account); err == nil {
			qp, err = values.SignWithSharedKey(key)
		}
	}
	if err != nil {
		return copyjob.SAS{}, fmt.Errorf("mint read SAS for account %s: %w", ref.Account, err)
	}
	return copyjob.ParseSAS(qp.Encode())
}

func (s *Store) serviceClient(ref copyjob.BlobRef) (*service.Client, error) {
	return service.NewClient(ref.AccountURL(), s.opts.Credentials.Token, &service.ClientOptions{ClientOptions: s.opts.Client})
}

// maxKeyLifetime is the service's limit for a user delegation key, less a
// margin for clock skew.
const maxKeyLifetime = 7*24*time.Hour - time.Hour

// delegationKeys caches one user delegation key per account: a key costs a
// REST call and serves every SAS that expires before it does.
type delegationKeys struct {
	clock  clock.Clock
	client func(copyjob.BlobRef) (*service.Client, error)

	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key    *service.UserDelegationCredential
	expiry time.Time
}

func newDelegationKeys(c clock.Clock, client func(copyjob.BlobRef) (*service.Client, error)) *delegationKeys {
	return &delegationKeys{clock: c, client: client, keys: map[string]cachedKey{}}
}

// get returns a key of ref's account that is valid until at least until.
func (d *delegationKeys) get(ctx context.Context, ref copyjob.BlobRef, until time.Time) (*service.UserDelegationCredential, error) {
	account := ref.AccountURL()
	d.mu.Lock()
	defer d.mu.Unlock()
	if k, ok := d.keys[account]; ok && !k.expiry.Before(until) {
		return k.key, nil
	}
	client, err := d.client(ref)
	if err != nil {
		return nil, err
	}
	now := d.clock.Now()
	expiry := now.Add(maxKeyLifetime)
	if expiry.Before(until) {
		return nil, fmt.Errorf("a SAS valid until %s outlives the longest user delegation key", until.Format(time.RFC3339))
	}
	key, err := client.GetUserDelegationCredential(ctx, service.KeyInfo{
		Start:  to.Ptr(now.Add(-clockSkew).UTC().Format(sas.TimeFormat)),
		Expiry: to.Ptr(expiry.UTC().Format(sas.TimeFormat)),
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("get user delegation key: %w", err)
	}
	d.keys[account] = cachedKey{key: key, expiry: expiry}
	return key, nil
}
