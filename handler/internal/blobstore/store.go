package blobstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// Options configure a Store.
type Options struct {
	// Credentials authenticate to every account.
	Credentials Credentials
	// Client is passed to every azblob client (retries, transport).
	Client azcore.ClientOptions
	// Hosts are the storage endpoints requests may go to; every other
	// request is refused before a credential is attached, and no SAS is
	// minted for a source elsewhere. The zero value admits
	// https://<account>.blob.core.windows.net only.
	Hosts copyjob.StorageHosts
	// Clock times SAS validity; defaults to the wall clock.
	Clock clock.Clock
	// SASLifetime is how long a minted source SAS stays valid; it must
	// cover the whole copy.
	SASLifetime time.Duration
}

// Store is the storage adapter.
type Store struct {
	opts Options
	keys *delegationKeys
}

// New returns a Store.
func New(opts Options) (*Store, error) {
	if opts.Credentials.Token == nil && len(opts.Credentials.SharedKeys) == 0 {
		return nil, errors.New("blobstore: no credentials: give a token credential or Shared Keys")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.SASLifetime <= 0 {
		return nil, errors.New("blobstore: SASLifetime must be positive")
	}
	s := &Store{opts: guarded(opts)}
	s.keys = newDelegationKeys(opts.Clock, s.serviceClient)
	return s, nil
}

func (s *Store) pageBlob(ref copyjob.BlobRef) (*pageblob.Client, error) {
	o := &pageblob.ClientOptions{ClientOptions: s.opts.Client}
	if s.opts.Credentials.Token != nil {
		return pageblob.NewClient(ref.URL, s.opts.Credentials.Token, o)
	}
	key, err := s.opts.Credentials.sharedKey(ref.Account)
	if err != nil {
		return nil, err
	}
	return pageblob.NewClientWithSharedKeyCredential(ref.URL, key, o)
}

func (s *Store) container(ref copyjob.BlobRef) (*container.Client, error) {
	o := &container.ClientOptions{ClientOptions: s.opts.Client}
	if s.opts.Credentials.Token != nil {
		return container.NewClient(ref.ContainerURL(), s.opts.Credentials.Token, o)
	}
	key, err := s.opts.Credentials.sharedKey(ref.Account)
	if err != nil {
		return nil, err
	}
	return container.NewClientWithSharedKeyCredential(ref.ContainerURL(), key, o)
}

// Destination reads the destination's copy properties. An absent blob or
// container is a Destination with Exists false, not an error.
func (s *Store) Destination(ctx context.Context, dest copyjob.BlobRef) (copyjob.Destination, error) {
	client, err := s.pageBlob(dest)
	if err != nil {
		return copyjob.Destination{}, err
	}
	props, err := client.GetProperties(ctx, nil)
	if isNotFound(err) {
		return copyjob.Destination{}, nil
	}
	if err != nil {
		return copyjob.Destination{}, fmt.Errorf("get destination properties: %w", err)
	}
	d := copyjob.Destination{
		Exists:              true,
		Incremental:         deref(props.IsIncrementalCopy),
		CopyID:              deref(props.CopyID),
		StatusDescription:   deref(props.CopyStatusDescription),
		DestinationSnapshot: deref(props.DestinationSnapshot),
		CompletedAt:         deref(props.CopyCompletionTime),
	}
	if props.CopyStatus != nil {
		d.CopyStatus = copyjob.CopyStatus(*props.CopyStatus)
	}
	if props.CopyProgress != nil {
		d.Progress, _ = copyjob.ParseProgress(*props.CopyProgress)
	}
	if props.CopySource != nil {
		d.CopySource, d.CopySourceSnapshot = splitCopySource(*props.CopySource)
	}
	return d, nil
}

// splitCopySource separates x-ms-copy-source into the base blob URL and its
// snapshot; the URL may still hold a SAS, which is dropped here.
func splitCopySource(raw string) (string, time.Time) {
	ref, query, err := copyjob.ParseBlobURL(raw)
	if err != nil {
		return "", time.Time{}
	}
	snapshot, _ := copyjob.ParseSnapshot(query.Get("snapshot"))
	return ref.URL, snapshot
}

// History lists the destination's snapshots with the source snapshot each
// was copied from.
func (s *Store) History(ctx context.Context, dest copyjob.BlobRef) (copyjob.History, error) {
	client, err := s.container(dest)
	if err != nil {
		return nil, err
	}
	pager := client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:  to.Ptr(dest.Name),
		Include: container.ListBlobsInclude{Snapshots: true, Copy: true},
	})
	var h copyjob.History
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if isNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list destination snapshots: %w", err)
		}
		for _, item := range page.Segment.BlobItems {
			if deref(item.Name) != dest.Name || deref(item.Snapshot) == "" || item.Properties == nil || item.Properties.CopySource == nil {
				continue
			}
			source, snap := splitCopySource(*item.Properties.CopySource)
			if snap.IsZero() {
				continue
			}
			copied := copyjob.CopiedSnapshot{SourceBlobURL: source, SourceSnapshot: snap, DestinationSnapshot: *item.Snapshot, CopyID: deref(item.Properties.CopyID)}
			if item.Properties.CopyProgress != nil {
				copied.Progress, _ = copyjob.ParseProgress(*item.Properties.CopyProgress)
			}
			h = append(h, copied)
		}
	}
	return h, nil
}

