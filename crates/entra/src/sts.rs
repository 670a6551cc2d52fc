//! The token exchange: a managed identity token for the cloud's exchange audience is POSTed as
//! `client_assertion` to the resource tenant's token endpoint. The result is a timeline (each
//! step, its endpoint, duration and outcome), both tokens decoded, and on failure the AADSTS
//! error diagnosed against the app's FICs.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::{EntraError, StsError};
use super::http::{Http, Retry};
use super::msi::{self, IdentitySelector, MsiSource};
use super::signin::TokenSet;
use ficus_core::cloud::Cloud;
use ficus_core::fic::{self, Fic, Identity};
use ficus_core::jwt::Jwt;
use ficus_core::secret::Secret;

pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Ok(String),
    Failed(String),
    Skipped(String),
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }
}

/// One step of the exchange timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: String,
    pub endpoint: String,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    pub outcome: Outcome,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// What went wrong and how to fix it, from `fic::diagnose` / the AADSTS explainer (or, for
/// errors those do not cover, the token service's own words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub code: Option<u32>,
    /// One sentence: what Entra refused.
    pub summary: String,
    /// The FIC field at fault (`issuer`, `subject`, `audiences`), when known.
    pub field: Option<String>,
    /// The concrete fix, when known.
    pub fix: Option<String>,
    /// The FIC the assertion matched (success) or nearly matched (failure).
    pub fic_name: Option<String>,
}

/// Everything an exchange produced. Tokens are decoded claims only; the raw tokens stay in
/// `Secret`s and are not serialized.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeReport {
    pub app_client_id: String,
    pub resource_tenant: String,
    pub scope: String,
    pub source: String,
    pub steps: Vec<Step>,
    /// The managed identity token (the assertion), decoded.
    #[serde(serialize_with = "jwt_claims")]
    pub assertion: Option<Jwt>,
    /// The app's access token, decoded.
    #[serde(serialize_with = "jwt_claims")]
    pub app_token: Option<Jwt>,
    #[serde(skip)]
    pub app_token_raw: Option<Secret<String>>,
    /// The managed identity token as sent (for the console's reveal/copy; never serialized).
    #[serde(skip)]
    pub assertion_raw: Option<Secret<String>>,
    /// The token service's refusal, if it refused.
    pub error: Option<StsError>,
    /// Any other failure (no managed identity source, network…), as text.
    pub failure: Option<String>,
    pub diagnosis: Option<Diagnosis>,
}

fn jwt_claims<S: serde::Serializer>(jwt: &Option<Jwt>, s: S) -> Result<S::Ok, S::Error> {
    match jwt {
        Some(j) => serde_json::json!({ "header": j.header, "claims": j.claims }).serialize(s),
        None => s.serialize_none(),
    }
}

impl ExchangeReport {
    pub fn succeeded(&self) -> bool {
        self.app_token_raw.is_some()
    }
}

/// What to exchange.
#[derive(Debug, Clone)]
pub struct ExchangeRequest {
    /// The app registration's application (client) id.
    pub app_client_id: String,
    /// Tenant whose token endpoint is asked (id or domain): the app's home tenant by default.
    pub resource_tenant: String,
    /// Default: `{graph}/.default`.
    pub scope: String,
    pub source: MsiSource,
    pub identity: IdentitySelector,
    /// The app's FICs, for the diagnosis (empty when unknown).
    pub app_fics: Vec<Fic>,
    /// Identities ficus knows (the chosen one at least), to make fixes concrete.
    pub identities: Vec<Identity>,
}

/// Runs the exchange. Never returns early with an error: every failure is a step in the report.
pub async fn exchange(
    http: &Http,
    msi_http: &Http,
    cloud: &Cloud,
    request: &ExchangeRequest,
) -> ExchangeReport {
    exchange_observed(http, msi_http, cloud, request, &mut |_| {}).await
}

