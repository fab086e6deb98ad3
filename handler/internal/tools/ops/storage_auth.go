package ops

import (
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"github.com/snapcopy/snapcopy/handler/internal/app"
	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// storageAuth is how the commands authenticate to storage: the Shared Key
// of a connection string (local emulator) or Azure credentials.
type storageAuth struct {
	sharedKey *blob.SharedKeyCredential
	token     azcore.TokenCredential
	// hosts are where the credentials may go, as in the handler.
	hosts copyjob.StorageHosts
	// connectionFlag is the command's flag for a storage connection
	// string, named when the credentials do not fit the blob.
	connectionFlag string
}

// clientOptions keep an operator's command responsive: a few short retries
// instead of the SDK's minute-long backoff.
var clientOptions = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second}}

// newStorageAuth uses connectionString when set, Azure credentials
// otherwise; connectionFlag is the flag that sets connectionString and
// endpointSuffix the cloud's (empty: the public cloud's).
func newStorageAuth(connectionString, connectionFlag, endpointSuffix string) (storageAuth, error) {
	creds, err := (&app.Credentials{}).Storage(connectionString)
	if err != nil && connectionString != "" {
		return storageAuth{}, fmt.Errorf("storage connection string (%s or $%s): %w", connectionFlag, config.SettingStorageConnectionString, err)
	}
	a := storageAuth{token: creds.Token, hosts: config.StorageHostsFor(connectionString, endpointSuffix), connectionFlag: connectionFlag}
	for _, key := range creds.SharedKeys { // the connection string's one account
		a.sharedKey = key
	}
	return a, err
}

// fits refuses, with what to do instead, what the SDK would refuse with a
// message that does not say it (a token over plain http, a Shared Key of
// another account), and any host that is not a storage host.
func (a storageAuth) fits(ref copyjob.BlobRef) error {
	howToSet := fmt.Sprintf("give %s (or set %s)", a.connectionFlag, config.SettingStorageConnectionString)
	switch {
	case a.sharedKey == nil && isPlainHTTP(ref.URL):
		return fmt.Errorf("%s is plain http and no storage connection string is set; Azure credentials are only sent over https: for the storage emulator or Azurite %s with the connection string the emulator prints", redact.URL(ref.URL), howToSet)
	case a.sharedKey != nil && a.sharedKey.AccountName() != ref.Account:
		return fmt.Errorf("the storage connection string is for account %q, the blob is in account %q: %s with that account's connection string, or unset both to use Azure credentials", a.sharedKey.AccountName(), ref.Account, howToSet)
	}
	return a.hosts.CheckURL(ref.URL)
}

// store is the handler's own storage adapter over these credentials.
func (a storageAuth) store(clk clock.Clock) (*blobstore.Store, error) {
	creds := blobstore.Credentials{Token: a.token}
	if a.sharedKey != nil {
		creds = blobstore.Credentials{SharedKeys: map[string]*blob.SharedKeyCredential{a.sharedKey.AccountName(): a.sharedKey}}
	}
	// The SAS lifetime is required by the Store but unused: the only SAS
	// these commands mint is restore's, whose lifetime follows -timeout.
	return blobstore.New(blobstore.Options{Credentials: creds, Clock: clk, SASLifetime: config.Defaults().SASLifetime, Client: clientOptions, Hosts: a.hosts})
}

// pageBlobClient is a plain azblob client for ref, for what the Store does
// not do (taking a snapshot, reading pages to verify a restore).
func (a storageAuth) pageBlobClient(ref copyjob.BlobRef) (*pageblob.Client, error) {
	if err := a.fits(ref); err != nil {
		return nil, err
	}
	opts := &pageblob.ClientOptions{ClientOptions: clientOptions}
	if a.sharedKey == nil {
		return pageblob.NewClient(ref.URL, a.token, opts)
	}
	return pageblob.NewClientWithSharedKeyCredential(ref.URL, a.sharedKey, opts)
}
