//! `ficus decode`: what the console's token inspector says, as text or JSON. The token's kind
//! (core's [`jwt::classify`], plus what its audience makes it: a FIC assertion for the
//! exchange audience, or a Graph token), each claim with its meaning (core's
//! [`jwt::claim_lines`]), times as dates beside their epochs, and the signature in one of three
//! states: verified, failed, or not checked (and why), plus a fourth for Microsoft Graph
//! tokens, which carry a `nonce` header and are not meant to be verified by anyone but Graph.
//! With `--verify` the keys come from the token's own issuer (its discovery document, then its
//! JWKS; for a v1 `sts.windows.net` issuer, the session's authority). Entra's signing keys are
//! global (one key set signs every tenant's tokens), so a good signature does not say which
//! tenant issued a token: `--verify` also checks that `iss` and `tid` name the same tenant, that
//! `iss` is the issuer the key is published for (its `{tenantid}` template), and, in a session,
//! that it is the session's tenant.
//!
//! [`audience_role`] is pure and belongs in core beside [`jwt::classify`]; it lives here until
//! it moves.

use std::io::Write;

use ficus_core::cloud::Cloud;
use ficus_core::jwt::{self, Jwt, TokenKind, VerifyError};
use ficus_entra::{Http, HttpConfig, sts};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::CommandError;
use crate::output::{self, clean};

/// Microsoft Graph's application id, the `aud` of v1 Graph tokens asked for by GUID.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// What a token's audience makes it, beyond who issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceRole {
    /// For a national cloud's token-exchange audience: the `client_assertion` a FIC accepts.
    /// `exchange` is that audience's URI (`api://AzureADTokenExchange`), `audience` the `aud`
    /// as the token spells it (the URI, or the exchange app's GUID as managed identity tokens
    /// carry it).
    FicAssertion { audience: String, exchange: String },
    /// For Microsoft Graph (any national cloud's Graph, or Graph's app id).
    Graph { audience: String },
}

impl AudienceRole {
    pub fn label(&self) -> String {
        match self {
            AudienceRole::FicAssertion { audience, exchange } if audience == exchange => {
                format!("FIC assertion for {exchange} (the token-exchange audience)")
            }
            AudienceRole::FicAssertion { audience, exchange } => format!(
                "FIC assertion for {exchange} (aud {audience}, the token-exchange app's id)"
            ),
            AudienceRole::Graph { audience } => {
                format!("Microsoft Graph token (audience {audience})")
            }
        }
    }
}

/// The role the token's `aud` gives it, if it is one ficus knows.
pub fn audience_role(jwt: &Jwt) -> Option<AudienceRole> {
    let audiences = jwt.audiences();
    let clouds = Cloud::national();
    for aud in &audiences {
        if let Some(cloud) = clouds.iter().find(|c| c.is_exchange_audience(aud)) {
            return Some(AudienceRole::FicAssertion {
                audience: aud.clone(),
                exchange: cloud.exchange_audience.clone(),
            });
        }
    }
    audiences
        .iter()
        .find(|a| {
            let a = a.trim_end_matches('/');
            a == GRAPH_APP_ID || clouds.iter().any(|c| c.graph == a)
        })
        .map(|aud| AudienceRole::Graph {
            audience: aud.clone(),
        })
}

/// `managed identity (user-assigned) · FIC assertion (…)`.
pub fn kind_label(kind: &TokenKind, role: Option<&AudienceRole>) -> String {
    match role {
        Some(role) => format!("{} · {}", kind.label(), role.label()),
        None => kind.label(),
    }
}

fn kind_json(kind: &TokenKind, role: Option<&AudienceRole>) -> Value {
    let (name, detail) = match kind {
        TokenKind::ManagedIdentity {
            user_assigned,
            resource_id,
        } => (
            "managedIdentity",
            json!({
                "assignment": if *user_assigned { "userAssigned" } else { "systemAssigned" },
                "resourceId": resource_id,
            }),
        ),
        TokenKind::App => ("appOnly", Value::Null),
        TokenKind::User => ("delegated", Value::Null),
        TokenKind::GitHubActions => ("gitHubActions", Value::Null),
        TokenKind::Kubernetes => ("kubernetes", Value::Null),
        TokenKind::OtherExternal { issuer } => ("external", json!({ "issuer": issuer })),
    };
    let mut v = json!({
        "kind": name,
        "label": kind_label(kind, role),
        "entra": kind.is_entra(),
        "ficAssertion": matches!(role, Some(AudienceRole::FicAssertion { .. })),
        "graph": matches!(role, Some(AudienceRole::Graph { .. })),
    });
    if let Value::Object(d) = detail {
        for (k, val) in d {
            v[k] = val;
        }
    }
    v
}

