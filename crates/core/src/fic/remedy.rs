//! What to do when no FIC matches an assertion: fix a FIC that was meant for this token, or,
//! when the token belongs to a workload the app does not trust, add a FIC for it or test with
//! the workload the app does trust.
//!
//! The distinction matters because a FIC whose subject is the principal id of another real
//! identity, or whose issuer is another valid issuer, is a *working* trust for something else:
//! "correcting" it to the presented token breaks that workload and proves nothing. Only a FIC
//! whose differences are spellings of this token's own values (case, whitespace, a slash, the
//! client id for the principal id, another cloud's audience, …) or whose values name nothing
//! known is offered for editing.

use serde::Serialize;

use crate::cloud::Cloud;
use crate::fic::autofill::{description_for, fic_name_for};
use crate::fic::diagnose::{Diagnosis, Difference, FicComparison, Presented};
use crate::fic::model::{AppRef, Fic, Field, Identity};
use crate::fic::names::{NAME_MAX, sanitize_name, unique_name};

/// What the remedies may know besides the app's FICs. Only `cloud` is required; each other
/// piece sharpens the verdict.
#[derive(Debug, Clone, Copy)]
pub struct TrustContext<'a> {
    pub cloud: &'a Cloud,
    /// The app's tenant id: an Entra issuer of this tenant is the right one for its FICs.
    pub tenant_id: Option<&'a str>,
    /// The app, to describe an added FIC.
    pub app: Option<&'a AppRef>,
    /// Every identity ficus knows, to recognise whose principal id a subject is.
    pub identities: &'a [Identity],
}

impl<'a> TrustContext<'a> {
    pub fn new(cloud: &'a Cloud) -> TrustContext<'a> {
        TrustContext {
            cloud,
            tenant_id: None,
            app: None,
            identities: &[],
        }
    }

    pub fn with_tenant(mut self, tenant_id: &'a str) -> Self {
        self.tenant_id = Some(tenant_id).filter(|t| !t.trim().is_empty());
        self
    }

    pub fn with_app(mut self, app: &'a AppRef) -> Self {
        self.app = Some(app);
        self
    }

    pub fn with_identities(mut self, identities: &'a [Identity]) -> Self {
        self.identities = identities;
        self
    }

    fn by_principal(&self, id: &str) -> Option<&'a Identity> {
        let id = id.trim();
        self.identities
            .iter()
            .find(|i| !id.is_empty() && i.principal_id.trim() == id)
    }

    fn by_client_id(&self, id: &str) -> Option<&'a Identity> {
        let id = id.trim();
        self.identities
            .iter()
            .find(|i| !id.is_empty() && i.client_id.trim().eq_ignore_ascii_case(id))
    }
}

/// One field to change in a FIC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    pub field: Field,
    /// The FIC's value now.
    pub from: String,
    /// The value the token needs.
    pub to: String,
    /// The difference in words.
    pub why: String,
}

/// What to do about an assertion no FIC matches. [`Diagnosis::remedies`] lists them best
/// first; the others are alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Remedy {
    /// The FIC was meant for this token and is misspelled: change these fields (the first is
    /// the one Entra reports).
    #[serde(rename_all = "camelCase")]
    EditField {
        fic_index: usize,
        fic_name: String,
        changes: Vec<FieldChange>,
    },
    /// The app trusts nothing for this token: add this FIC (auto-filled from the token, and
    /// from the identity when it is known). Also the answer to AADSTS70025 (no FICs at all).
    #[serde(rename_all = "camelCase")]
    AddFic {
        draft: Fic,
        /// The identity the token belongs to, when known.
        identity: Option<Identity>,
    },
    /// The FIC is a working trust for another workload: test with that one instead, and leave
    /// the FIC as it is.
    #[serde(rename_all = "camelCase")]
    UseTrustedIdentity {
        fic_index: usize,
        fic_name: String,
        /// The identity the FIC trusts, when known.
        identity: Option<Identity>,
        issuer: String,
        subject: String,
    },
}

