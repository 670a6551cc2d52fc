//! JSON Web Tokens: decode without trusting, verify RS256 against a JWKS.
//!
//! Decoding never panics: anything a person can paste (a truncated token, a 1 MB blob, escape
//! sequences, a JWE) comes back as a typed [`JwtError`] that says what is wrong with it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Entra tokens are a few kilobytes; anything far larger is not a token someone meant to paste.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Header,
    Claims,
    Signature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Claims => "claims",
            Part::Signature => "signature",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("no token: the input is empty")]
    Empty,
    #[error(
        "the input is {len} bytes, larger than any token ({max} bytes at most); paste just the token"
    )]
    TooLarge { len: usize, max: usize },
    #[error(
        "the input holds a control character at position {position}; paste the token alone, without escape sequences"
    )]
    ControlCharacter { position: usize },
    #[error(
        "a JWT has 3 parts separated by dots, this has {found}; the token may be truncated or two tokens were pasted together"
    )]
    SegmentCount { found: usize },
    #[error("this is an encrypted token (JWE, 5 parts); only its recipient can read it")]
    Encrypted,
    #[error("the {part} part is not valid base64url; the token may be truncated or mangled")]
    Base64 { part: Part },
    #[error("the {part} part is not JSON ({detail}); is this really a JWT?")]
    NotJson { part: Part, detail: String },
    #[error("the {part} part is JSON but not an object")]
    NotObject { part: Part },
}

/// A decoded, **unverified** token.
#[derive(Clone, PartialEq)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signature: Vec<u8>,
    /// `base64(header).base64(claims)`: what the signature covers.
    signing_input: String,
}

// Claims are not secret, but keep Debug short and free of the signature.
impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .field("signature_len", &self.signature.len())
            .finish()
    }
}

impl Jwt {
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A string claim (`iss`, `sub`, `tid`…).
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric date claim (`exp`, `nbf`, `iat`), also when sent as a string.
    pub fn time_claim(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// `aud` is a string or an array of strings.
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }
}

/// Decodes a compact JWT. Tolerates what people paste around a token: surrounding whitespace,
/// a `Bearer ` prefix, quotes, and base64 padding.
pub fn decode(input: &str) -> Result<Jwt, JwtError> {
    if input.len() > MAX_TOKEN_LEN {
        return Err(JwtError::TooLarge {
            len: input.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    let mut token = input.trim();
    if let Some(rest) = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
    {
        token = rest.trim_start();
    }
    token = token.trim_matches(|c| c == '"' || c == '\'');
    if token.is_empty() {
        return Err(JwtError::Empty);
    }
    if let Some(position) = token.chars().position(|c| c.is_control()) {
        return Err(JwtError::ControlCharacter { position });
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(JwtError::Encrypted),
        found => return Err(JwtError::SegmentCount { found }),
    }
    let header = json_object(parts[0], Part::Header)?;
    let claims = json_object(parts[1], Part::Claims)?;
    let signature = b64(parts[2], Part::Signature)?;
    Ok(Jwt {
        header,
        claims,
        signature,
        signing_input: format!("{}.{}", parts[0], parts[1]),
    })
}

fn b64(segment: &str, part: Part) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| JwtError::Base64 { part })
}

fn json_object(segment: &str, part: Part) -> Result<Map<String, Value>, JwtError> {
    let bytes = b64(segment, part)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| JwtError::NotJson {
        part,
        detail: e.to_string(),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(JwtError::NotObject { part }),
    }
}

/// One key of a JSON Web Key Set, as Entra publishes them (no `alg`; `x5t` = `kid`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x5c: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_instance_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is signed with {0}, ficus verifies RS256 only")]
    UnsupportedAlgorithm(String),
    #[error("the token header names no key (kid)")]
    NoKeyId,
    #[error(
        "the issuer publishes no key with kid '{0}'; the token was signed by someone else, or the keys rotated"
    )]
    KeyNotFound(String),
    #[error("the issuer's key '{0}' is not a usable RSA key")]
    BadKey(String),
    #[error(
        "the signature does not verify against the issuer's key '{0}': the token was altered or forged"
    )]
    BadSignature(String),
}

