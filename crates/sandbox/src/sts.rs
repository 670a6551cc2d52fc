//! The token service: OIDC discovery, JWKS, device authorization, the token endpoint (device
//! code, refresh token, client credentials with a secret, a certificate assertion or a
//! federated `client_assertion`),
//! and the `/devicelogin` page. Errors follow Entra: `error`, `error_description`
//! ("AADSTSnnn: …\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …"), `error_codes`, `timestamp`,
//! `trace_id`, `correlation_id`, `error_uri`; `invalid_client` is 401, the rest 400.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::model::{
    AZURE_CLI_APP_ID, Application, Directory, GRAPH_APP_ID, GRAPH_CLI_APP_ID, Tenant,
};
use crate::sessions::{DeviceFlow, DeviceFlowStatus, RefreshGrant};
use crate::state::AppState;
use crate::tokens::{
    self, AZURE_CLI_GRAPH_SCP, ClientAuth, EXCHANGE_AUDIENCE, REFRESH_TOKEN_LIFETIME, Resource,
    Signer,
};
use ficus_core::cloud::TOKEN_EXCHANGE_APP_ID;
use ficus_core::secret::Secret;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The device code grant as MSAL for JavaScript (msal-common `GrantType.DEVICE_CODE_GRANT`)
/// sends it; Entra accepts it as well as the RFC 8628 URN MSAL Python and .NET send.
pub const DEVICE_CODE_GRANT_SHORT: &str = "device_code";
/// Assertions may be this far outside their validity window (clock skew).
const SKEW_SECONDS: i64 = 300;
const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(900);
const DEVICE_CODE_INTERVAL: u64 = 5;
/// How long the auto-approver takes, unless `approve-after=MS` says otherwise.
const AUTO_APPROVE_AFTER: Duration = Duration::from_secs(1);

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// ---------------------------------------------------------------------------------------------
// Errors

/// An Entra token-service error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    /// The OAuth `error` value.
    pub error: &'static str,
    pub code: u32,
    /// The message after `AADSTSnnn: `.
    pub message: String,
}

