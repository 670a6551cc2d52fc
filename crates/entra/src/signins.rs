//! Sign-in evidence: which credential a workload used and when, from Graph beta's
//! `/auditLogs/signIns`, and removing a secret (`removePassword`). Compiled as a child of
//! `graph.rs` (it uses the client's request plumbing) and re-exported as `ficus_entra::signins`.
//!
//! ```text
//! GraphClient::sign_ins(&SignInQuery) -> Vec<SignIn>        newest first, nextLink followed up to `limit`
//! GraphClient::remove_password(app_object_id, key_id)      refused under --read-only
//! credential_usage(&App, &[Fic], &[SignIn], now, window) -> Vec<CredentialUsage>
//! secret_quiet(&CredentialUsage, quiet, now) -> Quiet        may the secret go?
//! failing_groups(&[SignIn]) -> Vec<FailureGroup>            failed sign-ins by app and code
//! failing_workloads(graph, cloud, tenant, since)           the groups joined with the FICs' findings
//! is_unlicensed(&EntraError)                                 the tenant has no P1/P2
//! ```

use reqwest::Method;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{App, GraphClient, Page};
use crate::error::EntraError;
use crate::http::Retry;
use ficus_core::fic::Fic;

/// Graph's error code for a tenant without Entra ID P1/P2.
pub const NON_PREMIUM_CODE: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";
/// What ficus says when sign-in logs are unavailable for want of a licence.
pub const NO_PREMIUM_MESSAGE: &str =
    "this tenant has no Entra ID P1/P2: sign-in evidence is unavailable; everything else works";

/// True when `error` is Graph's answer for a tenant without P1/P2.
pub fn is_unlicensed(error: &EntraError) -> bool {
    matches!(error, EntraError::Graph(g) if g.code == NON_PREMIUM_CODE)
}

/// One sign-in, the fields ficus reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub id: String,
    pub created_date_time: String,
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub app_display_name: Option<String>,
    #[serde(default)]
    pub service_principal_id: Option<String>,
    #[serde(default)]
    pub sign_in_event_types: Vec<String>,
    #[serde(default)]
    pub client_credential_type: Option<String>,
    #[serde(default)]
    pub service_principal_credential_key_id: Option<String>,
    #[serde(default)]
    pub federated_credential_id: Option<String>,
    #[serde(default)]
    pub status: SignInStatus,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub resource_display_name: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInStatus {
    #[serde(default)]
    pub error_code: u64,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl SignIn {
    pub fn at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(
            &self.created_date_time,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
    }

    pub fn failed(&self) -> bool {
        self.status.error_code != 0
    }

    /// The assertion subject a refused federated sign-in names in its reason (`…subject
    /// 'X'…`), which says which identity the workload presented.
    pub fn presented_subject(&self) -> Option<&str> {
        let reason = self.status.failure_reason.as_deref()?;
        let rest = &reason[reason.find("subject '")? + "subject '".len()..];
        rest.split('\'').next()
    }
}

/// Which sign-ins to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInQuery {
    /// `servicePrincipal` or `managedIdentity`.
    pub event_type: &'static str,
    pub app_id: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub failed_only: bool,
    /// Stop after this many (newest first).
    pub limit: usize,
}

impl SignInQuery {
    /// An app's (service principal) sign-ins since `since`.
    pub fn app(app_id: &str, since: OffsetDateTime) -> SignInQuery {
        SignInQuery {
            event_type: "servicePrincipal",
            app_id: Some(app_id.to_string()),
            since: Some(since),
            failed_only: false,
            limit: 5000,
        }
    }

    /// The `$filter` Graph is sent.
    pub fn filter(&self) -> String {
        let mut clauses = vec![format!(
            "signInEventTypes/any(t: t eq '{}')",
            self.event_type
        )];
        if let Some(app) = &self.app_id {
            clauses.push(format!("appId eq '{}'", super::odata_quote(app)));
        }
        if let Some(since) = self.since {
            let since = since
                .replace_nanosecond(0)
                .unwrap_or(since)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            clauses.push(format!("createdDateTime ge {since}"));
        }
        if self.failed_only {
            clauses.push("status/errorCode ne 0".into());
        }
        clauses.join(" and ")
    }
}

