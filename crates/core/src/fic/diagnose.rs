//! Which of an app's FICs a presented assertion matches, or why none does.
//!
//! Entra matches exactly and case-sensitively on issuer, subject and audience. The one
//! translation it makes is the audience: a managed identity token carries the token-exchange
//! app's GUID as `aud` ([`crate::cloud::TOKEN_EXCHANGE_APP_ID`], `cloud.exchange_app_id`), which
//! Entra maps to the URI the FIC lists (`api://AzureADTokenExchange`). [`diagnose`] does the
//! same, and for every FIC that does not match says field by field how far off it is, nearest
//! miss first.

use crate::cloud::{Cloud, CloudKind, exchange_audience_cloud};
use crate::fic::guid::is_guid;
use crate::fic::model::{Fic, Field};
use crate::jwt::Jwt;

/// What the assertion presents, as Entra reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Presented {
    pub issuer: String,
    pub subject: String,
    /// `aud` as in the token (a string or each element of an array).
    pub audiences: Vec<String>,
    /// `audiences` with the exchange app's GUID replaced by the cloud's exchange URI.
    pub effective_audiences: Vec<String>,
    /// `azp` (v2) or `appid` (v1): for a managed identity, its client id.
    pub client_id: Option<String>,
    /// `tid`, when present.
    pub tenant_id: Option<String>,
}

impl Presented {
    pub fn from_jwt(jwt: &Jwt, cloud: &Cloud) -> Presented {
        let audiences = jwt.audiences();
        Presented {
            issuer: jwt.str_claim("iss").unwrap_or_default().to_string(),
            subject: jwt.str_claim("sub").unwrap_or_default().to_string(),
            effective_audiences: audiences
                .iter()
                .map(|a| effective_audience(a, cloud))
                .collect(),
            audiences,
            client_id: jwt.client_id().map(str::to_string),
            tenant_id: jwt.str_claim("tid").map(str::to_string),
        }
    }
}

/// The audience Entra compares with a FIC: the exchange app's GUID becomes the URI.
pub fn effective_audience(aud: &str, cloud: &Cloud) -> String {
    if cloud.exchange_app_id.as_deref() == Some(aud) {
        cloud.exchange_audience.clone()
    } else {
        aud.to_string()
    }
}

/// How a FIC's value differs from the token's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    Same,
    /// Equal but for letter case; `position` is the first differing character (1-based).
    CaseOnly {
        position: usize,
    },
    /// Equal once whitespace or invisible characters around or inside the FIC's value go.
    Whitespace,
    /// Equal but for a trailing `/`; `in_fic` says which side has it.
    TrailingSlash {
        in_fic: bool,
    },
    /// The FIC's subject is the token's `azp`/`appid` (the identity's client id), while the
    /// token's `sub` is its principal id.
    ClientIdAsSubject,
    /// Both are GUIDs, different ones.
    DifferentGuid,
    /// Both are Entra issuers of the same cloud and tenant, written differently (the v1
    /// `sts.windows.net` form, a login-host alias, a domain name for the tenant).
    IssuerForm,
    /// Both are Entra issuers of the same cloud, for different tenants.
    OtherTenant {
        fic_tenant: String,
        token_tenant: String,
    },
    /// Both are Entra issuers, of different clouds.
    OtherCloud {
        fic_cloud: CloudKind,
        token_cloud: CloudKind,
    },
    /// The FIC lists another cloud's exchange audience.
    OtherCloudAudience {
        fic_cloud: CloudKind,
    },
    /// The FIC lists the exchange app's GUID; Entra compares the URI form.
    GuidAudience,
    /// Anything else; `position` is the first differing character (1-based).
    Different {
        position: usize,
    },
}

impl Difference {
    /// 0 for a match; 1 for a near miss (one small edit); 2 for the wrong id, tenant or cloud;
    /// 3 for an unrelated value.
    pub fn distance(&self) -> u8 {
        match self {
            Difference::Same => 0,
            Difference::CaseOnly { .. }
            | Difference::Whitespace
            | Difference::TrailingSlash { .. }
            | Difference::ClientIdAsSubject
            | Difference::IssuerForm
            | Difference::GuidAudience => 1,
            Difference::DifferentGuid
            | Difference::OtherTenant { .. }
            | Difference::OtherCloud { .. }
            | Difference::OtherCloudAudience { .. } => 2,
            Difference::Different { .. } => 3,
        }
    }
}

