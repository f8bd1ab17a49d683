// The Functions app: Linux, Python 3.11, running as the user-assigned identity. Its app
// settings are built in main.bicep (one list, checked against shared/settings.py by a test).
param name string
param location string
param tags object = {}

@allowed([
  'FlexConsumption'
  'Dedicated'
])
param hostingPlan string
param planId string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Blob container URL of the deployment package (Flex Consumption).')
param deploymentContainerUrl string

@description('Every app setting; nothing is added here.')
param appSettings object

param pythonVersion string = '3.11'

@description('Most instances Flex Consumption may scale out to.')
param maximumInstanceCount int = 40

var isFlex = hostingPlan == 'FlexConsumption'

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: planId
    httpsOnly: true
    // Key Vault references resolve with the app's identity, not a system-assigned one.
    keyVaultReferenceIdentity: identityId
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    } : null
    siteConfig: isFlex ? {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    } : {
      linuxFxVersion: 'Python|${pythonVersion}'
      alwaysOn: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
