//! The minimum of Azure Resource Manager that clients need from a cloud, served on the
//! sandbox's base URL: `/metadata/endpoints` (what `az cloud register
//! --endpoint-resource-manager` reads, every endpoint pointing at the sandbox), `/tenants`,
//! `/subscriptions` (the subscription of the caller's tenant, which `az login` lists), and, read
//! only, resource groups and user-assigned managed identities, consistent with Graph's managed
//! identity service principals (`clientId` = `appId`, `principalId` = `id`).
//!
//! Every route but `/metadata/endpoints` needs a bearer token for Resource Manager
//! (`https://management.azure.com/`, `https://management.core.windows.net/`, its app id, or the
//! sandbox's base URL, which names every API the sandbox serves) and an `api-version`. Errors
//! have ARM's shape: `{"error":{"code":"InvalidAuthenticationToken","message":"…"}}`.
//!
//! The seeded access model is flat: every user and service principal of a tenant sees its
//! subscriptions (a role-based access check per caller is not emulated).

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::bearer::{Caller, GraphAuthError, authenticate_token};
use crate::model::{ARM_APP_ID, ManagedIdentityKind, ServicePrincipal, Tenant};
use crate::state::AppState;

/// The audiences Resource Manager accepts, as ARM lists them in its audience error.
const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

const USER_ASSIGNED_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metadata/endpoints", axum::routing::any(dispatch))
        .route("/tenants", axum::routing::any(dispatch))
        .route("/subscriptions", axum::routing::any(dispatch))
        .route("/subscriptions/", axum::routing::any(dispatch))
        .route("/subscriptions/{*rest}", axum::routing::any(dispatch))
}

/// An ARM error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ArmError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ArmError {
        ArmError {
            status,
            code,
            message: message.into(),
        }
    }

    fn not_found(code: &'static str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// ARM's answer to a bearer token it refuses.
    fn from_auth(error: &GraphAuthError, token: &str) -> ArmError {
        let unauthorized =
            |code, message: String| ArmError::new(StatusCode::UNAUTHORIZED, code, message);
        match error {
            GraphAuthError::Missing => unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.".into(),
            ),
            GraphAuthError::WrongAudience => {
                let aud = ficus_core::jwt::decode(token)
                    .ok()
                    .and_then(|jwt| jwt.audiences().into_iter().next())
                    .unwrap_or_default();
                let allowed = ARM_AUDIENCES
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(",");
                unauthorized(
                    "InvalidAuthenticationTokenAudience",
                    format!(
                        "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {allowed}."
                    ),
                )
            }
            GraphAuthError::Expired => {
                let exp = ficus_core::jwt::decode(token)
                    .ok()
                    .and_then(|jwt| jwt.time_claim("exp"))
                    .unwrap_or(0);
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                unauthorized(
                    "ExpiredAuthenticationToken",
                    format!(
                        "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                        arm_time(exp),
                        arm_time(now)
                    ),
                )
            }
            GraphAuthError::Malformed
            | GraphAuthError::WrongIssuer
            | GraphAuthError::BadSignature => unauthorized(
                "InvalidAuthenticationToken",
                "The access token is invalid.".into(),
            ),
        }
    }

    fn into_response(self) -> Response {
        let mut response = json_response(
            self.status,
            &json!({"error": {"code": self.code, "message": self.message}}),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = format!(
                "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\", error_description=\"{}\"",
                self.message.replace('"', "'")
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// `11/30/2026 2:05:09 AM`, as ARM prints times in its errors.
fn arm_time(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (hour, half) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {hour}:{:02}:{:02} {half}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        t.minute(),
        t.second()
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(id) = HeaderValue::from_str(&Uuid::new_v4().to_string()) {
        headers.insert("x-ms-request-id", id.clone());
        headers.insert("x-ms-correlation-request-id", id);
    }
    response
}

/// Whether `aud` names Resource Manager: its URIs (any trailing slash, any case), its app id,
/// or the sandbox's own base URL.
pub fn arm_audience(authority: &str, aud: &str) -> bool {
    let a = aud.trim_end_matches('/').to_ascii_lowercase();
    a == "https://management.azure.com"
        || a == "https://management.core.windows.net"
        || a == ARM_APP_ID.to_string()
        || crate::sts::is_own_base_url(authority, aud)
}

async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match route(&state, &method, &uri, &headers) {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.into_response(),
    }
}

fn route(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Value, ArmError> {
    let segments: Vec<&str> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let api_version = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(name, _)| name.eq_ignore_ascii_case("api-version"))
        .map(|(_, value)| value.into_owned());
    if *method != Method::GET {
        return Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "The sandbox's Resource Manager is read only: {method} {} is not served. Use GET.",
                uri.path()
            ),
        ));
    }
    // The cloud's description is public, as on ARM.
    if matches_path(&segments, &["metadata", "endpoints"]) {
        return Ok(metadata_endpoints(&state.authority));
    }
    let caller = authenticate(state, headers)?;
    check_api_version(api_version.as_deref())?;
    state.read(|dir| {
        let tenant = dir.tenant_by_id(caller.tenant_id).ok_or_else(|| {
            ArmError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            )
        })?;
        match segments.as_slice() {
            [t] if t.eq_ignore_ascii_case("tenants") => Ok(json!({
                "value": [tenant_json(tenant)],
            })),
            [s] if s.eq_ignore_ascii_case("subscriptions") => {
                let value: Vec<Value> = subscriptions(tenant)
                    .into_iter()
                    .map(|id| subscription_json(tenant, id))
                    .collect();
                let count = value.len();
                Ok(json!({"value": value, "count": {"type": "Total", "value": count}}))
            }
            [s, id, rest @ ..] if s.eq_ignore_ascii_case("subscriptions") => {
                let subscription = find_subscription(dir, tenant, id)?;
                subscription_route(tenant, subscription, rest)
            }
            _ => Err(unknown_path(uri.path())),
        }
    })
}

