//! The console's use of the pure domain (`fic/`, `jwt.rs`, `cloud.rs`): the text of palette
//! answers and export snippets. Kept in one place so views and `update` stay thin.

use crate::model::AppRow;
use ficus_core::jwt;
use ficus_core::text::sanitize;

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
            line.push_str(&format!("  ({})", ficus_core::text::relative_time(at, now)));
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
