//! The tenant audit: every app's FICs and credentials, and every managed identity, checked at
//! once. Pure: the caller gathers a snapshot (or streams it app by app) and passes `now`.
//!
//! [`Auditor::new`] takes what every check needs (cloud, tenant id, the managed identities,
//! now); [`Auditor::app`] checks one app as its page arrives; [`Auditor::finish`] adds what
//! only the whole tenant can say (identities no app trusts). [`audit`] does all three for a
//! complete [`Snapshot`]. Findings sort worst first with [`sort`].
//!
//! The FIC checks reuse `fic::rules` (each saved FIC validated against the identity its
//! subject names) and name each rule break's kind with `fic::diagnose`'s field comparison
//! against the token that identity presents; [`traps`] adds the other issuers' traps. What the
//! rules cannot see from one FIC is the audit's own: orphaned trusts, duplicate trusts, the
//! 20-FIC limit, credential expiry, leftover secrets, untrusted identities.

pub mod kind;
pub mod traps;

use std::collections::{HashMap, HashSet};

use time::{Duration, OffsetDateTime};

use crate::cloud::Cloud;
use crate::fic::autofill::fic_name_for;
use crate::fic::diagnose::{Difference, Presented, compare_field};
use crate::fic::guid::is_guid;
use crate::fic::model::{AppRecord, Fic, Field, Identity, IdentityKind};
use crate::fic::names::MAX_FICS_PER_APP;
use crate::fic::rules::{self, Fix, RuleContext};

pub use kind::{Kind, Severity};

/// An app counts as near the FIC limit from this many FICs.
pub const NEAR_FIC_LIMIT: usize = 16;
/// Expiry windows: within 30 days is a warning, within 90 days worth knowing.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
pub const EXPIRY_NOTICE_DAYS: i64 = 90;

/// A secret or a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CredentialType {
    Secret,
    Certificate,
}

impl CredentialType {
    pub fn label(self) -> &'static str {
        match self {
            CredentialType::Secret => "secret",
            CredentialType::Certificate => "certificate",
        }
    }
}

/// A secret's or certificate's metadata (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub credential_type: CredentialType,
    pub key_id: String,
    pub display_name: Option<String>,
    /// `None` when Graph gave no (readable) end date: nothing is said about its expiry.
    pub end: Option<OffsetDateTime>,
}

/// One app registration as the audit reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppSnapshot {
    pub app: AppRecord,
    pub fics: Vec<Fic>,
    /// Secrets and certificates.
    pub credentials: Vec<Credential>,
}

/// A whole tenant at once.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub cloud: Cloud,
    pub tenant_id: String,
    pub now: OffsetDateTime,
    pub identities: Vec<Identity>,
    pub apps: Vec<AppSnapshot>,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    pub kind: Kind,
    pub severity: Severity,
    /// The app it is about (every finding but an untrusted identity has one).
    pub app: Option<AppRecord>,
    /// The managed identity involved: the one a FIC trusts (or meant to), the untrusted one.
    pub identity: Option<Identity>,
    /// The FIC at fault, as saved.
    pub fic: Option<Fic>,
    pub credential: Option<Credential>,
    /// The FIC field at fault.
    pub field: Option<Field>,
    /// What is wrong with this object, in words.
    pub message: String,
    /// The corrected value, when one is known: `f` in the console applies it.
    pub fix: Option<Fix>,
    /// What to do, in words (the fix's label, or the step to take when there is no value).
    pub action: String,
    /// The date the finding dates from, for sorting by age: a credential's end date.
    pub date: Option<OffsetDateTime>,
}

impl AuditFinding {
    fn about_app(kind: Kind, severity: Severity, app: &AppRecord, message: String) -> Self {
        AuditFinding {
            kind,
            severity,
            app: Some(app.clone()),
            identity: None,
            fic: None,
            credential: None,
            field: None,
            message,
            fix: None,
            action: String::new(),
            date: None,
        }
    }