fn matches_path(segments: &[&str], expected: &[&str]) -> bool {
    segments.len() == expected.len()
        && segments
            .iter()
            .zip(expected)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ArmError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if value.is_empty() {
        return Err(ArmError::from_auth(&GraphAuthError::Missing, ""));
    }
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => {
            return Err(ArmError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            ));
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    authenticate_token(state, token, now, &|aud| {
        arm_audience(&state.authority, aud)
    })
    .map_err(|e| ArmError::from_auth(&e, token))
}

/// ARM wants `api-version` on every call, in the form `YYYY-MM-DD` with an optional
/// `-preview`-style suffix.
fn check_api_version(value: Option<&str>) -> Result<(), ArmError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let date = value.get(..10).unwrap_or("");
    let well_formed = date.len() == 10
        && date.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        })
        && value[10..]
            .strip_prefix('-')
            .map_or(value.len() == 10, |suffix| {
                !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_alphanumeric())
            });
    if well_formed {
        Ok(())
    } else {
        Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{value}' is invalid. The supported versions look like '2022-12-01'."
            ),
        ))
    }
}

fn unknown_path(path: &str) -> ArmError {
    ArmError::not_found(
        "NotFound",
        format!(
            "The sandbox's Resource Manager serves /subscriptions, /tenants, /metadata/endpoints, resource groups and user-assigned managed identities; '{path}' is none of these."
        ),
    )
}

/// The subscriptions of a tenant: the seeded one, and every one its managed identities live in.
pub fn subscriptions(tenant: &Tenant) -> BTreeSet<Uuid> {
    let mut ids: BTreeSet<Uuid> = tenant
        .service_principals
        .values()
        .filter_map(|sp| sp.managed_identity.as_ref())
        .map(|mi| mi.subscription_id)
        .collect();
    ids.insert(crate::seed::subscription_id(&tenant.name));
    ids
}

/// The subscription `id` names, if the caller's tenant has it. A subscription of another tenant
/// of the sandbox is ARM's wrong-tenant 401; one nobody has, 404.
fn find_subscription(
    dir: &crate::model::Directory,
    tenant: &Tenant,
    id: &str,
) -> Result<Uuid, ArmError> {
    let not_found = || {
        ArmError::not_found(
            "SubscriptionNotFound",
            format!("The subscription '{id}' could not be found."),
        )
    };
    let parsed = Uuid::parse_str(id).map_err(|_| {
        ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidSubscriptionId",
            format!("The provided subscription identifier '{id}' is malformed or invalid."),
        )
    })?;
    if subscriptions(tenant).contains(&parsed) {
        return Ok(parsed);
    }
    match dir
        .tenants
        .iter()
        .find(|t| subscriptions(t).contains(&parsed))
    {
        Some(owner) => Err(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{}' to get the token.",
                tenant.id, owner.id, owner.id
            ),
        )),
        None => Err(not_found()),
    }
}