impl Remedy {
    /// One sentence for a person.
    pub fn sentence(&self) -> String {
        match self {
            Remedy::EditField {
                fic_name, changes, ..
            } => {
                let parts: Vec<String> = changes
                    .iter()
                    .map(|c| format!("set the {} to {} (now {})", c.field, c.to, c.from))
                    .collect();
                format!("In the credential '{fic_name}', {}.", parts.join("; "))
            }
            Remedy::AddFic { draft, identity } => {
                let who = identity
                    .as_ref()
                    .map(|i| format!(" for {}", i.name))
                    .unwrap_or_else(|| " for this token".to_string());
                format!(
                    "Add a credential{who}: name {}, issuer {}, subject {}, audience {}.",
                    draft.name,
                    draft.issuer,
                    draft.subject,
                    draft.audiences.join(", ")
                )
            }
            Remedy::UseTrustedIdentity {
                fic_name,
                identity,
                issuer,
                subject,
                ..
            } => match identity {
                Some(i) => format!(
                    "The credential '{fic_name}' is the app's trust for {} (its principal id {subject}): test with {} instead; leave the credential as it is.",
                    i.name, i.name
                ),
                None => format!(
                    "The credential '{fic_name}' trusts another workload (issuer {issuer}, subject {subject}): test with that workload's token instead; leave the credential as it is."
                ),
            },
        }
    }
}

/// How one FIC relates to the presented token.
enum Relation {
    /// Meant for this token, misspelled: every difference is a variant of the token's value.
    Misspelled,
    /// Unrelated values that name nothing known: editing it is a guess.
    Unknown,
    /// A trust for another workload (another identity, issuer, tenant or cloud).
    OtherWorkload(Option<Identity>),
}

fn is_spelling(difference: &Difference) -> bool {
    matches!(
        difference,
        Difference::Same
            | Difference::CaseOnly { .. }
            | Difference::Whitespace
            | Difference::TrailingSlash { .. }
            | Difference::ClientIdAsSubject
            | Difference::IssuerForm
            | Difference::GuidAudience
            | Difference::OtherCloudAudience { .. }
    )
}

/// Whether the FIC's issuer is a right one for the app, so that a token of another issuer is
/// the foreign one.
fn issuer_is_valid(fic: &Fic, ctx: &TrustContext<'_>) -> bool {
    let issuer = fic.issuer.trim();
    match ctx.cloud.recognise_entra_issuer(issuer) {
        Some(entra) => {
            let own_cloud = entra.cloud == ctx.cloud.kind;
            let tenant_ok = match ctx.tenant_id {
                Some(tenant) => entra.tenant == tenant.trim(),
                // Without the app's tenant: valid when a known identity lives there.
                None => ctx
                    .identities
                    .iter()
                    .any(|i| i.tenant_id.as_deref().map(str::trim) == Some(entra.tenant.as_str())),
            };
            own_cloud && tenant_ok && entra.canonical
        }
        // Another identity provider (GitHub, Kubernetes, Google…): always https.
        None => issuer.starts_with("https://") && !issuer.contains(char::is_whitespace),
    }
}

fn relation(comparison: &FicComparison, fic: &Fic, ctx: &TrustContext<'_>) -> Relation {
    let field = |f: Field| comparison.field(f).map(|c| &c.difference);
    let issuer = field(Field::Issuer);
    let subject = field(Field::Subject);
    // The subject names another identity ficus knows (its principal id or, misspelled, its
    // client id): the FIC is that identity's trust, working or not.
    if let Some(difference) = subject
        && !is_spelling(difference)
    {
        let other = ctx
            .by_principal(&fic.subject)
            .or_else(|| ctx.by_client_id(&fic.subject));
        if let Some(other) = other {
            return Relation::OtherWorkload(Some(other.clone()));
        }
    }
    if let Some(difference) = issuer
        && !is_spelling(difference)
        && issuer_is_valid(fic, ctx)
    {
        return Relation::OtherWorkload(ctx.by_principal(&fic.subject).cloned());
    }
    // It names this token's subject (or a spelling of it) under no other valid issuer: it was
    // meant for this token.
    if subject.is_some_and(is_spelling) {
        return Relation::Misspelled;
    }
    Relation::Unknown
}

fn edit(comparison: &FicComparison) -> Remedy {
    Remedy::EditField {
        fic_index: comparison.index,
        fic_name: comparison.name.clone(),
        changes: comparison
            .mismatches()
            .map(|m| FieldChange {
                field: m.field,
                from: m.fic_value.clone(),
                to: m.token_value.clone(),
                why: m.explanation.clone(),
            })
            .collect(),
    }
}

