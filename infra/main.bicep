// Collections Guard on Azure or on Azure operated by 21Vianet: `azd up` provisions all of this.
// One module per resource, one per role assignment; the app's identity is used for every
// connection, and no key or connection string with a key is stored anywhere.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; resource names derive from it.')
param environmentName string

@minLength(1)
@description('Region of every resource, e.g. eastasia (global) or chinanorth3 (21Vianet).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@allowed([
  'FlexConsumption'
  'Dedicated'
])
@description('Flex Consumption where offered; Dedicated (App Service plan) elsewhere, e.g. in Azure operated by 21Vianet.')
param hostingPlan string = 'FlexConsumption'

@description('SKU of the Dedicated plan.')
param dedicatedSkuName string = 'P0v3'

@allowed([
  'china'
  'global'
])
@description('Which Partner Center: operated by 21Vianet (china) or global.')
param partnerCenterCloud string = 'china'

@allowed([
  'dry_run'
  'enforce'
])
@description('dry_run decides and records everything but changes nothing at Partner Center.')
param enforcementMode string = 'dry_run'

@description('Partner tenant id of the Partner Center app registration.')
param partnerCenterTenantId string = ''

@description('Application (client) id of the Partner Center app registration.')
param partnerCenterClientId string = ''

@description('App-only token scope for Partner Center; empty lets the app use its default for PARTNER_CENTER_CLOUD.')
param partnerCenterScope string = ''

@description('Entra authority for Partner Center tokens; empty lets the app use its default for PARTNER_CENTER_CLOUD.')
param partnerCenterAuthority string = ''

@minValue(1)
@maxValue(490)
@description('Partner Center calls per minute for the whole app (all instances together); Partner Center allows 500 per tenant.')
param partnerCenterFleetRpm int = 450

@secure()
@description('Partner Center app client secret; stored in Key Vault. Empty keeps the secret already there.')
param partnerCenterClientSecret string = ''

@description('Verify fraud-report signatures (HMAC) with the secrets kept in Key Vault.')
param fraudReportSignaturesEnabled bool = false

@secure()
@description('JSON object sender -> HMAC secret; stored in Key Vault. Empty keeps the secret already there.')
param fraudReportSigningSecrets string = ''

@description('Sign notice webhooks with the key kept in Key Vault (without it, webhook notices are not sent).')
param noticeWebhooksEnabled bool = false

@secure()
@description('Notice webhook signing key; stored in Key Vault. Empty keeps the secret already there.')
param noticeWebhookSecret string = ''

@description('The partner\'s SMTP relay for e-mail notices (host name); empty = no e-mail notices.')
param smtpHost string = ''

@description('SMTP relay port (587 with STARTTLS, 465 with TLS).')
param smtpPort int = 587

@allowed(['starttls', 'tls', 'none'])
@description('How the connection to the SMTP relay is secured.')
param smtpSecurity string = 'starttls'

@description('SMTP login user; empty = no authentication.')
param smtpUser string = ''

@description('Sender address of e-mail notices.')
param smtpFrom string = ''

@secure()
@description('SMTP password; stored in Key Vault. Empty keeps the secret already there.')
param smtpPassword string = ''

@description('Poll Partner Center fraud events (global cloud only; needs App+User auth).')
param fraudEventsEnabled bool = false

// --- Sign-in: App Service Authentication with Microsoft Entra ID (docs/deploy.md) ---

@description('Application (client) id of the sign-in app registration (infra/scripts/register-sign-in-app.sh). Empty: no sign-in is configured and only named keys (if on) reach the app.')
param signInClientId string = ''

@description('Entra tenant of the sign-in app registration; empty: the tenant of this deployment.')
param signInTenantId string = ''

@description('OpenID issuer override; empty: <this cloud\'s login endpoint><tenant>/v2.0.')
param signInOpenIdIssuer string = ''

@description('Use a client secret for browser sign-in (code flow), kept in Key Vault; false: ID tokens only.')
param signInClientSecretEnabled bool = false

