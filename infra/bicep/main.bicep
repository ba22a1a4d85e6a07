// Flow on Azure Functions Flex Consumption, managed identity only: `azd up` provisions this at subscription scope.
// Resources: a resource group; a user-assigned identity; a storage account with shared keys off; an FC1 plan and a
// Linux function app (custom handler); Log Analytics + Application Insights with local auth off; data-plane roles.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment (AZURE_ENV_NAME): names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource (AZURE_LOCATION); it must offer Flex Consumption.')
param location string

@description('Object id of the person running azd (AZURE_PRINCIPAL_ID): gets data access for Storage Explorer. Empty: none.')
param principalId string = ''

@description('Kind of that principal: User for a person, ServicePrincipal for a pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Memory of each function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the function app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Deployments file the app applies at each start, relative to the app root (empty: none).')
param deploymentsFile string = 'samples/flow.yaml'

@description('Name of the resource group (default rg-<environmentName>).')
param resourceGroupName string = ''

var tags = {
  'azd-env-name': environmentName
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var serviceName = 'flow'
var functionAppName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

// Role definition ids (built-in roles, the same in every tenant).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module app 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app'
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: serviceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    deploymentsFile: deploymentsFile
  }
}

module appRoles 'modules/role-assignments.bicep' = {
  scope: rg
  name: 'app-roles'
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageRoles: [
      {
        roleDefinitionId: storageBlobDataOwner
        reason: 'Functions host: blob leases (timer singleton, scale) and reading the deployment package'
      }
      {
        roleDefinitionId: storageQueueDataContributor
        reason: 'Queue triggers and Flow work queues: read, enqueue, delete and poison messages'
      }
      {
        roleDefinitionId: storageTableDataContributor
        reason: 'Flow state: runs, journals, deployments, pools and logs in tables'
      }
    ]
    monitoringReason: 'Send traces, metrics and logs to Application Insights with Entra ID (local auth is off)'
  }
}

module userRoles 'modules/role-assignments.bicep' = if (!empty(principalId)) {
  scope: rg
  name: 'user-roles'
  params: {
    storageAccountName: storage.outputs.name
    principalId: principalId
    principalType: principalType
    storageRoles: [
      {
        roleDefinitionId: storageBlobDataContributor
        reason: 'Deploying user: browse blobs in Storage Explorer with Entra ID'
      }
      {
        roleDefinitionId: storageQueueDataContributor
        reason: 'Deploying user: read and requeue messages in Storage Explorer with Entra ID'
      }
      {
        roleDefinitionId: storageTableDataContributor
        reason: 'Deploying user: read Flow state in Storage Explorer with Entra ID'
      }
    ]
  }
}

@description('Tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Region of the resources.')
output AZURE_LOCATION string = location

@description('Resource group that holds everything (azd down deletes it).')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app (az functionapp keys list -n ...).')
output AZURE_FUNCTION_APP_NAME string = app.outputs.name

@description('Base URL of the Flow API.')
output FLOW_API_URL string = 'https://${app.outputs.defaultHostName}'

@description('Storage account with Flow state (open it in Storage Explorer with Entra ID).')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Blob endpoint of the storage account.')
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint

@description('Queue endpoint of the storage account.')
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint

@description('Table endpoint of the storage account.')
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint

@description('Client id of the app identity.')
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Application Insights component.')
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
