#!/usr/bin/env bash
# payments-api's FIC trusting the user-assigned identity id-payments, and id-payments attached to
# the compute the workload runs on. Written by ficus for the Azure public cloud.
# id-payments's CLIENT id 0a1b2c3d-0000-4000-8000-00000000c003 is what the workload's SDK selects it by;
# its principal id 0a1b2c3d-0000-4000-8000-00000000b004 is the FIC's subject.
# Written against Azure CLI 2.67. Set the variable of the compute the workload runs on:
#   RESOURCE_GROUP=rg-app WEB_APP=my-app bash attach.sh
set -euo pipefail

IDENTITY_ID='/subscriptions/0a1b2c3d-0000-4000-8000-00000000d006/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments'
RESOURCE_GROUP="${RESOURCE_GROUP:-}"   # of the compute below
if [ -n "${WEB_APP:-}${FUNCTION_APP:-}${CONTAINER_APP:-}${VM:-}${AKS_CLUSTER:-}" ] && [ -z "$RESOURCE_GROUP" ]; then
  echo "set RESOURCE_GROUP to the resource group of the compute" >&2
  exit 2
fi

# The FIC, unless the app has it already.
if ! az ad app federated-credential show --id '0a1b2c3d-0000-4000-8000-00000000a001' --federated-credential-id 'mi-id-payments' >/dev/null 2>&1; then
  az ad app federated-credential create --id '0a1b2c3d-0000-4000-8000-00000000a001' --parameters '{"name":"mi-id-payments","issuer":"https://login.microsoftonline.com/0a1b2c3d-0000-4000-8000-00000000e002/v2.0","subject":"0a1b2c3d-0000-4000-8000-00000000b004","audiences":["api://AzureADTokenExchange"],"description":"Lets the user-assigned managed identity id-payments (resource group rg-identities) sign in as the app payments-api without a secret. Created by ficus."}'
fi

# App Service
if [ -n "${WEB_APP:-}" ]; then
  az webapp identity assign --resource-group "$RESOURCE_GROUP" --name "$WEB_APP" --identities "$IDENTITY_ID"
fi
# Functions
if [ -n "${FUNCTION_APP:-}" ]; then
  az functionapp identity assign --resource-group "$RESOURCE_GROUP" --name "$FUNCTION_APP" --identities "$IDENTITY_ID"
fi
# Container Apps
if [ -n "${CONTAINER_APP:-}" ]; then
  az containerapp identity assign --resource-group "$RESOURCE_GROUP" --name "$CONTAINER_APP" --user-assigned "$IDENTITY_ID"
fi
# Virtual machine
if [ -n "${VM:-}" ]; then
  az vm identity assign --resource-group "$RESOURCE_GROUP" --name "$VM" --identities "$IDENTITY_ID"
fi
# AKS: pods get tokens from the node's IMDS for the identities of their node pool; this makes the
# identity the kubelet identity, usable by every pod on those nodes (the control plane identity must
# be user-assigned and hold Managed Identity Operator on it). Per-pod identity is AKS workload
# identity, a different FIC (issuer: the cluster's OIDC issuer URL, subject
# system:serviceaccount:<namespace>:<service account>) that this script does not write.
# AKS: the kubelet identity
if [ -n "${AKS_CLUSTER:-}" ]; then
  az aks update --resource-group "$RESOURCE_GROUP" --name "$AKS_CLUSTER" --assign-kubelet-identity "$IDENTITY_ID"
fi
