// The user-assigned managed identity the function app runs as: every data access (storage, deployment package,
// Application Insights) is granted to this identity, so no key or connection string exists anywhere.

@description('Name of the identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags of the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id (the function app and its deployment storage name it).')
output id string = identity.id

@description('Client id (AzureWebJobsStorage__clientId and the Application Insights authentication string).')
output clientId string = identity.properties.clientId

@description('Principal (object) id (role assignments).')
output principalId string = identity.properties.principalId

@description('Name of the identity.')
output name string = identity.name