/// One field of one FIC against the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldComparison {
    pub field: Field,
    /// What the FIC says (for audiences, the one nearest the token's).
    pub fic_value: String,
    /// What the token presents (for audiences, after the GUID-to-URI mapping).
    pub token_value: String,
    pub difference: Difference,
    /// The difference in words, with what to change.
    pub explanation: String,
}

impl FieldComparison {
    pub fn matches(&self) -> bool {
        self.difference == Difference::Same
    }
}

/// One FIC against the token: issuer, subject and audience, in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FicComparison {
    /// Index into the `fics` passed to [`diagnose`].
    pub index: usize,
    pub name: String,
    pub fields: Vec<FieldComparison>,
}

impl FicComparison {
    pub fn is_match(&self) -> bool {
        self.fields.iter().all(FieldComparison::matches)
    }

    pub fn mismatches(&self) -> impl Iterator<Item = &FieldComparison> {
        self.fields.iter().filter(|f| !f.matches())
    }

    pub fn field(&self, field: Field) -> Option<&FieldComparison> {
        self.fields.iter().find(|f| f.field == field)
    }

    fn rank(&self) -> (usize, u32, usize) {
        let count = self.mismatches().count();
        let weight = self
            .fields
            .iter()
            .map(|f| u32::from(f.difference.distance()))
            .sum();
        (count, weight, self.index)
    }
}

/// The verdict on one assertion against one app's FICs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub presented: Presented,
    /// The FIC Entra would match (the first, if several do), as an index into `fics`.
    pub matched: Option<usize>,
    /// Every FIC compared, nearest first (a match, if any, comes first).
    pub comparisons: Vec<FicComparison>,
}

impl Diagnosis {
    pub fn matched_fic<'a>(&self, fics: &'a [Fic]) -> Option<&'a Fic> {
        self.matched.and_then(|i| fics.get(i))
    }

    /// The nearest FIC that does not match.
    pub fn nearest_miss(&self) -> Option<&FicComparison> {
        self.comparisons.iter().find(|c| !c.is_match())
    }

    /// The AADSTS code Entra answers this assertion with, following its order of checks:
    /// no FICs 70025; no FIC with this issuer 700211; subject differs only in case 7002138;
    /// otherwise subject 700213; audience 700212. `None` when a FIC matches.
    pub fn expected_error_code(&self) -> Option<u32> {
        if self.matched.is_some() {
            return None;
        }
        if self.comparisons.is_empty() {
            return Some(70025);
        }
        let same_issuer: Vec<&FicComparison> = self
            .comparisons
            .iter()
            .filter(|c| c.field(Field::Issuer).is_some_and(FieldComparison::matches))
            .collect();
        if same_issuer.is_empty() {
            return Some(700211);
        }
        let subject_ok = |c: &&FicComparison| {
            c.field(Field::Subject)
                .is_some_and(FieldComparison::matches)
        };
        if !same_issuer.iter().any(subject_ok) {
            let case_only = same_issuer.iter().any(|c| {
                c.field(Field::Subject)
                    .is_some_and(|f| matches!(f.difference, Difference::CaseOnly { .. }))
            });
            return Some(if case_only { 7002138 } else { 700213 });
        }
        Some(700212)
    }

    /// One line for a status bar: which FIC matched, or the nearest miss and its first fault.
    pub fn summary(&self) -> String {
        if let Some(first) = self.comparisons.first().filter(|c| c.is_match()) {
            return format!("matches the credential '{}'", first.name);
        }
        match self.nearest_miss() {
            None => "the app has no federated credentials: create one for this issuer and subject"
                .into(),
            Some(miss) => {
                let fault = miss
                    .mismatches()
                    .next()
                    .map(|f| format!("{}: {}", f.field, f.explanation))
                    .unwrap_or_default();
                format!(
                    "no credential matches; nearest is '{}' ({fault})",
                    miss.name
                )
            }
        }
    }
}