/// The signature's state: three, never two (keys that could not be fetched are not a forgery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Verified with the key of this id, published by this issuer.
    Verified {
        key_id: String,
        issuer: String,
    },
    Failed {
        reason: String,
    },
    NotChecked {
        reason: String,
    },
    /// A Microsoft Graph token (it carries a `nonce` header): only Graph can check it, so it is
    /// neither verified nor forged.
    NotForYou {
        reason: String,
    },
}

impl Signature {
    pub fn state(&self) -> &'static str {
        match self {
            Signature::Verified { .. } => "verified",
            Signature::Failed { .. } => "failed",
            Signature::NotChecked { .. } => "notChecked",
            Signature::NotForYou { .. } => "notForYou",
        }
    }

    fn reason(&self) -> String {
        match self {
            Signature::Verified { key_id, issuer } => format!(
                "signed with key {key_id} that {issuer} publishes, and issued by tenant {} (this says who signed it, not that you should trust that issuer)",
                issuer_tenant(issuer).unwrap_or("?")
            ),
            Signature::Failed { reason }
            | Signature::NotChecked { reason }
            | Signature::NotForYou { reason } => reason.clone(),
        }
    }

    fn text(&self) -> String {
        match self {
            Signature::Verified { .. } => format!("✓ verified: {}", self.reason()),
            Signature::Failed { reason } => format!("✗ failed: {reason}"),
            Signature::NotChecked { reason } => format!("- not checked: {reason}"),
            Signature::NotForYou { reason } => format!("- not verifiable: {reason}"),
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({ "state": self.state(), "reason": self.reason() });
        if let Signature::Verified { key_id, issuer } = self {
            v["keyId"] = json!(key_id);
            v["issuer"] = json!(issuer);
            v["tenant"] = json!(issuer_tenant(issuer));
        }
        v
    }
}

// The tenant checks live in core beside the verification they complete.
pub use ficus_core::jwt::{check_issuer_tenant, issuer_tenant, keys_issuer};

/// Checks the signature against the keys the token's issuer publishes, then the tenant the
/// token names ([`check_issuer_tenant`]). `authority` is where v1 (`sts.windows.net`) tokens'
/// keys are found (a session's login host); `expected_tenant` a session's tenant.
pub async fn check_signature(
    jwt: &Jwt,
    http: Option<&Http>,
    ca_pem: Option<&str>,
    authority: Option<&str>,
    expected_tenant: Option<&str>,
) -> Signature {
    let Some(issuer) = jwt.str_claim("iss") else {
        return Signature::NotChecked {
            reason: "the token names no issuer (iss), so there are no keys to check it against"
                .into(),
        };
    };
    if jwt.has_graph_nonce() {
        if let Err(reason) = check_issuer_tenant(jwt, None, expected_tenant) {
            return Signature::Failed { reason };
        }
        return Signature::NotForYou {
            reason: jwt::GRAPH_TOKEN_NOT_VERIFIABLE.into(),
        };
    }
    let keys_from = keys_issuer(issuer, authority);
    let own;
    let http = match http {
        Some(h) => h,
        None => {
            let config = HttpConfig {
                ca_pem: ca_pem.map(str::to_string),
                no_proxy: ficus_entra::is_loopback(&keys_from),
                ..HttpConfig::default()
            };
            match Http::new(&config) {
                Ok(h) => {
                    own = h;
                    &own
                }
                Err(e) => {
                    return Signature::NotChecked {
                        reason: format!("no HTTP client: {e}"),
                    };
                }
            }
        }
    };
    let jwks = match sts::fetch_jwks(http, &keys_from).await {
        Ok(k) => k,
        Err(e) => {
            return Signature::NotChecked {
                reason: format!(
                    "the keys of {} could not be fetched: {e}",
                    keys_from.trim_end_matches('/')
                ),
            };
        }
    };
    match jwt::verify(jwt, &jwks) {
        Ok(()) => {
            let key_id = jwt
                .kid()
                .or_else(|| jwt.header.get("x5t").and_then(Value::as_str))
                .unwrap_or("?")
                .to_string();
            if let Err(reason) = check_issuer_tenant(jwt, jwks.find(&key_id), expected_tenant) {
                return Signature::Failed { reason };
            }
            Signature::Verified {
                key_id,
                issuer: issuer.to_string(),
            }
        }
        // A token signed with another algorithm is not forged; ficus just cannot check it.
        Err(e @ VerifyError::UnsupportedAlgorithm(_)) if jwt.alg() != Some("none") => {
            Signature::NotChecked {
                reason: e.to_string(),
            }
        }
        Err(e) => Signature::Failed {
            reason: e.to_string(),
        },
    }
}

