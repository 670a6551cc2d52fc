//! Validation of a draft FIC: Graph's own rules, and the mistakes Entra saves without a word
//! and refuses only at exchange time.
//!
//! [`validate`] returns every finding at once, each with the field at fault, a message in plain
//! words that says what to do, and, where one exists, a [`Fix`] carrying the corrected value.
//!
//! # Severities
//!
//! An **error** is something that certainly makes Graph refuse the write or Entra refuse the
//! exchange: Graph's limits (name, lengths, one audience, 20 per app, uniqueness), whitespace
//! or invisible characters at either end or inside a URL, wildcards (matching is literal), a
//! trailing slash or a v1 form on an Entra issuer, an Entra issuer of another tenant or cloud,
//! a wrong exchange audience for an Entra issuer (another cloud's, the GUID form, case or
//! slash variants), a subject that is a client id or app id rather than the principal id, a
//! subject that is not the chosen identity's principal id (case included), a non-GUID subject
//! under an Entra issuer, and a system-assigned identity.
//!
//! A **warning** is suspicious but can be right: an issuer that is not `https://`, whitespace
//! inside a subject, a name that differs from an existing one only in case, a subject that is
//! another known identity's principal id when no identity was chosen, a tenant written as a
//! domain name when the tenant id is not known.

use crate::cloud::{Cloud, CloudKind, exchange_audience_cloud};
use crate::fic::guid::is_guid;
use crate::fic::model::{Fic, Field, Identity, IdentityKind};
// Re-exported: callers know these as `rules::…`; their home is `names` so that `autofill`
// can use them without importing `rules` (which uses `autofill`).
pub use crate::fic::names::{
    MAX_FICS_PER_APP, NAME_MAX, NAME_MIN, VALUE_MAX, graph_len, is_name_char, sanitize_name,
    truncate_graph, unique_name,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A corrected value for one field. For `Audiences` the value is the single audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub field: Field,
    pub value: String,
    /// What applying it does, for a button or key hint: `use the principal id of id-payments`.
    pub label: String,
}

impl Fix {
    fn new(field: Field, value: impl Into<String>, label: impl Into<String>) -> Fix {
        Fix {
            field,
            value: value.into(),
            label: label.into(),
        }
    }

