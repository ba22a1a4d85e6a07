// Data-plane roles on the storage account and Application Insights, each granted for one stated reason. A role
// assignment's description carries that reason, so the portal shows why it exists.

@description('Name of the storage account the storage roles are scoped to.')
param storageAccountName string

@description('Name of the Application Insights component Monitoring Metrics Publisher is scoped to (empty: none).')
param applicationInsightsName string = ''

@description('Principal (object) id that receives the roles.')
param principalId string

@description('Kind of principal: the app identity is a ServicePrincipal, a person signed in to azd is a User.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string

@description('Storage roles to grant: role definition id and the one-line reason.')
param storageRoles { roleDefinitionId: string, reason: string }[]

@description('Reason for Monitoring Metrics Publisher on Application Insights.')
param monitoringReason string = ''

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = if (!empty(applicationInsightsName)) {
  name: applicationInsightsName
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storageAccount.id, principalId, role.roleDefinitionId)
    scope: storageAccount
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.roleDefinitionId)
      principalId: principalId
      principalType: principalType
      description: role.reason
    }
  }
]

resource monitoringAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(applicationInsightsName)) {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: principalType
    description: monitoringReason
  }
}
