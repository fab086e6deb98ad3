package ops

import (
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// storageAuth is how the commands authenticate to storage: the Shared Key
// of a connection string (local emulator) or Azure credentials.
type storageAuth struct {
	sharedKey *blob.SharedKeyCredential
	token     azcore.TokenCredential
	// hosts are where the credentials may go, as in the handler.
	hosts copyjob.StorageHosts
}

// clientOptions keep an operator's command responsive: a few short retries
// instead of the SDK's minute-long backoff.
var clientOptions = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second}}

// newStorageAuth uses connectionString when set, Azure credentials
// otherwise; endpointSuffix is the cloud's (empty: the public cloud's).
func newStorageAuth(connectionString, endpointSuffix string) (storageAuth, error) {
	hosts := config.StorageHostsFor(connectionString, endpointSuffix)
	if connectionString == "" {
		token, err := azureCredential()
		return storageAuth{token: token, hosts: hosts}, err
	}
	key, err := blobstore.SharedKeyFromConnectionString(connectionString)
	if err != nil {
		return storageAuth{}, fmt.Errorf("storage connection: %w", err)
	}
	return storageAuth{sharedKey: key, hosts: hosts}, nil
}

// store is the handler's own storage adapter over these credentials.
func (a storageAuth) store(clk clock.Clock) (*blobstore.Store, error) {
	creds := blobstore.Credentials{Token: a.token}
	if a.sharedKey != nil {
		creds = blobstore.Credentials{SharedKeys: map[string]*blob.SharedKeyCredential{a.sharedKey.AccountName(): a.sharedKey}}
	}
	// The SAS lifetime is required by the Store but unused: these commands
	// only read and snapshot, they never mint a SAS.
	return blobstore.New(blobstore.Options{Credentials: creds, Clock: clk, SASLifetime: config.Defaults().SASLifetime, Client: clientOptions, Hosts: a.hosts})
}

// blobClient is a plain azblob client for ref, for what the Store does not
// do (taking a snapshot).
func (a storageAuth) blobClient(ref copyjob.BlobRef) (*blob.Client, error) {
	if err := a.hosts.CheckURL(ref.URL); err != nil {
		return nil, err
	}
	opts := &blob.ClientOptions{ClientOptions: clientOptions}
	if a.sharedKey == nil {
		return blob.NewClient(ref.URL, a.token, opts)
	}
	if a.sharedKey.AccountName() != ref.Account {
		return nil, fmt.Errorf("the storage connection string is for account %q, the blob is in %q", a.sharedKey.AccountName(), ref.Account)
	}
	return blob.NewClientWithSharedKeyCredential(ref.URL, a.sharedKey, opts)
}
