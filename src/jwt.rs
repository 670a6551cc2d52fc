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