impl Jwks {
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid) || k.x5t.as_deref() == Some(kid))
    }
}

/// Verifies an RS256 signature with the key the header's `kid` names. Says nothing about
/// expiry, issuer or audience: that is the caller's policy.
pub fn verify(jwt: &Jwt, jwks: &Jwks) -> Result<(), VerifyError> {
    let alg = jwt.alg().unwrap_or("none");
    if alg != "RS256" {
        return Err(VerifyError::UnsupportedAlgorithm(alg.to_string()));
    }
    let kid = jwt
        .kid()
        .or_else(|| jwt.header.get("x5t").and_then(Value::as_str))
        .ok_or(VerifyError::NoKeyId)?;
    let key = jwks
        .find(kid)
        .ok_or_else(|| VerifyError::KeyNotFound(kid.to_string()))?;
    let bad_key = || VerifyError::BadKey(kid.to_string());
    if key.kty != "RSA" {
        return Err(bad_key());
    }
    let n = URL_SAFE_NO_PAD
        .decode(key.n.as_deref().ok_or_else(bad_key)?.trim_end_matches('='))
        .map_err(|_| bad_key())?;
    let e = URL_SAFE_NO_PAD
        .decode(key.e.as_deref().ok_or_else(bad_key)?.trim_end_matches('='))
        .map_err(|_| bad_key())?;
    let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
    public
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            jwt.signing_input.as_bytes(),
            &jwt.signature,
        )
        .map_err(|_| VerifyError::BadSignature(kid.to_string()))
}

/// Base64url without padding, as JWT segments use.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a claim Entra (or a common external issuer) puts in a token means, in one line.
/// `None` for claims ficus does not know.
pub fn claim_meaning(name: &str) -> Option<&'static str> {
    Some(match name {
        "aud" => "audience: who the token is for (a URI, or the app id of the resource)",
        "iss" => "issuer: who issued the token; a FIC's issuer must equal it exactly",
        "sub" => "subject: whom the token is about; a FIC's subject must equal it exactly",
        "oid" => "object id of the caller in the tenant (for a managed identity: its principal id)",
        "tid" => "tenant id the token was issued in",
        "azp" => "authorized party (v2): the client id of the app or identity that asked for it",
        "appid" => "application id (v1): the client id of the app or identity that asked for it",
        "appidacr" => {
            "how the client authenticated (v1): 0 public, 1 secret, 2 certificate or assertion"
        }
        "azpacr" => {
            "how the client authenticated (v2): 0 public, 1 secret, 2 certificate or assertion"
        }
        "idtyp" => {
            "identity type: `app` for app-only tokens, `user` for delegated ones (in tokens for Microsoft's own resources such as Graph; an app's API gets it only as an optional claim)"
        }
        "roles" => "application permissions (app roles) granted to the caller",
        "scp" => "delegated permissions (scopes) the user consented to, space-separated",
        "xms_mirid" => {
            "managed identity resource id: the ARM id of the identity (or of its host); only in tokens for Microsoft's own resources (the token exchange, Graph, ARM…)"
        }
        "xms_az_rid" => {
            "ARM id of the Azure resource the managed identity token was requested from"
        }
        "xms_tcdt" => "tenant creation time (unix seconds)",
        "ver" => "token version: `1.0` (sts.windows.net issuer) or `2.0` (login host issuer)",
        "iat" => "issued at (unix seconds); Entra backdates it about 5 minutes for clock skew",
        "nbf" => "not valid before (unix seconds); Entra backdates it about 5 minutes, like iat",
        "exp" => {
            "expires at (unix seconds); Entra's app tokens live 60 to 90 minutes, managed identity tokens about 24 hours (cached, so role changes show up late)"
        }
        "uti" => "unique token id Entra uses internally (a token identifier)",
        "jti" => "unique token id",
        "rh" => "Entra-internal refresh hint; opaque",
        "aio" => "Entra-internal data; opaque",
        "name" => "display name of the signed-in user",
        "preferred_username" => "the user's sign-in name (often an email); not a stable key",
        "upn" => "user principal name (v1 user tokens)",
        "unique_name" => "a human-readable name of the user (v1); not a stable key",
        "email" => "the user's email address, when known",
        "given_name" => "the user's first name (v1 access tokens)",
        "family_name" => "the user's last name (v1 access tokens)",
        "idp" => "identity provider that authenticated the caller, when not the token's issuer",
        "amr" => "authentication methods used (pwd, mfa, ...) (v1)",
        "acr" => "authentication context class (v1)",
        "acrs" => "authentication context class references satisfied",
        "nonce" => "value echoed from the sign-in request, to tie the token to it",
        "wids" => {
            "directory role template ids the user holds (in Graph tokens; an app's API gets it only when configured)"
        }
        "groups" => "group object ids the caller is a member of",
        "hasgroups" => "the caller is in too many groups to list; ask Graph",
        "ipaddr" => "client IP address seen at sign-in (v1)",
        "onprem_sid" => "on-premises security identifier of a synced user",
        "sid" => "session id",
        "deviceid" => "id of the device the user signed in from",
        "xms_cc" => {
            "client capabilities the app declared (e.g. CP1 for continuous access evaluation)"
        }
        "xms_idrel" => "Entra-internal relation of the caller to the tenant; opaque",
        "xms_ftd" => "Entra-internal token data; opaque",
        "login_hint" => "opaque hint to sign the same user in again",
        "ctry" => "the user's country or region",
        "tenant_region_scope" => "region of the tenant",
        "repository" => "GitHub Actions: the owner/repo the workflow runs in",
        "repository_owner" => "GitHub Actions: the organisation or user owning the repository",
        "ref" => "GitHub Actions: the git ref the workflow runs on",
        "environment" => "GitHub Actions: the deployment environment of the job",
        "job_workflow_ref" => "GitHub Actions: the workflow file and ref that issued the job",
        "workflow" => "GitHub Actions: the workflow name",
        "event_name" => "GitHub Actions: the event that triggered the workflow",
        "run_id" => "GitHub Actions: the workflow run id",
        "actor" => "GitHub Actions: the user who triggered the run",
        "kubernetes.io" => {
            "Kubernetes: the namespace, service account and pod the token was projected for"
        }
        _ => return None,
    })
}