impl GraphClient {
    /// `{graph origin}/beta`: sign-in logs are a beta API.
    fn beta_base(&self) -> String {
        match self.base.rfind('/') {
            Some(i) => format!("{}/beta", &self.base[..i]),
            None => format!("{}/beta", self.base),
        }
    }

    /// The URL of the first page of sign-ins for `query`.
    pub fn sign_ins_url(&self, query: &SignInQuery) -> String {
        let top = query.limit.clamp(1, 1000);
        format!(
            "{}/auditLogs/signIns?$filter={}&$top={top}&$orderby={}",
            self.beta_base(),
            super::urlencode(&query.filter()),
            super::urlencode("createdDateTime desc")
        )
    }

    /// Sign-ins matching `query`, newest first, following `@odata.nextLink` until `limit`.
    /// A tenant without P1/P2 fails with Graph's 403 (see [`is_unlicensed`]).
    pub async fn sign_ins(&self, query: &SignInQuery) -> Result<Vec<SignIn>, EntraError> {
        let mut out: Vec<SignIn> = Vec::new();
        let mut next = Some(self.sign_ins_url(query));
        while let Some(url) = next {
            let page: Page<SignIn> = self.get_ok(&url, &[]).await?.json("Graph")?;
            out.extend(page.value);
            if out.len() >= query.limit {
                out.truncate(query.limit);
                break;
            }
            next = page.next_link;
        }
        Ok(out)
    }

    /// Removes a client secret (`POST /applications/{id}/removePassword`). Its value cannot be
    /// recovered: a workload still using it stops getting tokens.
    pub async fn remove_password(
        &self,
        app_object_id: &str,
        key_id: &str,
    ) -> Result<(), EntraError> {
        self.ensure_writable("removing a client secret")?;
        let url = self.remove_password_url(app_object_id);
        let body = serde_json::json!({ "keyId": key_id });
        let resp = self
            .call(Method::POST, &url, Retry::Idempotent, &[], Some(&body))
            .await?;
        if !resp.is_success() {
            return Err(resp.graph_error().into());
        }
        Ok(())
    }

