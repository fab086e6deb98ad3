// Package blobstore is the Azure Blob Storage adapter: it reads destination
// properties, starts and aborts incremental copies, lists destination
// snapshots and mints source SAS tokens, all through the real azblob client.
package blobstore

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// Credentials authenticate to storage accounts: with a token credential
// (managed identity in production) or with Shared Keys (local emulators).
type Credentials struct {
	// Token is used when set; it mints user delegation SAS for sources.
	Token azcore.TokenCredential
	// SharedKeys maps account names to keys; it signs service SAS.
	SharedKeys map[string]*blob.SharedKeyCredential
}

// SharedKeyFromConnectionString reads AccountName and AccountKey from a
// storage connection string.
func SharedKeyFromConnectionString(conn string) (*blob.SharedKeyCredential, error) {
	var name, key string
	for _, part := range strings.Split(conn, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(k) {
		case "accountname":
			name = v
		case "accountkey":
			// Keys are base64 and may end in "=": keep everything after
			// the first "=".
			key = strings.TrimPrefix(strings.TrimSpace(part), k+"=")
		}
	}
	if name == "" || key == "" {
		return nil, fmt.Errorf("storage connection string needs AccountName and AccountKey")
	}
	cred, err := blob.NewSharedKeyCredential(name, key)
	if err != nil {
		return nil, fmt.Errorf("storage connection string: account key: %w", err)
	}
	return cred, nil
}

func (c Credentials) sharedKey(account string) (*blob.SharedKeyCredential, error) {
	if cred, ok := c.SharedKeys[account]; ok {
		return cred, nil
	}
	return nil, fmt.Errorf("no Shared Key configured for storage account %q", account)
}
