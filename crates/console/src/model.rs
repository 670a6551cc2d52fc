//! The console's own view-model rows. The effects runner converts whatever the Graph client
//! returns into these, so only the runner depends on `entra/`'s exact types; `update` and the
//! views see nothing else. Every string that came from the tenant passes through core's
//! `ficus_core::text::sanitize` in `update` before it is stored.

use ficus_core::text::{sanitize, sanitize_in_place};
use time::{Duration, OffsetDateTime};

/// Who can sign in to an app, from Graph's `signInAudience`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Audience {
    /// `AzureADMyOrg`
    Single,
    /// `AzureADMultipleOrgs`
    Multi,
    /// `AzureADandPersonalMicrosoftAccount`
    MultiAndPersonal,
    /// `PersonalMicrosoftAccount`
    PersonalOnly,
    Other(String),
}

impl Audience {
    pub fn from_graph(value: &str) -> Audience {
        match value {
            "AzureADMyOrg" => Audience::Single,
            "AzureADMultipleOrgs" => Audience::Multi,
            "AzureADandPersonalMicrosoftAccount" => Audience::MultiAndPersonal,
            "PersonalMicrosoftAccount" => Audience::PersonalOnly,
            other => Audience::Other(sanitize(other).into_owned()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Audience::Single => "single tenant",
            Audience::Multi => "multitenant",
            Audience::MultiAndPersonal => "multi + personal",
            Audience::PersonalOnly => "personal only",
            Audience::Other(other) => other,
        }
    }

    pub fn is_multitenant(&self) -> bool {
        matches!(self, Audience::Multi | Audience::MultiAndPersonal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Secret,
    Certificate,
}

impl CredentialKind {
    pub fn label(self) -> &'static str {
        match self {
            CredentialKind::Secret => "secret",
            CredentialKind::Certificate => "certificate",
        }
    }
}

/// Certificates of every app that has any, by app object id (the directory's certificate
/// index, joined into the Apps list's rows by id).
pub type CertificatesByApp = std::sync::Arc<std::collections::HashMap<String, Vec<Credential>>>;

/// A client secret or certificate of an app (never its value: Graph does not return it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub kind: CredentialKind,
    pub name: String,
    pub key_id: String,
    pub expires: Option<OffsetDateTime>,
}

/// How close a credential is to expiring; the flag is a word and a glyph, not only a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpiryFlag {
    Expired,
    Soon,
    Fine,
}

/// Within this many days a credential is flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

pub fn expiry_flag(expires: OffsetDateTime, now: OffsetDateTime) -> ExpiryFlag {
    if expires <= now {
        ExpiryFlag::Expired
    } else if expires - now <= Duration::days(EXPIRY_WARNING_DAYS) {
        ExpiryFlag::Soon
    } else {
        ExpiryFlag::Fine
    }
}

/// One app registration in the Apps list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    /// The application object's `id` (what Graph URLs use).
    pub object_id: String,
    /// The `appId` (client id).
    pub app_id: String,
    pub name: String,
    /// `None` until known (Graph can list apps without their FICs).
    pub fic_count: Option<usize>,
    /// The subjects of its FICs, when the list brought them (the Identities list's
    /// `trusted:` counts come from these).
    pub fic_subjects: Option<Vec<String>>,
    pub credentials: Vec<Credential>,
    pub audience: Audience,
}

impl AppRow {
    /// The credential that expires first (expired ones included), if any has an end date.
    pub fn nearest_expiry(&self) -> Option<&Credential> {
        self.credentials
            .iter()
            .filter(|c| c.expires.is_some())
            .min_by_key(|c| c.expires)
    }

    pub fn sanitize(&mut self) {
        sanitize_in_place(&mut self.object_id);
        sanitize_in_place(&mut self.app_id);
        sanitize_in_place(&mut self.name);
        for subject in self.fic_subjects.iter_mut().flatten() {
            sanitize_in_place(subject);
        }
        for credential in &mut self.credentials {
            sanitize_in_place(&mut credential.name);
            sanitize_in_place(&mut credential.key_id);
        }
    }
}

pub use ficus_core::fic::{Identity, IdentityKind};

/// One managed identity in the Identities list: core's [`Identity`] (what it is) and what
/// the list shows beside it (how many apps trust it). Reads as an `Identity` (`row.name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub identity: Identity,
    /// How many apps have a FIC naming this identity as subject, from the FICs the Apps list
    /// brought; `None` until every app has loaded (`trusted:0` must not guess).
    pub trusted_by: Option<usize>,
}

impl std::ops::Deref for IdentityRow {
    type Target = Identity;
    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl std::ops::DerefMut for IdentityRow {
    fn deref_mut(&mut self) -> &mut Identity {
        &mut self.identity
    }
}

impl IdentityRow {
    pub fn new(identity: Identity) -> IdentityRow {
        IdentityRow {
            identity,
            trusted_by: None,
        }
    }

