//! The infrastructure side of a FIC (#16): the FIC itself as Bicep, Terraform or an `az` script
//! (from `fic::export`, the one place those are written), plus attaching the user-assigned
//! identity to the compute the workload runs on — App Service / Functions, Container Apps, a
//! VM, AKS — where a managed identity token can only be had for an identity attached there.
//!
//! Attaching is an update of an existing resource, which each tool expresses differently:
//! `az … identity assign` changes only the identity; Terraform's `azapi_update_resource` reads
//! the resource and writes it back with the identity merged in; Bicep is declarative and has no
//! partial update, so it gives the `identity` value to put in the existing declaration (as a
//! variable and as outputs a parent template can use) rather than a declaration that would
//! replace the resource's other settings.
//!
//! AKS: a pod gets managed identity tokens from the node's IMDS, for the identities assigned to
//! its node pool; the supported way to place a user-assigned identity there is to make it the
//! cluster's kubelet identity (every pod on those nodes can then use it). Per-pod identity is
//! AKS workload identity: a different FIC (issuer the cluster's OIDC issuer, subject
//! `system:serviceaccount:NS:SA`) that these files do not write, and say so.

use crate::cloud::{Cloud, CloudKind};
use crate::fic::export::{self, bicep_string, hcl_string, shell_quote};

use super::{WorkloadValues, comment_text};

/// API versions the compute resources are addressed with (all GA).
pub const WEB_SITES: &str = "Microsoft.Web/sites@2023-12-01";
pub const CONTAINER_APPS: &str = "Microsoft.App/containerApps@2024-03-01";
pub const VIRTUAL_MACHINES: &str = "Microsoft.Compute/virtualMachines@2024-07-01";
pub const MANAGED_CLUSTERS: &str = "Microsoft.ContainerService/managedClusters@2024-09-01";

/// The identity's ARM id as it appears in a file: its id when known, else the way to give it.
fn identity_id_or<'a>(values: &'a WorkloadValues, missing: &'a str) -> &'a str {
    values
        .identity_resource_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .unwrap_or(missing)
}

fn header(values: &WorkloadValues, comment: &str) -> String {
    let app = comment_text(&values.app_name);
    let identity = comment_text(&values.identity_name);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(comment);
        out.push(' ');
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "{app}'s FIC trusting the user-assigned identity {identity}, and {identity} attached to"
    ));
    line(format!(
        "the compute the workload runs on. Written by ficus for the {}.",
        comment_text(&super::cloud_words(&values.cloud))
    ));
    line(format!(
        "{identity}'s CLIENT id {} is what the workload's SDK selects it by;",
        comment_text(&values.identity_client_id)
    ));
    line(format!(
        "its principal id {} is the FIC's subject.",
        comment_text(&values.identity_principal_id)
    ));
    out
}

fn az_cloud_name(cloud: &Cloud) -> Option<&'static str> {
    match cloud.kind {
        CloudKind::Global => None,
        CloudKind::UsGov => Some("AzureUSGovernment"),
        CloudKind::China => Some("AzureChinaCloud"),
        CloudKind::Custom => None,
    }
}