@secure()
@description('Client secret of the sign-in app registration; stored in Key Vault. Empty keeps the secret already there.')
param signInClientSecret string = ''

@description('Switch on the named-key fallback (FUNCTION_KEYS_ENABLED); off unless asked for.')
param functionKeysEnabled bool = false

@secure()
@description('FUNCTION_KEYS JSON (key name -> sha256 and roles; python -m tools.function_keys); stored in Key Vault. Empty keeps the secret already there.')
param functionKeys string = ''

@description('When the collections scan runs (6-field NCRONTAB, UTC).')
param collectionsScanSchedule string = '0 0 * * * *'

@description('When the drift sweep runs (6-field NCRONTAB, UTC).')
param driftSweepSchedule string = '0 30 2 * * *'

@description('When the fraud events poll runs (6-field NCRONTAB, UTC).')
param fraudEventsSchedule string = '0 */15 * * * *'

@description('When the exposure refresh reads Partner Center billing (6-field NCRONTAB, UTC).')
param exposureSchedule string = '0 20 */2 * * *'

@description('Billing currencies whose unbilled line items the exposure refresh reads (comma-separated).')
param exposureCurrencies string = 'CNY'

@description('Deliveries before a queue message is dead-lettered (Service Bus and the app agree).')
param maxDeliveryCount int = 5

@description('Email address for alerts; empty creates the action group without receivers.')
param alertEmail string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var reconcileQueueName = 'reconcile'
var noticeQueueName = 'notices'
var partnerCenterSecretName = 'partner-center-client-secret'
var signingSecretsName = 'fraud-report-signing-secrets'
var noticeWebhookSecretName = 'notice-webhook-secret'
var functionKeysSecretName = 'function-keys'
var signInSecretName = 'sign-in-client-secret'
// App Service Authentication reads the sign-in secret from this app setting.
var signInSecretSetting = 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'
var signInTenant = empty(signInTenantId) ? tenant().tenantId : signInTenantId
// environment() gives this cloud's Entra sign-in endpoint (global or operated by 21Vianet).
var signInIssuer = empty(signInOpenIdIssuer) ? '${environment().authentication.loginEndpoint}${signInTenant}/v2.0' : signInOpenIdIssuer
var smtpPasswordSecretName = 'smtp-password'
var functionAppName = 'func-cg-${resourceToken}'
var isFlexConsumption = hostingPlan == 'FlexConsumption'
var deploymentContainerName = 'app-package-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-cg-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stcg${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: 'sb-cg-${resourceToken}'
    location: location
    tags: tags
    queueNames: [
      reconcileQueueName
      noticeQueueName
    ]
    maxDeliveryCount: maxDeliveryCount
    duplicateDetectionWindow: 'PT10M'
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-cg-${resourceToken}'
    location: location
    tags: tags
    partnerCenterSecretName: partnerCenterSecretName
    partnerCenterClientSecret: partnerCenterClientSecret
    signingSecretsName: signingSecretsName
    fraudReportSigningSecrets: fraudReportSigningSecrets
    noticeWebhookSecretName: noticeWebhookSecretName
    noticeWebhookSecret: noticeWebhookSecret
    functionKeysSecretName: functionKeysSecretName
    functionKeys: functionKeys
    signInSecretName: signInSecretName
    signInClientSecret: signInClientSecret
    smtpPasswordSecretName: smtpPasswordSecretName
    smtpPassword: smtpPassword
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-cg-${resourceToken}'
    applicationInsightsName: 'appi-cg-${resourceToken}'
    location: location
    tags: tags
  }
}

module plan 'modules/plan.bicep' = {
  name: 'plan'
  scope: rg
  params: {
    name: 'plan-cg-${resourceToken}'
    location: location
    tags: tags
    hostingPlan: hostingPlan
    dedicatedSkuName: dedicatedSkuName
  }
}

