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
        Mode::Edit { .. } => match update_of(wizard) {
            Some(Ok((update, after))) => REVIEW_TABS_FORMATS
                .iter()
                .map(|format| fic::update_export(*format, &update, &after, &record, cloud))
                .collect(),
            Some(Err(error)) => vec![error.to_string(); REVIEW_TABS.len()],
            None => Vec::new(),
        },
    };
    REVIEW_TABS
        .iter()
        .map(|t| t.to_string())
        .zip(texts)
        .collect()
}

/// The review's tabs, as export formats.
const REVIEW_TABS_FORMATS: [fic::ExportFormat; 5] = [
    fic::ExportFormat::GraphRequest,
    fic::ExportFormat::AzCli,
    fic::ExportFormat::GraphPowerShell,
    fic::ExportFormat::Bicep,
    fic::ExportFormat::Terraform,
];

/// The change an edit makes, built once by `fic::update_request`: what the review shows and
/// what is sent. With it, the FIC as it will be stored. `None` when the wizard creates.
///
/// The fields show the FIC cleaned for the terminal; a field left as shown keeps the value
/// as stored, so an invisible character in a field the admin did not touch is neither sent
/// nor lost.
pub fn update_of(wizard: &Wizard) -> Option<Result<(fic::FicUpdate, Fic), fic::UpdateError>> {
    let Mode::Edit { original, .. } = &wizard.mode else {
        return None;
    };
    let draft = wizard.draft();
    let shown = shown(original);
    let keep = |edited: &String, shown: &String, stored: &String| {
        if edited == shown {
            stored.clone()
        } else {
            edited.clone()
        }
    };
    let after = Fic {
        id: original.id.clone(),
        name: original.name.clone(),
        issuer: keep(&draft.issuer, &shown.issuer, &original.issuer),
        subject: keep(&draft.subject, &shown.subject, &original.subject),
        audiences: if draft.audiences == shown.audiences {
            original.audiences.clone()
        } else {
            draft.audiences.clone()
        },
        description: if draft.description == shown.description {
            original.description.clone()
        } else {
            draft.description.clone()
        },
    };
    Some(fic::update_request(original, &after).map(|update| (update, after)))
}

/// A FIC as the wizard's fields show it: each value cleaned for the terminal.
pub(super) fn shown(fic: &Fic) -> Fic {
    let clean = |s: &str| ficus_core::text::sanitize(s).into_owned();
    Fic {
        id: fic.id.clone(),
        name: clean(&fic.name),
        issuer: clean(&fic.issuer),
        subject: clean(&fic.subject),
        audiences: fic.audiences.iter().map(|a| clean(a)).collect(),
        description: fic
            .description
            .as_deref()
            .map(clean)
            .filter(|d| !d.is_empty()),
    }
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
