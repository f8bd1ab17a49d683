// Grants the app's identity Azure Service Bus Data Sender on the Service Bus namespace only: publish reconcile and notice messages.
@description('Name of the Service Bus namespace.')
param namespaceName string

@description('Principal (object) id of the managed identity.')
param principalId string

var roleDefinitionId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender

resource target 'Microsoft.ServiceBus/namespaces@2021-11-01' existing = {
  name: namespaceName
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