/// The FIC that trusts `presented`, auto-filled: the token's issuer, subject and (mapped)
/// audience; a name and description from the identity when it is known.
pub fn fic_for_presented(presented: &Presented, fics: &[Fic], ctx: &TrustContext<'_>) -> Fic {
    let identity = ctx.by_principal(&presented.subject);
    let issuer = if presented.issuer.trim().is_empty() {
        ctx.tenant_id
            .map(|t| ctx.cloud.issuer(t.trim()))
            .unwrap_or_default()
    } else {
        presented.issuer.clone()
    };
    let audience = presented
        .effective_audiences
        .first()
        .cloned()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| ctx.cloud.exchange_audience.clone());
    let name = match identity {
        Some(i) => fic_name_for(i, fics),
        None => {
            let stem: String = sanitize_name(&presented.subject)
                .chars()
                .take(NAME_MAX - 4)
                .collect();
            unique_name(&format!("fic-{}", stem.trim_end_matches('-')), fics)
        }
    };
    Fic {
        id: None,
        name,
        issuer,
        subject: presented.subject.clone(),
        audiences: vec![audience],
        description: identity
            .zip(ctx.app)
            .map(|(i, app)| description_for(app, i)),
    }
}

/// An Entra token from another tenant than the app's: Entra refuses a FIC for it
/// (AADSTS700236), so adding one is no remedy.
fn from_another_tenant(presented: &Presented, ctx: &TrustContext<'_>) -> bool {
    let Some(tenant) = ctx.tenant_id.map(str::trim) else {
        return false;
    };
    let token_tenant = presented.tenant_id.clone().or_else(|| {
        ctx.cloud
            .recognise_entra_issuer(&presented.issuer)
            .map(|i| i.tenant)
    });
    token_tenant.is_some_and(|t| !t.eq_ignore_ascii_case(tenant))
        && ctx
            .cloud
            .recognise_entra_issuer(&presented.issuer)
            .is_some()
}

impl Diagnosis {
    /// What to do, best first; empty when a FIC matches.
    ///
    /// - A FIC meant for this token and misspelled: [`Remedy::EditField`], alone.
    /// - Otherwise [`Remedy::AddFic`] (unless the token is from another tenant, which Entra
    ///   refuses), then [`Remedy::EditField`] for a FIC whose values name nothing known (a
    ///   guess: it may be a stale id), then [`Remedy::UseTrustedIdentity`] for each FIC that is
    ///   a working trust for another identity or issuer. Such a FIC is never offered for
    ///   editing.
    /// - No FICs at all (AADSTS70025): [`Remedy::AddFic`].
    pub fn remedies(&self, fics: &[Fic], ctx: &TrustContext<'_>) -> Vec<Remedy> {
        if self.matched.is_some() {
            return Vec::new();
        }
        let add = || Remedy::AddFic {
            draft: fic_for_presented(&self.presented, fics, ctx),
            identity: ctx.by_principal(&self.presented.subject).cloned(),
        };
        let mut unknown = Vec::new();
        let mut others: Vec<Remedy> = Vec::new();
        for comparison in self.comparisons.iter().filter(|c| !c.is_match()) {
            let Some(fic) = fics.get(comparison.index) else {
                continue;
            };
            match relation(comparison, fic, ctx) {
                Relation::Misspelled => return vec![edit(comparison)],
                Relation::Unknown => unknown.push(edit(comparison)),
                Relation::OtherWorkload(identity) => {
                    let duplicate = others.iter().any(|r| {
                        matches!(r, Remedy::UseTrustedIdentity { issuer, subject, .. }
                            if *issuer == fic.issuer && *subject == fic.subject)
                    });
                    if !duplicate {
                        others.push(Remedy::UseTrustedIdentity {
                            fic_index: comparison.index,
                            fic_name: comparison.name.clone(),
                            identity,
                            issuer: fic.issuer.clone(),
                            subject: fic.subject.clone(),
                        });
                    }
                }
            }
        }
        let mut out = Vec::new();
        if !from_another_tenant(&self.presented, ctx) && !self.presented.subject.is_empty() {
            out.push(add());
        }
        out.extend(unknown.into_iter().take(1));
        out.extend(others);
        out
    }

    /// The FICs (indices into `fics`) that are working trusts for another workload: never to
    /// be "corrected" to this token.
    pub fn trusts_for_others(&self, fics: &[Fic], ctx: &TrustContext<'_>) -> Vec<usize> {
        self.comparisons
            .iter()
            .filter(|c| !c.is_match())
            .filter(|c| {
                fics.get(c.index)
                    .is_some_and(|fic| matches!(relation(c, fic, ctx), Relation::OtherWorkload(_)))
            })
            .map(|c| c.index)
            .collect()
    }
}