impl StsError {
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> StsError {
        StsError {
            error,
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    /// The JSON body Entra sends. `correlation_id` echoes the client's `client-request-id`.
    pub fn body(&self, correlation_id: Option<&str>) -> Value {
        let now = time::OffsetDateTime::now_utc();
        let timestamp = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let trace_id = Uuid::new_v4().to_string();
        let correlation_id = correlation_id
            .and_then(|c| Uuid::parse_str(c.trim()).ok())
            .unwrap_or_else(Uuid::new_v4)
            .to_string();
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }

    pub fn into_response_with(self, headers: &HeaderMap) -> Response {
        let correlation = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok());
        let mut response = (self.status(), axum::Json(self.body(correlation))).into_response();
        no_store(&mut response);
        response
    }

    fn missing(name: &str) -> StsError {
        StsError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    fn tenant_not_found(tenant: &str) -> StsError {
        StsError::new(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    fn app_not_found(client_id: &str, tenant: &Tenant) -> StsError {
        StsError::new(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                tenant.display_name
            ),
        )
    }
}

fn no_store(response: &mut Response) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

pub(crate) fn json_ok(value: Value) -> Response {
    let mut response = (StatusCode::OK, axum::Json(value)).into_response();
    no_store(&mut response);
    response
}

/// Form fields; the first value of a repeated field wins, unknown fields are kept and ignored.
pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name)
        .map(|s| s.as_str())
        .filter(|s| !s.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// Discovery and keys

enum TenantRef {
    Known(Uuid),
    /// `common` / `organizations` / `consumers`.
    Multi(String),
}

fn tenant_ref(directory: &Directory, segment: &str) -> Option<TenantRef> {
    let lower = segment.to_ascii_lowercase();
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return Some(TenantRef::Multi(lower));
    }
    directory.tenant(segment).map(|t| TenantRef::Known(t.id))
}

fn discovery_error(segment: &str) -> Response {
    let mut e = StsError::tenant_not_found(segment);
    e.error = "invalid_tenant";
    (StatusCode::BAD_REQUEST, axum::Json(e.body(None))).into_response()
}

fn discovery_document(state: &AppState, segment: &str, v2: bool) -> Response {
    let Some(tenant) = state.read(|d| tenant_ref(d, segment)) else {
        return discovery_error(segment);
    };
    let a = &state.authority;
    let (path_tenant, issuer_tenant) = match &tenant {
        TenantRef::Known(id) => (id.to_string(), id.to_string()),
        TenantRef::Multi(name) => (name.clone(), "{tenantid}".to_string()),
    };
    let graph = "graph.microsoft.com";
    // Only endpoints the sandbox answers are advertised (Entra's kerberos, userinfo and
    // check_session_iframe are left out).
    let doc = if v2 {
        json!({
            "token_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{a}/{path_tenant}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{a}/{issuer_tenant}/v2.0"),
            "request_uri_parameter_supported": false,
            "authorization_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": graph,
            "rbac_url": "https://pas.windows.net",
        })
    } else {
        json!({
            "token_endpoint": format!("{a}/{path_tenant}/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{a}/{path_tenant}/discovery/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            // The v1 issuer is sts.windows.net whatever host serves the document.
            "issuer": format!("https://sts.windows.net/{issuer_tenant}/"),
            "microsoft_multi_refresh_token": true,
            "authorization_endpoint": format!("{a}/{path_tenant}/oauth2/authorize"),
            "device_authorization_endpoint": format!("{a}/{path_tenant}/oauth2/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{a}/{path_tenant}/oauth2/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": graph,
            "rbac_url": "https://pas.windows.net",
        })
    };
    let mut response = (StatusCode::OK, axum::Json(doc)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    response
}

pub(crate) async fn discovery_v2(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Response {
    discovery_document(&state, &tenant, true)
}

pub(crate) async fn discovery_v1(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Response {
    discovery_document(&state, &tenant, false)
}

/// The JWKS: Entra's keys are global, so every tenant (and `common`) publishes the same keys.
/// On the v2 endpoint each carries the `{tenantid}` issuer template; on the v1 endpoint none.
fn jwks(state: &AppState, segment: &str, v2: bool) -> Response {
    if state.read(|d| tenant_ref(d, segment)).is_none() {
        return discovery_error(segment);
    }
    let template = format!("{}/{{tenantid}}/v2.0", state.authority);
    let set = state.keys.jwks(v2.then_some(template.as_str()));
    let mut response = (StatusCode::OK, axum::Json(set)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    response
}

pub(crate) async fn jwks_v2(
    State(state): State<AppState>,
    Path(segment): Path<String>,
) -> Response {
    jwks(&state, &segment, true)
}

pub(crate) async fn jwks_v1(
    State(state): State<AppState>,
    Path(segment): Path<String>,
) -> Response {
    jwks(&state, &segment, false)
}

// ---------------------------------------------------------------------------------------------
// Clients and scopes

/// A client as the token service sees it.
#[derive(Debug, Clone)]
struct Client {
    app_id: Uuid,
    display_name: String,
    /// Public clients may use the device code grant without a credential.
    public: bool,
    /// The registration (home tenant copy) for confidential clients.
    app: Option<Application>,
}

fn well_known_public(client_id: Uuid) -> Option<&'static str> {
    if client_id == AZURE_CLI_APP_ID {
        Some("Microsoft Azure CLI")
    } else if client_id == GRAPH_CLI_APP_ID {
        Some("Microsoft Graph Command Line Tools")
    } else {
        None
    }
}

/// Finds `client_id` as seen from `tenant`: an app registered there, or a multitenant app from
/// another tenant that has a service principal there, or a well-known public client.
fn find_client(directory: &Directory, tenant: &Tenant, client_id: &str) -> Option<Client> {
    let id = Uuid::parse_str(client_id.trim()).ok()?;
    if let Some(name) = well_known_public(id) {
        return Some(Client {
            app_id: id,
            display_name: name.into(),
            public: true,
            app: None,
        });
    }
    let app = tenant.application_by_app_id(id).cloned().or_else(|| {
        let sp = tenant.service_principal_by_app_id(id)?;
        let home = directory.tenant_by_id(sp.app_owner_organization_id?)?;
        let app = home.application_by_app_id(id)?;
        (app.sign_in_audience != "AzureADMyOrg").then(|| app.clone())
    })?;
    Some(Client {
        app_id: app.app_id,
        display_name: app.display_name.clone(),
        public: app.is_fallback_public_client,
        app: Some(app),
    })
}

/// [`tokens::resolve_resource`], plus the hosts this sandbox serves Graph from: Entra treats
/// every host Graph is served from, with or without the trailing slash, as a service principal
/// name of Graph, and echoes the name as requested in `aud` (the Azure CLI's custom cloud asks
/// for `{microsoft_graph_resource_id}/.default`, i.e. `https://host//.default`).
pub(crate) fn resolve_resource(
    authority: &str,
    tenant: &Tenant,
    resource: &str,
) -> Option<Resource> {
    let trimmed = resource.trim();
    if is_own_base_url(authority, trimmed) {
        let mut graph = tokens::resolve_resource(tenant, "https://graph.microsoft.com")?;
        graph.audience = trimmed.to_string();
        return Some(graph);
    }
    tokens::resolve_resource(tenant, resource)
}

/// `candidate` is the sandbox's base URL (`https://127.0.0.1:8443`), with or without trailing
/// slashes, scheme and host in any case; `localhost` and `127.0.0.1` name the same loopback host.
pub(crate) fn is_own_base_url(authority: &str, candidate: &str) -> bool {
    let (Ok(own), Ok(other)) = (
        url::Url::parse(authority),
        url::Url::parse(candidate.trim_end_matches('/')),
    ) else {
        return false;
    };
    let loopback = |host: Option<&str>| match host {
        Some("localhost") | Some("127.0.0.1") | Some("[::1]") => Some("loopback".to_string()),
        other => other.map(str::to_ascii_lowercase),
    };
    own.scheme() == other.scheme()
        && loopback(own.host_str()) == loopback(other.host_str())
        && own.port_or_known_default() == other.port_or_known_default()
        && matches!(other.path(), "" | "/")
        && other.query().is_none()
        && other.fragment().is_none()
        && other.username().is_empty()
}

/// Splits the space-separated scope parameter.
fn scope_items(scope: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        if !items.iter().any(|i| i == s) {
            items.push(s.to_string());
        }
    }
    items
}

const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// One requested delegated scope: the resource prefix as written (`None` for Graph's short
/// form, `User.Read`) and the permission (`.default` included).
struct Requested {
    prefix: Option<String>,
    permission: String,
}

/// What a delegated request is granted: the resource, the `scp` values, and the `scope` the
/// token response reports (the granted scopes, spelled as they were asked for).
pub(crate) struct DelegatedGrant {
    pub resource: Resource,
    pub scp: Vec<String>,
    pub scope: String,
}

/// Microsoft Graph's delegated permissions the sandbox publishes (a subset of Graph's, with
/// Graph's spelling).
pub const GRAPH_DELEGATED_SCOPES: &[&str] = &[
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "Application.ReadWrite.All",
    "AuditLog.Read.All",
    "Calendars.Read",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.AccessAsUser.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Domain.Read.All",
    "email",
    "Files.Read",
    "Files.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "Mail.Read",
    "Mail.Send",
    "offline_access",
    "openid",
    "Organization.Read.All",
    "Policy.Read.All",
    "profile",
    "RoleManagement.Read.Directory",
    "Sites.Read.All",
    "User.Read",
    "User.Read.All",
    "User.ReadBasic.All",
    "User.ReadWrite",
    "User.ReadWrite.All",
];

/// The delegated permissions `resource` publishes.
fn published_scopes(tenant: &Tenant, resource: &Resource) -> Vec<String> {
    if resource.is_graph() {
        return GRAPH_DELEGATED_SCOPES
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    if resource.is_exchange() {
        return Vec::new();
    }
    if resource.first_party {
        return vec!["user_impersonation".into()];
    }
    tenant
        .application_by_app_id(resource.app_id)
        .map(|a| {
            a.api
                .oauth2_permission_scopes
                .iter()
                .filter(|s| s.is_enabled)
                .map(|s| s.value.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The scopes a client holds on a resource for a user: the Azure CLI's pre-authorization
/// (first party), else the tenant's consent grants.
fn consented(tenant: &Tenant, client: Uuid, resource: &Resource, user: Uuid) -> Vec<String> {
    if client == AZURE_CLI_APP_ID {
        if resource.is_graph() {
            return AZURE_CLI_GRAPH_SCP
                .split_whitespace()
                .map(str::to_string)
                .collect();
        }
        return vec!["user_impersonation".into()];
    }
    tenant.consented_scopes(client, resource.app_id, user)
}

/// Checks delegated scopes as Entra does and works out what is granted: the resource must be
/// known (500011), one resource per request (70011), each named permission published by the
/// resource (650053) and consented for this client (65001); `/.default` grants everything
/// consented. Without a resource scope (only `openid profile offline_access`), Graph's
/// consented scopes (or `User.Read`).
fn grant_delegated(
    authority: &str,
    tenant: &Tenant,
    client: &Client,
    user: Uuid,
    scopes: &[String],
) -> Result<DelegatedGrant, StsError> {
    let mut resource: Option<Resource> = None;
    let mut requested: Vec<Requested> = Vec::new();
    for s in scopes {
        if OIDC_SCOPES.contains(&s.to_ascii_lowercase().as_str()) {
            continue;
        }
        let (prefix, perm) = match s.rsplit_once('/') {
            Some((r, p)) if r.contains(':') || Uuid::parse_str(r).is_ok() => {
                (Some(r.to_string()), p.to_string())
            }
            _ => (None, s.clone()),
        };
        let res = prefix.as_deref().unwrap_or("https://graph.microsoft.com");
        let resolved = resolve_resource(authority, tenant, res).ok_or_else(|| {
            StsError::new(
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named {res} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                    tenant.display_name
                ),
            )
        })?;
        if let Some(existing) = &resource
            && existing.app_id != resolved.app_id
        {
            return Err(StsError::new(
                "invalid_scope",
                70011,
                format!(
                    "The provided value for the input parameter 'scope' is not valid. One or more scopes in '{}' are not compatible with each other.",
                    scopes.join(" ")
                ),
            ));
        }
        if resource.is_none() {
            resource = Some(resolved);
        }
        requested.push(Requested {
            prefix,
            permission: perm,
        });
    }
    let resource = match resource {
        Some(r) => r,
        None => tokens::resolve_resource(tenant, "https://graph.microsoft.com")
            .ok_or_else(|| StsError::new("invalid_resource", 500011, "Microsoft Graph"))?,
    };
    if client.app_id == AZURE_CLI_APP_ID && resource.is_graph() {
        azure_cli_scope_rule(scopes)?;
    }
    let published = published_scopes(tenant, &resource);
    let held = consented(tenant, client.app_id, &resource, user);
    let not_consented = || {
        StsError::new(
            "invalid_grant",
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                client.app_id, client.display_name
            ),
        )
    };
    let mut scp: Vec<String> = Vec::new();
    let push = |scp: &mut Vec<String>, value: &str| {
        if !scp.iter().any(|x| x.eq_ignore_ascii_case(value)) {
            scp.push(value.to_string());
        }
    };
    let wants_default = requested.iter().any(|r| r.permission == ".default");
    if wants_default || requested.is_empty() {
        if held.is_empty() && requested.is_empty() && resource.is_graph() {
            push(&mut scp, "User.Read");
        } else if held.is_empty() {
            return Err(not_consented());
        }
        for h in &held {
            push(&mut scp, h);
        }
    }
    for r in requested.iter().filter(|r| r.permission != ".default") {
        let Some(canonical) = published
            .iter()
            .find(|p| p.eq_ignore_ascii_case(&r.permission))
        else {
            // AADSTS650053 is the documented code for a scope the resource does not publish
            // (the older AADSTS65005 says the same); `invalid_client` as Entra answers it.
            return Err(StsError::new(
                "invalid_client",
                650053,
                format!(
                    "The application '{}' asked for scope '{}' that doesn't exist on the resource '{}'. Contact the app vendor.",
                    client.display_name, r.permission, resource.app_id
                ),
            ));
        };
        if !held.iter().any(|h| h.eq_ignore_ascii_case(canonical)) {
            return Err(not_consented());
        }
        push(&mut scp, canonical);
    }
    // OpenID scopes asked for are Graph permissions too.
    if resource.is_graph() {
        for oidc in ["openid", "profile", "email"] {
            if scopes.iter().any(|s| s.eq_ignore_ascii_case(oidc)) {
                push(&mut scp, oidc);
            }
        }
    }
    // The answer's `scope`: what was granted, spelled with the prefix the request used, then
    // `{resource}/.default` when asked for it (so clients' caches match the request).
    let prefix = requested.iter().find_map(|r| r.prefix.clone());
    let mut answer: Vec<String> = scp
        .iter()
        .map(|v| match &prefix {
            Some(p) if !OIDC_SCOPES.contains(&v.to_ascii_lowercase().as_str()) => {
                format!("{p}/{v}")
            }
            _ => v.clone(),
        })
        .collect();
    if wants_default {
        let p = prefix.unwrap_or_else(|| "https://graph.microsoft.com".into());
        answer.push(format!("{p}/.default"));
    }
    Ok(DelegatedGrant {
        resource,
        scp,
        scope: answer.join(" "),
    })
}

/// Tokens for a signed-in user: the token response body (access token, granted scope, refresh
/// token if `offline_access` or `always_refresh`, id token if `openid`, client_info when asked).
#[allow(clippy::too_many_arguments)]
pub(crate) fn user_token_response(
    state: &AppState,
    tenant_id: Uuid,
    user_id: Uuid,
    client_id: &str,
    scopes: &[String],
    want_client_info: bool,
    always_refresh: bool,
) -> Result<UserTokens, StsError> {
    let now = now_unix();
    let key = state
        .keys
        .get(tenant_id)
        .ok_or_else(|| StsError::tenant_not_found(&tenant_id.to_string()))?;
    let signer = Signer {
        authority: &state.authority,
        tenant_id,
        key: &key,
    };
    let (access, id_token, granted_scope) = state.read(|d| {
        let tenant = d
            .tenant_by_id(tenant_id)
            .ok_or_else(|| StsError::tenant_not_found(&tenant_id.to_string()))?;
        let user = tenant.users.get(&user_id).ok_or_else(|| {
            StsError::new(
                "invalid_grant",
                50034,
                "The user account does not exist in the directory. To sign into this application, the account must be added to the directory.",
            )
        })?;
        let client = find_client(d, tenant, client_id)
            .ok_or_else(|| StsError::app_not_found(client_id, tenant))?;
        let grant = grant_delegated(&state.authority, tenant, &client, user.id, scopes)?;
        let access = tokens::user_token(
            &signer,
            user,
            client_id,
            &client.display_name,
            &grant.resource,
            &grant.scp.join(" "),
            now,
        );
        let id_token = scopes
            .iter()
            .any(|s| s == "openid")
            .then(|| tokens::id_token(&signer, user, client_id, now));
        Ok::<_, StsError>((access, id_token, grant.scope))
    })?;
    let refresh = (always_refresh || scopes.iter().any(|s| s == "offline_access")).then(|| {
        state
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .issue_refresh_token(RefreshGrant {
                tenant_id,
                user_id,
                client_id: client_id.to_string(),
                scopes: scopes.to_vec(),
                expires_at: Instant::now() + REFRESH_TOKEN_LIFETIME,
            })
    });
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted_scope,
        "expires_in": access.expires_in,
        "ext_expires_in": access.expires_in,
        "access_token": access.token.expose(),
    });
    if let Some(r) = &refresh {
        body["refresh_token"] = Value::String(r.expose().clone());
    }
    if let Some(id) = &id_token {
        body["id_token"] = Value::String(id.expose().clone());
    }
    if want_client_info {
        body["client_info"] = Value::String(tokens::client_info(user_id, tenant_id));
    }
    Ok(UserTokens {
        body: Secret::new(body),
        access_token: access.token,
        refresh_token: refresh,
        id_token,
        expires_in: access.expires_in,
    })
}

pub(crate) struct UserTokens {
    pub body: Secret<Value>,
    pub access_token: Secret<String>,
    pub refresh_token: Option<Secret<String>>,
    pub id_token: Option<Secret<String>>,
    pub expires_in: i64,
}

// ---------------------------------------------------------------------------------------------
// Device authorization

fn user_code() -> String {
    // Entra-style: 9 characters from an unambiguous alphabet.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(9)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

pub(crate) async fn device_code(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match device_code_inner(&state, &segment, &body) {
        Ok(v) => json_ok(v),
        Err(e) => e.into_response_with(&headers),
    }
}

fn device_code_inner(state: &AppState, segment: &str, body: &[u8]) -> Result<Value, StsError> {
    device_code_from_form(state, segment, &parse_form(body))
}

/// Device authorization from parsed form fields (v2, and v1 once `resource` became `scope`).
pub(crate) fn device_code_from_form(
    state: &AppState,
    segment: &str,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    let form = form.clone();
    let client_id = field(&form, "client_id").ok_or_else(|| StsError::missing("client_id"))?;
    let scope = field(&form, "scope").ok_or_else(|| StsError::missing("scope"))?;
    let scopes = scope_items(scope);
    let tenant_id = state.read(|d| -> Result<Option<Uuid>, StsError> {
        match tenant_ref(d, segment) {
            None => Err(StsError::tenant_not_found(segment)),
            Some(TenantRef::Multi(_)) => {
                let known = d
                    .tenants
                    .iter()
                    .any(|t| find_client(d, t, client_id).is_some());
                if !known {
                    let first = d
                        .tenants
                        .first()
                        .ok_or_else(|| StsError::tenant_not_found(segment))?;
                    return Err(StsError::app_not_found(client_id, first));
                }
                Ok(None)
            }
            Some(TenantRef::Known(id)) => {
                let tenant = d
                    .tenant_by_id(id)
                    .ok_or_else(|| StsError::tenant_not_found(segment))?;
                let client = find_client(d, tenant, client_id)
                    .ok_or_else(|| StsError::app_not_found(client_id, tenant))?;
                if client.app_id == AZURE_CLI_APP_ID {
                    azure_cli_scope_rule(&scopes)?;
                }
                Ok(Some(id))
            }
        }
    })?;
    let code = format!(
        "DAQABIQEAAA{}{}",
        ficus_core::jwt::b64url(Uuid::new_v4().as_bytes()),
        ficus_core::jwt::b64url(Uuid::new_v4().as_bytes())
    );
    let user_code = user_code();
    let interval = state.faults.device_interval.unwrap_or(DEVICE_CODE_INTERVAL);
    let flow = DeviceFlow {
        tenant_id,
        client_id: client_id.to_string(),
        scopes,
        user_code: user_code.clone(),
        expires_at: Instant::now() + DEVICE_CODE_LIFETIME,
        interval,
        status: DeviceFlowStatus::Pending,
        last_poll: None,
    };
    {
        let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .insert_device_flow(code.clone(), flow)
            .map_err(|e| StsError::new("invalid_request", e.code(), e.to_string()))?;
    }
    if let Some(upn) = state.auto_approve.clone() {
        let state = state.clone();
        let code = code.clone();
        let after = state.faults.approve_after.unwrap_or(AUTO_APPROVE_AFTER);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = approve(&state, &code, &upn, true);
        });
    }
    let uri = format!("{}/devicelogin", state.authority);
    Ok(json!({
        "user_code": user_code,
        "device_code": code,
        "verification_uri": uri,
        "expires_in": DEVICE_CODE_LIFETIME.as_secs(),
        "interval": interval,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
}

/// Azure CLI is pre-authorized for Graph `/.default` only (AADSTS65002 otherwise).
fn azure_cli_scope_rule(scopes: &[String]) -> Result<(), StsError> {
    let explicit_graph = scopes.iter().find(|s| {
        let lower = s.to_ascii_lowercase();
        !OIDC_SCOPES.contains(&lower.as_str())
            && !lower.ends_with("/.default")
            && (!lower.contains('/') || lower.starts_with("https://graph.microsoft.com/"))
    });
    match explicit_graph {
        Some(_) => Err(StsError::new(
            "invalid_client",
            65002,
            format!(
                "Consent between first party application '{AZURE_CLI_APP_ID}' and first party resource '{GRAPH_APP_ID}' must be configured via preauthorization - applications owned and operated by Microsoft must get approval from the API owner before requesting tokens for that API."
            ),
        )),
        None => Ok(()),
    }
}

/// Approves (or declines) a pending device flow as `upn`. Errors are for the HTML page.
pub(crate) fn approve(
    state: &AppState,
    device_code: &str,
    upn: &str,
    accept: bool,
) -> Result<(), String> {
    let tenant_hint = {
        let sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let flow = sessions
            .device_flows
            .get(device_code)
            .ok_or("That code is not known or has expired; start the sign-in again.")?;
        if flow.status != DeviceFlowStatus::Pending {
            return Err("That code was already used.".into());
        }
        flow.tenant_id
    };
    let (tenant, user) = state
        .read(|d| {
            d.tenants
                .iter()
                .filter(|t| tenant_hint.is_none_or(|h| h == t.id))
                .find_map(|t| t.user(upn).map(|u| (t.id, u.id)))
        })
        .ok_or_else(|| format!("No user '{upn}' in this tenant; check the name."))?;
    let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
    let flow = sessions
        .device_flows
        .get_mut(device_code)
        .ok_or("That code is not known or has expired; start the sign-in again.")?;
    flow.status = if accept {
        DeviceFlowStatus::Approved { tenant, user }
    } else {
        DeviceFlowStatus::Declined
    };
    Ok(())
}

/// The tenant exists and knows `client_id` (for the browser endpoints): 900144, 90002 or
/// 700016 otherwise.
pub(crate) fn client_known(
    state: &AppState,
    segment: &str,
    client_id: &str,
) -> Result<(), StsError> {
    if client_id.is_empty() {
        return Err(StsError::missing("client_id"));
    }
    state.read(|d| match tenant_ref(d, segment) {
        None => Err(StsError::tenant_not_found(segment)),
        Some(TenantRef::Multi(_)) => d
            .tenants
            .iter()
            .any(|t| find_client(d, t, client_id).is_some())
            .then_some(())
            .ok_or_else(|| match d.tenants.first() {
                Some(t) => StsError::app_not_found(client_id, t),
                None => StsError::tenant_not_found(segment),
            }),
        Some(TenantRef::Known(id)) => {
            let tenant = d
                .tenant_by_id(id)
                .ok_or_else(|| StsError::tenant_not_found(segment))?;
            find_client(d, tenant, client_id)
                .map(|_| ())
                .ok_or_else(|| StsError::app_not_found(client_id, tenant))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

pub(crate) async fn token(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    match token_inner(&state, &segment, &headers, &form) {
        Ok(v) => json_ok(v),
        Err(e) => e.into_response_with(&headers),
    }
}

/// The token endpoint's logic, callable without HTTP (benchmarks, tests).
pub fn token_inner(
    state: &AppState,
    segment: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    let grant = field(form, "grant_type").ok_or_else(|| StsError::missing("grant_type"))?;
    match grant {
        "client_credentials" => {
            let answer = client_credentials(state, segment, headers, form);
            let refused = answer.as_ref().err().map(|e| (e.code, e.message.as_str()));
            crate::signins::record_client_credentials(state, segment, headers, form, refused);
            answer
        }
        DEVICE_CODE_GRANT | DEVICE_CODE_GRANT_SHORT => device_code_grant(state, segment, form),
        "refresh_token" => refresh_grant(state, segment, form),
        other => Err(StsError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

fn known_tenant(d: &Directory, segment: &str) -> Result<Uuid, StsError> {
    match tenant_ref(d, segment) {
        Some(TenantRef::Known(id)) => Ok(id),
        Some(TenantRef::Multi(_)) => Err(StsError::new(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        )),
        None => Err(StsError::tenant_not_found(segment)),
    }
}

fn device_code_grant(
    state: &AppState,
    segment: &str,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    let client_id = field(form, "client_id").ok_or_else(|| StsError::missing("client_id"))?;
    let code = field(form, "device_code")
        .or_else(|| field(form, "code"))
        .ok_or_else(|| StsError::missing("device_code"))?;
    let segment_tenant = state.read(|d| match tenant_ref(d, segment) {
        None => Err(StsError::tenant_not_found(segment)),
        Some(TenantRef::Known(id)) => Ok(Some(id)),
        Some(TenantRef::Multi(_)) => Ok(None),
    })?;
    let bad_code = || {
        StsError::new(
            "bad_verification_code",
            70000,
            "The provided value for the 'device_code' parameter is not valid.",
        )
    };
    let (tenant_id, user_id, scopes) = {
        let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let flow = sessions.device_flows.get_mut(code).ok_or_else(bad_code)?;
        if flow.client_id != client_id {
            return Err(bad_code());
        }
        let now = Instant::now();
        if now > flow.expires_at {
            return Err(StsError::new(
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        let previous = flow.last_poll.replace(now);
        match flow.status.clone() {
            DeviceFlowStatus::Pending => {
                if previous.is_some_and(|p| now.duration_since(p) < Duration::from_millis(500)) {
                    return Err(StsError::new(
                        "slow_down",
                        70016,
                        "OAuth 2.0 device flow error. The client is polling too often; wait the interval between polls.",
                    ));
                }
                return Err(StsError::new(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
            DeviceFlowStatus::Declined => {
                return Err(StsError::new(
                    "authorization_declined",
                    65004,
                    "User declined to consent to access the app.",
                ));
            }
            DeviceFlowStatus::Redeemed => {
                return Err(StsError::new(
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                ));
            }
            DeviceFlowStatus::Approved { tenant, user } => {
                if segment_tenant.is_some_and(|t| t != tenant) {
                    return Err(bad_code());
                }
                flow.status = DeviceFlowStatus::Redeemed;
                (tenant, user, flow.scopes.clone())
            }
        }
    };
    confidential_without_credential(state, tenant_id, client_id, form)?;
    redeemed_user_grant(state, form, tenant_id, user_id, client_id, &scopes, false)
}

/// The token endpoint's answer to a redeemed user grant (device code or refresh token);
/// `client_info=1` in the form asks for the MSAL `client_info` field.
fn redeemed_user_grant(
    state: &AppState,
    form: &HashMap<String, String>,
    tenant_id: Uuid,
    user_id: Uuid,
    client_id: &str,
    scopes: &[String],
    always_refresh: bool,
) -> Result<Value, StsError> {
    let want_client_info = field(form, "client_info") == Some("1");
    let tokens = user_token_response(
        state,
        tenant_id,
        user_id,
        client_id,
        scopes,
        want_client_info,
        always_refresh,
    )?;
    Ok(tokens.body.into_inner())
}

/// A registered app that is not a public client must authenticate (7000218).
fn confidential_without_credential(
    state: &AppState,
    tenant_id: Uuid,
    client_id: &str,
    form: &HashMap<String, String>,
) -> Result<(), StsError> {
    let public = state.read(|d| {
        d.tenant_by_id(tenant_id)
            .and_then(|t| find_client(d, t, client_id))
            .is_none_or(|c| c.public)
    });
    if public || field(form, "client_secret").is_some() || field(form, "client_assertion").is_some()
    {
        return Ok(());
    }
    Err(StsError::new(
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ))
}

fn refresh_grant(
    state: &AppState,
    segment: &str,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    let client_id = field(form, "client_id").ok_or_else(|| StsError::missing("client_id"))?;
    let presented =
        field(form, "refresh_token").ok_or_else(|| StsError::missing("refresh_token"))?;
    let segment_tenant = state.read(|d| match tenant_ref(d, segment) {
        None => Err(StsError::tenant_not_found(segment)),
        Some(TenantRef::Known(id)) => Ok(Some(id)),
        Some(TenantRef::Multi(_)) => Ok(None),
    })?;
    let grant = state
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .redeem_refresh_token(presented);
    let invalid = || {
        if presented.starts_with("1.sandbox.") {
            StsError::new(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            )
        } else {
            StsError::new(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )
        }
    };
    let grant = grant.ok_or_else(invalid)?;
    if grant.client_id != client_id {
        return Err(StsError::new(
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed.",
        ));
    }
    // Refresh tokens are multi-resource and work at every tenant the user belongs to.
    let (tenant_id, user_id) = match segment_tenant {
        Some(t) if t != grant.tenant_id => {
            state.read(|d| user_in_tenant(d, grant.tenant_id, grant.user_id, t, client_id))?
        }
        _ => (grant.tenant_id, grant.user_id),
    };
    let scopes = field(form, "scope")
        .map(scope_items)
        .unwrap_or_else(|| grant.scopes.clone());
    redeemed_user_grant(state, form, tenant_id, user_id, client_id, &scopes, true)
}

/// The user of a refresh grant issued in `home`, as a member of `target`: the same object, or
/// the external user Entra creates for them there (`mail` equal to their UPN, or the guest UPN
/// `name_domain#EXT#@…`). A user who is not in `target` gets AADSTS50020, Entra's
/// user-not-in-tenant error.
fn user_in_tenant(
    d: &Directory,
    home: Uuid,
    user_id: Uuid,
    target: Uuid,
    client_id: &str,
) -> Result<(Uuid, Uuid), StsError> {
    let home_tenant = d
        .tenant_by_id(home)
        .ok_or_else(|| StsError::tenant_not_found(&home.to_string()))?;
    let target_tenant = d
        .tenant_by_id(target)
        .ok_or_else(|| StsError::tenant_not_found(&target.to_string()))?;
    let Some(user) = home_tenant.users.get(&user_id) else {
        return Err(StsError::new(
            "invalid_grant",
            50034,
            "The user account does not exist in the directory. To sign into this application, the account must be added to the directory.",
        ));
    };
    let upn = user.user_principal_name.to_ascii_lowercase();
    let guest_prefix = format!("{}#ext#@", upn.replace('@', "_"));
    let member = target_tenant.users.values().find(|u| {
        u.id == user_id
            || u.user_principal_name
                .to_ascii_lowercase()
                .starts_with(&guest_prefix)
            || u.mail
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(&upn))
    });
    if let Some(member) = member {
        return Ok((target, member.id));
    }
    let app_name = find_client(d, target_tenant, client_id)
        .or_else(|| find_client(d, home_tenant, client_id))
        .map(|c| c.display_name)
        .unwrap_or_default();
    Err(StsError::new(
        "invalid_grant",
        50020,
        format!(
            "User account '{}' from identity provider 'https://sts.windows.net/{home}/' does not exist in tenant '{}' and cannot access the application '{client_id}'({app_name}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.",
            user.user_principal_name, target_tenant.display_name
        ),
    ))
}

/// Client credentials: `client_secret` (post or basic) or a federated `client_assertion`.
fn client_credentials(
    state: &AppState,
    segment: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    let now = now_unix();
    let basic = crate::signins::basic_credentials(headers);
    let tenant_id = state.read(|d| known_tenant(d, segment))?;
    let client_id = field(form, "client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .ok_or_else(|| StsError::missing("client_id"))?;
    let (client, tenant_display) = state.read(|d| {
        let tenant = d
            .tenant_by_id(tenant_id)
            .ok_or_else(|| StsError::tenant_not_found(segment))?;
        let client = find_client(d, tenant, &client_id)
            .filter(|c| c.app.is_some())
            .ok_or_else(|| StsError::app_not_found(&client_id, tenant))?;
        Ok::<_, StsError>((client, tenant.display_name.clone()))
    })?;
    let _ = tenant_display;
    let app = client
        .app
        .clone()
        .ok_or_else(|| StsError::new("unauthorized_client", 700016, "Application not found."))?;
    let auth = if let Some(assertion) = field(form, "client_assertion") {
        match field(form, "client_assertion_type") {
            Some(JWT_BEARER) => {}
            Some(other) => {
                return Err(StsError::new(
                    "invalid_request",
                    50027,
                    format!(
                        "JWT token is invalid or malformed. The client_assertion_type '{other}' is not supported; use '{JWT_BEARER}'."
                    ),
                ));
            }
            None => return Err(StsError::missing("client_assertion_type")),
        }
        // An assertion the app signed itself (`iss` = `sub` = its client id) is a certificate
        // credential; any other issuer's token is a federated credential.
        if is_self_signed_assertion(assertion, &app) {
            check_certificate_assertion(state, tenant_id, &app, assertion, now)?;
        } else {
            check_assertion(state, &app, assertion, now)?;
        }
        ClientAuth::Assertion
    } else if let Some(secret) = field(form, "client_secret")
        .map(str::to_string)
        .or_else(|| basic.map(|(_, s)| s))
    {
        check_secret(&app, &secret, now)?;
        ClientAuth::Secret
    } else {
        return Err(StsError::new(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    let scope = field(form, "scope").ok_or_else(|| StsError::missing("scope"))?;
    let resource = client_credentials_resource(state, tenant_id, scope)?;
    let key = state
        .keys
        .get(tenant_id)
        .ok_or_else(|| StsError::tenant_not_found(segment))?;
    let signer = Signer {
        authority: &state.authority,
        tenant_id,
        key: &key,
    };
    let minted = state.read(|d| {
        let principal = d
            .tenant_by_id(tenant_id)
            .and_then(|t| t.service_principal_by_app_id(app.app_id));
        tokens::app_token(
            &signer,
            app.app_id,
            &app.display_name,
            principal,
            &resource,
            auth,
            now,
        )
    });
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": minted.expires_in,
        "ext_expires_in": minted.expires_in,
        "access_token": minted.token.expose(),
    }))
}

fn client_credentials_resource(
    state: &AppState,
    tenant_id: Uuid,
    scope: &str,
) -> Result<Resource, StsError> {
    let items = scope_items(scope);
    let first = items.first().ok_or_else(|| StsError::missing("scope"))?;
    if items.len() > 1 {
        return Err(StsError::new(
            "invalid_scope",
            700022,
            format!(
                "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
            ),
        ));
    }
    let Some(resource) = first.strip_suffix("/.default") else {
        return Err(StsError::new(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {first} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    };
    state.read(|d| {
        let tenant = d
            .tenant_by_id(tenant_id)
            .ok_or_else(|| StsError::tenant_not_found(&tenant_id.to_string()))?;
        resolve_resource(&state.authority, tenant, resource).ok_or_else(|| {
            StsError::new(
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                    tenant.display_name
                ),
            )
        })
    })
}

fn check_secret(app: &Application, presented: &str, now: i64) -> Result<(), StsError> {
    let matching = app
        .password_credentials
        .iter()
        .filter(|p| p.secret_text.expose() == presented)
        .collect::<Vec<_>>();
    if matching.is_empty() {
        return Err(StsError::new(
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.app_id
            ),
        ));
    }
    if matching
        .iter()
        .all(|p| p.end_date_time.unix() < now || p.start_date_time.unix() > now + SKEW_SECONDS)
    {
        return Err(StsError::new(
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                app.app_id
            ),
        ));
    }
    Ok(())
}

fn iso_time(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.0000000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Whether an assertion names the app itself as issuer and subject (a certificate assertion,
/// as MSAL and azure-identity build them).
fn is_self_signed_assertion(assertion: &str, app: &Application) -> bool {
    let Ok(jwt) = ficus_core::jwt::decode(assertion) else {
        return false;
    };
    let client = app.app_id.to_string();
    let names_app = |claim: &str| {
        jwt.str_claim(claim)
            .is_some_and(|v| v.eq_ignore_ascii_case(&client))
    };
    names_app("iss") && names_app("sub")
}

/// `MM/dd/yyyy HH:mm:ss`, as Entra prints key dates in its errors.
fn entra_date(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Whether `aud` is where a certificate assertion may be presented to this tenant: its token
/// endpoint (v2 or v1) or its v2 issuer, on this sandbox, naming the tenant by id or domain.
fn certificate_audience_ok(state: &AppState, tenant_id: Uuid, aud: &str) -> bool {
    let Ok(url) = url::Url::parse(aud) else {
        return false;
    };
    let origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    let origin = match url.port() {
        Some(port) => format!("{origin}:{port}"),
        None => origin,
    };
    if !is_own_base_url(&state.authority, &origin) || url.query().is_some() {
        return false;
    }
    let path = url.path().trim_end_matches('/');
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (Some(segment), Some(rest)) = (parts.next(), parts.next()) else {
        return false;
    };
    let endpoint = ["oauth2/v2.0/token", "oauth2/token", "v2.0"]
        .iter()
        .any(|e| rest.eq_ignore_ascii_case(e));
    endpoint && state.read(|d| known_tenant(d, segment).ok()) == Some(tenant_id)
}

/// A certificate client assertion, checked as Entra does: one audience (AADSTS5002741), the
/// tenant's token endpoint or issuer (50012), lifetime (700024), then the key its `x5t#S256`
/// or `x5t` header names among the app's `keyCredentials` (700027: unknown key, expired key,
/// bad signature).
fn check_certificate_assertion(
    state: &AppState,
    tenant_id: Uuid,
    app: &Application,
    assertion: &str,
    now: i64,
) -> Result<(), StsError> {
    use base64::Engine;
    let jwt = ficus_core::jwt::decode(assertion).map_err(|e| {
        StsError::new(
            "invalid_request",
            50027,
            format!("JWT token is invalid or malformed. ({e})"),
        )
    })?;
    let audiences = jwt.audiences();
    if audiences.len() > 1 {
        return Err(StsError::new(
            "invalid_client",
            5002741,
            format!(
                "Number of audience values in the provided client credential exceed maximum allowed. {} audience values provided, maximum allowed is 1.",
                audiences.len()
            ),
        ));
    }
    let aud = audiences.first().map(String::as_str).unwrap_or("");
    if !certificate_audience_ok(state, tenant_id, aud) {
        return Err(StsError::new(
            "invalid_client",
            50012,
            format!(
                "Client assertion audience claim does not match Realm issuer. The audience was '{aud}'; use this tenant's token endpoint ('{}/{tenant_id}/oauth2/v2.0/token').",
                state.authority
            ),
        ));
    }
    let nbf = jwt.time_claim("nbf").unwrap_or(0);
    let exp = jwt.time_claim("exp").unwrap_or(0);
    if exp + SKEW_SECONDS < now || nbf - SKEW_SECONDS > now {
        return Err(StsError::new(
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                iso_time(now),
                iso_time(nbf),
                iso_time(exp)
            ),
        ));
    }
    // The thumbprint the header names: SHA-256 (`x5t#S256`) or SHA-1 (`x5t`, or `kid` as MSAL
    // for .NET sends it).
    let header = |name: &str| jwt.header.get(name).and_then(Value::as_str);
    let (thumbprint, sha256) = match (header("x5t#S256"), header("x5t").or_else(|| header("kid"))) {
        (Some(t), _) => (t, true),
        (None, Some(t)) => (t, false),
        (None, None) => ("", false),
    };
    let thumbprint_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(thumbprint.trim_end_matches('='))
        .unwrap_or_default();
    let shown: String = thumbprint_bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let see_keys = format!(
        "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are not using a global endpoint.",
        app.app_id
    );
    let found = app.key_credentials.iter().find_map(|k| {
        let der = base64::engine::general_purpose::STANDARD
            .decode(k.key.as_deref()?)
            .ok()?;
        let cert = crate::certs::parse_certificate(&der).ok()?;
        let matches = if sha256 {
            cert.sha256[..] == thumbprint_bytes[..]
        } else {
            cert.sha1[..] == thumbprint_bytes[..]
        };
        matches.then_some((k, cert))
    });
    let Some((key, cert)) = found else {
        return Err(StsError::new(
            "invalid_client",
            700027,
            format!(
                "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{shown}', {see_keys}]"
            ),
        ));
    };
    let found_key = format!(
        "Found key 'Start={}, End={}'",
        entra_date(key.start_date_time.unix()),
        entra_date(key.end_date_time.unix())
    );
    if key.end_date_time.unix() < now || key.start_date_time.unix() > now + SKEW_SECONDS {
        return Err(StsError::new(
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '{shown}', {found_key}, {see_keys}]"
            ),
        ));
    }
    let mut parts = assertion.trim().rsplitn(2, '.');
    let signature = parts
        .next()
        .and_then(|s| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s.trim_end_matches('='))
                .ok()
        })
        .unwrap_or_default();
    let signing_input = parts.next().unwrap_or("");
    let alg = jwt.alg().unwrap_or("none");
    crate::certs::verify_signature(&cert, alg, signing_input.as_bytes(), &signature).map_err(
        |e| {
            StsError::new(
                "invalid_client",
                700027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - {e}., Thumbprint of key used by client: '{shown}', {found_key}, {see_keys}]"
                ),
            )
        },
    )
}

/// The federated exchange: validates the assertion and matches it against the app's FICs in
/// the order of entra-reference.md §2 (parse, lifetime, any FICs, issuer, subject, audience,
/// signature). Matching is exact and case-sensitive; an assertion `aud` that is the exchange
/// app's GUID matches the `api://AzureADTokenExchange` URI.
fn check_assertion(
    state: &AppState,
    app: &Application,
    assertion: &str,
    now: i64,
) -> Result<(), StsError> {
    let jwt = ficus_core::jwt::decode(assertion).map_err(|e| {
        StsError::new(
            "invalid_request",
            50027,
            format!("JWT token is invalid or malformed. ({e})"),
        )
    })?;
    let nbf = jwt.time_claim("nbf").unwrap_or(0);
    let exp = jwt.time_claim("exp").unwrap_or(0);
    if exp + SKEW_SECONDS < now || nbf - SKEW_SECONDS > now {
        return Err(StsError::new(
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                iso_time(now),
                iso_time(nbf),
                iso_time(exp)
            ),
        ));
    }
    let issuer = jwt.str_claim("iss").unwrap_or("").to_string();
    let subject = jwt.str_claim("sub").unwrap_or("").to_string();
    let audiences = jwt.audiences();
    if app.federated_identity_credentials.is_empty() {
        return Err(StsError::new(
            "invalid_client",
            70025,
            format!(
                "The client '{}'({}) has no configured federated identity credentials.",
                app.display_name, app.app_id
            ),
        ));
    }
    // Entra issuers may only present app-only tokens, and of those only user-assigned managed
    // identities' tokens for the exchange audience.
    if let Some(issuer_tenant) = own_tenant_of_issuer(state, &issuer) {
        if jwt.str_claim("idtyp") == Some("user") || jwt.claim("scp").is_some() {
            return Err(StsError::new(
                "invalid_client",
                700229,
                "Forbidden token type. Only app-only tokens may be used as Federated Identity Credentials for AAD issuer.",
            ));
        }
        entra_assertion_allowed(state, issuer_tenant, &jwt)?;
    }
    let replication = state.faults.replication.map(|d| d.as_secs() as i64);
    let visible: Vec<_> = app
        .federated_identity_credentials
        .iter()
        .filter(|f| replication.is_none_or(|r| f.created_at.unix() + r <= now))
        .collect();
    let all: Vec<_> = app.federated_identity_credentials.iter().collect();
    let matched = match match_fic(&visible, &issuer, &subject, &audiences) {
        Ok(()) => Ok(()),
        Err(e) => {
            if replication.is_some() && match_fic(&all, &issuer, &subject, &audiences).is_ok() {
                Err(StsError::new(
                    "invalid_client",
                    70021,
                    format!(
                        "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation",
                        audiences.join(",")
                    ),
                ))
            } else {
                Err(e)
            }
        }
    };
    matched?;
    verify_assertion_signature(state, &jwt, &issuer)
}

fn match_fic(
    fics: &[&crate::model::FederatedIdentityCredential],
    issuer: &str,
    subject: &str,
    audiences: &[String],
) -> Result<(), StsError> {
    const HINT: &str = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
    let by_issuer: Vec<_> = fics.iter().filter(|f| f.issuer == issuer).collect();
    if by_issuer.is_empty() {
        return Err(StsError::new(
            "invalid_client",
            700211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{issuer}'. {HINT}"
            ),
        ));
    }
    let by_subject: Vec<_> = by_issuer.iter().filter(|f| f.subject == subject).collect();
    if by_subject.is_empty() {
        if by_issuer
            .iter()
            .any(|f| f.subject.to_lowercase() == subject.to_lowercase())
        {
            return Err(StsError::new(
                "invalid_client",
                7002138,
                format!(
                    "No matching federated identity record found for presented assertion subject '{subject}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison."
                ),
            ));
        }
        return Err(StsError::new(
            "invalid_client",
            700213,
            format!(
                "No matching federated identity record found for presented assertion subject '{subject}'. {HINT}"
            ),
        ));
    }
    let presented: Vec<&str> = audiences
        .iter()
        .flat_map(|a| {
            let mapped = (a == TOKEN_EXCHANGE_APP_ID).then_some(EXCHANGE_AUDIENCE);
            std::iter::once(a.as_str()).chain(mapped)
        })
        .collect();
    if by_subject
        .iter()
        .any(|f| f.audiences.iter().any(|a| presented.contains(&a.as_str())))
    {
        return Ok(());
    }
    Err(StsError::new(
        "invalid_client",
        700212,
        format!(
            "No matching federated identity record found for presented assertion audience '{}'. {HINT}",
            audiences.join(",")
        ),
    ))
}

/// The tenant id when `issuer` is one of this sandbox's issuers (v2 `{authority}/{tid}/v2.0`,
/// or v1 `https://sts.windows.net/{tid}/`) for a tenant it hosts.
fn own_tenant_of_issuer(state: &AppState, issuer: &str) -> Option<Uuid> {
    let tenant = issuer
        .strip_prefix(state.authority.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_suffix("/v2.0"))
        .or_else(|| {
            issuer
                .strip_prefix("https://sts.windows.net/")
                .and_then(|rest| rest.strip_suffix('/'))
        })?;
    let id = Uuid::parse_str(tenant).ok()?;
    state.keys.get(id).map(|_| id)
}

/// Entra accepts a token it issued itself as a federated assertion only when it is a
/// *user-assigned* managed identity's token for the token-exchange audience; any other
/// Entra-issued app token (a system-assigned identity's, an app's own client-credentials token,
/// a managed identity token for another resource) is refused with AADSTS700222.
fn entra_assertion_allowed(
    state: &AppState,
    issuer_tenant: Uuid,
    jwt: &ficus_core::jwt::Jwt,
) -> Result<(), StsError> {
    let exchange_audience = jwt
        .audiences()
        .iter()
        .any(|a| a == TOKEN_EXCHANGE_APP_ID || a == EXCHANGE_AUDIENCE);
    let subject = jwt.str_claim("sub").and_then(|s| Uuid::parse_str(s).ok());
    let user_assigned = state.read(|d| {
        let tenant = d.tenant_by_id(issuer_tenant)?;
        let sp = tenant.service_principals.get(&subject?)?;
        let mi = sp.managed_identity.as_ref()?;
        Some(mi.kind == crate::model::ManagedIdentityKind::UserAssigned)
    });
    if exchange_audience && user_assigned == Some(true) {
        return Ok(());
    }
    // The documented wording of AADSTS700222. Entra documents no separate code for a
    // system-assigned identity's token; this is the closest documented one.
    Err(StsError::new(
        "invalid_client",
        700222,
        "AAD-issued tokens may not be used for federated identity flows.",
    ))
}

/// Signature check against the issuer's keys. Issuers that are this sandbox's tenants verify
/// with the sandbox's (global) key; other issuers' keys cannot be fetched offline, so their
/// assertions fail as an unknown key would (700027).
fn verify_assertion_signature(
    state: &AppState,
    jwt: &ficus_core::jwt::Jwt,
    issuer: &str,
) -> Result<(), StsError> {
    let kid = jwt.kid().unwrap_or("").to_string();
    let bad = |reason: &str| {
        StsError::new(
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{kid}', Found key 'Start=01/01/2025 00:00:00, End=01/01/2030 00:00:00']"
            ),
        )
    };
    let Some(tenant) = own_tenant_of_issuer(state, issuer) else {
        return Err(bad(&format!(
            "The key was not found. (The sandbox has no network and cannot fetch the signing keys of issuer '{issuer}'; only assertions issued by the sandbox's own tenants can be verified.)"
        )));
    };
    let key = state
        .keys
        .get(tenant)
        .ok_or_else(|| bad("The key was not found."))?;
    let jwks = ficus_core::jwt::Jwks {
        keys: vec![key.jwk.clone()],
    };
    // A tenant's token names that tenant in `tid` too; the key alone does not tell tenants apart.
    // Entra documents no code for an `iss`/`tid` mismatch; AADSTS700027 ("failed signature
    // validation") is the closest documented one.
    if jwt.str_claim("tid") != Some(tenant.to_string().as_str()) {
        return Err(StsError::new(
            "invalid_client",
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    match ficus_core::jwt::verify(jwt, &jwks) {
        Ok(()) => {}
        Err(ficus_core::jwt::VerifyError::KeyNotFound(_))
        | Err(ficus_core::jwt::VerifyError::NoKeyId) => {
            return Err(bad("The key was not found."));
        }
        Err(_) => {
            return Err(StsError::new(
                "invalid_client",
                700027,
                "Client assertion failed signature validation.",
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// /devicelogin

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in - ficus sandbox</title>\
         <style>body{{font-family:sans-serif;max-width:32em;margin:3em auto}}input{{font-size:1.1em;margin:.3em 0;width:100%}}</style>\
         </head><body><h1>ficus sandbox sign-in</h1>{body}</body></html>"
    ))
}

pub(crate) async fn device_login_page(State(state): State<AppState>) -> Html<String> {
    let default_upn = state.auto_approve.clone().unwrap_or_default();
    page(&format!(
        "<p>Enter the code shown in your terminal, and the user to sign in as.</p>\
         <form method=\"post\" action=\"/devicelogin\">\
         <label>Code <input name=\"user_code\" autofocus autocomplete=\"off\"></label>\
         <label>User <input name=\"upn\" value=\"{}\"></label>\
         <button name=\"action\" value=\"approve\">Approve</button> \
         <button name=\"action\" value=\"decline\">Decline</button></form>",
        escape(&default_upn)
    ))
}

pub(crate) async fn device_login_submit(State(state): State<AppState>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let user_code = field(&form, "user_code")
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let upn = field(&form, "upn").unwrap_or("").trim().to_string();
    let accept = field(&form, "action") != Some("decline");
    let code = {
        let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .flow_by_user_code(&user_code)
            .map(|(c, _)| c.clone())
    };
    let result = match code {
        None => Err(
            "That code is not known or has expired; check it, or start the sign-in again."
                .to_string(),
        ),
        Some(code) => approve(&state, &code, &upn, accept),
    };
    match result {
        Ok(()) if accept => page(&format!(
            "<p>Signed in as <b>{}</b>. You can close this window and return to your terminal.</p>",
            escape(&upn)
        ))
        .into_response(),
        Ok(()) => page("<p>Sign-in declined. You can close this window.</p>").into_response(),
        Err(message) => (
            StatusCode::BAD_REQUEST,
            page(&format!(
                "<p>{}</p><p><a href=\"/devicelogin\">Try again</a></p>",
                escape(&message)
            )),
        )
            .into_response(),
    }
}
