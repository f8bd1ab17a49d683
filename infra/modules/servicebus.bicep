// Service Bus: the production queue transport (duplicate detection on MessageId, dead-letter
// queue, scheduled messages for back-off). Local (SAS) auth is off: only Entra ID tokens work.
param name string
param location string
param tags object = {}

@description('Queues to create: the reconcile queue and the notice queue.')
param queueNames array

@description('Deliveries before a message is dead-lettered; the app reads the same number.')
param maxDeliveryCount int

@description('How long Service Bus remembers a MessageId to drop duplicates (ISO 8601).')
param duplicateDetectionWindow string = 'PT10M'

resource namespace 'Microsoft.ServiceBus/namespaces@2021-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2021-11-01' = [for queueName in queueNames: {
  parent: namespace
  name: queueName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    lockDuration: 'PT5M'
    defaultMessageTimeToLive: 'P14D'
  }
}]

output id string = namespace.id
output name string = namespace.name
// serviceBusEndpoint is https://<name>.servicebus.<cloud suffix>:443/ in every cloud.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
