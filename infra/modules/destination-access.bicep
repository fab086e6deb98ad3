// The destination container (created, or referenced when it exists) and,
// on request, its account, plus the one role the handler needs there.
// Deployed at the destination account's resource group.
targetScope = 'resourceGroup'

@description('Destination storage account name.')
param accountName string

@description('Container receiving the incremental-copy blobs.')
param containerName string

@description('Create the account here; false uses an existing one.')
param createAccount bool

@description('Create the container here; false references an existing one without re-declaring it.')
param createContainer bool

@description('Location of a created account (a DR copy usually lives in another region).')
param location string

@description('Redundancy of a created account.')
param skuName string

@description('Principal id of the function app\'s user-assigned identity.')
param principalId string

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource newAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = if (createAccount) {
  name: accountName
  location: location
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    // Incremental copy is not supported on hierarchical-namespace accounts.
    isHnsEnabled: false
    // Managed identity only: no account keys, no anonymous reads.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

// Created only on request: re-declaring an existing container would PUT
// its properties (public access, metadata) over whatever its owner set.
resource newContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (createContainer) {
  name: '${accountName}/default/${containerName}'
  properties: {
    publicAccess: 'None'
  }
  dependsOn: [
    newAccount
  ]
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: containerName
}

// Contributor on the container only: Incremental Copy Blob needs
// blobs/write (+ blobs/add/action for a new destination), Get Blob
// Properties blobs/read, Abort Copy blobs/write, and retention deletes
// destination snapshots (blobs/delete). Nothing outside this container is
// reachable.
resource contributorOnContainer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, storageBlobDataContributor)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
  dependsOn: [
    newContainer
  ]
}

@description('The container URL, for SNAPCOPY_DESTINATION_CONTAINER_URL and SNAPCOPY_ALLOWED_DESTINATIONS.')
output containerUrl string = '${account.properties.primaryEndpoints.blob}${containerName}'