    /// Writes the corrected value into `fic`. `App` and `Identity` fixes change nothing in
    /// the FIC itself.
    pub fn apply(&self, fic: &mut Fic) {
        match self.field {
            Field::Name => fic.name = self.value.clone(),
            Field::Issuer => fic.issuer = self.value.clone(),
            Field::Subject => fic.subject = self.value.clone(),
            Field::Audiences => fic.audiences = vec![self.value.clone()],
            Field::Description => fic.description = Some(self.value.clone()),
            Field::App | Field::Identity => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub field: Field,
    pub message: String,
    pub fix: Option<Fix>,
}

impl Finding {
    fn error(field: Field, message: impl Into<String>, fix: Option<Fix>) -> Finding {
        Finding {
            severity: Severity::Error,
            field,
            message: message.into(),
            fix,
        }
    }

    fn warning(field: Field, message: impl Into<String>, fix: Option<Fix>) -> Finding {
        Finding {
            severity: Severity::Warning,
            field,
            message: message.into(),
            fix,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `draft` with every fix of `findings` applied, in order (a later fix to the same field wins).
/// Re-validate the result: a fix can reveal a finding its field was hiding.
pub fn apply_fixes(draft: &Fic, findings: &[Finding]) -> Fic {
    let mut fixed = draft.clone();
    for fix in findings.iter().filter_map(|f| f.fix.as_ref()) {
        fix.apply(&mut fixed);
    }
    fixed
}

/// True when any finding is an error (the FIC must not be saved as is).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}

/// What is known while validating a draft. Only `cloud` and `tenant_id` are required; each
/// other piece turns on the rules that need it.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub cloud: &'a Cloud,
    /// The tenant id of the app (and of the identity, which must share it).
    pub tenant_id: &'a str,
    /// The managed identity the FIC is meant to trust.
    pub identity: Option<&'a Identity>,
    /// The app's application (client) id.
    pub app_id: Option<&'a str>,
    /// The app's saved FICs. A draft with an `id` is an edit and is not compared to itself.
    pub existing: &'a [Fic],
    /// Every identity ficus knows, to recognise a subject that is one of their ids.
    pub identities: &'a [Identity],
}

impl<'a> RuleContext<'a> {
    pub fn new(cloud: &'a Cloud, tenant_id: &'a str) -> RuleContext<'a> {
        RuleContext {
            cloud,
            tenant_id,
            identity: None,
            app_id: None,
            existing: &[],
            identities: &[],
        }
    }

    pub fn with_identity(mut self, identity: &'a Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    pub fn with_app_id(mut self, app_id: &'a str) -> Self {
        self.app_id = Some(app_id);
        self
    }

    pub fn with_existing(mut self, existing: &'a [Fic]) -> Self {
        self.existing = existing;
        self
    }

    pub fn with_identities(mut self, identities: &'a [Identity]) -> Self {
        self.identities = identities;
        self
    }

    fn expected_issuer(&self) -> String {
        self.cloud.issuer(self.tenant_id.trim())
    }
}

/// Characters that are invisible when pasted but break an exact match: zero-width spaces and
/// joiners, the byte order mark, soft hyphens, and bidi controls.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
    ) || c.is_control()
}

fn short(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() > MAX {
        let head: String = value.chars().take(MAX).collect();
        format!("'{head}…'")
    } else {
        format!("'{value}'")
    }
}

/// Validates a draft FIC and returns every finding, errors and warnings, in field order.
pub fn validate(draft: &Fic, ctx: &RuleContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let others: Vec<&Fic> = ctx
        .existing
        .iter()
        .filter(|f| match (&draft.id, &f.id) {
            (Some(mine), Some(theirs)) => mine != theirs,
            _ => true,
        })
        .collect();
    check_name(draft, &others, ctx, &mut findings);
    check_description(draft, &mut findings);
    let entra = check_issuer(draft, ctx, &mut findings);
    check_subject(draft, ctx, entra, &mut findings);
    check_audiences(draft, ctx, entra, &mut findings);
    check_identity(ctx, &mut findings);
    check_app(draft, &others, &mut findings);
    findings
}

fn suggested_name(ctx: &RuleContext<'_>, others: &[&Fic]) -> Option<String> {
    let identity = ctx.identity?;
    let owned: Vec<Fic> = others.iter().map(|f| (*f).clone()).collect();
    Some(crate::fic::autofill::fic_name_for(identity, &owned))
}

fn check_name(draft: &Fic, others: &[&Fic], ctx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let name = draft.name.as_str();
    let owned: Vec<Fic> = others.iter().map(|f| (*f).clone()).collect();
    let repaired = || unique_name(&sanitize_name(name), &owned);
    if name.trim().is_empty() {
        let fix = suggested_name(ctx, others)
            .map(|n| Fix::new(Field::Name, n.clone(), format!("name it {n}")));
        out.push(Finding::error(
            Field::Name,
            "The name is empty. Give the credential a name of 3 to 120 letters, digits, '-' or '_' that says what it trusts.",
            fix,
        ));
        return;
    }
    if name.trim() != name {
        let value = repaired();
        out.push(Finding::error(
            Field::Name,
            "The name starts or ends with whitespace, which Graph refuses. Remove it.",
            Some(Fix::new(Field::Name, value.clone(), format!("use {value}"))),
        ));
    }
    let core = name.trim();
    if let Some(bad) = core.chars().find(|c| !is_name_char(*c)) {
        let value = repaired();
        out.push(Finding::error(
            Field::Name,
            format!(
                "The name contains {bad:?}; Graph accepts only letters, digits, '-' and '_'. Use {value}."
            ),
            Some(Fix::new(Field::Name, value.clone(), format!("use {value}"))),
        ));
    }
    if core
        .chars()
        .next()
        .is_some_and(|c| !c.is_ascii_alphanumeric())
    {
        let value = repaired();
        out.push(Finding::error(
            Field::Name,
            "The name must start with a letter or digit. Drop the leading character.",
            Some(Fix::new(Field::Name, value.clone(), format!("use {value}"))),
        ));
    }
    let len = core.chars().count();
    if len < NAME_MIN {
        let value = repaired();
        out.push(Finding::error(
            Field::Name,
            format!("The name has {len} characters; Graph needs at least {NAME_MIN}. Lengthen it."),
            Some(Fix::new(Field::Name, value.clone(), format!("use {value}"))),
        ));
    } else if len > NAME_MAX {
        let value = repaired();
        out.push(Finding::error(
            Field::Name,
            format!("The name has {len} characters; Graph allows at most {NAME_MAX}. Shorten it."),
            Some(Fix::new(
                Field::Name,
                value.clone(),
                "shorten to 120 characters",
            )),
        ));
    }
    if let Some(same) = others.iter().find(|f| f.name == name) {
        let value = unique_name(&sanitize_name(name), &owned);
        out.push(Finding::error(
            Field::Name,
            format!(
                "The app already has a credential named '{}'; names must be unique per app. Pick another name.",
                same.name
            ),
            Some(Fix::new(Field::Name, value.clone(), format!("use {value}"))),
        ));
    } else if let Some(same) = others.iter().find(|f| f.name.eq_ignore_ascii_case(name)) {
        let value = unique_name(&sanitize_name(name), &owned);
        out.push(Finding::warning(
            Field::Name,
            format!(
                "The app has a credential named '{}', differing only in case; Graph may treat them as the same name. Pick a clearly different name.",
                same.name
            ),
            Some(Fix::new(Field::Name, value.clone(), format!("use {value}"))),
        ));
    }
}

fn check_description(draft: &Fic, out: &mut Vec<Finding>) {
    let Some(description) = draft.description.as_deref() else {
        return;
    };
    let len = graph_len(description);
    if len > VALUE_MAX {
        let value = truncate_graph(description, VALUE_MAX);
        out.push(Finding::error(
            Field::Description,
            format!("The description is {len} characters long; Graph allows at most {VALUE_MAX}. Shorten it."),
            Some(Fix::new(Field::Description, value, "cut to 600 characters")),
        ));
    }
}

/// Checks that apply to issuer, subject and each audience alike: emptiness, whitespace and
/// invisible characters, wildcards, length. Returns the value cleaned of what it reported.
fn check_common(
    field: Field,
    value: &str,
    fallback: Option<&str>,
    out: &mut Vec<Finding>,
) -> String {
    let what = field.label();
    if value.trim().is_empty() {
        let fix = fallback.map(|v| Fix::new(field, v, format!("use {}", short(v))));
        let message = match fallback {
            Some(v) => format!("The {what} is empty. Set it to {}.", short(v)),
            None => format!("The {what} is empty; Graph requires it. Fill it in."),
        };
        out.push(Finding::error(field, message, fix));
        return String::new();
    }
    let mut clean = value.to_string();
    if value.trim() != value {
        clean = value.trim().to_string();
        out.push(Finding::error(
            field,
            format!(
                "The {what} has whitespace at the start or end. Entra saves it, then never matches it: remove it."
            ),
            Some(Fix::new(field, clean.clone(), "trim whitespace")),
        ));
    }
    if clean.chars().any(is_invisible) {
        clean = clean.chars().filter(|c| !is_invisible(*c)).collect();
        out.push(Finding::error(
            field,
            format!(
                "The {what} contains invisible or control characters (often from a copy from a web page or chat). Entra would compare them too: remove them."
            ),
            Some(Fix::new(field, clean.clone(), "remove invisible characters")),
        ));
    }
    if clean.contains('*') {
        let fix = fallback.map(|v| Fix::new(field, v, format!("use {}", short(v))));
        out.push(Finding::error(
            field,
            format!(
                "The {what} contains '*'. Entra matches it literally, not as a wildcard, so no token will ever match. Write the exact value."
            ),
            fix,
        ));
    }
    let len = graph_len(&clean);
    if len > VALUE_MAX {
        out.push(Finding::error(
            field,
            format!("The {what} is {len} characters long; Graph allows at most {VALUE_MAX}. Check that only one value was pasted."),
            None,
        ));
    }
    clean
}

/// How the issuer relates to Entra, for the subject and audience rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IssuerKind {
    /// An Entra issuer (any cloud, any spelling).
    Entra,
    /// Not Entra (GitHub, Kubernetes, ...), or empty.
    External,
}

