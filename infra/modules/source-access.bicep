// Read access to one source container, deployed at the source account's
// scope (its resource group and subscription may differ from the app's).
targetScope = 'resourceGroup'

@description('Source storage account name.')
param accountName string

@description('Container holding the source page blobs and their snapshots.')
param containerName string

@description('Principal id of the function app\'s user-assigned identity.')
param principalId string

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var storageBlobDelegator = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: containerName
}

// Reader on the container only: the user-delegation SAS the handler mints
// can grant no more than its identity holds, so the copy service can read
// snapshots in this container and nothing else in the account.
resource readerOnContainer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, storageBlobDataReader)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: principalId
    // Set so a just-created identity is not rejected before it replicates.
    principalType: 'ServicePrincipal'
  }
}

// Delegator at account scope: Get User Delegation Key is an account-level
// (blob service) action, so a container-scoped Reader cannot request the
// key. The role carries no data access of its own.
resource delegatorOnAccount 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageBlobDelegator)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDelegator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