fn first_difference(a: &str, b: &str, fold_case: bool) -> usize {
    let mut position = 1;
    let mut left = a.chars();
    let mut right = b.chars();
    loop {
        match (left.next(), right.next()) {
            (Some(x), Some(y)) => {
                let same = if fold_case {
                    x.to_lowercase().eq(y.to_lowercase())
                } else {
                    x == y
                };
                if !same {
                    return position;
                }
            }
            (None, None) => return position,
            _ => return position,
        }
        position += 1;
    }
}

fn char_at(text: &str, position: usize) -> String {
    match text.chars().nth(position.saturating_sub(1)) {
        Some(c) => format!("{c:?}"),
        None => "nothing".into(),
    }
}

/// Invisible characters: zero-width, BOM, soft hyphen, bidi controls, control characters.
fn strip_blank(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !(c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
                ))
        })
        .collect()
}

/// Compares one field. `presented` gives the context the subject and issuer rules need.
pub fn compare_field(
    field: Field,
    fic_value: &str,
    token_value: &str,
    presented: &Presented,
    cloud: &Cloud,
) -> FieldComparison {
    let (difference, explanation) = describe(field, fic_value, token_value, presented, cloud);
    FieldComparison {
        field,
        fic_value: fic_value.to_string(),
        token_value: token_value.to_string(),
        difference,
        explanation,
    }
}

fn describe(
    field: Field,
    fic: &str,
    token: &str,
    presented: &Presented,
    cloud: &Cloud,
) -> (Difference, String) {
    let what = field.label();
    if fic == token {
        return (Difference::Same, format!("the {what} matches exactly"));
    }
    if field == Field::Subject
        && presented
            .client_id
            .as_deref()
            .is_some_and(|azp| !azp.is_empty() && azp.eq_ignore_ascii_case(fic.trim()))
    {
        return (
            Difference::ClientIdAsSubject,
            format!(
                "the subject is the identity's client id (the token's azp); the token's sub is its principal id {token}: set the subject to that"
            ),
        );
    }
    if field == Field::Issuer
        && let (Some(f), Some(t)) = (
            cloud.recognise_entra_issuer(fic),
            cloud.recognise_entra_issuer(token),
        )
    {
        if f.cloud != t.cloud {
            return (
                Difference::OtherCloud {
                    fic_cloud: f.cloud,
                    token_cloud: t.cloud,
                },
                format!(
                    "the credential trusts the {} cloud's Entra, the token comes from the {} cloud: set the issuer to {token}",
                    f.cloud, t.cloud
                ),
            );
        }
        if !f.tenant.eq_ignore_ascii_case(&t.tenant) {
            return (
                Difference::OtherTenant {
                    fic_tenant: f.tenant.clone(),
                    token_tenant: t.tenant.clone(),
                },
                format!(
                    "the credential trusts tenant {}, the token was issued in tenant {}: set the issuer to {token}",
                    f.tenant, t.tenant
                ),
            );
        }
    }
    if field == Field::Audiences {
        if let Some(fic_cloud) = exchange_audience_cloud(fic)
            && exchange_audience_cloud(token).is_some_and(|t| t != fic_cloud)
        {
            return (
                Difference::OtherCloudAudience { fic_cloud },
                format!(
                    "the credential lists the {fic_cloud} cloud's exchange audience, the token is for {token}: set the audience to {token}"
                ),
            );
        }
        if cloud
            .exchange_app_id
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(fic.trim()))
        {
            return (
                Difference::GuidAudience,
                format!(
                    "the credential lists the exchange app's GUID; Entra compares the URI form it maps the token's aud to: set the audience to {}",
                    cloud.exchange_audience
                ),
            );
        }
    }
    if strip_blank(fic) == token {
        return (
            Difference::Whitespace,
            format!(
                "the credential's {what} has whitespace or invisible characters the token's has not: remove them"
            ),
        );
    }
    if fic.trim_end_matches('/') == token.trim_end_matches('/') {
        let in_fic = fic.ends_with('/');
        let explanation = if in_fic {
            format!("the credential's {what} ends with '/', the token's does not: remove the slash")
        } else {
            format!("the token's {what} ends with '/', the credential's does not: add the slash")
        };
        return (Difference::TrailingSlash { in_fic }, explanation);
    }
    if fic.to_lowercase() == token.to_lowercase() {
        let position = first_difference(fic, token, false);
        return (
            Difference::CaseOnly { position },
            format!(
                "the {what} differs only in letter case, first at character {position} ({} in the credential, {} in the token); Entra compares exactly: use the token's spelling",
                char_at(fic, position),
                char_at(token, position)
            ),
        );
    }
    if field == Field::Issuer
        && let (Some(f), Some(t)) = (
            cloud.recognise_entra_issuer(fic),
            cloud.recognise_entra_issuer(token),
        )
        && f.cloud == t.cloud
    {
        let form = if f.v1 && !t.v1 {
            "the v1 form (no /v2.0)"
        } else {
            "a different spelling of the same Entra issuer"
        };
        return (
            Difference::IssuerForm,
            format!(
                "the credential has {form}; Entra compares the exact string the token carries: set the issuer to {token}"
            ),
        );
    }
    if is_guid(fic.trim()) && is_guid(token) {
        let hint = if field == Field::Subject {
            " (is it another identity's principal id, or an app's id?)"
        } else {
            ""
        };
        return (
            Difference::DifferentGuid,
            format!(
                "a different GUID: the credential has {fic}, the token {token}{hint}: set it to {token}"
            ),
        );
    }
    let position = first_difference(fic, token, false);
    (
        Difference::Different { position },
        format!(
            "the {what} differs from character {position} ({} in the credential, {} in the token): set it to {token}",
            char_at(fic, position),
            char_at(token, position)
        ),
    )
}