fn subscription_route(
    tenant: &Tenant,
    subscription: Uuid,
    rest: &[&str],
) -> Result<Value, ArmError> {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match rest {
        [] => Ok(subscription_json(tenant, subscription)),
        [rgs] if eq(rgs, "resourceGroups") => {
            let value: Vec<Value> = resource_groups(tenant, subscription)
                .into_iter()
                .map(|(name, location)| resource_group_json(subscription, &name, &location))
                .collect();
            Ok(json!({ "value": value }))
        }
        [rgs, name] if eq(rgs, "resourceGroups") => {
            let (name, location) = find_resource_group(tenant, subscription, name)?;
            Ok(resource_group_json(subscription, &name, &location))
        }
        // Every user-assigned identity of the subscription.
        [providers, namespace, kind] if eq(providers, "providers") => {
            check_provider(namespace, kind)?;
            let value: Vec<Value> = user_assigned(tenant, subscription, None)
                .map(|sp| identity_json(tenant, sp))
                .collect();
            Ok(json!({ "value": value }))
        }
        [rgs, rg, providers, namespace, kind, tail @ ..]
            if eq(rgs, "resourceGroups") && eq(providers, "providers") =>
        {
            let (rg, _) = find_resource_group(tenant, subscription, rg)?;
            check_provider(namespace, kind)?;
            match tail {
                [] => {
                    let value: Vec<Value> = user_assigned(tenant, subscription, Some(&rg))
                        .map(|sp| identity_json(tenant, sp))
                        .collect();
                    Ok(json!({ "value": value }))
                }
                [name] => user_assigned(tenant, subscription, Some(&rg))
                    .find(|sp| {
                        sp.managed_identity
                            .as_ref()
                            .is_some_and(|mi| mi.name.eq_ignore_ascii_case(name))
                    })
                    .map(|sp| identity_json(tenant, sp))
                    .ok_or_else(|| {
                        ArmError::not_found(
                            "ResourceNotFound",
                            format!(
                                "The Resource '{USER_ASSIGNED_TYPE}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                            ),
                        )
                    }),
                _ => Err(unknown_path(&format!(
                    "/subscriptions/{subscription}/{}",
                    rest.join("/")
                ))),
            }
        }
        _ => Err(unknown_path(&format!(
            "/subscriptions/{subscription}/{}",
            rest.join("/")
        ))),
    }
}

/// Only `Microsoft.ManagedIdentity/userAssignedIdentities` is served.
fn check_provider(namespace: &str, kind: &str) -> Result<(), ArmError> {
    if !namespace.eq_ignore_ascii_case("Microsoft.ManagedIdentity") {
        return Err(ArmError::not_found(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for namespace '{namespace}'. The sandbox serves only Microsoft.ManagedIdentity/userAssignedIdentities."
            ),
        ));
    }
    if !kind.eq_ignore_ascii_case("userAssignedIdentities") {
        return Err(ArmError::not_found(
            "InvalidResourceType",
            format!(
                "The resource type '{kind}' could not be found in the namespace 'Microsoft.ManagedIdentity'. The sandbox serves userAssignedIdentities."
            ),
        ));
    }
    Ok(())
}

/// The resource groups of a subscription (those its managed identities live in), with their
/// location, by name.
fn resource_groups(tenant: &Tenant, subscription: Uuid) -> Vec<(String, String)> {
    let mut groups: Vec<(String, String)> = Vec::new();
    for mi in tenant
        .service_principals
        .values()
        .filter_map(|sp| sp.managed_identity.as_ref())
        .filter(|mi| mi.subscription_id == subscription)
    {
        if !groups
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(&mi.resource_group))
        {
            groups.push((mi.resource_group.clone(), mi.location.clone()));
        }
    }
    groups.sort();
    groups
}

fn find_resource_group(
    tenant: &Tenant,
    subscription: Uuid,
    name: &str,
) -> Result<(String, String), ArmError> {
    resource_groups(tenant, subscription)
        .into_iter()
        .find(|(rg, _)| rg.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ArmError::not_found(
                "ResourceGroupNotFound",
                format!("Resource group '{name}' could not be found."),
            )
        })
}

/// The user-assigned identities of a subscription (and resource group), in name order.
fn user_assigned<'t>(
    tenant: &'t Tenant,
    subscription: Uuid,
    resource_group: Option<&'t str>,
) -> impl Iterator<Item = &'t ServicePrincipal> {
    let mut found: Vec<&ServicePrincipal> = tenant
        .service_principals
        .values()
        .filter(move |sp| {
            sp.managed_identity.as_ref().is_some_and(|mi| {
                mi.kind == ManagedIdentityKind::UserAssigned
                    && mi.subscription_id == subscription
                    && resource_group.is_none_or(|rg| mi.resource_group.eq_ignore_ascii_case(rg))
            })
        })
        .collect();
    found.sort_by_key(|sp| sp.display_name.to_ascii_lowercase());
    found.into_iter()
}

fn tenant_json(tenant: &Tenant) -> Value {
    json!({
        "id": format!("/tenants/{}", tenant.id),
        "tenantId": tenant.id,
        "countryCode": "US",
        "displayName": tenant.display_name,
        "domains": [tenant.domain],
        "tenantCategory": "Home",
        "defaultDomain": tenant.domain,
        "tenantType": "AAD",
    })
}

