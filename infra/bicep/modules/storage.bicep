// The storage account: Flow's tables and queues, the Functions host's leases, and the deployment package container.
// Shared keys are off: only Entra ID (the app's identity, the deploying user) can read or write.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the account.')
param location string

@description('Tags of the account.')
param tags object

@description('Blob container that holds the function app package (Flex Consumption deploys from it).')
param deploymentContainerName string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

@description('Name of the account.')
output name string = account.name

@description('Resource id of the account (scope of the storage role assignments).')
output id string = account.id

@description('Blob service endpoint, ending with a slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue service endpoint, ending with a slash.')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('Table service endpoint, ending with a slash.')
output tableEndpoint string = account.properties.primaryEndpoints.table