    fn with_fic(mut self, fic: &Fic, field: Option<Field>) -> Self {
        self.fic = Some(fic.clone());
        self.field = field;
        self
    }

    fn with_identity(mut self, identity: Option<&Identity>) -> Self {
        self.identity = identity.cloned();
        self
    }

    fn with_fix(mut self, fix: Option<Fix>, otherwise: &str) -> Self {
        self.action = match &fix {
            Some(fix) => fix.label.clone(),
            None => otherwise.to_string(),
        };
        self.fix = fix;
        self
    }

    /// The app's display name, or the identity's name for an identity finding.
    pub fn object_name(&self) -> &str {
        match (&self.app, &self.identity) {
            (Some(app), _) => &app.display_name,
            (None, Some(identity)) => &identity.name,
            (None, None) => "",
        }
    }

    /// Severity at or above `threshold` (`Error` is above `Warning`, above `Info`).
    pub fn at_least(&self, threshold: Severity) -> bool {
        self.severity <= threshold
    }
}

/// Worst first; then by kind, object name (case-insensitive), FIC or credential name.
pub fn sort(findings: &mut [AuditFinding]) {
    findings.sort_by(|a, b| {
        (a.severity, a.kind)
            .cmp(&(b.severity, b.kind))
            .then_with(|| {
                a.object_name()
                    .to_lowercase()
                    .cmp(&b.object_name().to_lowercase())
            })
            .then_with(|| detail_name(a).cmp(detail_name(b)))
            .then_with(|| a.message.cmp(&b.message))
    });
}

fn detail_name(f: &AuditFinding) -> &str {
    f.fic
        .as_ref()
        .map(|x| x.name.as_str())
        .or_else(|| f.credential.as_ref().map(|c| c.key_id.as_str()))
        .unwrap_or("")
}

/// Counts by kind, in report order (worst severity first), kinds with no finding left out.
pub fn counts(findings: &[AuditFinding]) -> Vec<(Kind, Severity, usize)> {
    let mut by_kind: HashMap<Kind, (Severity, usize)> = HashMap::new();
    for f in findings {
        let entry = by_kind.entry(f.kind).or_insert((f.severity, 0));
        entry.0 = entry.0.min(f.severity);
        entry.1 += 1;
    }
    let mut out: Vec<(Kind, Severity, usize)> =
        by_kind.into_iter().map(|(k, (s, n))| (k, s, n)).collect();
    out.sort_by_key(|(k, s, _)| (*s, *k));
    out
}

/// Audits a complete snapshot; findings sorted.
pub fn audit(snapshot: &Snapshot) -> Vec<AuditFinding> {
    let mut auditor = Auditor::new(
        &snapshot.cloud,
        &snapshot.tenant_id,
        &snapshot.identities,
        snapshot.now,
    );
    let mut findings: Vec<AuditFinding> = snapshot
        .apps
        .iter()
        .flat_map(|app| auditor.app(app))
        .collect();
    findings.extend(auditor.finish());
    sort(&mut findings);
    findings
}

/// How a FIC relates to the tenant's managed identities.
enum Target<'a> {
    /// Its subject is this identity's principal id, exactly.
    Exact(&'a Identity),
    /// Its subject names this identity in another way (case, whitespace, its client id).
    Misspelled(&'a Identity),
    /// No identity: an Entra issuer and a GUID subject naming no managed identity.
    Orphaned,
    /// Not about a managed identity of this tenant (another issuer, another tenant).
    Other,
}

/// Checks apps one at a time against the tenant's identities.
pub struct Auditor<'a> {
    cloud: &'a Cloud,
    tenant_id: &'a str,
    identities: &'a [Identity],
    now: OffsetDateTime,
    by_principal: HashMap<&'a str, usize>,
    by_principal_folded: HashMap<String, usize>,
    by_client_folded: HashMap<String, usize>,
    /// Identities some FIC names (however spelled), by index.
    trusted: HashSet<usize>,
    expected_issuer: String,
}