/// Bicep: the FIC (Microsoft Graph Bicep extension) and the identity block for each compute.
pub fn bicep(values: &WorkloadValues) -> String {
    let mut out = header(values, "//");
    out.push_str(
        "// Written against Bicep 0.36 and the Microsoft Graph Bicep extension v1.0 (bicepconfig.json:\n\
         // \"extensions\": { \"microsoftGraphV1\": \"br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0\" }).\n",
    );
    let fic = export::bicep(&values.fic, &values.app_record());
    match values.cloud.kind {
        CloudKind::Global | CloudKind::Custom => {
            out.push_str(
                "// Deploy: az deployment group create --resource-group <rg> --template-file main.bicep\n\n",
            );
            out.push_str(&fic);
        }
        _ => {
            // Graph Bicep deploys in the public cloud only: the FIC stays as a reference.
            out.push_str(&format!(
                "// Microsoft Graph Bicep deploys in the public cloud only, not in the {}: create the\n\
                 // FIC with the az or Terraform shape (`ficus code --lang az`). For reference, the FIC:\n",
                comment_text(&super::cloud_words(&values.cloud))
            ));
            for line in fic.lines() {
                out.push_str(format!("//   {line}").trim_end());
                out.push('\n');
            }
            out.push_str(&format!(
                "// Deploy the rest in the {}: az cloud set --name {}\n",
                comment_text(&super::cloud_words(&values.cloud)),
                az_cloud_name(&values.cloud).unwrap_or("AzureCloud")
            ));
        }
    }
    out.push('\n');
    out.push_str(&format!(
        "@description({})\n",
        bicep_string(&format!(
            "ARM id of the user-assigned identity {}",
            comment_text(&values.identity_name)
        ))
    ));
    match values.identity_resource_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => out.push_str(&format!(
            "param identityResourceId string = {}\n\n",
            bicep_string(id)
        )),
        _ => out.push_str("param identityResourceId string\n\n"),
    }
    out.push_str(
        "// The identity block of the compute the workload runs on. Bicep has no partial update: a\n\
         // declaration here would replace the resource's other settings, so put\n\
         // `identity: workloadIdentity` (or this module's output) in your existing declaration of:\n",
    );
    out.push_str(&format!(
        "//   App Service / Functions: resource site '{WEB_SITES}'\n\
         //   Container Apps:          resource app '{CONTAINER_APPS}'\n\
         //   VM:                      resource vm '{VIRTUAL_MACHINES}'\n\
         // If the resource also has a system-assigned identity, make the type 'SystemAssigned,UserAssigned'.\n\
         // `az … identity assign` (ficus code --lang az) attaches it without touching anything else.\n"
    ));
    out.push_str(
        "var workloadIdentity = {\n  type: 'UserAssigned'\n  userAssignedIdentities: {\n    '${identityResourceId}': {}\n  }\n}\n\n",
    );
    out.push_str(&format!(
        "// AKS: pods get managed identity tokens from the node's IMDS, for the identities of their node\n\
         // pool. Make this identity the kubelet identity (properties.identityProfile.kubeletidentity of\n\
         // '{MANAGED_CLUSTERS}'; the control plane identity must be user-assigned and hold\n\
         // Managed Identity Operator on it): every pod on those nodes can then use it. Per-pod identity is\n\
         // AKS workload identity, a different FIC (issuer: the cluster's OIDC issuer URL, subject\n\
         // system:serviceaccount:<namespace>:<service account>) that this file does not write.\n"
    ));
    out.push_str(&format!(
        "var aksKubeletIdentity = {{\n  resourceId: identityResourceId\n  clientId: {}\n  objectId: {}\n}}\n\n",
        bicep_string(&values.identity_client_id),
        bicep_string(&values.identity_principal_id)
    ));
    out.push_str("output workloadIdentity object = workloadIdentity\n");
    out.push_str("output aksKubeletIdentity object = aksKubeletIdentity\n");
    out.push_str(&format!(
        "output managedIdentityClientId string = {}\n",
        bicep_string(&values.identity_client_id)
    ));
    out
}

/// One `azapi_update_resource` that merges the identity into an existing resource given by a
/// variable (`count` 0 while the variable is empty).
fn azapi_update(out: &mut String, label: &str, what: &str, resource_type: &str, body: &str) {
    out.push_str(&format!(
        "variable \"{label}_id\" {{\n  description = \"ARM id of the {what} the workload runs on (empty: skipped)\"\n  type        = string\n  default     = \"\"\n}}\n\n"
    ));
    out.push_str(&format!(
        "resource \"azapi_update_resource\" \"{label}_identity\" {{\n  count       = var.{label}_id == \"\" ? 0 : 1\n  type        = \"{resource_type}\"\n  resource_id = var.{label}_id\n  body = {body}\n}}\n\n"
    ));
}