// --- Role assignments: the identity gets exactly these, each on one resource ---

module tableDataContributor 'modules/roles/storage-table-data-contributor.bicep' = {
  name: 'role-table-data-contributor'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    principalId: identity.outputs.principalId
  }
}

module queueDataContributor 'modules/roles/storage-queue-data-contributor.bicep' = {
  name: 'role-queue-data-contributor'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    principalId: identity.outputs.principalId
  }
}

module blobDataOwner 'modules/roles/storage-blob-data-owner.bicep' = {
  name: 'role-blob-data-owner'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    principalId: identity.outputs.principalId
  }
}

module serviceBusSender 'modules/roles/servicebus-data-sender.bicep' = {
  name: 'role-servicebus-data-sender'
  scope: rg
  params: {
    namespaceName: serviceBus.outputs.name
    principalId: identity.outputs.principalId
  }
}

module serviceBusReceiver 'modules/roles/servicebus-data-receiver.bicep' = {
  name: 'role-servicebus-data-receiver'
  scope: rg
  params: {
    namespaceName: serviceBus.outputs.name
    principalId: identity.outputs.principalId
  }
}

module secretsUser 'modules/roles/keyvault-secrets-user.bicep' = {
  name: 'role-keyvault-secrets-user'
  scope: rg
  params: {
    vaultName: keyVault.outputs.name
    principalId: identity.outputs.principalId
  }
}

module metricsPublisher 'modules/roles/monitoring-metrics-publisher.bicep' = {
  name: 'role-monitoring-metrics-publisher'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
  }
}

// --- App settings: every setting the code reads (shared/settings.py), and nothing else ---
// tests/infra/test_app_settings.py compares these names with shared.settings.setting_names().

// How the app and the Functions host connect: the identity, never a key.
var connectionSettings = {
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  SERVICEBUS__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  SERVICEBUS__credential: 'managedidentity'
  SERVICEBUS__clientId: identity.outputs.clientId
  AZURE_CLIENT_ID: identity.outputs.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.outputs.clientId}'
}

