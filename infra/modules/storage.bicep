// Storage for the app's tables, the Functions host (keys, timer leases, Storage queues) and,
// on Flex Consumption, the deployment package. Shared keys are off: only Entra ID tokens work.
@description('Storage account name (3-24 lower-case letters and digits).')
param name string
param location string
param tags object = {}

@description('Blob container that holds the deployment package (Flex Consumption).')
param deploymentContainerName string

resource account 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Endpoints from the target cloud's storage suffix, never one cloud's literal domain.
var suffix = environment().suffixes.storage

output id string = account.id
output name string = account.name
output blobEndpoint string = 'https://${account.name}.blob.${suffix}'
output queueEndpoint string = 'https://${account.name}.queue.${suffix}'
output tableEndpoint string = 'https://${account.name}.table.${suffix}'
output deploymentContainerUrl string = 'https://${account.name}.blob.${suffix}/${deploymentContainerName}'
