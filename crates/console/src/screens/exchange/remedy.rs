//! What `F` offers after a refused exchange: core's remedies (`Diagnosis::remedies`), best
//! first, with everything the console knows (the signed-in tenant, every identity listed).
//! A FIC that is a working trust for another identity is never offered for editing.

use ficus_core::cloud::Cloud;
use ficus_core::fic::{AppRef, Identity, Remedy, TrustContext};

use crate::component::Ctx;
use crate::model::IdentityRow;
use crate::nav::AppChoice;
use crate::token_effects::ExchangeResult;

/// The remedies for a refused exchange, best first; empty when it worked or no FIC was
/// compared.
pub fn remedies(ctx: &Ctx, app: Option<&AppChoice>, result: &ExchangeResult) -> Vec<Remedy> {
    if result.succeeded() {
        return Vec::new();
    }
    let Some(diagnosis) = &result.comparison else {
        return Vec::new();
    };
    let (cloud, tenant) = ctx.session.map_or_else(
        || (Cloud::global(), String::new()),
        |s| (s.cloud_endpoints.clone(), s.tenant_id.clone()),
    );
    let identities: Vec<Identity> = ctx.identities.items().iter().map(identity).collect();
    let app = app.map(|a| AppRef {
        app_id: a.app_id.clone(),
        display_name: a.name.clone(),
    });
    let mut trust = TrustContext::new(&cloud)
        .with_tenant(&tenant)
        .with_identities(&identities);
    if let Some(app) = &app {
        trust = trust.with_app(app);
    }
    diagnosis.remedies(&result.fics, &trust)
}

/// A listed identity as the domain knows it.
fn identity(row: &IdentityRow) -> Identity {
    Identity {
        name: row.name.clone(),
        kind: row.kind,
        client_id: row.client_id.clone(),
        principal_id: row.principal_id.clone(),
        arm_id: row.arm_id.clone(),
        subscription: row.subscription.clone(),
        resource_group: row.resource_group.clone(),
        tenant_id: row.tenant_id.clone(),
    }
}

/// What `F` does with a remedy, in a few words (the screen's hint).
pub fn hint(remedy: &Remedy) -> String {
    match remedy {
        Remedy::EditField {
            fic_name, changes, ..
        } => match changes.first() {
            Some(change) => format!(
                "opens FIC '{fic_name}' in the wizard with {} = {}",
                change.field.label(),
                change.to
            ),
            None => format!("opens FIC '{fic_name}' in the wizard"),
        },
        Remedy::AddFic { identity, .. } => match identity {
            Some(identity) => format!(
                "opens the wizard to add a FIC for {} (pre-filled)",
                identity.name
            ),
            None => "opens the wizard to add a FIC for this token (pre-filled)".to_string(),
        },
        Remedy::UseTrustedIdentity { identity, .. } => match identity {
            Some(identity) => format!("tests with {} instead", identity.name),
            None => "explains which workload the app trusts".to_string(),
        },
    }
}
