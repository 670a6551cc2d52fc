//! The console's own view-model rows. The effects runner converts whatever the Graph client
//! returns into these, so only the runner depends on `entra/`'s exact types; `update` and the
//! views see nothing else. Every string that came from the tenant passes through [`sanitize`]
//! in `update` before it is stored.

use std::borrow::Cow;
use time::{Duration, OffsetDateTime};

/// Removes what could drive the terminal instead of being shown: escape sequences (CSI, OSC,
/// DCS…), other C0/C1 control characters, DEL, and bidirectional overrides that can make text
/// read differently from what it is. Tabs and newlines become spaces: rows are one line.
pub fn sanitize(input: &str) -> Cow<'_, str> {
    if !input.chars().any(is_unsafe) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape_sequence(&mut chars),
            // C1 introducers (CSI, OSC, DCS, SOS, PM, APC) start sequences of their own.
            '\u{9b}' => skip_until_final(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_until_string_end(&mut chars)
            }
            '\t' | '\n' | '\r' => out.push(' '),
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Sanitizes in place, allocating only when something had to go.
pub fn sanitize_in_place(value: &mut String) {
    if let Cow::Owned(clean) = sanitize(value) {
        *value = clean;
    }
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_until_final(chars);
        }
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
            chars.next();
            skip_until_string_end(chars);
        }
        // Two-character escapes (ESC 7, ESC c, ESC ( B…): drop the next character too.
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte in `@`..=`~`.
fn skip_until_final(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            return;
        }
        if !(' '..='?').contains(&c) {
            // Not a well-formed sequence: stop here rather than eat the rest of the text.
            return;
        }
    }
}

/// OSC/DCS/…: up to BEL, ST (ESC \) or the C1 ST.
fn skip_until_string_end(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

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

/// "in 10 days", "3 hours ago", "in 2 years": coarse on purpose, this is for eyes.
pub fn relative_time(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let delta = at - now;
    let past = delta.is_negative();
    let secs = delta.whole_seconds().unsigned_abs();
    let (n, unit) = if secs < 60 {
        return if past {
            "just now".into()
        } else {
            "in less than a minute".into()
        };
    } else if secs < 3600 {
        (secs / 60, "minute")
    } else if secs < 86_400 {
        (secs / 3600, "hour")
    } else if secs < 86_400 * 60 {
        (secs / 86_400, "day")
    } else if secs < 86_400 * 730 {
        (secs / (86_400 * 30), "month")
    } else {
        (secs / (86_400 * 365), "year")
    };
    let plural = if n == 1 { "" } else { "s" };
    if past {
        format!("{n} {unit}{plural} ago")
    } else {
        format!("in {n} {unit}{plural}")
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
        for credential in &mut self.credentials {
            sanitize_in_place(&mut credential.name);
            sanitize_in_place(&mut credential.key_id);
        }
    }
}

pub use ficus_core::fic::IdentityKind;

/// One managed identity in the Identities list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub name: String,
    pub kind: IdentityKind,
    pub client_id: String,
    pub principal_id: String,
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
    pub arm_id: Option<String>,
    pub tenant_id: Option<String>,
}

impl IdentityRow {
    pub fn from_identity(identity: &ficus_core::fic::Identity) -> IdentityRow {
        let arm = identity
            .arm_id
            .as_deref()
            .and_then(ficus_core::fic::ArmId::parse);
        IdentityRow {
            name: identity.name.clone(),
            kind: identity.kind,
            client_id: identity.client_id.clone(),
            principal_id: identity.principal_id.clone(),
            resource_group: identity
                .resource_group
                .clone()
                .or_else(|| arm.as_ref().and_then(|a| a.resource_group.clone())),
            subscription: identity
                .subscription
                .clone()
                .or_else(|| arm.as_ref().map(|a| a.subscription.clone())),
            arm_id: identity.arm_id.clone(),
            tenant_id: identity.tenant_id.clone(),
        }
    }

    pub fn usable_for_fic(&self) -> bool {
        self.kind == IdentityKind::UserAssigned
    }

    pub fn sanitize(&mut self) {
        sanitize_in_place(&mut self.name);
        sanitize_in_place(&mut self.client_id);
        sanitize_in_place(&mut self.principal_id);
        for field in [
            &mut self.resource_group,
            &mut self.subscription,
            &mut self.arm_id,
            &mut self.tenant_id,
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
}

impl IdentityDetail {
    pub fn sanitize(&mut self) {
        self.identity.sanitize();
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
    fn sanitize_removes_escape_sequences_and_controls() {
        assert_eq!(sanitize("plain-name"), "plain-name");
        assert!(matches!(sanitize("plain"), Cow::Borrowed(_)));
        assert_eq!(sanitize("red\u{1b}[31mtext\u{1b}[0m"), "redtext");
        assert_eq!(sanitize("a\u{1b}]52;c;ZXZpbA==\u{7}b"), "ab");
        assert_eq!(sanitize("a\u{1b}]0;title\u{1b}\\b"), "ab");
        assert_eq!(sanitize("x\u{9b}2Jy"), "xy");
        assert_eq!(sanitize("tab\there\nnew"), "tab here new");
        assert_eq!(sanitize("bell\u{7}\u{7f}"), "bell");
        assert_eq!(sanitize("evil\u{202e}txt.exe"), "eviltxt.exe");
        assert_eq!(sanitize("ünïcødé ✓"), "ünïcødé ✓");
        assert_eq!(sanitize("trailing\u{1b}"), "trailing");
    }

    #[test]
    fn relative_time_reads_as_words() {
        let now = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(relative_time(now + Duration::days(10), now), "in 10 days");
        assert_eq!(relative_time(now - Duration::days(1), now), "1 day ago");
        assert_eq!(relative_time(now + Duration::hours(5), now), "in 5 hours");
        assert_eq!(
            relative_time(now + Duration::days(400), now),
            "in 13 months"
        );
        assert_eq!(relative_time(now + Duration::days(1000), now), "in 2 years");
        assert_eq!(relative_time(now - Duration::seconds(5), now), "just now");
    }

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