fn check_issuer(draft: &Fic, ctx: &RuleContext<'_>, out: &mut Vec<Finding>) -> IssuerKind {
    // Without a tenant id nothing can be said about the tenant segment, and no issuer offered.
    let tenant = ctx.tenant_id.trim();
    let tenant_known = !tenant.is_empty();
    let known_expected = tenant_known.then(|| ctx.expected_issuer());
    let fallback = known_expected.as_deref().filter(|_| ctx.identity.is_some());
    let issuer = check_common(Field::Issuer, &draft.issuer, fallback, out);
    if issuer.is_empty() {
        return if ctx.identity.is_some() {
            IssuerKind::Entra
        } else {
            IssuerKind::External
        };
    }
    if issuer.contains(char::is_whitespace) {
        let value: String = issuer.chars().filter(|c| !c.is_whitespace()).collect();
        out.push(Finding::error(
            Field::Issuer,
            "The issuer contains whitespace inside; an issuer is a URL and has none. Remove it.",
            Some(Fix::new(Field::Issuer, value, "remove whitespace")),
        ));
    }
    let Some(entra) = ctx.cloud.recognise_entra_issuer(&issuer) else {
        if ctx.identity.is_some() {
            let (message, fix) = match &known_expected {
                Some(expected) => (
                    format!(
                        "A managed identity's tokens are issued by Entra, as {}; this issuer will never match them. Use that issuer.",
                        short(expected)
                    ),
                    Some(Fix::new(
                        Field::Issuer,
                        expected.clone(),
                        format!("use {}", short(expected)),
                    )),
                ),
                None => (
                    format!(
                        "A managed identity's tokens are issued by Entra, as {}; this issuer will never match them. Use that form with the app's tenant id.",
                        short(&ctx.cloud.issuer("{tenant-id}"))
                    ),
                    None,
                ),
            };
            out.push(Finding::error(Field::Issuer, message, fix));
        } else if !issuer.to_ascii_lowercase().starts_with("https://") {
            out.push(Finding::warning(
                Field::Issuer,
                "The issuer is not an https:// URL; OIDC issuers always are. Copy the exact `iss` claim from a token of that issuer.",
                None,
            ));
        }
        return IssuerKind::External;
    };
    let expected = known_expected.unwrap_or_else(|| ctx.cloud.issuer(&entra.tenant));
    let fix_expected = || {
        Some(Fix::new(
            Field::Issuer,
            expected.clone(),
            format!("use {}", short(&expected)),
        ))
    };
    let this_cloud = ctx.cloud.kind;
    if entra.cloud != this_cloud {
        out.push(Finding::error(
            Field::Issuer,
            format!(
                "This issuer belongs to the {} cloud but the app is in the {} cloud; Entra does not accept tokens across clouds. Use {}.",
                entra.cloud,
                this_cloud,
                short(&expected)
            ),
            fix_expected(),
        ));
        return IssuerKind::Entra;
    }
    let identity_tenant = ctx
        .identity
        .and_then(|i| i.tenant_id.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if tenant_known && entra.tenant != tenant {
        if entra.tenant.eq_ignore_ascii_case(tenant) {
            out.push(Finding::error(
                Field::Issuer,
                format!("The tenant id in the issuer differs from the app's tenant id {tenant} only in letter case; Entra compares exactly. Use the exact issuer."),
                fix_expected(),
            ));
        } else if !is_guid(&entra.tenant) && is_guid(tenant) {
            out.push(Finding::error(
                Field::Issuer,
                format!(
                    "The issuer names the tenant as '{}', but tokens carry the tenant id. Use {}.",
                    entra.tenant,
                    short(&expected)
                ),
                fix_expected(),
            ));
        } else if !is_guid(&entra.tenant) {
            out.push(Finding::warning(
                Field::Issuer,
                format!(
                    "The issuer names the tenant as '{}'; tokens carry the tenant id instead. Use the tenant id.",
                    entra.tenant
                ),
                fix_expected(),
            ));
        } else if identity_tenant.is_some_and(|t| t == entra.tenant) {
            // The identity's own tenant: the app is elsewhere, reported on the identity.
        } else {
            out.push(Finding::error(
                Field::Issuer,
                format!(
                    "The issuer names tenant {} but the app is in tenant {tenant}. A managed identity must be in the app's tenant (AADSTS700236 otherwise). Use {}.",
                    entra.tenant,
                    short(&expected)
                ),
                fix_expected(),
            ));
        }
    }
    if entra.v1 {
        out.push(Finding::error(
            Field::Issuer,
            format!(
                "This is the v1 issuer form; managed identity tokens for the exchange audience are v2 and carry {}. Use it.",
                short(&expected)
            ),
            fix_expected(),
        ));
    } else if entra.trailing_slash {
        let value = issuer.trim_end_matches('/').to_string();
        out.push(Finding::error(
            Field::Issuer,
            "The issuer ends with '/'; the token's issuer does not, and Entra compares exactly. Remove the slash.",
            Some(Fix::new(Field::Issuer, value, "remove the trailing slash")),
        ));
    } else if (entra.tenant == tenant || !tenant_known) && issuer != expected {
        out.push(Finding::error(
            Field::Issuer,
            format!(
                "The issuer is spelled differently from the one in tokens (host, scheme or case). Entra compares exactly: use {}.",
                short(&expected)
            ),
            fix_expected(),
        ));
    }
    IssuerKind::Entra
}

fn identity_by_client_id<'a>(ctx: &RuleContext<'a>, subject: &str) -> Option<&'a Identity> {
    ctx.identity
        .into_iter()
        .chain(ctx.identities.iter())
        .find(|i| i.client_id.trim().eq_ignore_ascii_case(subject))
}