// What the app does; the values are the code's defaults unless a parameter says otherwise.
var behaviourSettings = {
  QUEUE_TRANSPORT: 'servicebus'
  TABLE_PREFIX: ''
  RECONCILE_QUEUE_NAME: reconcileQueueName
  NOTICE_QUEUE_NAME: noticeQueueName
  COLLECTIONS_SCAN_SCHEDULE: collectionsScanSchedule
  DRIFT_SWEEP_SCHEDULE: driftSweepSchedule
  ENFORCEMENT_MODE: enforcementMode
  POLICY_FILE: 'policy/collections.toml'
  TRIAGE_FILE: 'policy/triage.toml'
  MAX_REQUEST_BYTES: '1048576'
  PARTNER_CENTER_CLOUD: partnerCenterCloud
  PARTNER_CENTER_AUTH: 'client_secret'
  PARTNER_CENTER_TENANT_ID: partnerCenterTenantId
  PARTNER_CENTER_CLIENT_ID: partnerCenterClientId
  PARTNER_CENTER_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.partnerCenterSecretUri})'
  PARTNER_CENTER_TIMEOUT_SECONDS: '30'
  PARTNER_CENTER_RETRIES: '2'
  PARTNER_CENTER_AUTHORITY: partnerCenterAuthority
  // One budget for the whole fleet (every instance, worker process and function), kept in Table
  // storage: the calls of all instances together stay under Partner Center's 500 per minute.
  PARTNER_CENTER_MAX_RPM: string(partnerCenterFleetRpm)
  PARTNER_CENTER_PACING: 'shared'
  RECONCILE_MAX_DELIVERIES: string(maxDeliveryCount)
  RECONCILE_MAX_ATTEMPTS: '20'
  RECONCILE_CONFLICT_DELAY_SECONDS: '120'
  RECONCILE_RETRY_BASE_SECONDS: '5'
  RECONCILE_LEASE_SECONDS: '300'
  RECONCILE_SETTLE_MINUTES: '60'
  DRIFT_LOOKBACK_DAYS: '7'
  DRIFT_ALERT_FAILURES: '10'
  FRAUD_REPORT_SIGNING_SECRETS: fraudReportSignaturesEnabled ? '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.signingSecretsUri})' : ''
  NOTICE_WEBHOOK_SECRET: noticeWebhooksEnabled ? '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.noticeWebhookSecretUri})' : ''
  SCAN_MAX_CUSTOMERS: '5000'
  SMTP_HOST: smtpHost
  SMTP_PORT: string(smtpPort)
  SMTP_SECURITY: smtpSecurity
  SMTP_USER: smtpUser
  SMTP_PASSWORD: empty(smtpUser) ? '' : '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.smtpPasswordUri})'
  SMTP_FROM: smtpFrom
  SMTP_TIMEOUT_SECONDS: '30'
  FRAUD_ESCALATE_AFTER_REPORTS: '3'
  FRAUD_ESCALATE_WINDOW_HOURS: '24'
  FRAUD_EVENTS_ENABLED: fraudEventsEnabled ? 'true' : 'false'
  FRAUD_EVENTS_SCHEDULE: fraudEventsSchedule
  EXPOSURE_ENABLED: 'true'
  EXPOSURE_SCHEDULE: exposureSchedule
  EXPOSURE_CURRENCIES: exposureCurrencies
  EXPOSURE_READ_USAGE: 'true'
  EXPOSURE_PAGE_SIZE: '2000'
  EXPOSURE_LISTINGS_PER_RUN: '1000'
  EXPOSURE_LISTING_MAX_AGE_HOURS: '24'
  EXPOSURE_RUN_SECONDS: '480'
  FUNCTION_KEYS_ENABLED: functionKeysEnabled ? 'true' : 'false'
  FUNCTION_KEYS: functionKeysEnabled ? '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.functionKeysUri})' : ''
}

// Only when given: the app derives the scope from PARTNER_CENTER_CLOUD otherwise.
var optionalSettings = empty(partnerCenterScope) ? {} : {
  PARTNER_CENTER_SCOPE: partnerCenterScope
}

// Read by App Service Authentication (not by the code): the sign-in app's secret, when it has one.
var signInSettings = signInClientSecretEnabled ? {
  MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.signInSecretUri})'
} : {}

// Flex Consumption sets the runtime in functionAppConfig and refuses these; a Dedicated plan needs them.
var dedicatedPlanSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    hostingPlan: hostingPlan
    planId: plan.outputs.id
    identityId: identity.outputs.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appSettings: union(connectionSettings, behaviourSettings, optionalSettings, signInSettings, isFlexConsumption ? {} : dedicatedPlanSettings)
  }
  // The app must not start before its identity may read what it needs.
  dependsOn: [
    tableDataContributor
    queueDataContributor
    blobDataOwner
    serviceBusSender
    serviceBusReceiver
    secretsUser
    metricsPublisher
  ]
}

// Sign-in with Entra ID: App Service Authentication on the function app (both hosting plans).
module signIn 'modules/authsettings.bicep' = if (!empty(signInClientId)) {
  name: 'sign-in'
  scope: rg
  params: {
    functionAppName: functionApp.outputs.name
    clientId: signInClientId
    openIdIssuer: signInIssuer
    clientSecretSettingName: signInClientSecretEnabled ? signInSecretSetting : ''
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: 'cg-${resourceToken}'
    location: location
    tags: tags
    alertEmail: alertEmail
    serviceBusNamespaceId: serviceBus.outputs.id
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    scanFunctionName: 'collections_scan'
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_HOST string = functionApp.outputs.defaultHostName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output SIGN_IN_ISSUER string = signInIssuer
output SIGN_IN_REDIRECT_URI string = 'https://${functionApp.outputs.defaultHostName}/.auth/login/aad/callback'
