//! The console's use of the pure domain (`fic/`, `jwt.rs`, `cloud.rs`): the text of palette
//! answers and export snippets. Kept in one place so views and `update` stay thin.

use crate::model::{AppRow, sanitize};
use ficus_core::jwt;

/// Ids that are the same in every tenant and that admins meet in tokens and FICs.
const WELL_KNOWN: &[(&str, &str)] = &[
    (
        ficus_core::cloud::TOKEN_EXCHANGE_APP_ID,
        "the AAD Token Exchange app: a managed identity token for api://AzureADTokenExchange carries it as aud",
    ),
    (
        "00000003-0000-0000-c000-000000000000",
        "Microsoft Graph (its app id)",
    ),
    (
        "00000002-0000-0000-c000-000000000000",
        "Azure AD Graph, retired (its app id)",
    ),
    (
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "Azure Resource Manager (its app id)",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Azure CLI (its public client app id)",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Azure PowerShell (its public client app id)",
    ),
    (
        "14d82eec-204b-4c2f-b7e8-296a70dab67e",
        "Microsoft Graph Command Line Tools (public client app id)",
    ),
    (
        "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "the Microsoft Services tenant (first-party apps live there)",
    ),
    (
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "the Microsoft corporate tenant",
    ),
    (
        "9188040d-6c67-4c5b-b112-36a304b66dad",
        "the consumer (personal Microsoft account) tenant",
    ),
];

pub fn well_known_guid(guid: &str) -> Vec<String> {
    WELL_KNOWN
        .iter()
        .filter(|(id, _)| id.eq_ignore_ascii_case(guid))
        .map(|(_, what)| (*what).to_string())
        .collect()
}

/// A pasted token as lines: header and claims, dates in words. Never the signature; never a
/// panic, whatever was pasted.
pub fn decode_token(input: &str) -> Vec<String> {
    let jwt = match jwt::decode(input) {
        Ok(jwt) => jwt,
        Err(error) => return vec![format!("Cannot decode: {error}")],
    };
    let mut lines = vec!["header".to_string()];
    for (name, value) in &jwt.header {
        lines.push(format!("  {name}: {}", sanitize(&value.to_string())));
    }
    lines.push("claims".to_string());
    let now = time::OffsetDateTime::now_utc();
    for (name, value) in &jwt.claims {
        let mut line = format!("  {name}: {}", sanitize(&value.to_string()));
        if matches!(name.as_str(), "exp" | "nbf" | "iat")
            && let Some(at) = jwt
                .time_claim(name)
                .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        {
            line.push_str(&format!("  ({})", super::model::relative_time(at, now)));
        }
        lines.push(line);
    }
    lines.push(format!(
        "signature: {} bytes, not verified here (the exchange screen verifies against the issuer's keys)",
        jwt.signature.len()
    ));
    lines
}

/// An AADSTS code (or a pasted error message) in words, from `fic::explain`.
pub fn explain(input: &str) -> Vec<String> {
    let Some(explanation) = ficus_core::fic::explain(input) else {
        return vec![
            format!("No AADSTS code found in `{}`.", sanitize(input)),
            "Paste the code (e.g. AADSTS700213) or the whole error message an SDK printed.".into(),
        ];
    };
    let mut lines = vec![format!("AADSTS{}: {}", explanation.code, explanation.title)];
    if let Some(field) = explanation.field_at_fault {
        lines.push(format!("field at fault: {}", field.label()));
    }
    lines.push(format!("what to do: {}", explanation.fix));
    if let Some(message) = &explanation.entra_message {
        lines.push(format!("Entra said: {}", sanitize(message)));
    }
    if !explanation.known {
        lines.push("(This code is not in ficus' catalogue; the advice above is general.)".into());
    }
    lines
}

/// One FIC as the commands and templates that would create it, from `fic::export`.
pub fn export_snippets(
    app: &AppRow,
    fic: &ficus_core::fic::Fic,
    cloud: &ficus_core::cloud::Cloud,
) -> Vec<(String, String)> {
    let record = ficus_core::fic::AppRecord {
        object_id: app.object_id.clone(),
        app_id: app.app_id.clone(),
        display_name: app.name.clone(),
        unique_name: None,
    };
    ficus_core::fic::ExportFormat::ALL
        .iter()
        .map(|format| {
            (
                format.label().to_string(),
                ficus_core::fic::export(*format, fic, &record, cloud),
            )
        })
        .collect()
}
