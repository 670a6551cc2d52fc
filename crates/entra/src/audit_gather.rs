//! What the tenant audit (`ficus_core::audit`) reads, gathered the way the lists read it: the
//! managed identities (one listing), the certificate index (one bounded `keyCredentials`
//! listing, within Graph's quota), then the apps in the console list's streaming pages of 999
//! with their FICs expanded and their secrets' metadata. No request per app.
//!
//! [`prerequisites`] fetches the first two at once; [`app_page`] turns one page into
//! [`AppSnapshot`]s for [`ficus_core::audit::Auditor::app`], so a caller audits page by page
//! and holds only the findings.

use std::sync::Arc;

use ficus_core::audit::{AppSnapshot, Credential, CredentialType};
use ficus_core::fic::{AppRecord, Fic, Identity};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::EntraError;
use crate::graph::{AppListItem, CertificateIndex, GraphClient, KeyCredential, PasswordCredential};

/// What every app's audit needs before the first page.
#[derive(Debug, Clone)]
pub struct Prerequisites {
    pub identities: Vec<Identity>,
    pub certificates: Arc<CertificateIndex>,
}

/// The managed identities and the certificate index, fetched concurrently.
pub async fn prerequisites(graph: &GraphClient) -> Result<Prerequisites, EntraError> {
    let (identities, certificates) =
        futures_util::try_join!(graph.list_managed_identities(), graph.certificate_index())?;
    Ok(Prerequisites {
        identities,
        certificates,
    })
}

/// One page of apps (the first when `next` is `None`) as the audit reads them, and the link
/// to the next page.
pub async fn app_page(
    graph: &GraphClient,
    certificates: &CertificateIndex,
    next: Option<String>,
) -> Result<(Vec<AppSnapshot>, Option<String>), EntraError> {
    let (items, next) = graph.console_apps_page_light(next).await?;
    let apps = items
        .into_iter()
        .map(|item| app_snapshot(item, certificates))
        .collect();
    Ok((apps, next))
}

fn parse_time(text: Option<&str>) -> Option<OffsetDateTime> {
    text.and_then(|t| OffsetDateTime::parse(t.trim(), &Rfc3339).ok())
}

fn secret(c: &PasswordCredential) -> Credential {
    Credential {
        credential_type: CredentialType::Secret,
        key_id: c.key_id.clone().unwrap_or_default(),
        display_name: c.display_name.clone(),
        end: parse_time(c.end_date_time.as_deref()),
    }
}

fn certificate(c: &KeyCredential) -> Credential {
    Credential {
        credential_type: CredentialType::Certificate,
        key_id: c.key_id.clone().unwrap_or_default(),
        display_name: c.display_name.clone(),
        end: parse_time(c.end_date_time.as_deref()),
    }
}

/// One listed app as the audit reads it. A FIC Graph returns in a shape ficus cannot read is
/// left out rather than failing the whole audit (Graph's own FICs always parse).
pub fn app_snapshot(item: AppListItem, certificates: &CertificateIndex) -> AppSnapshot {
    let fics: Vec<Fic> = item
        .federated_identity_credentials
        .unwrap_or_default()
        .into_iter()
        .filter_map(|value| serde_json::from_value(value).ok())
        .collect();
    let credentials = item
        .password_credentials
        .iter()
        .map(secret)
        .chain(
            certificates
                .by_app
                .get(&item.id)
                .into_iter()
                .flatten()
                .map(certificate),
        )
        .collect();
    AppSnapshot {
        app: AppRecord {
            object_id: item.id,
            app_id: item.app_id,
            display_name: item.display_name.unwrap_or_default(),
            unique_name: None,
        },
        fics,
        credentials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_app_becomes_a_snapshot_with_its_certificates() {
        let item: AppListItem = serde_json::from_value(serde_json::json!({
            "id": "obj-1",
            "appId": "app-1",
            "displayName": "payments-api",
            "passwordCredentials": [
                { "displayName": "s", "keyId": "k1", "endDateTime": "2026-12-09T14:00:00Z" }
            ],
            "federatedIdentityCredentials": [
                { "id": "f1", "name": "mi-x", "issuer": "i", "subject": "s", "audiences": ["a"] },
                { "unexpected": true }
            ]
        }))
        .expect("item");
        let mut index = CertificateIndex::default();
        index.by_app.insert(
            "obj-1".into(),
            vec![KeyCredential {
                display_name: Some("CN=x".into()),
                key_id: Some("c1".into()),
                end_date_time: Some("2027-01-01T00:00:00.0000000Z".into()),
                key_type: None,
                usage: None,
            }],
        );
        let snapshot = app_snapshot(item, &index);
        assert_eq!(snapshot.app.display_name, "payments-api");
        assert_eq!(snapshot.fics.len(), 1);
        assert_eq!(snapshot.fics[0].name, "mi-x");
        assert_eq!(snapshot.credentials.len(), 2);
        assert_eq!(
            snapshot.credentials[1].credential_type,
            CredentialType::Certificate
        );
        assert!(snapshot.credentials.iter().all(|c| c.end.is_some()));
    }
}