/// Reads the token: the argument, or stdin for `-` or nothing.
fn read_token(token: Option<&str>) -> Result<String, CommandError> {
    match token {
        Some(t) if t != "-" => Ok(t.to_string()),
        _ => read_token_from(std::io::stdin().lock()),
    }
}

/// Reads a token from `input`, at most [`jwt::MAX_TOKEN_LEN`] bytes and one more to know it is
/// too long: an endless stream is refused after 64 KiB, never loaded. Input that is not
/// text is an input error (not an output one).
pub fn read_token_from(input: impl std::io::Read) -> Result<String, CommandError> {
    ficus_entra::msi::read_token_text(input)
        .map_err(|why| CommandError::Input(format!("the token on stdin cannot be decoded: {why}")))
}

/// How `ficus decode` runs.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// Fetch the issuer's keys and check the signature.
    pub verify: bool,
    /// A CA to trust when fetching them (`--ca-file`), used when no HTTP client is given.
    pub ca_pem: Option<String>,
    pub json: bool,
    /// Where the keys of v1 (`sts.windows.net`) tokens are found: a session's login host.
    pub authority: Option<String>,
    /// The tenant the token should belong to (a session's): another tenant's token fails.
    pub expected_tenant: Option<String>,
}

/// `ficus decode [TOKEN|-] [--verify]`. A signature that fails, or cannot be checked when
/// `--verify` asked for it, is a reported failure: the claims are printed, then it fails.
pub async fn decode(
    token: Option<&str>,
    http: Option<&Http>,
    options: &DecodeOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let raw = read_token(token)?;
    let jwt = jwt::decode(raw.trim())?;
    let signature = if options.verify {
        check_signature(
            &jwt,
            http,
            options.ca_pem.as_deref(),
            options.authority.as_deref(),
            options.expected_tenant.as_deref(),
        )
        .await
    } else {
        Signature::NotChecked {
            reason: "pass --verify to check it against the keys the issuer publishes".into(),
        }
    };
    let now = OffsetDateTime::now_utc();
    if options.json {
        output::emit_json(out, &decoded_json(&jwt, &signature, now))?;
    } else {
        write_text(out, &jwt, &signature, now)?;
    }
    match &signature {
        Signature::Failed { reason } if options.verify => Err(CommandError::Reported(format!(
            "the signature does not verify: {reason}"
        ))),
        Signature::NotChecked { reason } if options.verify => Err(CommandError::Reported(format!(
            "the signature could not be checked: {reason}"
        ))),
        _ => Ok(()),
    }
}

/// The JSON of a decoded token: kind, header, claims (each with its value, meaning and, for a
/// time, its ISO 8601 date), signature {state, reason}. Never the signature bytes.
pub fn decoded_json(jwt: &Jwt, signature: &Signature, now: OffsetDateTime) -> Value {
    let kind = jwt::classify(jwt);
    let role = audience_role(jwt);
    let mut claims = Map::new();
    for line in jwt::claim_lines(jwt, now.unix_timestamp()) {
        let mut c = json!({
            "value": jwt.claims.get(&line.name).cloned().unwrap_or(Value::Null),
            "meaning": line.meaning,
        });
        if jwt::TIME_CLAIMS.contains(&line.name.as_str())
            && let Some(at) = jwt.time_claim(&line.name).and_then(output::from_unix)
        {
            c["at"] = json!(output::iso(at));
        }
        claims.insert(line.name, c);
    }
    json!({
        "kind": kind_json(&kind, role.as_ref()),
        "header": jwt.header,
        "claims": claims,
        "signature": signature.to_json(),
    })
}

