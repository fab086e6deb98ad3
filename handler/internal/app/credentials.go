package app

import (
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/snapcopy/snapcopy/handler/internal/blobstore"
)

// Credentials connect to Service Bus and storage: with a connection string
// when one is given (key-based namespaces, local stand-ins), otherwise with
// an Azure token credential, built the first time one is needed and shared.
type Credentials struct {
	// ClientID selects a user-assigned managed identity. Empty means
	// DefaultAzureCredential: the managed identity in Azure, a developer's
	// or operator's login elsewhere.
	ClientID string

	once  sync.Once
	token azcore.TokenCredential
	err   error
}

// Token is the Azure token credential.
func (c *Credentials) Token() (azcore.TokenCredential, error) {
	c.once.Do(func() {
		if c.ClientID != "" {
			c.token, c.err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(c.ClientID)})
		} else {
			c.token, c.err = azidentity.NewDefaultAzureCredential(nil)
		}
		if c.err != nil {
			c.err = fmt.Errorf("azure credentials: %w", c.err)
		}
	})
	return c.token, c.err
}

// ServiceBusClient connects with connectionString when set, otherwise to
// namespace (a fully qualified name) with the token credential.
func (c *Credentials) ServiceBusClient(connectionString, namespace string, opts *azservicebus.ClientOptions) (*azservicebus.Client, error) {
	if connectionString != "" {
		return azservicebus.NewClientFromConnectionString(connectionString, opts)
	}
	token, err := c.Token()
	if err != nil {
		return nil, err
	}
	return azservicebus.NewClient(namespace, token, opts)
}

// Storage authenticates with the Shared Key of connectionString when set
// (local emulators), otherwise with the token credential.
func (c *Credentials) Storage(connectionString string) (blobstore.Credentials, error) {
	if connectionString != "" {
		key, err := blobstore.SharedKeyFromConnectionString(connectionString)
		if err != nil {
			return blobstore.Credentials{}, err
		}
		return blobstore.Credentials{SharedKeys: map[string]*blob.SharedKeyCredential{key.AccountName(): key}}, nil
	}
	token, err := c.Token()
	return blobstore.Credentials{Token: token}, err
}
