//! The "Managed Identity" auto-fill: from the tenant, the cloud, the app and a user-assigned
//! identity, the FIC that lets the identity sign in as the app. The result passes
//! `rules::validate` without errors by construction (for a user-assigned
//! identity in the app's tenant; anything else is reported by the rules, not hidden here).

use crate::cloud::Cloud;
use crate::fic::model::{AppRef, ArmId, Fic, Identity};
use crate::fic::names::{NAME_MAX, VALUE_MAX, sanitize_name, truncate_graph, unique_name};

/// Prefix of auto-filled names: says the credential trusts a managed identity.
pub const NAME_PREFIX: &str = "mi-";

/// The auto-filled name for `identity`: `mi-` + its name made URL-friendly (`mi-id-payments`),
/// unique among `existing` names.
pub fn fic_name_for(identity: &Identity, existing: &[Fic]) -> String {
    let mut stem = sanitize_name(identity.name.trim());
    if !identity.name.chars().any(|c| c.is_ascii_alphanumeric()) {
        // Nothing usable in the name: fall back to the principal id, which is a GUID.
        stem = sanitize_name(identity.principal_id.trim());
    }
    let base: String = format!("{NAME_PREFIX}{stem}")
        .chars()
        .take(NAME_MAX)
        .collect();
    let base = base.trim_end_matches('-').to_string();
    unique_name(&base, existing)
}

/// The resource group of an identity: the field when known, else parsed from its ARM id.
pub fn resource_group_of(identity: &Identity) -> Option<String> {
    identity
        .resource_group
        .clone()
        .filter(|rg| !rg.trim().is_empty())
        .or_else(|| {
            identity
                .arm_id
                .as_deref()
                .and_then(ArmId::parse)
                .and_then(|id| id.resource_group)
        })
}

fn clip(text: &str, max_chars: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() > max_chars {
        let head: String = clean.chars().take(max_chars).collect();
        format!("{}…", head.trim_end())
    } else {
        clean.to_string()
    }
}

/// The auto-filled description: names the identity, its resource group and the app.
pub fn description_for(app: &AppRef, identity: &Identity) -> String {
    let name = clip(&identity.name, 120);
    let app_name = clip(&app.display_name, 120);
    let place = match resource_group_of(identity) {
        Some(rg) => format!(" (resource group {})", clip(&rg, 90)),
        None => String::new(),
    };
    let text = format!(
        "Lets the user-assigned managed identity {name}{place} sign in as the app {app_name} without a secret. Created by ficus."
    );
    truncate_graph(&text, VALUE_MAX)
}

/// The FIC that lets `identity` sign in as `app`: issuer `cloud.issuer(tenant_id)`, subject the
/// identity's principal id, audience the cloud's exchange audience, a rule-abiding unique name
/// and a description.
pub fn managed_identity_fic(
    cloud: &Cloud,
    tenant_id: &str,
    app: &AppRef,
    identity: &Identity,
    existing: &[Fic],
) -> Fic {
    Fic {
        id: None,
        name: fic_name_for(identity, existing),
        issuer: cloud.issuer(tenant_id.trim()),
        subject: identity.principal_id.trim().to_string(),
        audiences: vec![cloud.exchange_audience.clone()],
        description: Some(description_for(app, identity)),
    }
}