/// Why a Graph token's signature is not checked ([`Jwt::has_graph_nonce`]).
pub const GRAPH_TOKEN_NOT_VERIFIABLE: &str = "Graph tokens are not meant to be verified by you: Microsoft Graph signs them over a nonce only it can check (the `nonce` header), so they never verify against the published keys; Graph checks them itself";

// ---------------------------------------------------------------------------------------------
// Which tenant issued a token. Entra's signing keys are global (one key set, published with
// the `{tenantid}` issuer template, signs every tenant's tokens), so a good signature does not
// say which tenant issued a token: only `iss` and `tid` do.

/// The tenant an Entra issuer names: the GUID in `https://sts.windows.net/{tid}/` or
/// `https://{host}/{tid}/v2.0`. `None` for other issuers.
pub fn issuer_tenant(issuer: &str) -> Option<&str> {
    let path = issuer.trim_end_matches('/');
    let path = path.strip_suffix("/v2.0").unwrap_or(path);
    let tenant = path.rsplit('/').next()?;
    is_guid(tenant).then_some(tenant)
}

fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Where the keys of `issuer` are found: its own discovery document, except for the v1 issuer
/// `https://sts.windows.net/{tid}/`, whose keys are the same global keys as the v2 issuer's:
/// those of `authority` (the session's login host) or Entra's global one.
pub fn keys_issuer(issuer: &str, authority: Option<&str>) -> String {
    match issuer
        .strip_prefix("https://sts.windows.net/")
        .map(|rest| rest.trim_end_matches('/'))
    {
        Some(tenant) => format!(
            "{}/{tenant}/v2.0",
            authority
                .unwrap_or("https://login.microsoftonline.com")
                .trim_end_matches('/')
        ),
        None => issuer.to_string(),
    }
}