fn write_text(
    out: &mut dyn Write,
    jwt: &Jwt,
    signature: &Signature,
    now: OffsetDateTime,
) -> std::io::Result<()> {
    let kind = jwt::classify(jwt);
    let role = audience_role(jwt);
    writeln!(
        out,
        "kind:      {}",
        clean(&kind_label(&kind, role.as_ref()))
    )?;
    writeln!(out, "signature: {}", clean(&signature.text()))?;
    writeln!(out, "header:")?;
    for (k, v) in &jwt.header {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        writeln!(out, "    {:<10} {}", clean(k), clean(&v))?;
    }
    writeln!(out, "claims:")?;
    write_claims(out, jwt, now, "    ")
}

/// Each claim in the inspector's reading order, sanitized, with its meaning below it and, for
/// a time, the date beside the epoch (`exp 1764460800 = 2025-11-30 00:00 UTC (in 59 minutes)`).
pub fn write_claims(
    out: &mut dyn Write,
    jwt: &Jwt,
    now: OffsetDateTime,
    indent: &str,
) -> std::io::Result<()> {
    for line in jwt::claim_lines(jwt, now.unix_timestamp()) {
        let mut value = clean(&line.value);
        if jwt::TIME_CLAIMS.contains(&line.name.as_str())
            && let Some(at) = jwt.time_claim(&line.name).and_then(output::from_unix)
        {
            value = format!("{value} = {}", output::when(at, now));
        }
        writeln!(out, "{indent}{:<10} {value}", clean(&line.name))?;
        if let Some(meaning) = line.meaning {
            writeln!(out, "{indent}{:<10} {meaning}", "")?;
        }
    }
    Ok(())
}

