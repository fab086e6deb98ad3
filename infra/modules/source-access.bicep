// Access to one source container, deployed at the source account's scope
// (its resource group and subscription may differ from the app's).
targetScope = 'resourceGroup'

@description('Source storage account name.')
param accountName string

@description('Container holding the source page blobs and their snapshots.')
param containerName string

@description('Principal id of the function app\'s user-assigned identity.')
param principalId string

@description('Assign the account-level role here: false when an earlier source in the same account already does (one assignment, not two racing ones).')
param assignAccountRole bool

@description('Assign the container-level roles here: false when an earlier source names the same container.')
param assignContainerRoles bool

@description('Let the identity delete snapshots in this container (source pruning).')
param pruneSource bool

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var storageBlobDelegator = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

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
resource readerOnContainer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignContainerRoles) {
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
resource delegatorOnAccount 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignAccountRole) {
  name: guid(account.id, principalId, storageBlobDelegator)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDelegator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Source pruning only: Contributor is the narrowest built-in role with
// blob delete. Its condition lets a delete through only when the request
// names a snapshot, so the identity can never delete a disk (a base blob).
// Contributor also carries write, which the handler never uses on a
// source; a custom read+delete role would avoid it but needs
// roleDefinitions/write from whoever deploys.
resource snapshotDeleterOnContainer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignContainerRoles && pruneSource) {
  name: guid(container.id, principalId, storageBlobDataContributor)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: '((!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete\'})) OR (Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]))'
  }
}