fn compare_audiences(fic: &Fic, presented: &Presented, cloud: &Cloud) -> FieldComparison {
    let token_auds: &[String] = &presented.effective_audiences;
    let fic_auds: Vec<&str> = if fic.audiences.is_empty() {
        vec![""]
    } else {
        fic.audiences.iter().map(String::as_str).collect()
    };
    let tokens: Vec<&str> = if token_auds.is_empty() {
        vec![""]
    } else {
        token_auds.iter().map(String::as_str).collect()
    };
    let mut best: Option<FieldComparison> = None;
    for f in &fic_auds {
        for t in &tokens {
            let candidate = compare_field(Field::Audiences, f, t, presented, cloud);
            let better = best
                .as_ref()
                .is_none_or(|b| candidate.difference.distance() < b.difference.distance());
            if better {
                best = Some(candidate);
            }
        }
    }
    let mut best =
        best.unwrap_or_else(|| compare_field(Field::Audiences, "", "", presented, cloud));
    if !best.matches()
        && best.fic_value == cloud.exchange_audience
        && presented.audiences.iter().any(|a| is_guid(a))
        && cloud.exchange_app_id.is_none()
    {
        best.explanation.push_str(
            "; the token's aud is a GUID and this cloud's exchange-app GUID is not known to ficus, so it was not mapped",
        );
    }
    best
}

/// Compares one FIC with what the token presents.
pub fn compare_fic(index: usize, fic: &Fic, presented: &Presented, cloud: &Cloud) -> FicComparison {
    FicComparison {
        index,
        name: fic.name.clone(),
        fields: vec![
            compare_field(
                Field::Issuer,
                &fic.issuer,
                &presented.issuer,
                presented,
                cloud,
            ),
            compare_field(
                Field::Subject,
                &fic.subject,
                &presented.subject,
                presented,
                cloud,
            ),
            compare_audiences(fic, presented, cloud),
        ],
    }
}

/// Diagnoses an assertion against an app's FICs. See the module docs for the matching rules.
pub fn diagnose(assertion: &Jwt, fics: &[Fic], cloud: &Cloud) -> Diagnosis {
    diagnose_presented(Presented::from_jwt(assertion, cloud), fics, cloud)
}

/// [`diagnose`] for values already taken out of a token (or out of an AADSTS message).
pub fn diagnose_presented(presented: Presented, fics: &[Fic], cloud: &Cloud) -> Diagnosis {
    let mut comparisons: Vec<FicComparison> = fics
        .iter()
        .enumerate()
        .map(|(i, fic)| compare_fic(i, fic, &presented, cloud))
        .collect();
    comparisons.sort_by_key(FicComparison::rank);
    let matched = comparisons
        .first()
        .filter(|c| c.is_match())
        .map(|c| c.index);
    Diagnosis {
        presented,
        matched,
        comparisons,
    }
}
