//! The managed identity endpoints of the emulated host, on their own plain-HTTP listener:
//! IMDS (`GET /metadata/identity/oauth2/token`, header `Metadata: true`) and App Service
//! (`GET /msi/token`, header `X-IDENTITY-HEADER`). Numbers are strings, as on Azure.
//!
//! IMDS's own guards are kept: a request carrying `X-Forwarded-For` (it came through a proxy:
//! the anti-SSRF rule) is refused, as is one without `Metadata: true` or with an `api-version`
//! IMDS does not know.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use uuid::Uuid;

use crate::model::{Directory, ServicePrincipal};
use crate::state::AppState;
use crate::tokens::{self, Minted, Signer};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metadata/identity/oauth2/token", get(imds))
        // msal-node (and so @azure/identity for JavaScript) asks with a trailing slash.
        .route("/metadata/identity/oauth2/token/", get(imds))
        .route("/msi/token", get(app_service))
        .route("/msi/token/", get(app_service))
}

/// How the caller names the identity it wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// None given: the system-assigned identity, else the only user-assigned one.
    Default,
    ClientId(String),
    PrincipalId(String),
    ResourceId(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsiError {
    IdentityNotFound,
    /// No system-assigned identity and several user-assigned ones.
    Ambiguous,
    MissingResource,
    UnknownResource {
        resource: String,
        tenant: String,
    },
}

/// A token minted for the host, with what the reply echoes.
pub struct HostToken {
    pub minted: Minted,
    pub client_id: Uuid,
}

fn query(uri: &Uri) -> HashMap<String, String> {
    let mut map = HashMap::new();
    if let Some(q) = uri.query() {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
    }
    map
}

fn non_empty<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn pick<'d>(
    directory: &'d Directory,
    selector: &Selector,
) -> Result<&'d ServicePrincipal, MsiError> {
    let tenant = directory.host_tenant().ok_or(MsiError::IdentityNotFound)?;
    let host = &directory.host;
    let attached: Vec<&ServicePrincipal> = host
        .system_assigned
        .iter()
        .chain(host.user_assigned.iter())
        .filter_map(|id| tenant.service_principals.get(id))
        .collect();
    let found = match selector {
        Selector::Default => {
            if let Some(system) = host
                .system_assigned
                .and_then(|id| tenant.service_principals.get(&id))
            {
                return Ok(system);
            }
            let users: Vec<_> = host
                .user_assigned
                .iter()
                .filter_map(|id| tenant.service_principals.get(id))
                .collect();
            return match users.as_slice() {
                [only] => Ok(only),
                [] => Err(MsiError::IdentityNotFound),
                _ => Err(MsiError::Ambiguous),
            };
        }
        Selector::ClientId(c) => attached
            .into_iter()
            .find(|s| Uuid::parse_str(c).is_ok_and(|c| c == s.app_id)),
        Selector::PrincipalId(p) => attached
            .into_iter()
            .find(|s| Uuid::parse_str(p).is_ok_and(|p| p == s.id)),
        Selector::ResourceId(r) => attached.into_iter().find(|s| {
            s.managed_identity
                .as_ref()
                .is_some_and(|m| m.resource_id.eq_ignore_ascii_case(r.trim_end_matches('/')))
        }),
    };
    found.ok_or(MsiError::IdentityNotFound)
}

/// Mints a token for one of the host's identities, as both endpoints do. The resource may be
/// given with a trailing `/.default` (stripped, as the SDKs do).
pub fn host_token(
    state: &AppState,
    selector: &Selector,
    resource: &str,
) -> Result<HostToken, MsiError> {
    let resource = resource.trim();
    if resource.is_empty() {
        return Err(MsiError::MissingResource);
    }
    let resource = resource.strip_suffix("/.default").unwrap_or(resource);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let answer = state.read(|d| {
        let identity = pick(d, selector)?;
        let tenant = d.host_tenant().ok_or(MsiError::IdentityNotFound)?;
        let res = tokens::resolve_resource(tenant, resource).ok_or_else(|| {
            MsiError::UnknownResource {
                resource: resource.to_string(),
                tenant: tenant.id.to_string(),
            }
        })?;
        let key = state
            .keys
            .get(tenant.id)
            .ok_or(MsiError::IdentityNotFound)?;
        let signer = Signer {
            authority: &state.authority,
            tenant_id: tenant.id,
            key: &key,
        };
        Ok(HostToken {
            minted: crate::mi_cache::token(&signer, identity, &res, now),
            client_id: identity.app_id,
        })
    });
    if let Ok(token) = &answer {
        crate::signins::record_managed_identity(state, token.client_id, resource);
    }
    answer
}