fn subscription_json(tenant: &Tenant, id: Uuid) -> Value {
    json!({
        "id": format!("/subscriptions/{id}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {},
        "subscriptionId": id,
        "tenantId": tenant.id,
        "displayName": format!("{} (sandbox)", tenant.display_name),
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

fn resource_group_json(subscription: Uuid, name: &str, location: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{subscription}/resourceGroups/{name}"),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    })
}

/// A user-assigned identity as ARM shows it: the same ids Graph shows for its service
/// principal.
fn identity_json(tenant: &Tenant, sp: &ServicePrincipal) -> Value {
    let Some(mi) = sp.managed_identity.as_ref() else {
        return Value::Null;
    };
    json!({
        "id": format!(
            "/subscriptions/{}/resourcegroups/{}/providers/{USER_ASSIGNED_TYPE}/{}",
            mi.subscription_id, mi.resource_group, mi.name
        ),
        "name": mi.name,
        "type": USER_ASSIGNED_TYPE,
        "location": mi.location,
        "tags": {},
        "properties": {
            "tenantId": tenant.id,
            "principalId": sp.id,
            "clientId": sp.app_id,
            "isolationScope": "None",
        },
    })
}

/// `/metadata/endpoints`: Azure public cloud's description (api-version 2022-09-01 shape) with
/// every endpoint a client calls pointing at the sandbox. Resource identifiers that are only
/// token audiences keep Azure's values (the token service knows them), except Graph's, which
/// is the sandbox (so its URL and its token scope name one host).
pub fn metadata_endpoints(authority: &str) -> Value {
    let base = format!("{}/", authority.trim_end_matches('/'));
    json!({
        "name": "AzureCloud",
        "portal": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [
                "https://management.core.windows.net/",
                "https://management.azure.com/",
            ],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": base,
        "graphAudience": "https://graph.windows.net/",
        "graph": base,
        "batch": "https://batch.core.windows.net/",
        "resourceManager": base,
        "vmImageAliasDoc": format!("{base}metadata/vmImageAliasDoc"),
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": base,
        "gallery": base,
        "microsoftGraphResourceId": base,
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrdbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": ".database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        for ok in ["2022-12-01", "2023-01-31", "2021-09-30-preview"] {
            assert!(check_api_version(Some(ok)).is_ok(), "{ok}");
        }
        assert_eq!(
            check_api_version(None).expect_err("missing").code,
            "MissingApiVersionParameter"
        );
        for bad in [
            "2022-1-01",
            "latest",
            "2022-12-01-",
            "2022-12-01x",
            "2022/12/01",
        ] {
            assert_eq!(
                check_api_version(Some(bad)).expect_err(bad).code,
                "InvalidApiVersionParameter",
                "{bad}"
            );
        }
    }

    #[test]
    fn times_as_arm_prints_them() {
        assert_eq!(arm_time(1_796_000_709), "11/30/2026 1:05:09 AM");
        assert_eq!(arm_time(1_796_047_200), "11/30/2026 2:00:00 PM");
        assert_eq!(arm_time(1_795_996_800), "11/30/2026 12:00:00 AM");
    }

    #[test]
    fn arm_audiences() {
        let authority = "https://127.0.0.1:8443";
        for ok in [
            "https://management.azure.com/",
            "https://management.core.windows.net",
            "HTTPS://MANAGEMENT.AZURE.COM",
            "797f4846-ba00-4fd7-ba43-dac1f8f63013",
            "https://127.0.0.1:8443/",
            "https://localhost:8443",
        ] {
            assert!(arm_audience(authority, ok), "{ok}");
        }
        for bad in [
            "https://graph.microsoft.com",
            "https://management.azure.com.evil",
            "https://127.0.0.1:8444/",
            "api://AzureADTokenExchange",
        ] {
            assert!(!arm_audience(authority, bad), "{bad}");
        }
    }

    #[test]
    fn metadata_points_every_endpoint_at_the_sandbox() {
        let m = metadata_endpoints("https://127.0.0.1:8443");
        for key in [
            "portal",
            "resourceManager",
            "microsoftGraphResourceId",
            "graph",
            "gallery",
        ] {
            assert_eq!(m[key], "https://127.0.0.1:8443/", "{key}");
        }
        assert_eq!(
            m["authentication"]["loginEndpoint"],
            "https://127.0.0.1:8443/"
        );
        assert_eq!(
            m["authentication"]["audiences"][0],
            "https://management.core.windows.net/"
        );
    }
}
