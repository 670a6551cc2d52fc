# payments-api's FIC trusting the user-assigned identity id-payments, and id-payments attached to
# the compute the workload runs on. Written by ficus for the Azure public cloud.
# id-payments's CLIENT id 0a1b2c3d-0000-4000-8000-00000000c003 is what the workload's SDK selects it by;
# its principal id 0a1b2c3d-0000-4000-8000-00000000b004 is the FIC's subject.
# Written against Terraform 1.9, hashicorp/azuread 3.x and Azure/azapi 2.x.

terraform {
  required_providers {
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.0"
    }
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.0"
    }
  }
}

provider "azuread" {
  tenant_id   = "0a1b2c3d-0000-4000-8000-00000000e002"
  environment = "global"
}

provider "azapi" {
  environment = "public"
}

# Federated identity credential on the app registration payments-api (appId 0a1b2c3d-0000-4000-8000-00000000a001).
resource "azuread_application_federated_identity_credential" "mi-id-payments" {
  application_id = "/applications/0a1b2c3d-0000-4000-8000-00000000a005"
  display_name   = "mi-id-payments"
  description    = "Lets the user-assigned managed identity id-payments (resource group rg-identities) sign in as the app payments-api without a secret. Created by ficus."
  audiences      = ["api://AzureADTokenExchange"]
  issuer         = "https://login.microsoftonline.com/0a1b2c3d-0000-4000-8000-00000000e002/v2.0"
  subject        = "0a1b2c3d-0000-4000-8000-00000000b004"
}

variable "identity_id" {
  description = "ARM id of the user-assigned identity id-payments"
  type        = string
  default     = "/subscriptions/0a1b2c3d-0000-4000-8000-00000000d006/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments"
}

output "managed_identity_client_id" {
  description = "What the workload's SDK selects the identity by"
  value       = "0a1b2c3d-0000-4000-8000-00000000c003"
}

# Attach the identity to the compute the workload runs on: set the variable of that resource.
# azapi_update_resource reads it and writes it back with only the identity changed. If the
# resource is managed in your own Terraform, add to its block instead:
#   identity {
#     type         = "UserAssigned"   # "SystemAssigned, UserAssigned" to keep a system-assigned one
#     identity_ids = [var.identity_id]
#   }

variable "web_app_id" {
  description = "ARM id of the App Service or Functions app the workload runs on (empty: skipped)"
  type        = string
  default     = ""
}

resource "azapi_update_resource" "web_app_identity" {
  count       = var.web_app_id == "" ? 0 : 1
  type        = "Microsoft.Web/sites@2023-12-01"
  resource_id = var.web_app_id
  body = {
    identity = {
      type                   = "UserAssigned"
      userAssignedIdentities = { (var.identity_id) = {} }
    }
  }
}

variable "container_app_id" {
  description = "ARM id of the Container App the workload runs on (empty: skipped)"
  type        = string
  default     = ""
}

resource "azapi_update_resource" "container_app_identity" {
  count       = var.container_app_id == "" ? 0 : 1
  type        = "Microsoft.App/containerApps@2024-03-01"
  resource_id = var.container_app_id
  body = {
    identity = {
      type                   = "UserAssigned"
      userAssignedIdentities = { (var.identity_id) = {} }
    }
  }
}

variable "vm_id" {
  description = "ARM id of the virtual machine the workload runs on (empty: skipped)"
  type        = string
  default     = ""
}

resource "azapi_update_resource" "vm_identity" {
  count       = var.vm_id == "" ? 0 : 1
  type        = "Microsoft.Compute/virtualMachines@2024-07-01"
  resource_id = var.vm_id
  body = {
    identity = {
      type                   = "UserAssigned"
      userAssignedIdentities = { (var.identity_id) = {} }
    }
  }
}

# AKS: pods get managed identity tokens from the node's IMDS, for the identities of their node
# pool; this makes the identity the cluster's kubelet identity (the control plane identity must be
# user-assigned and hold Managed Identity Operator on it), usable by every pod on those nodes
# (azurerm_kubernetes_cluster: a kubelet_identity block with the same three values). Per-pod
# identity is AKS workload identity, a different FIC (issuer: the cluster's OIDC issuer URL,
# subject system:serviceaccount:<namespace>:<service account>) that this file does not write.
variable "aks_cluster_id" {
  description = "ARM id of the AKS cluster the workload runs on (empty: skipped)"
  type        = string
  default     = ""
}

resource "azapi_update_resource" "aks_cluster_identity" {
  count       = var.aks_cluster_id == "" ? 0 : 1
  type        = "Microsoft.ContainerService/managedClusters@2024-09-01"
  resource_id = var.aks_cluster_id
  body = {
    properties = {
      identityProfile = {
        kubeletidentity = {
          resourceId = var.identity_id
          clientId   = "0a1b2c3d-0000-4000-8000-00000000c003"
          objectId   = "0a1b2c3d-0000-4000-8000-00000000b004"
        }
      }
    }
  }
}