fn check_subject(draft: &Fic, ctx: &RuleContext<'_>, issuer: IssuerKind, out: &mut Vec<Finding>) {
    let principal = ctx.identity.map(|i| i.principal_id.trim());
    let fix_principal = |label_prefix: &str| {
        ctx.identity.map(|i| {
            Fix::new(
                Field::Subject,
                i.principal_id.trim(),
                format!("{label_prefix} the principal id of {}", i.name),
            )
        })
    };
    let subject = check_common(Field::Subject, &draft.subject, principal, out);
    if subject.is_empty() {
        return;
    }
    if subject.contains(char::is_whitespace) {
        out.push(Finding::warning(
            Field::Subject,
            "The subject contains whitespace inside; subjects rarely do. Check it against the token's `sub` claim.",
            None,
        ));
    }
    if let Some(owner) = identity_by_client_id(ctx, &subject) {
        let value = owner.principal_id.trim().to_string();
        out.push(Finding::error(
            Field::Subject,
            format!(
                "The subject is the client id of {}, but its tokens carry the principal id as `sub`. Use {value}.",
                owner.name
            ),
            Some(Fix::new(
                Field::Subject,
                value.clone(),
                format!("use the principal id of {}", owner.name),
            )),
        ));
        return;
    }
    if ctx
        .app_id
        .is_some_and(|app| app.trim().eq_ignore_ascii_case(&subject))
    {
        let message = match ctx.identity {
            Some(i) => format!(
                "The subject is this app's own id. It must name the managed identity that signs in: the principal id of {}.",
                i.name
            ),
            None => "The subject is this app's own id. It must name the workload that signs in: for a managed identity, its principal (object) id.".to_string(),
        };
        out.push(Finding::error(
            Field::Subject,
            message,
            fix_principal("use"),
        ));
        return;
    }
    if let Some(principal) = principal {
        if subject == principal {
            return;
        }
        if subject.eq_ignore_ascii_case(principal) {
            out.push(Finding::error(
                Field::Subject,
                "The subject differs from the principal id only in case; Entra compares exactly (AADSTS7002138). Use the exact principal id.",
                fix_principal("use exactly"),
            ));
            return;
        }
    }
    if issuer == IssuerKind::Entra && !is_guid(&subject) {
        out.push(Finding::error(
            Field::Subject,
            "Under an Entra issuer the subject is an object id (a GUID), and this is not one. Use the managed identity's principal id.",
            fix_principal("use"),
        ));
        return;
    }
    let other = ctx
        .identities
        .iter()
        .find(|i| i.principal_id.trim() == subject);
    match (ctx.identity, other) {
        (Some(chosen), Some(other)) if other.principal_id != chosen.principal_id => {
            out.push(Finding::error(
                Field::Subject,
                format!(
                    "The subject is the principal id of {}, not of the chosen identity {}. Use {}'s principal id, or choose {} instead.",
                    other.name, chosen.name, chosen.name, other.name
                ),
                fix_principal("use"),
            ));
        }
        (Some(chosen), _) if issuer == IssuerKind::Entra => {
            out.push(Finding::error(
                Field::Subject,
                format!(
                    "The subject is not the principal id of {}, so its tokens will not match. Use {}.",
                    chosen.name,
                    chosen.principal_id.trim()
                ),
                fix_principal("use"),
            ));
        }
        _ => {}
    }
}

