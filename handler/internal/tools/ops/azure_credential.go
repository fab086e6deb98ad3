package ops

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// azureCredential is DefaultAzureCredential: an operator's `az login` on a
// workstation, the managed identity in Azure (AZURE_CLIENT_ID picks a
// user-assigned one), or a service principal from the environment.
func azureCredential() (azcore.TokenCredential, error) {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azure credentials: %w", err)
	}
	return cred, nil
}