/// The `api-version` values IMDS accepts.
pub const IMDS_API_VERSIONS: &[&str] = &[
    "2017-03-01",
    "2017-04-02",
    "2017-08-01",
    "2017-09-01",
    "2017-10-01",
    "2017-12-01",
    "2018-02-01",
    "2018-04-02",
    "2018-10-01",
    "2019-02-01",
    "2019-03-11",
    "2019-04-30",
    "2019-06-01",
    "2019-06-04",
    "2019-08-01",
    "2019-08-15",
    "2019-11-01",
    "2020-06-01",
    "2020-07-15",
    "2020-09-01",
    "2020-10-01",
    "2020-12-01",
    "2021-01-01",
    "2021-02-01",
    "2021-03-01",
    "2021-05-01",
    "2021-08-01",
    "2021-10-01",
    "2021-11-01",
    "2021-11-15",
    "2021-12-13",
    "2023-07-01",
    "2023-11-15",
    "2024-03-15",
    "2024-07-17",
    "2025-04-07",
];

async fn imds(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    if headers.contains_key("x-forwarded-for") {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Request contains an X-Forwarded-For header: IMDS does not answer proxied requests.",
        );
    }
    let metadata_ok = headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !metadata_ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "error": "bad_request_102",
                "error_description": "Required metadata header not specified",
            })),
        )
            .into_response();
    }
    let q = query(&uri);
    let Some(version) = non_empty(&q, "api-version") else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        );
    };
    if !IMDS_API_VERSIONS.contains(&version) {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!(
                "Invalid api-version '{}'. The supported versions are: {}",
                version.chars().take(40).collect::<String>(),
                IMDS_API_VERSIONS.join(", ")
            ),
        );
    }
    let selector = if let Some(c) = non_empty(&q, "client_id") {
        Selector::ClientId(c.to_string())
    } else if let Some(o) = non_empty(&q, "object_id") {
        Selector::PrincipalId(o.to_string())
    } else if let Some(r) = non_empty(&q, "msi_res_id").or_else(|| non_empty(&q, "mi_res_id")) {
        Selector::ResourceId(r.to_string())
    } else {
        Selector::Default
    };
    let resource = non_empty(&q, "resource").unwrap_or("").to_string();
    match host_token(&state, &selector, &resource) {
        Ok(t) => {
            let life = t.minted.expires_in.to_string();
            let not_before = (t.minted.expires_on - t.minted.expires_in - 1).to_string();
            (
                StatusCode::OK,
                axum::Json(json!({
                    "access_token": t.minted.token.expose(),
                    "client_id": t.client_id.to_string(),
                    "expires_in": life,
                    "expires_on": t.minted.expires_on.to_string(),
                    "ext_expires_in": life,
                    "not_before": not_before,
                    "resource": resource,
                    "token_type": "Bearer",
                })),
            )
                .into_response()
        }
        Err(MsiError::IdentityNotFound) => imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        ),
        Err(MsiError::Ambiguous) => imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request",
        ),
        Err(MsiError::MissingResource) => imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required audience variable not specified",
        ),
        Err(MsiError::UnknownResource { resource, tenant }) => imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            &format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        ),
    }
}

fn imds_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn app_service_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "statusCode": status.as_u16(),
            "message": message,
            "correlationId": Uuid::new_v4().to_string(),
        })),
    )
        .into_response()
}

async fn app_service(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let presented = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if presented.is_empty() || presented != state.app_service_header {
        return app_service_error(
            StatusCode::UNAUTHORIZED,
            "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.",
        );
    }
    let q = query(&uri);
    if non_empty(&q, "api-version").is_none() {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            "The api-version query parameter is required (use 2019-08-01).",
        );
    }
    let selector = if let Some(c) = non_empty(&q, "client_id") {
        Selector::ClientId(c.to_string())
    } else if let Some(p) = non_empty(&q, "principal_id").or_else(|| non_empty(&q, "object_id")) {
        Selector::PrincipalId(p.to_string())
    } else if let Some(r) = non_empty(&q, "mi_res_id").or_else(|| non_empty(&q, "msi_res_id")) {
        Selector::ResourceId(r.to_string())
    } else {
        Selector::Default
    };
    let resource = non_empty(&q, "resource").unwrap_or("").to_string();
    match host_token(&state, &selector, &resource) {
        Ok(t) => (
            StatusCode::OK,
            axum::Json(json!({
                "access_token": t.minted.token.expose(),
                "expires_on": t.minted.expires_on.to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": t.client_id.to_string(),
            })),
        )
            .into_response(),
        Err(MsiError::IdentityNotFound) | Err(MsiError::Ambiguous) => app_service_error(
            StatusCode::BAD_REQUEST,
            "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        ),
        Err(MsiError::MissingResource) => app_service_error(
            StatusCode::BAD_REQUEST,
            "The resource query parameter is required.",
        ),
        Err(MsiError::UnknownResource { resource, tenant }) => app_service_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}."
            ),
        ),
    }
}
