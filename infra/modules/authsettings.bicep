// App Service Authentication ("Easy Auth") with Microsoft Entra ID on the function app: the
// platform signs people in, validates client-credential tokens of machines, strips any
// X-MS-CLIENT-PRINCIPAL header that arrives from outside and passes the verified caller to the
// app in that header. Unauthenticated requests are let through (AllowAnonymous): the app
// answers them itself (health, the OpenAPI document and the policy are public; everything else
// answers 401 or 403 problem+json naming what is missing), see docs/security.md.
param functionAppName string

@description('Application (client) id of the sign-in app registration (its app roles are the app\'s roles).')
param clientId string

@description('OpenID Connect issuer: <cloud login endpoint><tenant id>/v2.0, from main.bicep.')
param openIdIssuer string

@description('App setting holding the sign-in app\'s client secret (a Key Vault reference); empty: ID tokens only.')
param clientSecretSettingName string = ''

resource site 'Microsoft.Web/sites@2023-12-01' existing = {
  name: functionAppName
}

resource auth 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
      routes: {
        apiPrefix: '/.auth'
      }
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
      preserveUrlFragmentsForLogins: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: empty(clientSecretSettingName) ? {
          openIdIssuer: openIdIssuer
          clientId: clientId
        } : {
          openIdIssuer: openIdIssuer
          clientId: clientId
          clientSecretSettingName: clientSecretSettingName
        }
        validation: {
          // People's ID tokens carry the client id; machines ask for api://<client id>/.default.
          allowedAudiences: [
            'api://${clientId}'
            clientId
          ]
        }
      }
    }
  }
}

output issuer string = openIdIssuer