    /// The row for an identity, its resource group and subscription read from its ARM id
    /// when Graph did not give them.
    pub fn from_identity(identity: &Identity) -> IdentityRow {
        let arm = identity
            .arm_id
            .as_deref()
            .and_then(ficus_core::fic::ArmId::parse);
        let mut identity = identity.clone();
        if identity.resource_group.is_none() {
            identity.resource_group = arm.as_ref().and_then(|a| a.resource_group.clone());
        }
        if identity.subscription.is_none() {
            identity.subscription = arm.as_ref().map(|a| a.subscription.clone());
        }
        IdentityRow::new(identity)
    }

    pub fn usable_for_fic(&self) -> bool {
        self.kind == IdentityKind::UserAssigned
    }

    pub fn sanitize(&mut self) {
        let identity = &mut self.identity;
        sanitize_in_place(&mut identity.name);
        sanitize_in_place(&mut identity.client_id);
        sanitize_in_place(&mut identity.principal_id);
        for field in [
            &mut identity.resource_group,
            &mut identity.subscription,
            &mut identity.arm_id,
            &mut identity.tenant_id,
        ]
        .into_iter()
        .flatten()
        {
            sanitize_in_place(field);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    /// The glyph and word that carry the meaning without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Severity::Error => "✗",
            Severity::Warning => "!",
            Severity::Info => "i",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        }
    }
}

/// One finding of `fic::rules` about a FIC, already in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Which field it is about (`issuer`, `subject`, `audiences`…).
    pub field: String,
    pub message: String,
    /// `fic::rules` offers a corrected value (App detail's `f` applies it).
    pub fixable: bool,
}

/// A FIC as the App detail shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FicRow {
    /// The FIC cleaned for the terminal: what the screens show.
    pub fic: ficus_core::fic::Fic,
    /// The FIC as stored, when cleaning changed it ([`FicRow::stored`]): exports and edits
    /// start from it, never from the cleaned copy.
    pub raw: Option<Box<ficus_core::fic::Fic>>,
    /// The identity the subject names, when it is one ficus knows.
    pub subject_name: Option<String>,
    pub findings: Vec<Finding>,
}

impl FicRow {
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }

    /// The FIC as the directory stores it (exports and edits use this one).
    pub fn stored(&self) -> &ficus_core::fic::Fic {
        self.raw.as_deref().unwrap_or(&self.fic)
    }

    pub fn sanitize(&mut self) {
        let before = self.fic.clone();
        self.sanitize_shown();
        if self.raw.is_none() && before != self.fic {
            self.raw = Some(Box::new(before));
        }
    }

    fn sanitize_shown(&mut self) {
        let fic = &mut self.fic;
        sanitize_in_place(&mut fic.name);
        sanitize_in_place(&mut fic.issuer);
        sanitize_in_place(&mut fic.subject);
        fic.audiences.iter_mut().for_each(sanitize_in_place);
        if let Some(id) = &mut fic.id {
            sanitize_in_place(id);
        }
        if let Some(description) = &mut fic.description {
            sanitize_in_place(description);
        }
        if let Some(name) = &mut self.subject_name {
            sanitize_in_place(name);
        }
        // Findings quote tenant values (names, issuers) in their words.
        for finding in &mut self.findings {
            sanitize_in_place(&mut finding.message);
        }
    }
}

/// Everything the App detail screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDetail {
    pub app: AppRow,
    pub fics: Vec<FicRow>,
    pub identifier_uris: Vec<String>,
}

impl AppDetail {
    pub fn sanitize(&mut self) {
        self.app.sanitize();
        self.fics.iter_mut().for_each(FicRow::sanitize);
        self.identifier_uris.iter_mut().for_each(sanitize_in_place);
    }
}

/// An app whose FIC names this identity as subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRow {
    pub app_name: String,
    pub app_object_id: String,
    pub app_id: String,
    pub fic_name: String,
    pub findings: Vec<Finding>,
}

impl TrustRow {
    /// A trust is correct when no rule found an error or a warning.
    pub fn is_correct(&self) -> bool {
        self.findings.iter().all(|f| f.severity == Severity::Info)
    }
}

/// Everything the Identity detail screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDetail {
    pub identity: IdentityRow,
    pub trusted_by: Vec<TrustRow>,
    /// Set when the reverse lookup may be incomplete: Graph's query index lags behind writes.
    pub lag_note: Option<String>,
}

impl IdentityDetail {
    pub fn sanitize(&mut self) {
        self.identity.sanitize();
        if let Some(note) = &mut self.lag_note {
            sanitize_in_place(note);
        }
        for trust in &mut self.trusted_by {
            sanitize_in_place(&mut trust.app_name);
            sanitize_in_place(&mut trust.app_object_id);
            sanitize_in_place(&mut trust.app_id);
            sanitize_in_place(&mut trust.fic_name);
            for finding in &mut trust.findings {
                sanitize_in_place(&mut finding.message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiry_flags_expired_and_soon() {
        let now = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(
            expiry_flag(now - Duration::days(1), now),
            ExpiryFlag::Expired
        );
        assert_eq!(expiry_flag(now + Duration::days(29), now), ExpiryFlag::Soon);
        assert_eq!(expiry_flag(now + Duration::days(31), now), ExpiryFlag::Fine);
    }
}
