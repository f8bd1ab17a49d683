// The hosting plan: Flex Consumption where it is offered; a Dedicated (App Service) Linux plan
// elsewhere, e.g. in Azure operated by 21Vianet. Elastic Premium is not offered here: it keeps
// the app's content on an Azure Files share that needs a storage key, and keys are off.
param name string
param location string
param tags object = {}

@allowed([
  'FlexConsumption'
  'Dedicated'
])
param hostingPlan string

@description('SKU of the Dedicated plan (ignored for Flex Consumption).')
param dedicatedSkuName string = 'P0v3'

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: name
  location: location
  tags: tags
  kind: hostingPlan == 'FlexConsumption' ? 'functionapp' : 'linux'
  sku: hostingPlan == 'FlexConsumption' ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: dedicatedSkuName
  }
  properties: {
    reserved: true
  }
}

output id string = plan.id
