//! What the review shows before saving: the exact Graph request (a POST, or a PATCH of what
//! changed) and the same FIC as az / Graph PowerShell / Bicep / Terraform.

use super::state::{Mode, Wizard};
use crate::model::{AppRow, CredentialKind};
use ficus_core::fic::{self, AppRecord, Fic};

// ---------------------------------------------------------------------------------------------
// Review

pub const REVIEW_TABS: [&str; 5] = [
    "Graph request",
    "Azure CLI",
    "Graph PowerShell",
    "Bicep",
    "Terraform",
];

/// The text of each review tab.
pub fn review_snippets(wizard: &Wizard) -> Vec<(String, String)> {
    let Some(app) = &wizard.app else {
        return Vec::new();
    };
    let record = AppRecord {
        object_id: app.row.object_id.clone(),
        app_id: app.row.app_id.clone(),
        display_name: app.row.name.clone(),
        unique_name: None,
    };
    let draft = wizard.draft();
    let cloud = &wizard.cloud;
    let created = |format| fic::export(format, &draft, &record, cloud);
    let texts = match &wizard.mode {
        Mode::Create => vec![
            created(fic::ExportFormat::GraphRequest),
            created(fic::ExportFormat::AzCli),
            created(fic::ExportFormat::GraphPowerShell),
            created(fic::ExportFormat::Bicep),
            created(fic::ExportFormat::Terraform),
        ],
        Mode::Edit { fic_id, original } => {
            let patch = patch_body(original, &draft);
            let url = format!(
                "{}/applications/{}/federatedIdentityCredentials/{}",
                cloud.graph_v1(),
                record.object_id,
                fic_id
            );
            let pretty = serde_json::to_string_pretty(&patch).unwrap_or_else(|_| patch.to_string());
            vec![
                format!("PATCH {url}\nContent-Type: application/json\n\n{pretty}\n"),
                format!(
                    "az ad app federated-credential update --id {} --federated-credential-id {} --parameters {}",
                    fic::export::shell_quote(&record.app_id),
                    fic::export::shell_quote(fic_id),
                    fic::export::shell_quote(&fic::export::graph_body(&draft).to_string())
                ),
                update_powershell(&record, fic_id, &draft),
                created(fic::ExportFormat::Bicep),
                created(fic::ExportFormat::Terraform),
            ]
        }
    };
    REVIEW_TABS
        .iter()
        .map(|t| t.to_string())
        .zip(texts)
        .collect()
}

/// The PATCH body: only what changed (the name never does).
pub fn patch_body(original: &Fic, draft: &Fic) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    if draft.issuer != original.issuer {
        body.insert("issuer".into(), draft.issuer.clone().into());
    }
    if draft.subject != original.subject {
        body.insert("subject".into(), draft.subject.clone().into());
    }
    if draft.audiences != original.audiences {
        body.insert("audiences".into(), draft.audiences.clone().into());
    }
    if draft.description != original.description {
        body.insert(
            "description".into(),
            draft.description.clone().unwrap_or_default().into(),
        );
    }
    serde_json::Value::Object(body)
}
fn update_powershell(app: &AppRecord, fic_id: &str, fic: &Fic) -> String {
    use fic::export::powershell_quote as q;
    let audiences: Vec<String> = fic.audiences.iter().map(|a| q(a)).collect();
    let mut out = format!(
        "Update-MgApplicationFederatedIdentityCredential -ApplicationId {} -FederatedIdentityCredentialId {} -BodyParameter @{{\n",
        q(&app.object_id),
        q(fic_id)
    );
    out.push_str(&format!("    issuer      = {}\n", q(&fic.issuer)));
    out.push_str(&format!("    subject     = {}\n", q(&fic.subject)));
    out.push_str(&format!("    audiences   = @({})\n", audiences.join(", ")));
    if let Some(description) = &fic.description {
        out.push_str(&format!("    description = {}\n", q(description)));
    }
    out.push('}');
    out
}

/// Secrets and certificates the app still has: once the exchange works they can go.
pub fn remaining_secrets(app: &AppRow) -> (usize, usize) {
    let secrets = app
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::Secret)
        .count();
    (secrets, app.credentials.len() - secrets)
}