/// The tenant checks a good signature still needs, since Entra's keys are global: `iss` and
/// `tid` name the same tenant, `iss` is what the key's issuer template says for that tenant,
/// and it is the tenant expected (a session's), when one is. `Err` says what does not hold.
pub fn check_issuer_tenant(
    jwt: &Jwt,
    key: Option<&Jwk>,
    expected_tenant: Option<&str>,
) -> Result<(), String> {
    let iss = jwt.str_claim("iss").unwrap_or_default();
    let Some(tenant) = issuer_tenant(iss) else {
        return Ok(());
    };
    if let Some(tid) = jwt.str_claim("tid")
        && !tid.eq_ignore_ascii_case(tenant)
    {
        return Err(format!(
            "the issuer {iss} names tenant {tenant} but the token's tid says {tid}; Entra's signing keys are shared by every tenant, so only these claims say which tenant issued a token"
        ));
    }
    if let Some(template) = key.and_then(|k| k.issuer.as_deref())
        && jwt.str_claim("ver") != Some("1.0")
    {
        let expected = template.replace("{tenantid}", tenant);
        if expected != iss {
            return Err(format!(
                "the key is published for issuer {template}, which for tenant {tenant} is {expected}, not the token's issuer {iss}"
            ));
        }
    }
    if let Some(expected) = expected_tenant.filter(|e| is_guid(e))
        && !expected.eq_ignore_ascii_case(tenant)
    {
        return Err(format!(
            "issued by tenant {tenant}, not by this session's tenant {expected}; the signature is good (Entra's keys sign every tenant's tokens) but the token belongs to another tenant"
        ));
    }
    Ok(())
}

/// The claims that hold a unix time, in the order a person wants to read them.
pub const TIME_CLAIMS: [&str; 3] = ["iat", "nbf", "exp"];

/// A duration in words: [`crate::text::duration_words`] (`less than a minute`,
/// `59 minutes`, `1 hour 30 minutes`, `2 days`). Kept under this name for its callers; the
/// wording has one home.
pub fn human_duration(seconds: i64) -> String {
    crate::text::duration_words(seconds)
}

/// A time claim relative to `now` (unix seconds), in words: `expires in 59 minutes`,
/// `expired 3 hours ago`, `issued 2 minutes ago`, `becomes valid in 5 minutes`,
/// `valid since 1 hour ago`. Other claim names read like [`crate::text::relative_unix`].
pub fn describe_time(claim: &str, at: i64, now: i64) -> String {
    let delta = at.saturating_sub(now);
    let span = crate::text::duration_words(delta);
    let future = delta > 0;
    match (claim, future) {
        ("exp", true) => format!("expires in {span}"),
        ("exp", false) if delta == 0 => "expires now".to_string(),
        ("exp", false) => format!("expired {span} ago"),
        ("iat", true) => format!("issued in {span} (clock skew?)"),
        ("iat", false) => format!("issued {span} ago"),
        ("nbf", true) => format!("becomes valid in {span}"),
        ("nbf", false) => format!("valid since {span} ago"),
        _ => crate::text::relative_unix(at, now),
    }
}

impl Jwt {
    /// [`describe_time`] for one of this token's time claims, `None` when absent.
    pub fn describe_time(&self, claim: &str, now: i64) -> Option<String> {
        self.time_claim(claim)
            .map(|at| describe_time(claim, at, now))
    }

    /// Expired at `now` (unix seconds); `false` without an `exp`.
    pub fn is_expired(&self, now: i64) -> bool {
        self.time_claim("exp").is_some_and(|exp| exp <= now)
    }

