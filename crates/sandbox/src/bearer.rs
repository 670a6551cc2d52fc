//! The bearer check in front of Graph: which sandbox token is calling, and who it is.

use serde_json::Value;
use uuid::Uuid;

use crate::model::GRAPH_APP_ID;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    User { upn: String },
    App,
}

/// Who is calling Graph, from a verified sandbox token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant_id: Uuid,
    /// `oid`: the user's object id, or the client's service principal id (app-only).
    pub object_id: Uuid,
    /// The client application (`appid` / `azp`).
    pub client_app_id: String,
    pub kind: CallerKind,
    /// Delegated permissions (`scp`, split).
    pub scopes: Vec<String>,
    /// Application permissions (`roles`).
    pub roles: Vec<String>,
    /// Directory role template ids (`wids`).
    pub directory_roles: Vec<Uuid>,
}

impl Caller {
    pub fn is_user(&self) -> bool {
        matches!(self.kind, CallerKind::User { .. })
    }

    /// True if the token carries `permission` as a delegated scope or an app role.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.scopes
            .iter()
            .chain(self.roles.iter())
            .any(|p| p.eq_ignore_ascii_case(permission))
    }
}

/// Why Graph refuses a bearer token (401 `InvalidAuthenticationToken`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphAuthError {
    #[error("Access token is empty.")]
    Missing,
    #[error("IDX14100: JWT is not well formed, there are no dots (.).")]
    Malformed,
    #[error("Access token validation failure. Invalid audience.")]
    WrongAudience,
    #[error("Access token validation failure. Invalid issuer.")]
    WrongIssuer,
    #[error("Access token has expired or is not yet valid.")]
    Expired,
    #[error("Access token validation failure. Signature is invalid.")]
    BadSignature,
}

impl GraphAuthError {
    /// Graph's error code for all of these.
    pub fn code(&self) -> &'static str {
        "InvalidAuthenticationToken"
    }
}

fn graph_audience(authority: &str, aud: &str) -> bool {
    let a = aud.trim_end_matches('/').to_ascii_lowercase();
    // The sandbox's own base URL names Graph too (see `sts::resolve_resource`).
    crate::sts::is_own_base_url(authority, aud)
        || a == "https://graph.microsoft.com"
        || a == "https://canary.graph.microsoft.com"
        || a == GRAPH_APP_ID.to_string()
}

/// Verifies a Graph bearer token from the `Authorization` header: RS256 signature with the
/// sandbox's key (over the hashed `nonce` header, as Graph does), issuer (v1
/// `sts.windows.net` or this sandbox's v2 form, naming the token's `tid`), `aud` = Graph, `exp`/`nbf`
/// (5 minutes' skew). Tokens are accepted in any case of `Bearer`.
pub fn authenticate_graph(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Caller, GraphAuthError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => "",
    };
    if token.is_empty() {
        return Err(GraphAuthError::Missing);
    }
    authenticate_graph_token(
        state,
        token,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
}

/// [`authenticate_graph`] on a bare token at time `now`.
pub fn authenticate_graph_token(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Caller, GraphAuthError> {
    authenticate_token(state, token, now, &|aud| {
        graph_audience(&state.authority, aud)
    })
}

/// The bearer check of any sandbox-served API (Graph, Resource Manager): signature, issuer,
/// `aud` (one of the token's audiences passes `audience`), lifetime; then who is calling.
pub fn authenticate_token(
    state: &AppState,
    token: &str,
    now: i64,
    audience: &dyn Fn(&str) -> bool,
) -> Result<Caller, GraphAuthError> {
    let jwt = ficus_core::jwt::decode(token).map_err(|_| GraphAuthError::Malformed)?;
    // Graph tokens are signed over their header with the nonce hashed; Graph checks that form.
    let signed = crate::tokens::graph_signed_form(token)
        .map(|t| ficus_core::jwt::decode(&t))
        .transpose()
        .map_err(|_| GraphAuthError::Malformed)?;
    let tenant_id = jwt
        .str_claim("tid")
        .and_then(|t| Uuid::parse_str(t).ok())
        .ok_or(GraphAuthError::WrongIssuer)?;
    let iss = jwt.str_claim("iss").unwrap_or("");
    let v1 = crate::tokens::v1_issuer(tenant_id);
    let v2 = format!("{}/{}/v2.0", state.authority, tenant_id);
    if iss != v1 && iss != v2 {
        return Err(GraphAuthError::WrongIssuer);
    }
    let key = state
        .keys
        .get(tenant_id)
        .ok_or(GraphAuthError::WrongIssuer)?;
    let jwks = ficus_core::jwt::Jwks {
        keys: vec![key.jwk.clone()],
    };
    ficus_core::jwt::verify(signed.as_ref().unwrap_or(&jwt), &jwks)
        .map_err(|_| GraphAuthError::BadSignature)?;
    if !jwt.audiences().iter().any(|a| audience(a)) {
        return Err(GraphAuthError::WrongAudience);
    }
    const SKEW: i64 = 300;
    let exp = jwt.time_claim("exp").ok_or(GraphAuthError::Expired)?;
    if exp + SKEW < now {
        return Err(GraphAuthError::Expired);
    }
    if let Some(nbf) = jwt.time_claim("nbf")
        && nbf - SKEW > now
    {
        return Err(GraphAuthError::Expired);
    }
    let object_id = jwt
        .str_claim("oid")
        .and_then(|o| Uuid::parse_str(o).ok())
        .ok_or(GraphAuthError::Malformed)?;
    let client_app_id = jwt
        .str_claim("appid")
        .or_else(|| jwt.str_claim("azp"))
        .unwrap_or("")
        .to_string();
    let split = |name: &str| -> Vec<String> {
        match jwt.claim(name) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let scopes = split("scp");
    let roles = split("roles");
    let directory_roles = split("wids")
        .iter()
        .filter_map(|w| Uuid::parse_str(w).ok())
        .collect();
    let kind = if jwt.str_claim("idtyp") == Some("user") || jwt.claim("scp").is_some() {
        CallerKind::User {
            upn: jwt
                .str_claim("upn")
                .or_else(|| jwt.str_claim("preferred_username"))
                .unwrap_or("")
                .to_string(),
        }
    } else {
        CallerKind::App
    };
    Ok(Caller {
        tenant_id,
        object_id,
        client_app_id,
        kind,
        scopes,
        roles,
        directory_roles,
    })
}