impl<'a> Auditor<'a> {
    pub fn new(
        cloud: &'a Cloud,
        tenant_id: &'a str,
        identities: &'a [Identity],
        now: OffsetDateTime,
    ) -> Auditor<'a> {
        let mut by_principal = HashMap::new();
        let mut by_principal_folded = HashMap::new();
        let mut by_client_folded = HashMap::new();
        for (i, identity) in identities.iter().enumerate() {
            by_principal.insert(identity.principal_id.trim(), i);
            by_principal_folded.insert(identity.principal_id.trim().to_ascii_lowercase(), i);
            by_client_folded.insert(identity.client_id.trim().to_ascii_lowercase(), i);
        }
        Auditor {
            cloud,
            tenant_id: tenant_id.trim(),
            identities,
            now,
            by_principal,
            by_principal_folded,
            by_client_folded,
            trusted: HashSet::new(),
            expected_issuer: cloud.issuer(tenant_id.trim()),
        }
    }

    fn target(&self, fic: &Fic) -> Target<'a> {
        let Some(issuer) = self.cloud.recognise_entra_issuer(&fic.issuer) else {
            return Target::Other;
        };
        let subject = fic.subject.as_str();
        if let Some(&i) = self.by_principal.get(subject) {
            return Target::Exact(&self.identities[i]);
        }
        let folded: String = subject
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(&i) = self
            .by_principal_folded
            .get(&folded)
            .or_else(|| self.by_client_folded.get(&folded))
        {
            return Target::Misspelled(&self.identities[i]);
        }
        // Only this tenant's issuer says the subject should be one of its identities.
        if is_guid(&folded) && issuer.tenant.eq_ignore_ascii_case(self.tenant_id) {
            Target::Orphaned
        } else {
            Target::Other
        }
    }

    /// The token `identity` presents at the exchange, as `fic::diagnose` compares it.
    fn presented(&self, identity: &Identity) -> Presented {
        Presented {
            issuer: self.expected_issuer.clone(),
            subject: identity.principal_id.trim().to_string(),
            audiences: vec![self.cloud.exchange_audience.clone()],
            effective_audiences: vec![self.cloud.exchange_audience.clone()],
            client_id: Some(identity.client_id.trim().to_string()),
            tenant_id: Some(self.tenant_id.to_string()),
        }
    }

    /// The kind of one rule break, from how the field differs from what a token presents.
    fn kind_of(&self, fic: &Fic, field: Field, identity: Option<&Identity>) -> Kind {
        let presented = match identity {
            Some(identity) => self.presented(identity),
            None => Presented {
                issuer: self.expected_issuer.clone(),
                subject: fic.subject.trim().to_string(),
                audiences: vec![self.cloud.exchange_audience.clone()],
                effective_audiences: vec![self.cloud.exchange_audience.clone()],
                ..Presented::default()
            },
        };
        let (value, token) = match field {
            Field::Issuer if self.cloud.recognise_entra_issuer(&fic.issuer).is_some() => {
                (fic.issuer.clone(), presented.issuer.clone())
            }
            Field::Subject => (fic.subject.clone(), presented.subject.clone()),
            Field::Audiences => (
                fic.audiences
                    .iter()
                    .find(|a| **a != self.cloud.exchange_audience)
                    .cloned()
                    .unwrap_or_default(),
                self.cloud.exchange_audience.clone(),
            ),
            _ => return Kind::FicRule,
        };
        let compared = compare_field(field, &value, &token, &presented, self.cloud);
        match (field, compared.difference) {
            (_, Difference::Whitespace) => Kind::Whitespace,
            (Field::Subject, Difference::ClientIdAsSubject) => Kind::ClientIdAsSubject,
            (Field::Subject, Difference::CaseOnly { .. }) => Kind::SubjectCase,
            (Field::Issuer, Difference::TrailingSlash { in_fic: true }) => {
                Kind::IssuerTrailingSlash
            }
            (Field::Issuer, Difference::OtherTenant { .. }) => Kind::IssuerOtherTenant,
            (Field::Issuer, Difference::OtherCloud { .. }) => Kind::IssuerOtherCloud,
            (Field::Issuer, Difference::IssuerForm | Difference::CaseOnly { .. }) => {
                Kind::IssuerForm
            }
            (Field::Audiences, Difference::OtherCloudAudience { .. }) => Kind::AudienceOtherCloud,
            (
                Field::Audiences,
                Difference::GuidAudience
                | Difference::CaseOnly { .. }
                | Difference::TrailingSlash { .. },
            ) => Kind::AudienceForm,
            _ => Kind::FicRule,
        }
    }

    /// Every finding about one app.
    pub fn app(&mut self, snapshot: &AppSnapshot) -> Vec<AuditFinding> {
        let app = &snapshot.app;
        let mut out = Vec::new();
        let mut working_mi_fic = false;
        // Which FICs name which identity, for the "trusted twice" check.
        let mut by_identity: HashMap<usize, Vec<&Fic>> = HashMap::new();
        for fic in &snapshot.fics {
            let target = self.target(fic);
            let identity = match &target {
                Target::Exact(i) | Target::Misspelled(i) => Some(*i),
                _ => None,
            };
            if let Some(identity) = identity
                && let Some(index) = self.index_of(identity)
            {
                self.trusted.insert(index);
                by_identity.entry(index).or_default().push(fic);
            }
            // The app-level rules (limit, duplicates) are the audit's own, below: each
            // FIC is checked alone here.
            let mut context = RuleContext::new(self.cloud, self.tenant_id).with_app_id(&app.app_id);
            if let Some(identity) = identity {
                context = context.with_identity(identity);
            }
            let findings = rules::validate(fic, &context);
            if matches!(target, Target::Exact(i) if i.kind == IdentityKind::UserAssigned)
                && !rules::has_errors(&findings)
            {
                working_mi_fic = true;
            }
            for finding in findings {
                let kind = self.kind_of(fic, finding.field, identity);
                out.push(
                    AuditFinding::about_app(
                        kind,
                        Severity::of_rule(finding.severity),
                        app,
                        finding.message,
                    )
                    .with_fic(fic, Some(finding.field))
                    .with_identity(identity)
                    .with_fix(finding.fix, "change the credential as the message says"),
                );
            }
            if matches!(target, Target::Orphaned) {
                out.push(self.orphaned(app, fic));
            }
            if matches!(target, Target::Other) {
                for trap in traps::traps(fic) {
                    out.push(
                        AuditFinding::about_app(trap.kind, Severity::Error, app, trap.message)
                            .with_fic(fic, Some(trap.field))
                            .with_fix(trap.fix, "change the subject as the message says"),
                    );
                }
            }
        }
        self.duplicates(app, &snapshot.fics, &by_identity, &mut out);
        self.limit(app, snapshot.fics.len(), &mut out);
        self.credentials(app, &snapshot.credentials, working_mi_fic, &mut out);
        out
    }

    fn index_of(&self, identity: &Identity) -> Option<usize> {
        self.by_principal.get(identity.principal_id.trim()).copied()
    }

    /// A FIC naming a principal id no identity has. When an identity carries the name the
    /// FIC was made for (`mi-NAME`, or the name in its description), it was recreated: its
    /// new principal id is the fix.
    fn orphaned(&self, app: &AppRecord, fic: &Fic) -> AuditFinding {
        let recreated = self.identities.iter().find(|identity| {
            identity.kind == IdentityKind::UserAssigned
                && (fic_name_for(identity, &[]).eq_ignore_ascii_case(fic.name.trim())
                    || fic.description.as_deref().is_some_and(|d| {
                        d.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
                            .any(|word| word == identity.name)
                    }))
        });
        let subject = fic.subject.trim();
        match recreated {
            Some(identity) => AuditFinding::about_app(
                Kind::OrphanedTrust,
                Severity::Error,
                app,
                format!(
                    "The credential '{}' trusts principal id {subject}, which no managed identity has. {} exists with principal id {}: it was recreated, and a recreated identity gets a new principal id, so its tokens no longer match. Use the new principal id.",
                    fic.name,
                    identity.name,
                    identity.principal_id.trim()
                ),
            )
            .with_fic(fic, Some(Field::Subject))
            .with_identity(Some(identity))
            .with_fix(
                Some(Fix {
                    field: Field::Subject,
                    value: identity.principal_id.trim().to_string(),
                    label: format!("use the principal id of the new {}", identity.name),
                }),
                "",
            ),
            None => AuditFinding::about_app(
                Kind::OrphanedTrust,
                Severity::Error,
                app,
                format!(
                    "The credential '{}' trusts principal id {subject}, which no managed identity in the tenant has: the identity was deleted. Delete the credential, or point it at the identity that replaced it.",
                    fic.name
                ),
            )
            .with_fic(fic, Some(Field::Subject))
            .with_fix(None, "delete the credential, or trust the identity that replaced it"),
        }
    }

    fn duplicates(
        &self,
        app: &AppRecord,
        fics: &[Fic],
        by_identity: &HashMap<usize, Vec<&Fic>>,
        out: &mut Vec<AuditFinding>,
    ) {
        let mut seen: HashMap<(&str, &str), &Fic> = HashMap::new();
        let mut exact_twins: HashSet<(&str, &str)> = HashSet::new();
        for fic in fics {
            let key = (fic.issuer.trim(), fic.subject.trim());
            if key.0.is_empty() || key.1.is_empty() {
                continue;
            }
            match seen.get(&key) {
                Some(first) => {
                    exact_twins.insert(key);
                    out.push(
                        AuditFinding::about_app(
                            Kind::DuplicateTrust,
                            Severity::Warning,
                            app,
                            format!(
                                "The credentials '{}' and '{}' trust the same issuer and subject; one is enough. Delete '{}'.",
                                first.name, fic.name, fic.name
                            ),
                        )
                        .with_fic(fic, None)
                        .with_fix(None, "delete the second credential"),
                    );
                }
                None => {
                    seen.insert(key, fic);
                }
            }
        }
        let mut groups: Vec<(&usize, &Vec<&Fic>)> =
            by_identity.iter().filter(|(_, f)| f.len() > 1).collect();
        groups.sort_by_key(|(i, _)| **i);
        for (&index, group) in groups {
            // Exact copies are reported above; here, different spellings of one trust.
            if group
                .iter()
                .all(|f| exact_twins.contains(&(f.issuer.trim(), f.subject.trim())))
            {
                continue;
            }
            let identity = &self.identities[index];
            let names: Vec<String> = group.iter().map(|f| format!("'{}'", f.name)).collect();
            out.push(
                AuditFinding::about_app(
                    Kind::IdentityTrustedTwice,
                    Severity::Warning,
                    app,
                    format!(
                        "{} trust {} ({} credentials for one identity). Keep the one that works and delete the others.",
                        names.join(" and "),
                        identity.name,
                        group.len()
                    ),
                )
                .with_fic(group[group.len() - 1], None)
                .with_identity(Some(identity))
                .with_fix(None, "keep one credential for the identity, delete the others"),
            );
        }
    }

    fn limit(&self, app: &AppRecord, count: usize, out: &mut Vec<AuditFinding>) {
        if count >= MAX_FICS_PER_APP {
            out.push(
                AuditFinding::about_app(
                    Kind::FicLimit,
                    Severity::Warning,
                    app,
                    format!(
                        "The app has {count} federated credentials, Graph's maximum of {MAX_FICS_PER_APP}: no other workload can be trusted until one is deleted."
                    ),
                )
                .with_fix(None, "delete credentials the app no longer needs"),
            );
        } else if count >= NEAR_FIC_LIMIT {
            out.push(
                AuditFinding::about_app(
                    Kind::FicLimit,
                    Severity::Info,
                    app,
                    format!(
                        "The app has {count} of Graph's maximum of {MAX_FICS_PER_APP} federated credentials."
                    ),
                )
                .with_fix(None, "review which credentials the app still needs"),
            );
        }
    }

    fn credentials(
        &self,
        app: &AppRecord,
        credentials: &[Credential],
        working_mi_fic: bool,
        out: &mut Vec<AuditFinding>,
    ) {
        for credential in credentials {
            let Some(end) = credential.end else {
                continue;
            };
            let secret = credential.credential_type == CredentialType::Secret;
            let what = credential.credential_type.label();
            let name = credential
                .display_name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(|n| format!(" '{n}'"))
                .unwrap_or_default();
            let left = end - self.now;
            let (kind, severity, message, action) = if left <= Duration::ZERO {
                (
                    if secret {
                        Kind::SecretExpired
                    } else {
                        Kind::CertificateExpired
                    },
                    Severity::Error,
                    format!(
                        "The {what}{name} expired {} ago.",
                        crate::text::duration_words((-left).whole_seconds())
                    ),
                    format!("remove the expired {what}, or replace it with a FIC"),
                )
            } else if left <= Duration::days(EXPIRY_WARNING_DAYS) {
                (
                    if secret {
                        Kind::SecretExpiresWithin30Days
                    } else {
                        Kind::CertificateExpiresWithin30Days
                    },
                    Severity::Warning,
                    format!(
                        "The {what}{name} expires in {}.",
                        crate::text::duration_words(left.whole_seconds())
                    ),
                    format!("rotate the {what} before it expires, or replace it with a FIC"),
                )
            } else if left <= Duration::days(EXPIRY_NOTICE_DAYS) {
                (
                    if secret {
                        Kind::SecretExpiresWithin90Days
                    } else {
                        Kind::CertificateExpiresWithin90Days
                    },
                    Severity::Info,
                    format!(
                        "The {what}{name} expires in {}.",
                        crate::text::duration_words(left.whole_seconds())
                    ),
                    format!("plan the {what}'s rotation, or replace it with a FIC"),
                )
            } else {
                continue;
            };
            let mut finding =
                AuditFinding::about_app(kind, severity, app, message).with_fix(None, &action);
            finding.credential = Some(credential.clone());
            finding.date = Some(end);
            out.push(finding);
        }
        if working_mi_fic {
            for credential in credentials
                .iter()
                .filter(|c| c.credential_type == CredentialType::Secret)
            {
                let name = credential
                    .display_name
                    .as_deref()
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| format!(" '{n}'"))
                    .unwrap_or_default();
                let mut finding = AuditFinding::about_app(
                    Kind::LeftoverSecret,
                    Severity::Warning,
                    app,
                    format!(
                        "The app signs in through a working Managed Identity FIC and still holds the secret{name}. Once the workload uses the identity, remove the secret."
                    ),
                )
                .with_fix(None, "remove the secret once the workload uses the FIC");
                finding.credential = Some(credential.clone());
                finding.date = credential.end;
                out.push(finding);
            }
        }
    }

    /// What only the whole tenant can say: user-assigned identities no FIC names. Call once
    /// every app has been passed to [`Auditor::app`].
    pub fn finish(&self) -> Vec<AuditFinding> {
        self.identities
            .iter()
            .enumerate()
            .filter(|(i, identity)| {
                identity.kind == IdentityKind::UserAssigned && !self.trusted.contains(i)
            })
            .map(|(_, identity)| AuditFinding {
                kind: Kind::UntrustedIdentity,
                severity: Severity::Info,
                app: None,
                identity: Some(identity.clone()),
                fic: None,
                credential: None,
                field: None,
                message: format!(
                    "No app has a federated credential for {}: it is not used for federation, or the trust that named it was lost.",
                    identity.name
                ),
                fix: None,
                action: "add a FIC for it to the app its workload signs in as, or delete it if unused".into(),
                date: None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
