//! The shapes the rest of ficus shares: a federated identity credential as Graph stores it,
//! a managed identity as Graph lists it, and the app it belongs to.

use serde::{Deserialize, Serialize};

/// A federated identity credential, with Graph's JSON field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fic {
    /// Assigned by Graph; `None` for a draft not yet saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// User-assigned or system-assigned, read from the service principal's `alternativeNames`
/// (`isExplicit=True` is user-assigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentityKind {
    UserAssigned,
    SystemAssigned,
}

/// A managed identity as ficus knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub name: String,
    pub kind: IdentityKind,
    /// The service principal's `appId`: what a workload names to pick this identity.
    pub client_id: String,
    /// The service principal's `id` (object id): what a FIC's subject must be.
    pub principal_id: String,
    /// For a user-assigned identity its own ARM id; for a system-assigned one the host's.
    pub arm_id: Option<String>,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub tenant_id: Option<String>,
}

/// Parts of an ARM resource id: `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmId {
    pub subscription: String,
    pub resource_group: Option<String>,
    pub provider: Option<String>,
    pub name: Option<String>,
}

impl ArmId {
    /// Parses case-insensitively (`resourcegroups` is common in tokens); `None` when the text
    /// does not start with `/subscriptions/`.
    pub fn parse(id: &str) -> Option<ArmId> {
        let segments: Vec<&str> = id.trim().trim_matches('/').split('/').collect();
        if segments.len() < 2 || !segments[0].eq_ignore_ascii_case("subscriptions") {
            return None;
        }
        let subscription = segments[1].to_string();
        if subscription.is_empty() {
            return None;
        }
        let mut resource_group = None;
        let mut provider = None;
        let mut i = 2;
        while i + 1 < segments.len() {
            let key = segments[i];
            if key.eq_ignore_ascii_case("resourcegroups") {
                resource_group = Some(segments[i + 1].to_string());
            } else if key.eq_ignore_ascii_case("providers") {
                provider = Some(segments[i + 1].to_string());
            }
            i += 2;
        }
        let name = (segments.len() > 2 && provider.is_some())
            .then(|| segments.last().map(|s| s.to_string()))
            .flatten();
        Some(ArmId {
            subscription,
            resource_group,
            provider,
            name,
        })
    }
}

/// The app registration a FIC belongs to, as the wizard and auto-fill need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRef {
    /// The application (client) id.
    pub app_id: String,
    pub display_name: String,
}

/// An app registration with every key an export or the GUID resolver needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRecord {
    /// The application object's `id`: what Graph URLs and Graph PowerShell take.
    pub object_id: String,
    /// The application (client) id: what `az ad app` and token requests take.
    pub app_id: String,
    pub display_name: String,
    /// Graph's `uniqueName` alternate key, used by Bicep; `None` when the app has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
}

impl AppRecord {
    pub fn app_ref(&self) -> AppRef {
        AppRef {
            app_id: self.app_id.clone(),
            display_name: self.display_name.clone(),
        }
    }
}

/// A service principal as the GUID resolver knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipalRecord {
    /// The service principal's object id.
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
}

/// A tenant as the GUID resolver knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantRecord {
    pub id: String,
    pub display_name: String,
}

/// The parts of a FIC a finding or a fix is about. `App` and `Identity` are the context the
/// FIC is created in (the app registration, the managed identity it trusts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    Name,
    Issuer,
    Subject,
    Audiences,
    Description,
    App,
    Identity,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Issuer => "issuer",
            Field::Subject => "subject",
            Field::Audiences => "audience",
            Field::Description => "description",
            Field::App => "app",
            Field::Identity => "identity",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl Fic {
    /// The value of one FIC field as text (`App`/`Identity` have none). Audiences are joined
    /// with `, `.
    pub fn field_value(&self, field: Field) -> Option<String> {
        match field {
            Field::Name => Some(self.name.clone()),
            Field::Issuer => Some(self.issuer.clone()),
            Field::Subject => Some(self.subject.clone()),
            Field::Audiences => Some(self.audiences.join(", ")),
            Field::Description => self.description.clone(),
            Field::App | Field::Identity => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_user_assigned_identity_id() {
        let id = ArmId::parse("/subscriptions/1111/resourcegroups/rg-pay/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments")
            .expect("parses");
        assert_eq!(id.subscription, "1111");
        assert_eq!(id.resource_group.as_deref(), Some("rg-pay"));
        assert_eq!(id.provider.as_deref(), Some("Microsoft.ManagedIdentity"));
        assert_eq!(id.name.as_deref(), Some("id-payments"));
    }

    #[test]
    fn refuses_what_is_not_an_arm_id() {
        assert_eq!(ArmId::parse("id-payments"), None);
        assert_eq!(ArmId::parse("/subscriptions/"), None);
    }

    #[test]
    fn fic_round_trips_graph_json() {
        let json = r#"{"id":"x","name":"n","issuer":"i","subject":"s","audiences":["a"],"description":null}"#;
        let fic: Fic = serde_json::from_str(json).expect("parses");
        assert_eq!(fic.audiences, vec!["a"]);
        assert_eq!(fic.description, None);
    }
}