    /// The exact request [`GraphClient::remove_password`] sends (shown before confirming).
    pub fn remove_password_url(&self, app_object_id: &str) -> String {
        format!(
            "{}/applications/{}/removePassword",
            self.base,
            super::path_seg(app_object_id)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence

/// Which of an app's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Credential {
    Secret {
        key_id: String,
        display_name: Option<String>,
        end_date_time: Option<String>,
    },
    Certificate {
        key_id: String,
        display_name: Option<String>,
        end_date_time: Option<String>,
    },
    Fic {
        id: String,
        name: String,
    },
}

impl Credential {
    pub fn label(&self) -> String {
        match self {
            Credential::Secret {
                key_id,
                display_name,
                ..
            } => format!(
                "secret {}",
                display_name.clone().unwrap_or_else(|| key_id.clone())
            ),
            Credential::Certificate {
                key_id,
                display_name,
                ..
            } => format!(
                "certificate {}",
                display_name.clone().unwrap_or_else(|| key_id.clone())
            ),
            Credential::Fic { name, .. } => format!("FIC {name}"),
        }
    }
}

/// What the sign-ins say about one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialUsage {
    pub credential: Credential,
    /// Newest successful use (ISO 8601).
    pub last_used: Option<String>,
    /// Successful uses in the window looked at.
    pub uses: usize,
    /// Newest failure: when, AADSTS code.
    pub last_failure: Option<(String, u64)>,
}

/// Per credential of the app (secrets, certificates, FICs), what `sign_ins` (the app's,
/// newest first or in any order) say.
pub fn credential_usage(app: &App, fics: &[Fic], sign_ins: &[SignIn]) -> Vec<CredentialUsage> {
    let mut credentials: Vec<Credential> = Vec::new();
    for p in &app.password_credentials {
        if let Some(key_id) = &p.key_id {
            credentials.push(Credential::Secret {
                key_id: key_id.clone(),
                display_name: p.display_name.clone(),
                end_date_time: p.end_date_time.clone(),
            });
        }
    }
    for k in &app.key_credentials {
        if let Some(key_id) = &k.key_id {
            credentials.push(Credential::Certificate {
                key_id: key_id.clone(),
                display_name: k.display_name.clone(),
                end_date_time: k.end_date_time.clone(),
            });
        }
    }
    for f in fics {
        if let Some(id) = &f.id {
            credentials.push(Credential::Fic {
                id: id.clone(),
                name: f.name.clone(),
            });
        }
    }
    credentials
        .into_iter()
        .map(|credential| {
            let used_by = |s: &&SignIn| match &credential {
                Credential::Secret { key_id, .. } | Credential::Certificate { key_id, .. } => s
                    .service_principal_credential_key_id
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(key_id)),
                Credential::Fic { id, .. } => s
                    .federated_credential_id
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(id)),
            };
            let mine: Vec<&SignIn> = sign_ins.iter().filter(used_by).collect();
            let newest = |list: &mut dyn Iterator<Item = &&SignIn>| {
                list.max_by_key(|s| s.at()).map(|s| (*s).clone())
            };
            let last_ok = newest(&mut mine.iter().filter(|s| !s.failed()));
            let last_failure = newest(&mut mine.iter().filter(|s| s.failed()));
            CredentialUsage {
                last_used: last_ok.map(|s| s.created_date_time),
                uses: mine.iter().filter(|s| !s.failed()).count(),
                last_failure: last_failure.map(|s| (s.created_date_time, s.status.error_code)),
                credential,
            }
        })
        .collect()
}

/// Whether a secret may be removed after a quiet period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quiet {
    /// Not used within the quiet period (`last_used` is the newest use seen, if any).
    Quiet { last_used: Option<OffsetDateTime> },
    /// Used within it: removing it would break the workload.
    InUse { last_used: OffsetDateTime },
}

/// Has the credential been quiet for `quiet` before `now`?
pub fn secret_quiet(usage: &CredentialUsage, quiet: Duration, now: OffsetDateTime) -> Quiet {
    let last = usage.last_used.as_deref().and_then(|t| {
        OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    });
    match last {
        Some(last_used) if now - last_used < quiet => Quiet::InUse { last_used },
        last_used => Quiet::Quiet { last_used },
    }
}

/// Failed sign-ins of one app with one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureGroup {
    pub app_id: String,
    pub app_display_name: String,
    pub error_code: u64,
    pub count: usize,
    pub first: String,
    pub last: String,
    /// The assertion subject the workload presented (federated failures).
    pub presented_subject: Option<String>,
    pub failure_reason: Option<String>,
}

