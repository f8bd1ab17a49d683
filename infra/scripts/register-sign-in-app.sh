#!/usr/bin/env bash
# Register the sign-in app of Collections Guard in Microsoft Entra ID (global, or operated by
# 21Vianet: run `az cloud set --name AzureChinaCloud && az login` first). Not run by any test or
# pipeline: run it once per environment, as a person allowed to register applications.
#
#   infra/scripts/register-sign-in-app.sh "Collections Guard (prod)" <function app host> [--with-secret]
#
# It creates (or updates) the app registration with the app roles of infra/sign-in/app-roles.json,
# the redirect URI of App Service Authentication (https://<host>/.auth/login/aad/callback), ID
# tokens for browser sign-in, the identifier URI api://<client id> (what machines ask a token for:
# api://<client id>/.default), and its enterprise application with "assignment required": only
# the people, groups and apps given a role may sign in. It prints the azd values to set.
set -euo pipefail

NAME=${1:?usage: register-sign-in-app.sh <display name> <function app host> [--with-secret]}
HOST=${2:?the function app host, e.g. func-cg-abc123.azurewebsites.net (azd env get-value AZURE_FUNCTION_APP_HOST)}
WITH_SECRET=${3:-}
ROLES="$(cd "$(dirname "$0")/.." && pwd)/sign-in/app-roles.json"
REDIRECT="https://${HOST}/.auth/login/aad/callback"

APP_ID=$(az ad app list --display-name "$NAME" --query "[0].appId" -o tsv)
if [ -z "$APP_ID" ]; then
  APP_ID=$(az ad app create --display-name "$NAME" --sign-in-audience AzureADMyOrg \
    --web-redirect-uris "$REDIRECT" --enable-id-token-issuance true \
    --app-roles "@${ROLES}" --query appId -o tsv)
  echo "created app registration $NAME ($APP_ID)"
else
  az ad app update --id "$APP_ID" --web-redirect-uris "$REDIRECT" --enable-id-token-issuance true \
    --app-roles "@${ROLES}"
  echo "updated app registration $NAME ($APP_ID)"
fi
az ad app update --id "$APP_ID" --identifier-uris "api://${APP_ID}"

# The enterprise application: assignment required, so nobody without a role signs in.
az ad sp show --id "$APP_ID" >/dev/null 2>&1 || az ad sp create --id "$APP_ID" >/dev/null
az ad sp update --id "$APP_ID" --set appRoleAssignmentRequired=true

TENANT=$(az account show --query tenantId -o tsv)
echo
echo "azd env set SIGN_IN_CLIENT_ID ${APP_ID}"
echo "azd env set SIGN_IN_TENANT_ID ${TENANT}"
if [ "$WITH_SECRET" = "--with-secret" ]; then
  SECRET=$(az ad app credential reset --id "$APP_ID" --display-name "app-service-authentication" \
    --years 1 --append --query password -o tsv)
  echo "azd env set SIGN_IN_CLIENT_SECRET_ENABLED true"
  echo "azd env set SIGN_IN_CLIENT_SECRET '${SECRET}'   # goes to Key Vault, not to app settings"
fi
echo "then: azd provision; give people and apps their roles with infra/scripts/assign-role.sh"
