// Key Vault for the app's secrets (the Partner Center app secret, the fraud-report signing
// secrets, the notice webhook signing key, the SMTP relay password, the named keys' hashes, the sign-in app's secret). RBAC authorization, soft delete and purge protection. A secret is written only when
// a value is given, so a later provision without the value keeps the secret that is there.
param name string
param location string
param tags object = {}

@description('Secret name of the Partner Center app client secret.')
param partnerCenterSecretName string

@secure()
@description('Partner Center app client secret; empty keeps the current secret.')
param partnerCenterClientSecret string = ''

@description('Secret name of the fraud-report signing secrets (JSON: sender -> secret).')
param signingSecretsName string

@secure()
@description('Fraud-report signing secrets as JSON; empty keeps the current secret.')
param fraudReportSigningSecrets string = ''

@description('Secret name of the notice webhook signing key.')
param noticeWebhookSecretName string

@secure()
@description('Notice webhook signing key (HMAC-SHA256); empty keeps the current secret.')
param noticeWebhookSecret string = ''

@description('Secret name of the named keys of the key fallback (JSON: name -> sha256 and roles).')
param functionKeysSecretName string

@secure()
@description('FUNCTION_KEYS as JSON (hashes and roles only); empty keeps the current secret.')
param functionKeys string = ''

@description('Secret name of the sign-in app registration\'s client secret (App Service Authentication).')
param signInSecretName string

@secure()
@description('Client secret of the sign-in app registration; empty keeps the current secret.')
param signInClientSecret string = ''

@description('Secret name of the SMTP relay password.')
param smtpPasswordSecretName string

@secure()
@description('SMTP relay password; empty keeps the current secret.')
param smtpPassword string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource partnerCenterSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(partnerCenterClientSecret)) {
  parent: vault
  name: partnerCenterSecretName
  properties: {
    value: partnerCenterClientSecret
    contentType: 'Partner Center app client secret'
  }
}

resource signingSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(fraudReportSigningSecrets)) {
  parent: vault
  name: signingSecretsName
  properties: {
    value: fraudReportSigningSecrets
    contentType: 'application/json'
  }
}

resource webhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(noticeWebhookSecret)) {
  parent: vault
  name: noticeWebhookSecretName
  properties: {
    value: noticeWebhookSecret
    contentType: 'Notice webhook signing key'
  }
}

resource functionKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(functionKeys)) {
  parent: vault
  name: functionKeysSecretName
  properties: {
    value: functionKeys
    contentType: 'application/json'
  }
}

resource signInSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(signInClientSecret)) {
  parent: vault
  name: signInSecretName
  properties: {
    value: signInClientSecret
    contentType: 'Sign-in app client secret'
  }
}

resource smtpSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(smtpPassword)) {
  parent: vault
  name: smtpPasswordSecretName
  properties: {
    value: smtpPassword
    contentType: 'SMTP relay password'
  }
}

output id string = vault.id
output name string = vault.name
// Versionless URIs (vaultUri carries the cloud's vault suffix): the app picks up a rotated
// secret without a new deployment.
output partnerCenterSecretUri string = '${vault.properties.vaultUri}secrets/${partnerCenterSecretName}'
output signingSecretsUri string = '${vault.properties.vaultUri}secrets/${signingSecretsName}'
output noticeWebhookSecretUri string = '${vault.properties.vaultUri}secrets/${noticeWebhookSecretName}'
output functionKeysUri string = '${vault.properties.vaultUri}secrets/${functionKeysSecretName}'
output signInSecretUri string = '${vault.properties.vaultUri}secrets/${signInSecretName}'
output smtpPasswordUri string = '${vault.properties.vaultUri}secrets/${smtpPasswordSecretName}'