// SourceSnapshots lists the snapshot times of the source blob.
func (s *Store) SourceSnapshots(ctx context.Context, source copyjob.BlobRef) ([]time.Time, error) {
	client, err := s.container(source)
	if err != nil {
		return nil, err
	}
	pager := client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:  to.Ptr(source.Name),
		Include: container.ListBlobsInclude{Snapshots: true},
	})
	var snapshots []time.Time
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if isForbidden(err) {
			return nil, fmt.Errorf("%w: %w", copyjob.ErrListForbidden, err)
		}
		if err != nil {
			return nil, fmt.Errorf("list source snapshots: %w", err)
		}
		for _, item := range page.Segment.BlobItems {
			if deref(item.Name) != source.Name || deref(item.Snapshot) == "" {
				continue
			}
			if t, err := copyjob.ParseSnapshot(*item.Snapshot); err == nil {
				snapshots = append(snapshots, t)
			}
		}
	}
	return snapshots, nil
}

// StartCopy starts an incremental copy of source at snapshot into dest and
// returns the copy id. destinationAbsent adds If-None-Match: * so that a
// concurrent creator of the destination is noticed instead of overwritten.
// Failures are *copyjob.StartError.
func (s *Store) StartCopy(ctx context.Context, dest, source copyjob.BlobRef, snapshot string, sas copyjob.SAS, destinationAbsent bool) (string, error) {
	client, err := s.pageBlob(dest)
	if err != nil {
		return "", &copyjob.StartError{Kind: copyjob.StartErrOther, Err: err}
	}
	var opts *pageblob.CopyIncrementalOptions
	if destinationAbsent {
		opts = &pageblob.CopyIncrementalOptions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}
	}
	// The SDK's prevSnapshot argument is the snapshot to copy now: it sets
	// the snapshot= parameter of the copy source.
	resp, err := client.StartCopyIncremental(ctx, source.URL+"?"+sas.Encode(), snapshot, opts)
	if err != nil {
		return "", classifyStart(err)
	}
	return deref(resp.CopyID), nil
}

// AbortCopy aborts a pending copy. Nothing to abort is not an error.
func (s *Store) AbortCopy(ctx context.Context, dest copyjob.BlobRef, copyID string) error {
	client, err := s.pageBlob(dest)
	if err != nil {
		return err
	}
	_, err = client.AbortCopyFromURL(ctx, copyID, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.NoPendingCopyOperation) {
		return fmt.Errorf("abort copy: %w", err)
	}
	return nil
}
