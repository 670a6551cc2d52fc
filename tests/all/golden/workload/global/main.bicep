// payments-api's FIC trusting the user-assigned identity id-payments, and id-payments attached to
// the compute the workload runs on. Written by ficus for the Azure public cloud.
// id-payments's CLIENT id 0a1b2c3d-0000-4000-8000-00000000c003 is what the workload's SDK selects it by;
// its principal id 0a1b2c3d-0000-4000-8000-00000000b004 is the FIC's subject.
// Written against Bicep 0.36 and the Microsoft Graph Bicep extension v1.0 (bicepconfig.json:
// "extensions": { "microsoftGraphV1": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0" }).
// Deploy: az deployment group create --resource-group <rg> --template-file main.bicep

extension microsoftGraphV1

// Federated identity credential 'mi-id-payments' on the app registration payments-api (appId 0a1b2c3d-0000-4000-8000-00000000a001).
@description('uniqueName of the app registration: Graph Bicep addresses apps by it')
param appUniqueName string = 'payments-api'

resource federatedCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${appUniqueName}/mi-id-payments'
  issuer: 'https://login.microsoftonline.com/0a1b2c3d-0000-4000-8000-00000000e002/v2.0'
  subject: '0a1b2c3d-0000-4000-8000-00000000b004'
  audiences: [
    'api://AzureADTokenExchange'
  ]
  description: 'Lets the user-assigned managed identity id-payments (resource group rg-identities) sign in as the app payments-api without a secret. Created by ficus.'
}

@description('ARM id of the user-assigned identity id-payments')
param identityResourceId string = '/subscriptions/0a1b2c3d-0000-4000-8000-00000000d006/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments'

// The identity block of the compute the workload runs on. Bicep has no partial update: a
// declaration here would replace the resource's other settings, so put
// `identity: workloadIdentity` (or this module's output) in your existing declaration of:
//   App Service / Functions: resource site 'Microsoft.Web/sites@2023-12-01'
//   Container Apps:          resource app 'Microsoft.App/containerApps@2024-03-01'
//   VM:                      resource vm 'Microsoft.Compute/virtualMachines@2024-07-01'
// If the resource also has a system-assigned identity, make the type 'SystemAssigned,UserAssigned'.
// `az … identity assign` (ficus code --lang az) attaches it without touching anything else.
var workloadIdentity = {
  type: 'UserAssigned'
  userAssignedIdentities: {
    '${identityResourceId}': {}
  }
}

// AKS: pods get managed identity tokens from the node's IMDS, for the identities of their node
// pool. Make this identity the kubelet identity (properties.identityProfile.kubeletidentity of
// 'Microsoft.ContainerService/managedClusters@2024-09-01'; the control plane identity must be user-assigned and hold
// Managed Identity Operator on it): every pod on those nodes can then use it. Per-pod identity is
// AKS workload identity, a different FIC (issuer: the cluster's OIDC issuer URL, subject
// system:serviceaccount:<namespace>:<service account>) that this file does not write.
var aksKubeletIdentity = {
  resourceId: identityResourceId
  clientId: '0a1b2c3d-0000-4000-8000-00000000c003'
  objectId: '0a1b2c3d-0000-4000-8000-00000000b004'
}

output workloadIdentity object = workloadIdentity
output aksKubeletIdentity object = aksKubeletIdentity
output managedIdentityClientId string = '0a1b2c3d-0000-4000-8000-00000000c003'