/// The kind line of a token: core's classification and what its audience makes it.
pub fn describe_kind(jwt: &Jwt) -> String {
    kind_label(&jwt::classify(jwt), audience_role(jwt).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: Value) -> Jwt {
        let t = format!(
            "{}.{}.{}",
            jwt::b64url(br#"{"alg":"RS256","kid":"k1"}"#),
            jwt::b64url(claims.to_string().as_bytes()),
            jwt::b64url(b"sig")
        );
        jwt::decode(&t).expect("decodes")
    }

    #[test]
    fn the_tenant_is_checked_beside_the_global_key() {
        const T1: &str = "11111111-1111-4111-8111-111111111111";
        const T2: &str = "22222222-2222-4222-8222-222222222222";
        let key = jwt::Jwk {
            kty: "RSA".into(),
            key_use: None,
            kid: Some("k1".into()),
            x5t: None,
            n: None,
            e: None,
            x5c: Vec::new(),
            issuer: Some("https://login.microsoftonline.com/{tenantid}/v2.0".into()),
            cloud_instance_name: None,
        };
        let v2 = token(json!({
            "iss": format!("https://login.microsoftonline.com/{T1}/v2.0"),
            "tid": T1, "ver": "2.0",
        }));
        assert_eq!(check_issuer_tenant(&v2, Some(&key), Some(T1)), Ok(()));
        let other = check_issuer_tenant(&v2, Some(&key), Some(T2)).expect_err("other tenant");
        assert!(other.contains(&format!("issued by tenant {T1}")), "{other}");
        // A domain name as the session's tenant cannot be compared offline.
        assert_eq!(
            check_issuer_tenant(&v2, Some(&key), Some("contoso.com")),
            Ok(())
        );
        let mixed = token(json!({
            "iss": format!("https://login.microsoftonline.com/{T1}/v2.0"),
            "tid": T2, "ver": "2.0",
        }));
        assert!(check_issuer_tenant(&mixed, Some(&key), None).is_err());
        let elsewhere = token(json!({
            "iss": format!("https://login.example.com/{T1}/v2.0"), "tid": T1, "ver": "2.0",
        }));
        assert!(check_issuer_tenant(&elsewhere, Some(&key), None).is_err());
        let v1 = token(
            json!({"iss": format!("https://sts.windows.net/{T1}/"), "tid": T1, "ver": "1.0"}),
        );
        assert_eq!(check_issuer_tenant(&v1, Some(&key), Some(T1)), Ok(()));
        assert_eq!(
            issuer_tenant(&format!("https://sts.windows.net/{T1}/")),
            Some(T1)
        );
        assert_eq!(
            issuer_tenant("https://token.actions.githubusercontent.com"),
            None
        );
        assert_eq!(
            keys_issuer(
                &format!("https://sts.windows.net/{T1}/"),
                Some("https://127.0.0.1:8443")
            ),
            format!("https://127.0.0.1:8443/{T1}/v2.0")
        );
    }

    #[tokio::test]
    async fn graph_tokens_are_not_for_you() {
        let t = format!(
            "{}.{}.{}",
            jwt::b64url(br#"{"alg":"RS256","kid":"k1","nonce":"abc"}"#),
            jwt::b64url(br#"{"iss":"https://sts.windows.net/11111111-1111-4111-8111-111111111111/","tid":"11111111-1111-4111-8111-111111111111","aud":"https://graph.microsoft.com"}"#),
            jwt::b64url(b"sig")
        );
        let jwt = jwt::decode(&t).expect("decodes");
        let sig = check_signature(&jwt, None, None, None, None).await;
        assert_eq!(sig.state(), "notForYou");
        assert!(
            sig.text()
                .contains("Graph tokens are not meant to be verified by you")
        );
    }

    #[test]
    fn audiences_name_fic_assertions_and_graph_tokens() {
        let exchange = token(json!({"aud": "api://AzureADTokenExchange"}));
        assert!(matches!(
            audience_role(&exchange),
            Some(AudienceRole::FicAssertion { .. })
        ));
        let guid = token(json!({"aud": ficus_core::cloud::TOKEN_EXCHANGE_APP_ID}));
        assert!(matches!(
            audience_role(&guid),
            Some(AudienceRole::FicAssertion { .. })
        ));
        for aud in [
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
            GRAPH_APP_ID,
            "https://graph.microsoft.us",
        ] {
            let graph = token(json!({ "aud": aud }));
            assert!(
                matches!(audience_role(&graph), Some(AudienceRole::Graph { .. })),
                "{aud}"
            );
        }
        assert_eq!(audience_role(&token(json!({"aud": "api://other"}))), None);
    }

    #[test]
    fn text_shows_kind_meanings_and_dates() {
        let jwt = token(json!({
            "iss": "https://login.microsoftonline.com/t1/v2.0",
            "tid": "t1",
            "aud": "api://AzureADTokenExchange",
            "xms_mirid": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x",
            "exp": 1_764_460_800,
        }));
        let now = output::from_unix(1_764_457_260).expect("now");
        let mut out = Vec::new();
        let sig = Signature::NotChecked {
            reason: "pass --verify".into(),
        };
        write_text(&mut out, &jwt, &sig, now).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.contains("kind:      managed identity (user-assigned) · FIC assertion"),
            "{text}"
        );
        assert!(
            text.contains("exp        1764460800 = 2025-11-30 00:00 UTC (in 59 minutes)"),
            "{text}"
        );
        assert!(text.contains("expires at (unix seconds)"), "{text}");
        assert!(
            text.contains("signature: - not checked: pass --verify"),
            "{text}"
        );
        let v = decoded_json(&jwt, &sig, now);
        assert_eq!(v["kind"]["kind"], "managedIdentity");
        assert_eq!(v["kind"]["assignment"], "userAssigned");
        assert_eq!(v["kind"]["ficAssertion"], true);
        assert_eq!(v["claims"]["exp"]["at"], "2025-11-30T00:00:00Z");
        assert_eq!(v["claims"]["exp"]["value"], 1_764_460_800);
        assert_eq!(v["signature"]["state"], "notChecked");
    }
}