/// Terraform: the FIC (`azuread`) and the identity merged into the compute (`azapi`).
pub fn terraform(values: &WorkloadValues) -> String {
    let mut out = header(values, "#");
    out.push_str("# Written against Terraform 1.9, hashicorp/azuread 3.x and Azure/azapi 2.x.\n\n");
    out.push_str(
        "terraform {\n  required_providers {\n    azuread = {\n      source  = \"hashicorp/azuread\"\n      version = \"~> 3.0\"\n    }\n    azapi = {\n      source  = \"Azure/azapi\"\n      version = \"~> 2.0\"\n    }\n  }\n}\n\n",
    );
    let (azuread_env, azapi_env) = match values.cloud.kind {
        CloudKind::UsGov => ("usgovernment", "usgovernment"),
        CloudKind::China => ("china", "china"),
        CloudKind::Global | CloudKind::Custom => ("global", "public"),
    };
    out.push_str(&format!(
        "provider \"azuread\" {{\n  tenant_id   = {}\n  environment = \"{azuread_env}\"\n}}\n\n",
        hcl_string(&values.fic_tenant())
    ));
    out.push_str(&format!(
        "provider \"azapi\" {{\n  environment = \"{azapi_env}\"\n}}\n\n"
    ));
    out.push_str(&export::terraform(&values.fic, &values.app_record()));
    out.push('\n');
    out.push_str(&format!(
        "variable \"identity_id\" {{\n  description = {}\n  type        = string\n",
        hcl_string(&format!(
            "ARM id of the user-assigned identity {}",
            comment_text(&values.identity_name)
        ))
    ));
    match values.identity_resource_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => {
            out.push_str(&format!("  default     = {}\n", hcl_string(id)));
        }
        _ => {}
    }
    out.push_str("}\n\n");
    out.push_str(&format!(
        "output \"managed_identity_client_id\" {{\n  description = \"What the workload's SDK selects the identity by\"\n  value       = {}\n}}\n\n",
        hcl_string(&values.identity_client_id)
    ));
    out.push_str(
        "# Attach the identity to the compute the workload runs on: set the variable of that resource.\n\
         # azapi_update_resource reads it and writes it back with only the identity changed. If the\n\
         # resource is managed in your own Terraform, add to its block instead:\n\
         #   identity {\n\
         #     type         = \"UserAssigned\"   # \"SystemAssigned, UserAssigned\" to keep a system-assigned one\n\
         #     identity_ids = [var.identity_id]\n\
         #   }\n\n",
    );
    let identity_body = "{\n    identity = {\n      type                   = \"UserAssigned\"\n      userAssignedIdentities = { (var.identity_id) = {} }\n    }\n  }";
    azapi_update(
        &mut out,
        "web_app",
        "App Service or Functions app",
        WEB_SITES,
        identity_body,
    );
    azapi_update(
        &mut out,
        "container_app",
        "Container App",
        CONTAINER_APPS,
        identity_body,
    );
    azapi_update(
        &mut out,
        "vm",
        "virtual machine",
        VIRTUAL_MACHINES,
        identity_body,
    );
    out.push_str(
        "# AKS: pods get managed identity tokens from the node's IMDS, for the identities of their node\n\
         # pool; this makes the identity the cluster's kubelet identity (the control plane identity must be\n\
         # user-assigned and hold Managed Identity Operator on it), usable by every pod on those nodes\n\
         # (azurerm_kubernetes_cluster: a kubelet_identity block with the same three values). Per-pod\n\
         # identity is AKS workload identity, a different FIC (issuer: the cluster's OIDC issuer URL,\n\
         # subject system:serviceaccount:<namespace>:<service account>) that this file does not write.\n",
    );
    let aks_body = format!(
        "{{\n    properties = {{\n      identityProfile = {{\n        kubeletidentity = {{\n          resourceId = var.identity_id\n          clientId   = {}\n          objectId   = {}\n        }}\n      }}\n    }}\n  }}",
        hcl_string(&values.identity_client_id),
        hcl_string(&values.identity_principal_id)
    );
    azapi_update(
        &mut out,
        "aks_cluster",
        "AKS cluster",
        MANAGED_CLUSTERS,
        &aks_body,
    );
    // One trailing newline, as `terraform fmt` leaves it.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A bash script: the FIC with `az ad app federated-credential create`, then `az … identity