/// [`exchange`], calling `on_step` as each step ends, so a timeline can fill in step by step.
pub async fn exchange_observed(
    http: &Http,
    msi_http: &Http,
    cloud: &Cloud,
    request: &ExchangeRequest,
    on_step: &mut (dyn FnMut(&Step) + Send),
) -> ExchangeReport {
    let mut report = ExchangeReport {
        app_client_id: request.app_client_id.clone(),
        resource_tenant: request.resource_tenant.clone(),
        scope: request.scope.clone(),
        source: request.source.label(),
        steps: Vec::new(),
        assertion: None,
        app_token: None,
        app_token_raw: None,
        assertion_raw: None,
        error: None,
        failure: None,
        diagnosis: None,
    };

    // 1. The managed identity token for the exchange audience.
    let started = Instant::now();
    let mi = msi::acquire(
        msi_http,
        &request.source,
        &request.identity,
        &cloud.exchange_audience,
    )
    .await;
    let assertion = match mi {
        Ok(t) => {
            push_step(
                &mut report,
                on_step,
                Step {
                    name: "managed identity token".into(),
                    endpoint: t.endpoint.clone(),
                    duration: started.elapsed(),
                    outcome: Outcome::Ok(format!("token for {}", cloud.exchange_audience)),
                },
            );
            report.assertion_raw = Some(t.token.clone());
            t.token
        }
        Err(e) => {
            push_step(
                &mut report,
                on_step,
                Step {
                    name: "managed identity token".into(),
                    endpoint: request.source.endpoint(),
                    duration: started.elapsed(),
                    outcome: Outcome::Failed(e.to_string()),
                },
            );
            report.failure = Some(e.to_string());
            return report;
        }
    };

    // 2. Decode it (never trusted, only shown and compared).
    let started = Instant::now();
    match ficus_core::jwt::decode(assertion.expose()) {
        Ok(jwt) => {
            let sub = jwt.str_claim("sub").unwrap_or("?").to_string();
            push_step(
                &mut report,
                on_step,
                Step {
                    name: "decode assertion".into(),
                    endpoint: String::new(),
                    duration: started.elapsed(),
                    outcome: Outcome::Ok(format!(
                        "iss {} sub {sub} aud {}",
                        jwt.str_claim("iss").unwrap_or("?"),
                        jwt.audiences().join(",")
                    )),
                },
            );
            report.assertion = Some(jwt);
        }
        Err(e) => push_step(
            &mut report,
            on_step,
            Step {
                name: "decode assertion".into(),
                endpoint: String::new(),
                duration: started.elapsed(),
                outcome: Outcome::Failed(format!("{e} (sending it anyway)")),
            },
        ),
    }

    // 3. The exchange itself.
    let endpoint = cloud.token_endpoint(&request.resource_tenant);
    let started = Instant::now();
    let result = client_assertion_token(
        http,
        &endpoint,
        &request.app_client_id,
        &request.scope,
        &assertion,
    )
    .await;
    let outcome = match &result {
        Ok(_) => Outcome::Ok(format!("access token for {}", request.scope)),
        Err(e) => Outcome::Failed(e.to_string()),
    };
    push_step(
        &mut report,
        on_step,
        Step {
            name: "exchange at token endpoint".into(),
            endpoint: super::http::redact_userinfo(&endpoint),
            duration: started.elapsed(),
            outcome,
        },
    );
    match result {
        Ok(tokens) => {
            report.app_token = ficus_core::jwt::decode(tokens.access_token.expose()).ok();
            report.app_token_raw = Some(tokens.access_token);
            // Which FIC matched, as Entra matches them.
            if let Some(a) = &report.assertion {
                let verdict = fic::diagnose(a, &request.app_fics, cloud);
                if let Some(f) = verdict.matched_fic(&request.app_fics) {
                    report.diagnosis = Some(Diagnosis {
                        code: None,
                        summary: format!("the assertion matched the credential '{}'", f.name),
                        field: None,
                        fix: None,
                        fic_name: Some(f.name.clone()),
                    });
                }
            }
        }
        Err(e) => match e {
            EntraError::Sts(sts) => {
                report.diagnosis = Some(diagnose_refusal(
                    &sts,
                    report.assertion.as_ref(),
                    &request.app_fics,
                    &request.identities,
                    cloud,
                ));
                report.failure = Some(sts.to_string());
                report.error = Some(*sts);
            }
            other => report.failure = Some(other.to_string()),
        },
    }
    report
}