    /// Space-separated `scp` as a list.
    pub fn scopes(&self) -> Vec<String> {
        self.str_claim("scp")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// `roles` as a list.
    pub fn roles(&self) -> Vec<String> {
        match self.claims.get("roles") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// A Microsoft Graph token as Entra issues them: a `nonce` in the header, over whose hash
    /// Graph's signature was computed, so it never verifies against the published keys.
    pub fn has_graph_nonce(&self) -> bool {
        self.header.contains_key("nonce")
    }

    /// The client id of whoever asked for the token: `azp` (v2) or `appid` (v1).
    pub fn client_id(&self) -> Option<&str> {
        self.str_claim("azp").or_else(|| self.str_claim("appid"))
    }
}

/// One claim of a token as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimLine {
    pub name: String,
    /// Strings as they are; anything else as compact JSON.
    pub value: String,
    /// From [`claim_meaning`].
    pub meaning: Option<&'static str>,
    /// For `iat`, `nbf`, `exp`: [`describe_time`] relative to `now`.
    pub when: Option<String>,
}

/// Every claim of `jwt`, the well-known ones first in a reading order (who issued it, for
/// whom, about whom, when), then the rest alphabetically. Values are not sanitised for a
/// terminal: the caller strips control characters.
pub fn claim_lines(jwt: &Jwt, now: i64) -> Vec<ClaimLine> {
    const ORDER: [&str; 12] = [
        "iss",
        "aud",
        "sub",
        "oid",
        "azp",
        "appid",
        "tid",
        "idtyp",
        "xms_mirid",
        "iat",
        "nbf",
        "exp",
    ];
    let rank = |name: &str| ORDER.iter().position(|o| *o == name).unwrap_or(ORDER.len());
    let mut names: Vec<&String> = jwt.claims.keys().collect();
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    names
        .into_iter()
        .map(|name| {
            let value = match &jwt.claims[name.as_str()] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let when = TIME_CLAIMS
                .contains(&name.as_str())
                .then(|| jwt.describe_time(name, now))
                .flatten();
            ClaimLine {
                name: name.clone(),
                value,
                meaning: claim_meaning(name),
                when,
            }
        })
        .collect()
}

/// What kind of token this is, from its claims alone (nothing is verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// An Entra token for a managed identity (it carries `xms_mirid`).
    ManagedIdentity {
        /// `xms_mirid` names a `Microsoft.ManagedIdentity/userAssignedIdentities` resource.
        user_assigned: bool,
        /// The ARM id in `xms_mirid`: the identity's own id (user-assigned) or its host's.
        resource_id: Option<String>,
    },
    /// An Entra app-only token (client credentials).
    App,
    /// An Entra delegated token (a signed-in user).
    User,
    /// A GitHub Actions OIDC token.
    GitHubActions,
    /// A Kubernetes service account token (AKS or any cluster's OIDC issuer).
    Kubernetes,
    /// Any other issuer (empty when the token names none).
    OtherExternal { issuer: String },
}

impl TokenKind {
    /// A short label for screens: `managed identity (user-assigned)`, `GitHub Actions`, ...
    pub fn label(&self) -> String {
        match self {
            TokenKind::ManagedIdentity {
                user_assigned: true,
                ..
            } => "managed identity (user-assigned)".into(),
            TokenKind::ManagedIdentity {
                user_assigned: false,
                ..
            } => "managed identity (system-assigned)".into(),
            TokenKind::App => "Entra app-only token".into(),
            TokenKind::User => "Entra user (delegated) token".into(),
            TokenKind::GitHubActions => "GitHub Actions OIDC token".into(),
            TokenKind::Kubernetes => "Kubernetes service account token".into(),
            TokenKind::OtherExternal { issuer } if issuer.is_empty() => {
                "token without an issuer".into()
            }
            TokenKind::OtherExternal { issuer } => format!("external token from {issuer}"),
        }
    }

    /// Entra issued it (as opposed to an external identity provider).
    pub fn is_entra(&self) -> bool {
        matches!(
            self,
            TokenKind::ManagedIdentity { .. } | TokenKind::App | TokenKind::User
        )
    }
}