fn check_audiences(draft: &Fic, ctx: &RuleContext<'_>, issuer: IssuerKind, out: &mut Vec<Finding>) {
    let expected = ctx.cloud.exchange_audience.as_str();
    let fix_expected = || {
        Some(Fix::new(
            Field::Audiences,
            expected,
            format!("use {expected}"),
        ))
    };
    let entra = issuer == IssuerKind::Entra;
    match draft.audiences.len() {
        0 => {
            let message = format!(
                "There is no audience; Graph requires exactly one. For a managed identity it is {expected}."
            );
            out.push(Finding::error(Field::Audiences, message, fix_expected()));
            return;
        }
        1 => {}
        n => {
            let keep = draft
                .audiences
                .iter()
                .find(|a| a.trim() == expected)
                .or_else(|| draft.audiences.first())
                .map(|a| a.trim().to_string())
                .unwrap_or_default();
            out.push(Finding::error(
                Field::Audiences,
                format!(
                    "There are {n} audiences; Graph accepts exactly one. Keep {}.",
                    short(&keep)
                ),
                Some(Fix::new(
                    Field::Audiences,
                    keep.clone(),
                    format!("keep only {}", short(&keep)),
                )),
            ));
        }
    }
    let fallback = if entra || ctx.identity.is_some() {
        Some(expected)
    } else {
        None
    };
    for audience in &draft.audiences {
        let audience = check_common(Field::Audiences, audience, fallback, out);
        if audience.is_empty() || audience == expected {
            continue;
        }
        if let Some(cloud) = exchange_audience_cloud(&audience) {
            let message = if cloud != ctx.cloud.kind
                && !(cloud == CloudKind::Global && ctx.cloud.kind == CloudKind::Custom)
            {
                format!(
                    "{} is the exchange audience of the {cloud} cloud; this app is in the {} cloud, whose managed identity tokens need {expected}. Use it.",
                    short(&audience),
                    ctx.cloud.kind
                )
            } else {
                format!(
                    "The audience differs from {expected} in case or by a trailing slash; Entra compares exactly. Use {expected}."
                )
            };
            out.push(Finding::error(Field::Audiences, message, fix_expected()));
            continue;
        }
        if ctx
            .cloud
            .exchange_app_id
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(&audience))
            || audience.eq_ignore_ascii_case(crate::cloud::TOKEN_EXCHANGE_APP_ID)
        {
            out.push(Finding::error(
                Field::Audiences,
                format!(
                    "This is the token-exchange app's GUID, which managed identity tokens carry as `aud`; the FIC must list the URI form, {expected}, which Entra maps it to. Use it."
                ),
                fix_expected(),
            ));
            continue;
        }
        if entra || ctx.identity.is_some() {
            out.push(Finding::error(
                Field::Audiences,
                format!(
                    "For an Entra issuer (a managed identity) the audience must be {expected}; managed identity tokens are requested for it. Use it."
                ),
                fix_expected(),
            ));
        }
    }
}

