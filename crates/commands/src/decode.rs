//! `ficus decode`: what the console's token inspector says, as text or JSON. The token's kind
//! (core's [`jwt::classify`], plus what its audience makes it: a FIC assertion for the
//! exchange audience, or a Graph token), each claim with its meaning (core's
//! [`jwt::claim_lines`]), times as dates beside their epochs, and the signature in one of three
//! states: verified, failed, or not checked (and why). With `--verify` the keys come from the
//! token's own issuer (its discovery document, then its JWKS).
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
}

impl Signature {
    pub fn state(&self) -> &'static str {
        match self {
            Signature::Verified { .. } => "verified",
            Signature::Failed { .. } => "failed",
            Signature::NotChecked { .. } => "notChecked",
        }
    }

    fn reason(&self) -> String {
        match self {
            Signature::Verified { key_id, issuer } => format!(
                "signed with key {key_id} that {issuer} publishes (this says who signed it, not that you should trust that issuer)"
            ),
            Signature::Failed { reason } | Signature::NotChecked { reason } => reason.clone(),
        }
    }

    fn text(&self) -> String {
        match self {
            Signature::Verified { .. } => format!("✓ verified: {}", self.reason()),
            Signature::Failed { reason } => format!("✗ failed: {reason}"),
            Signature::NotChecked { reason } => format!("- not checked: {reason}"),
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({ "state": self.state(), "reason": self.reason() });
        if let Signature::Verified { key_id, issuer } = self {
            v["keyId"] = json!(key_id);
            v["issuer"] = json!(issuer);
        }
        v
    }
}

/// Checks the signature against the keys the token's issuer publishes.
pub async fn check_signature(jwt: &Jwt, http: Option<&Http>, ca_pem: Option<&str>) -> Signature {
    let Some(issuer) = jwt.str_claim("iss") else {
        return Signature::NotChecked {
            reason: "the token names no issuer (iss), so there are no keys to check it against"
                .into(),
        };
    };
    let own;
    let http = match http {
        Some(h) => h,
        None => {
            let config = HttpConfig {
                ca_pem: ca_pem.map(str::to_string),
                no_proxy: ficus_entra::is_loopback(issuer),
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
    let jwks = match sts::fetch_jwks(http, issuer).await {
        Ok(k) => k,
        Err(e) => {
            return Signature::NotChecked {
                reason: format!(
                    "the keys of {} could not be fetched: {e}",
                    issuer.trim_end_matches('/')
                ),
            };
        }
    };
    match jwt::verify(jwt, &jwks) {
        Ok(()) => Signature::Verified {
            key_id: jwt
                .kid()
                .or_else(|| jwt.header.get("x5t").and_then(Value::as_str))
                .unwrap_or("?")
                .to_string(),
            issuer: issuer.to_string(),
        },
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
        check_signature(&jwt, http, options.ca_pem.as_deref()).await
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