fn push_step(report: &mut ExchangeReport, on_step: &mut (dyn FnMut(&Step) + Send), step: Step) {
    on_step(&step);
    report.steps.push(step);
}

/// Explains a refusal with `fic::explain` made concrete by the assertion, the app's FICs and
/// the known identities; names the nearest FIC from `fic::diagnose`.
pub fn diagnose_refusal(
    sts: &StsError,
    assertion: Option<&Jwt>,
    fics: &[Fic],
    identities: &[Identity],
    cloud: &Cloud,
) -> Diagnosis {
    let body = serde_json::json!({
        "error": sts.error,
        "error_description": sts.description,
        "error_codes": sts.codes,
    })
    .to_string();
    let Some(base) = fic::explain(&body) else {
        return Diagnosis {
            code: None,
            summary: sts.to_string(),
            field: None,
            fix: None,
            fic_name: None,
        };
    };
    let explained = fic::explain_with_context(&base, assertion, fics, identities, cloud);
    let nearest = assertion.and_then(|a| {
        fic::diagnose(a, fics, cloud)
            .nearest_miss()
            .map(|c| c.name.clone())
    });
    Diagnosis {
        code: Some(explained.code),
        summary: explained.title,
        field: explained.field_at_fault.map(|f| f.label().to_string()),
        fix: Some(explained.fix),
        fic_name: nearest,
    }
}

/// `grant_type=client_credentials` with a `client_assertion` (the FIC exchange).
pub async fn client_assertion_token(
    http: &Http,
    token_endpoint: &str,
    client_id: &str,
    scope: &str,
    assertion: &Secret<String>,
) -> Result<TokenSet, EntraError> {
    let resp = http
        .send(Retry::Idempotent, |c| {
            c.post(token_endpoint).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("scope", scope),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", assertion.expose().as_str()),
            ])
        })
        .await?;
    if !resp.is_success() {
        return Err(resp.sts_error(token_endpoint).into());
    }
    TokenSet::from_token_response(&resp.body, "the token service")
}

/// Fetches the issuer's OpenID configuration and JWKS (for `ficus decode --verify`).
pub async fn fetch_jwks(http: &Http, issuer: &str) -> Result<ficus_core::jwt::Jwks, EntraError> {
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let shown = |url: &str| super::http::redact_userinfo(url);
    let resp = http.get_json(&discovery, None, &[]).await?;
    if !resp.is_success() {
        return Err(EntraError::Protocol {
            service: shown(&discovery),
            detail: format!("HTTP {}", resp.status),
        });
    }
    let config: serde_json::Value = resp.json("the OpenID configuration")?;
    let Some(jwks_uri) = config["jwks_uri"].as_str() else {
        return Err(EntraError::Protocol {
            service: shown(&discovery),
            detail: "no jwks_uri".into(),
        });
    };
    let resp = http.get_json(jwks_uri, None, &[]).await?;
    if !resp.is_success() {
        return Err(EntraError::Protocol {
            service: shown(jwks_uri),
            detail: format!("HTTP {}", resp.status),
        });
    }
    resp.json("the JWKS")
}

/// Checks a token's signature against its issuer's published keys (discovery document, then
/// JWKS). Returns the key id that verified it.
pub async fn verify_with_issuer_keys(http: &Http, jwt: &Jwt) -> Result<String, EntraError> {
    let Some(issuer) = jwt.str_claim("iss") else {
        return Err(EntraError::Invalid(
            "the token names no issuer (iss), so there are no keys to check it against".into(),
        ));
    };
    // Graph tokens are verified by Graph only; fetching keys for them proves nothing (and
    // their v1 issuer, sts.windows.net, may not be reachable).
    if jwt.has_graph_nonce() {
        return Err(EntraError::Invalid(
            ficus_core::jwt::GRAPH_TOKEN_NOT_VERIFIABLE.into(),
        ));
    }
    let jwks = fetch_jwks(http, issuer).await?;
    ficus_core::jwt::verify(jwt, &jwks)
        .map(|()| jwt.kid().unwrap_or("?").to_string())
        .map_err(|e| EntraError::Invalid(e.to_string()))
}