fn check_identity(ctx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let Some(identity) = ctx.identity else {
        return;
    };
    if identity.kind == IdentityKind::SystemAssigned {
        out.push(Finding::error(
            Field::Identity,
            format!(
                "{} is a system-assigned identity; Entra accepts only user-assigned identities as a federated credential. Create a user-assigned identity, attach it to the workload, and choose it.",
                identity.name
            ),
            None,
        ));
    }
    if let Some(tenant) = identity.tenant_id.as_deref().map(str::trim)
        && !tenant.is_empty()
        && !ctx.tenant_id.trim().is_empty()
        && !tenant.eq_ignore_ascii_case(ctx.tenant_id.trim())
    {
        out.push(Finding::error(
            Field::Identity,
            format!(
                "{} lives in tenant {tenant}, the app in tenant {}. Entra refuses managed identity tokens from another tenant (AADSTS700236): use an identity in the app's tenant.",
                identity.name,
                ctx.tenant_id.trim()
            ),
            None,
        ));
    }
}

fn check_app(draft: &Fic, others: &[&Fic], out: &mut Vec<Finding>) {
    // `others` already leaves out the draft itself when it is an edit.
    if others.len() >= MAX_FICS_PER_APP {
        out.push(Finding::error(
            Field::App,
            format!(
                "The app already has {} federated credentials, Graph's maximum of {MAX_FICS_PER_APP}. Delete one it no longer needs first.",
                others.len()
            ),
            None,
        ));
    }
    let issuer = draft.issuer.trim();
    let subject = draft.subject.trim();
    if issuer.is_empty() || subject.is_empty() {
        return;
    }
    if let Some(twin) = others
        .iter()
        .find(|f| f.issuer.trim() == issuer && f.subject.trim() == subject)
    {
        out.push(Finding::error(
            Field::Subject,
            format!(
                "The credential '{}' already trusts this issuer and subject; Graph requires the pair to be unique per app. Use that credential instead of a new one.",
                twin.name
            ),
            None,
        ));
    }
}
