// Grants the app's identity Monitoring Metrics Publisher on the Application Insights component only: send telemetry with Entra ID (local auth is off).
@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Principal (object) id of the managed identity.')
param principalId string

var roleDefinitionId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

resource target 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(target.id, principalId, roleDefinitionId)
  scope: target
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
  }
}