/// assign` for each compute named in an environment variable.
pub fn az(values: &WorkloadValues) -> String {
    let mut out = String::from("#!/usr/bin/env bash\n");
    out.push_str(&header(values, "#"));
    out.push_str(
        "# Written against Azure CLI 2.67. Set the variable of the compute the workload runs on:\n",
    );
    out.push_str("#   RESOURCE_GROUP=rg-app WEB_APP=my-app bash attach.sh\n");
    out.push_str("set -euo pipefail\n\n");
    // Everything the script needs is checked before the first change.
    let id = identity_id_or(values, "");
    if id.is_empty() {
        out.push_str("IDENTITY_ID=\"${IDENTITY_ID:?set IDENTITY_ID to the identity's ARM id (az identity show --query id)}\"\n");
    } else {
        out.push_str(&format!("IDENTITY_ID={}\n", shell_quote(id)));
    }
    out.push_str("RESOURCE_GROUP=\"${RESOURCE_GROUP:-}\"   # of the compute below\n");
    out.push_str(
        "if [ -n \"${WEB_APP:-}${FUNCTION_APP:-}${CONTAINER_APP:-}${VM:-}${AKS_CLUSTER:-}\" ] && [ -z \"$RESOURCE_GROUP\" ]; then\n  echo \"set RESOURCE_GROUP to the resource group of the compute\" >&2\n  exit 2\nfi\n\n",
    );
    if let Some(name) = az_cloud_name(&values.cloud) {
        out.push_str(&format!("az cloud set --name {name}\n\n"));
    }
    // Created unless the app has it already, so the script can run again.
    out.push_str(&format!(
        "# The FIC, unless the app has it already.\nif ! az ad app federated-credential show --id {} --federated-credential-id {} >/dev/null 2>&1; then\n  {}\nfi\n\n",
        shell_quote(&values.app_client_id),
        shell_quote(&values.fic.name),
        export::az_cli(&values.fic, &values.app_record())
    ));
    let attach = |out: &mut String, var: &str, what: &str, command: &str| {
        out.push_str(&format!(
            "# {what}\nif [ -n \"${{{var}:-}}\" ]; then\n  {command}\nfi\n"
        ));
    };
    attach(
        &mut out,
        "WEB_APP",
        "App Service",
        "az webapp identity assign --resource-group \"$RESOURCE_GROUP\" --name \"$WEB_APP\" --identities \"$IDENTITY_ID\"",
    );
    attach(
        &mut out,
        "FUNCTION_APP",
        "Functions",
        "az functionapp identity assign --resource-group \"$RESOURCE_GROUP\" --name \"$FUNCTION_APP\" --identities \"$IDENTITY_ID\"",
    );
    attach(
        &mut out,
        "CONTAINER_APP",
        "Container Apps",
        "az containerapp identity assign --resource-group \"$RESOURCE_GROUP\" --name \"$CONTAINER_APP\" --user-assigned \"$IDENTITY_ID\"",
    );
    attach(
        &mut out,
        "VM",
        "Virtual machine",
        "az vm identity assign --resource-group \"$RESOURCE_GROUP\" --name \"$VM\" --identities \"$IDENTITY_ID\"",
    );
    out.push_str(
        "# AKS: pods get tokens from the node's IMDS for the identities of their node pool; this makes the\n\
         # identity the kubelet identity, usable by every pod on those nodes (the control plane identity must\n\
         # be user-assigned and hold Managed Identity Operator on it). Per-pod identity is AKS workload\n\
         # identity, a different FIC (issuer: the cluster's OIDC issuer URL, subject\n\
         # system:serviceaccount:<namespace>:<service account>) that this script does not write.\n",
    );
    attach(
        &mut out,
        "AKS_CLUSTER",
        "AKS: the kubelet identity",
        "az aks update --resource-group \"$RESOURCE_GROUP\" --name \"$AKS_CLUSTER\" --assign-kubelet-identity \"$IDENTITY_ID\"",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fic::Fic;

    fn values(cloud: Cloud) -> WorkloadValues {
        let fic = Fic {
            id: None,
            name: "mi-id-payments".into(),
            issuer: cloud.issuer("22222222-2222-2222-2222-222222222222"),
            subject: "44444444-4444-4444-4444-444444444444".into(),
            audiences: vec![cloud.exchange_audience.clone()],
            description: Some("Lets id-payments sign in as payments-api.".into()),
        };
        WorkloadValues {
            app_name: "payments-api".into(),
            app_client_id: "11111111-1111-1111-1111-111111111111".into(),
            app_object_id: "55555555-5555-5555-5555-555555555555".into(),
            app_unique_name: Some("payments-api".into()),
            resource_tenant: "22222222-2222-2222-2222-222222222222".into(),
            identity_name: "id-payments".into(),
            identity_client_id: "33333333-3333-3333-3333-333333333333".into(),
            identity_principal_id: "44444444-4444-4444-4444-444444444444".into(),
            identity_resource_id: Some(
                "/subscriptions/66666666-6666-6666-6666-666666666666/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments".into(),
            ),
            scope: cloud.exchange_default_scope(),
            fic,
            cloud,
        }
    }

    #[test]
    fn an_unknown_identity_id_becomes_a_parameter_the_deployment_asks_for() {
        let mut v = values(Cloud::global());
        v.identity_resource_id = None;
        assert!(bicep(&v).contains("param identityResourceId string\n"));
        let tf = terraform(&v);
        let variable = tf
            .split("variable \"identity_id\"")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("the identity variable");
        assert!(!variable.contains("default"), "{variable}");
        assert!(az(&v).contains("IDENTITY_ID=\"${IDENTITY_ID:?"));
    }

    #[test]
    fn graph_bicep_is_commented_out_outside_the_public_cloud() {
        let gov = bicep(&values(Cloud::us_gov()));
        assert!(!gov.lines().any(|l| l.starts_with("extension ")), "{gov}");
        assert!(gov.contains("//   resource federatedCredential"), "{gov}");
        assert!(gov.contains("az cloud set --name AzureUSGovernment"));
        let global = bicep(&values(Cloud::global()));
        assert!(global.lines().any(|l| l == "extension microsoftGraphV1"));
    }

    #[test]
    fn a_hostile_identity_name_stays_inside_its_string_or_comment() {
        let mut v = values(Cloud::global());
        v.identity_name = "id'${x}\"%{y}\nresource evil".into();
        let bicep = bicep(&v);
        assert!(
            bicep.contains(r#"@description('ARM id of the user-assigned identity id\'\${x}"%{y} resource evil')"#),
            "{bicep}"
        );
        assert!(
            !bicep.lines().any(|l| l.starts_with("resource evil")),
            "{bicep}"
        );
        let tf = terraform(&v);
        assert!(
            tf.contains(r#"description = "ARM id of the user-assigned identity id'$${x}\"%%{y} resource evil""#),
            "{tf}"
        );
        assert!(!tf.lines().any(|l| l.starts_with("resource evil")), "{tf}");
        let az = az(&v);
        assert!(!az.lines().any(|l| l.starts_with("resource evil")), "{az}");
    }

    #[test]
    fn terraform_names_each_cloud_s_provider_environment() {
        assert!(terraform(&values(Cloud::china())).contains("environment = \"china\""));
        assert!(terraform(&values(Cloud::us_gov())).contains("environment = \"usgovernment\""));
        assert!(terraform(&values(Cloud::global())).contains("environment = \"public\""));
    }
}