fn issuer_host(issuer: &str) -> String {
    let rest = issuer
        .trim()
        .split_once("://")
        .map_or(issuer.trim(), |(_, r)| r);
    rest.split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Kubernetes OIDC issuers: AKS (`*.oic.prod-aks.azure.com`), EKS (`oidc.eks.*`), GKE
/// (`container.googleapis.com`), and any token with the `kubernetes.io` claim.
fn is_kubernetes(jwt: &Jwt, host: &str) -> bool {
    jwt.claims.contains_key("kubernetes.io")
        || host.ends_with(".oic.prod-aks.azure.com")
        || host.contains(".oic.") && (host.ends_with(".azure.com") || host.ends_with(".azure.us"))
        || host.starts_with("oidc.eks.")
        || host == "container.googleapis.com"
        || jwt
            .str_claim("sub")
            .is_some_and(|s| s.starts_with("system:serviceaccount:"))
}

/// Entra-issued: the issuer is a national cloud's Entra host, or (for custom clouds such as
/// the sandbox) the token names its tenant in both `tid` and the issuer path.
fn is_entra(jwt: &Jwt, issuer: &str) -> bool {
    if crate::cloud::Cloud::global()
        .recognise_entra_issuer(issuer)
        .is_some()
    {
        return true;
    }
    jwt.str_claim("tid")
        .is_some_and(|tid| !tid.is_empty() && issuer.split('/').any(|segment| segment == tid))
}

/// Classifies a token by issuer, then (for Entra tokens) by `xms_mirid`, `idtyp`, `scp` and
/// `roles`.
pub fn classify(jwt: &Jwt) -> TokenKind {
    let issuer = jwt.str_claim("iss").unwrap_or("").to_string();
    let host = issuer_host(&issuer);
    if host == "token.actions.githubusercontent.com"
        || host.ends_with(".actions.githubusercontent.com")
    {
        return TokenKind::GitHubActions;
    }
    if is_kubernetes(jwt, &host) {
        return TokenKind::Kubernetes;
    }
    if !is_entra(jwt, &issuer) {
        return TokenKind::OtherExternal { issuer };
    }
    if let Some(mirid) = jwt.str_claim("xms_mirid") {
        let user_assigned = mirid
            .to_ascii_lowercase()
            .contains("microsoft.managedidentity/userassignedidentities");
        return TokenKind::ManagedIdentity {
            user_assigned,
            resource_id: Some(mirid.to_string()),
        };
    }
    match jwt.str_claim("idtyp") {
        Some("user") => return TokenKind::User,
        Some("app") => return TokenKind::App,
        _ => {}
    }
    let delegated = jwt.claims.contains_key("scp")
        || jwt.claims.contains_key("upn")
        || jwt.claims.contains_key("preferred_username");
    if delegated {
        TokenKind::User
    } else {
        TokenKind::App
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url(header.as_bytes()),
            b64url(claims.as_bytes()),
            b64url(b"sig")
        )
    }

    #[test]
    fn decodes_header_and_claims() {
        let t = unsigned(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"aud":["a","b"],"sub":"s","exp":"1700000000"}"#,
        );
        let jwt = decode(&format!("  Bearer {t}\n")).expect("decodes");
        assert_eq!(jwt.kid(), Some("k1"));
        assert_eq!(jwt.str_claim("sub"), Some("s"));
        assert_eq!(jwt.audiences(), vec!["a", "b"]);
        assert_eq!(jwt.time_claim("exp"), Some(1_700_000_000));
        assert_eq!(jwt.signature, b"sig");
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        assert_eq!(decode("   "), Err(JwtError::Empty));
        assert_eq!(decode("a.b"), Err(JwtError::SegmentCount { found: 2 }));
        assert_eq!(decode("a.b.c.d.e"), Err(JwtError::Encrypted));
        assert_eq!(
            decode("@@@.e30.c2ln"),
            Err(JwtError::Base64 { part: Part::Header })
        );
        assert!(matches!(
            decode(&format!("{}.e30.c2ln", b64url(b"not json"))),
            Err(JwtError::NotJson {
                part: Part::Header,
                ..
            })
        ));
        assert_eq!(
            decode(&format!("{}.e30.c2ln", b64url(b"[1]"))),
            Err(JwtError::NotObject { part: Part::Header })
        );
        assert!(matches!(
            decode("e30.\x1b[31me30.c2ln"),
            Err(JwtError::ControlCharacter { position: 4 })
        ));
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(decode(&huge), Err(JwtError::TooLarge { .. })));
    }

    #[test]
    fn verify_refuses_other_algorithms_and_unknown_keys() {
        let jwt = decode(&unsigned(r#"{"alg":"none"}"#, "{}")).expect("decodes");
        assert_eq!(
            verify(&jwt, &Jwks::default()),
            Err(VerifyError::UnsupportedAlgorithm("none".into()))
        );
        let jwt = decode(&unsigned(r#"{"alg":"RS256","kid":"x"}"#, "{}")).expect("decodes");
        assert_eq!(
            verify(&jwt, &Jwks::default()),
            Err(VerifyError::KeyNotFound("x".into()))
        );
    }
}