/// Groups failed sign-ins by app, presented subject and AADSTS code; most failures first.
pub fn failing_groups(sign_ins: &[SignIn]) -> Vec<FailureGroup> {
    let mut groups: Vec<FailureGroup> = Vec::new();
    for s in sign_ins.iter().filter(|s| s.failed()) {
        let subject = s.presented_subject().map(str::to_string);
        match groups.iter_mut().find(|g| {
            g.app_id == s.app_id
                && g.error_code == s.status.error_code
                && g.presented_subject == subject
        }) {
            Some(g) => {
                g.count += 1;
                if s.created_date_time < g.first {
                    g.first = s.created_date_time.clone();
                }
                if s.created_date_time > g.last {
                    g.last = s.created_date_time.clone();
                    g.failure_reason = s.status.failure_reason.clone();
                }
            }
            None => groups.push(FailureGroup {
                app_id: s.app_id.clone(),
                app_display_name: s.app_display_name.clone().unwrap_or_default(),
                error_code: s.status.error_code,
                count: 1,
                first: s.created_date_time.clone(),
                last: s.created_date_time.clone(),
                presented_subject: subject,
                failure_reason: s.status.failure_reason.clone(),
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.app_display_name.cmp(&b.app_display_name))
    });
    groups
}

/// One failing workload: its failed sign-ins grouped, and what the rules see wrong with the
/// app's FICs. The one join of `ficus failing` and the console's Failing workloads view.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailingWorkload {
    #[serde(flatten)]
    pub group: FailureGroup,
    /// The managed identity whose token was presented (from the assertion's subject).
    pub identity: Option<String>,
    /// The FIC at fault and the finding, when the rules name one.
    pub fic: Option<String>,
    pub diagnosis: Option<String>,
    /// The whole sentence.
    pub summary: String,
    /// The app's object id, when the app is still there (what a console opens).
    #[serde(skip)]
    pub app_object_id: Option<String>,
    /// The presented identity itself, for a test exchange.
    #[serde(skip)]
    pub presented_identity: Option<ficus_core::fic::Identity>,
    /// The FIC at fault and its first error finding (with its fix, when there is one).
    #[serde(skip)]
    pub fault: Option<(Fic, ficus_core::fic::Finding)>,
}

impl FailingWorkload {
    /// When the first failure of the group happened, `HH:MM` (UTC).
    pub fn since_text(&self) -> String {
        OffsetDateTime::parse(
            &self.group.first,
            &time::format_description::well_known::Rfc3339,
        )
        .map(|at| format!("{:02}:{:02}", at.hour(), at.minute()))
        .unwrap_or_else(|_| self.group.first.clone())
    }
}

