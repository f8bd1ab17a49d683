#!/usr/bin/env bash
# Give a person, a group or a machine's app one app role of the sign-in app (Microsoft Graph
# appRoleAssignedTo, in the cloud `az cloud set` chose). Not run by any test or pipeline.
#
#   infra/scripts/assign-role.sh <sign-in client id> user  <UPN or object id> Collections.Write
#   infra/scripts/assign-role.sh <sign-in client id> group <group object id>  Collections.Read
#   infra/scripts/assign-role.sh <sign-in client id> app   <machine's client id> Fraud.Report
set -euo pipefail

APP_ID=${1:?usage: assign-role.sh <sign-in client id> user|group|app <who> <role>}
KIND=${2:?user, group or app}
WHO=${3:?the UPN or object id of the user, the group's object id, or the app's client id}
ROLE=${4:?a role of infra/sign-in/app-roles.json, e.g. Collections.Read}

GRAPH=$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)
GRAPH=${GRAPH%/}
RESOURCE=$(az ad sp show --id "$APP_ID" --query id -o tsv)
ROLE_ID=$(az ad sp show --id "$APP_ID" --query "appRoles[?value=='${ROLE}'].id | [0]" -o tsv)
[ -n "$ROLE_ID" ] || { echo "no app role ${ROLE} on ${APP_ID}" >&2; exit 2; }
case "$KIND" in
  user) PRINCIPAL=$(az ad user show --id "$WHO" --query id -o tsv) ;;
  group) PRINCIPAL=$(az ad group show --group "$WHO" --query id -o tsv) ;;
  app) PRINCIPAL=$(az ad sp show --id "$WHO" --query id -o tsv) ;;
  *) echo "KIND must be user, group or app" >&2; exit 2 ;;
esac
az rest --method POST --url "${GRAPH}/v1.0/servicePrincipals/${RESOURCE}/appRoleAssignedTo" \
  --headers "Content-Type=application/json" \
  --body "{\"principalId\": \"${PRINCIPAL}\", \"resourceId\": \"${RESOURCE}\", \"appRoleId\": \"${ROLE_ID}\"}"
echo "${KIND} ${WHO} now holds ${ROLE}"