/// Failed workload sign-ins of the tenant since `since`, grouped by app, identity and AADSTS
/// code ([`failing_groups`]), each joined with the app's FICs and their rule findings:
/// "inventory-sync has failed 288 times since 09:12 with AADSTS700213 (presenting
/// id-inventory's token): its FIC mi-id-inventory: …". A tenant without P1/P2 fails with
/// Graph's 403 ([`is_unlicensed`]).
pub async fn failing_workloads(
    graph: &GraphClient,
    cloud: &ficus_core::cloud::Cloud,
    tenant_id: &str,
    since: OffsetDateTime,
) -> Result<Vec<FailingWorkload>, EntraError> {
    use ficus_core::fic::{self, Severity};
    let query = SignInQuery {
        event_type: "servicePrincipal",
        app_id: None,
        since: Some(since),
        failed_only: true,
        limit: 5000,
    };
    let list = graph.sign_ins(&query).await?;
    let identities = graph.list_managed_identities().await?;
    let mut out = Vec::new();
    for group in failing_groups(&list) {
        let presented = group.presented_subject.as_deref().and_then(|subject| {
            identities
                .iter()
                .find(|i| i.principal_id.eq_ignore_ascii_case(subject))
                .cloned()
        });
        let mut app_object_id = None;
        let mut fault = None;
        if let Some(app) = graph.get_app_by_app_id(&group.app_id).await? {
            let fics = graph.list_fics(&app.id).await?;
            fault = fics.iter().find_map(|f| {
                let mut rules = fic::RuleContext::new(cloud, tenant_id)
                    .with_app_id(&app.app_id)
                    .with_existing(&fics)
                    .with_identities(&identities);
                if let Some(identity) = identities.iter().find(|i| i.principal_id == f.subject) {
                    rules = rules.with_identity(identity);
                }
                fic::validate(f, &rules)
                    .into_iter()
                    .find(|finding| finding.severity == Severity::Error)
                    .map(|finding| (f.clone(), finding))
            });
            app_object_id = Some(app.id);
        }
        let mut workload = FailingWorkload {
            identity: presented.as_ref().map(|i| i.name.clone()),
            fic: fault.as_ref().map(|(f, _)| f.name.clone()),
            diagnosis: fault.as_ref().map(|(_, finding)| finding.message.clone()),
            summary: String::new(),
            app_object_id,
            presented_identity: presented,
            fault,
            group,
        };
        let mut summary = format!(
            "{} has failed {} times since {} with AADSTS{}",
            workload.group.app_display_name,
            workload.group.count,
            workload.since_text(),
            workload.group.error_code
        );
        if let Some(identity) = &workload.identity {
            summary.push_str(&format!(" (presenting {identity}'s token)"));
        }
        match (&workload.fic, &workload.diagnosis) {
            (Some(fic), Some(why)) => summary.push_str(&format!(": its FIC {fic}: {why}")),
            _ => {
                if let Some(reason) = &workload.group.failure_reason {
                    summary.push_str(&format!(": {reason}"));
                }
            }
        }
        workload.summary = summary;
        out.push(workload);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in(at: &str, key: Option<&str>, fic: Option<&str>, code: u64) -> SignIn {
        SignIn {
            id: at.into(),
            created_date_time: at.into(),
            app_id: "app".into(),
            app_display_name: Some("payments-api".into()),
            service_principal_id: None,
            sign_in_event_types: vec!["servicePrincipal".into()],
            client_credential_type: None,
            service_principal_credential_key_id: key.map(str::to_string),
            federated_credential_id: fic.map(str::to_string),
            status: SignInStatus {
                error_code: code,
                failure_reason: (code != 0).then(|| {
                    "No matching federated identity record found for presented assertion subject 'abc'. Please check".to_string()
                }),
            },
            ip_address: None,
            resource_display_name: None,
            resource_id: None,
        }
    }

    #[test]
    fn usage_per_credential_and_the_quiet_period() {
        let app = App {
            id: "o".into(),
            app_id: "app".into(),
            display_name: "payments-api".into(),
            sign_in_audience: None,
            created_date_time: None,
            publisher_domain: None,
            password_credentials: vec![super::super::PasswordCredential {
                display_name: Some("s".into()),
                key_id: Some("K1".into()),
                end_date_time: None,
                hint: None,
            }],
            key_credentials: vec![],
        };
        let fic = Fic {
            id: Some("F1".into()),
            name: "mi".into(),
            issuer: "i".into(),
            subject: "s".into(),
            audiences: vec![],
            description: None,
        };
        let log = vec![
            sign_in("2026-11-29T10:00:00Z", Some("k1"), None, 0),
            sign_in("2026-11-20T10:00:00Z", Some("K1"), None, 0),
            sign_in("2026-11-29T11:00:00Z", None, Some("F1"), 0),
            sign_in("2026-11-29T12:00:00Z", None, Some("F1"), 700213),
        ];
        let usage = credential_usage(&app, &[fic], &log);
        assert_eq!(usage.len(), 2);
        assert_eq!(usage[0].uses, 2);
        assert_eq!(usage[0].last_used.as_deref(), Some("2026-11-29T10:00:00Z"));
        assert_eq!(usage[1].uses, 1);
        assert_eq!(
            usage[1].last_failure,
            Some(("2026-11-29T12:00:00Z".to_string(), 700213))
        );
        let now = time::macros::datetime!(2026-11-30 10:00 UTC);
        assert!(matches!(
            secret_quiet(&usage[0], Duration::days(7), now),
            Quiet::InUse { .. }
        ));
        let later = time::macros::datetime!(2026-12-07 10:00:01 UTC);
        assert!(matches!(
            secret_quiet(&usage[0], Duration::days(7), later),
            Quiet::Quiet { last_used: Some(_) }
        ));
        let groups = failing_groups(&log);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].presented_subject.as_deref(), Some("abc"));
        assert_eq!(groups[0].error_code, 700213);
    }

    #[test]
    fn the_filter_names_each_clause() {
        let mut q = SignInQuery::app("a-b", time::macros::datetime!(2026-11-01 00:00:00.5 UTC));
        q.failed_only = true;
        assert_eq!(
            q.filter(),
            "signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq 'a-b' and createdDateTime ge 2026-11-01T00:00:00Z and status/errorCode ne 0"
        );
    }
}
