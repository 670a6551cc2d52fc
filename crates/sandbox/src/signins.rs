//! The sign-in log: every token request the sandbox answers for a workload (client credentials
//! with a secret, a certificate or a federated assertion; managed identity tokens), successful
//! or refused with its AADSTS code, recorded as Graph's beta `signIn` and served at
//! `GET /beta/auditLogs/signIns` with the `$filter`s, `$orderby`, `$top` and paging ficus uses.
//!
//! Storage: [`AuditLogs`] in the [`Directory`] (so it is saved with the snapshot), one
//! chronological queue per tenant, capped at [`MAX_SIGN_INS_PER_TENANT`] (the oldest go first).
//! Sign-ins are not journaled one by one (Entra's own logs lag by minutes): they reach disk
//! with the next snapshot, at the latest when the sandbox stops.
//!
//! A tenant listed in [`AuditLogs::without_premium`] has no Entra ID P1/P2: Graph answers 403
//! `Authentication_RequestFromNonPremiumTenantOrB2CTenant` there, as it does for free tenants.
//!
//! Reading needs `AuditLog.Read.All`; the sandbox also accepts a directory read permission in
//! its place, since the demo tenants' consent (and ficus's default scopes) carry
//! `Directory.Read.All` but not `AuditLog.Read.All`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::bearer::authenticate_graph;
use crate::model::{Application, Directory, Tenant, Timestamp, derived_uuid};
use crate::state::AppState;
use crate::sts::StsError;

/// Most sign-ins kept per tenant; the oldest are dropped beyond it.
pub const MAX_SIGN_INS_PER_TENANT: usize = 20_000;
/// Graph's page size for sign-ins when `$top` is not given, and the most `$top` may ask.
pub const MAX_PAGE: usize = 1000;
/// The IP address the emulated host's workloads sign in from (seeded history).
pub const HOST_IP: &str = "10.0.1.4";

const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

/// `signInEventTypes` values the sandbox records.
pub const SERVICE_PRINCIPAL: &str = "servicePrincipal";
pub const MANAGED_IDENTITY: &str = "managedIdentity";

/// `clientCredentialType` values.
pub mod credential_type {
    pub const CLIENT_SECRET: &str = "clientSecret";
    pub const CERTIFICATE: &str = "certificate";
    pub const FEDERATED: &str = "federatedIdentityCredential";
    pub const MANAGED_IDENTITY: &str = "managedIdentity";
    pub const NONE: &str = "none";
}

/// The audit logs of every tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogs {
    /// Per tenant id, oldest first.
    #[serde(default)]
    pub sign_ins: BTreeMap<Uuid, VecDeque<SignIn>>,
    /// Tenants without Entra ID P1/P2 (no sign-in logs through Graph).
    #[serde(default)]
    pub without_premium: BTreeSet<Uuid>,
}

impl AuditLogs {
    pub fn is_empty(&self) -> bool {
        self.sign_ins.is_empty() && self.without_premium.is_empty()
    }

    /// Appends a sign-in (stamping its sequence number), dropping the oldest beyond the cap.
    pub fn push(&mut self, tenant: Uuid, mut sign_in: SignIn) {
        let log = self.sign_ins.entry(tenant).or_default();
        sign_in.sequence = log.back().map_or(1, |last| last.sequence + 1);
        log.push_back(sign_in);
        while log.len() > MAX_SIGN_INS_PER_TENANT {
            log.pop_front();
        }
    }

    /// A tenant's sign-ins, oldest first.
    pub fn of(&self, tenant: Uuid) -> impl DoubleEndedIterator<Item = &SignIn> {
        self.sign_ins.get(&tenant).into_iter().flatten()
    }

    pub fn is_premium(&self, tenant: Uuid) -> bool {
        !self.without_premium.contains(&tenant)
    }
}

/// One workload sign-in, as stored. Graph's shape is [`SignIn::to_graph`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub id: Uuid,
    /// Position in its tenant's log (1, 2, …): the order and the paging cursor. Not a Graph
    /// field.
    #[serde(default)]
    pub sequence: u64,
    pub created_date_time: Timestamp,
    pub app_id: Uuid,
    pub app_display_name: String,
    pub service_principal_id: Option<Uuid>,
    /// `servicePrincipal` or `managedIdentity`.
    pub sign_in_event_type: String,
    pub client_credential_type: String,
    /// The secret's or certificate's `keyId`.
    #[serde(default)]
    pub service_principal_credential_key_id: Option<Uuid>,
    #[serde(default)]
    pub service_principal_credential_thumbprint: Option<String>,
    /// The FIC that matched the assertion.
    #[serde(default)]
    pub federated_credential_id: Option<Uuid>,
    /// 0 on success, else the AADSTS number.
    pub error_code: u32,
    #[serde(default)]
    pub failure_reason: Option<String>,
    pub ip_address: String,
    pub resource_display_name: String,
    pub resource_id: Option<Uuid>,
    /// For managed identity sign-ins: the identity's ARM id.
    #[serde(default)]
    pub managed_identity_resource_id: Option<String>,
}

impl SignIn {
    /// The `signIn` resource as Graph beta serves it.
    pub fn to_graph(&self) -> Value {
        let msi = self.managed_identity_resource_id.as_ref().map(|arm| {
            json!({
                "msiType": if arm.contains("/userAssignedIdentities/") { "userAssigned" } else { "systemAssigned" },
                "associatedResourceId": arm,
            })
        });
        json!({
            "id": self.id,
            "createdDateTime": self.created_date_time,
            "appId": self.app_id,
            "appDisplayName": self.app_display_name,
            "servicePrincipalId": self.service_principal_id,
            "servicePrincipalName": self.app_display_name,
            "signInEventTypes": [self.sign_in_event_type],
            "isInteractive": false,
            "clientCredentialType": self.client_credential_type,
            "servicePrincipalCredentialKeyId": self.service_principal_credential_key_id,
            "servicePrincipalCredentialThumbprint": self.service_principal_credential_thumbprint,
            "federatedCredentialId": self.federated_credential_id,
            "managedServiceIdentity": msi,
            "status": {
                "errorCode": self.error_code,
                "failureReason": self.failure_reason,
                "additionalDetails": Value::Null,
            },
            "ipAddress": self.ip_address,
            "resourceDisplayName": self.resource_display_name,
            "resourceId": self.resource_id,
            "conditionalAccessStatus": "notApplied",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Recording

/// The address a request came from: the first `X-Forwarded-For` hop, else loopback (the
/// sandbox listens on loopback).
fn client_ip(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or("127.0.0.1")
        .to_string()
}

fn form_field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// `client_id:secret` of an `Authorization: Basic` header (form-urlencoded parts).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Which credential a client credentials request presented, and which of the app's it was.
struct Presented {
    kind: &'static str,
    key_id: Option<Uuid>,
    thumbprint: Option<String>,
    fic_id: Option<Uuid>,
}

fn presented_credential(
    app: &Application,
    client_id: &str,
    form: &HashMap<String, String>,
    basic_secret: Option<&str>,
) -> Presented {
    use base64::Engine;
    let mut p = Presented {
        kind: credential_type::NONE,
        key_id: None,
        thumbprint: None,
        fic_id: None,
    };
    if let Some(assertion) = form_field(form, "client_assertion") {
        let Ok(jwt) = ficus_core::jwt::decode(assertion) else {
            p.kind = credential_type::FEDERATED;
            return p;
        };
        let issuer = jwt.str_claim("iss").unwrap_or("");
        let subject = jwt.str_claim("sub").unwrap_or("");
        // A certificate's assertion is the app speaking for itself: iss = sub = its client id.
        if issuer.eq_ignore_ascii_case(client_id) && subject.eq_ignore_ascii_case(client_id) {
            p.kind = credential_type::CERTIFICATE;
            let x5t = jwt.header.get("x5t").and_then(Value::as_str).and_then(|t| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(t.trim_end_matches('='))
                    .ok()
            });
            if let Some(x5t) = x5t {
                let cert = app.key_credentials.iter().find(|k| {
                    base64::engine::general_purpose::STANDARD
                        .decode(&k.custom_key_identifier)
                        .is_ok_and(|thumb| thumb == x5t)
                });
                p.thumbprint = Some(x5t.iter().map(|b| format!("{b:02X}")).collect());
                p.key_id = cert.map(|k| k.key_id);
            }
        } else {
            p.kind = credential_type::FEDERATED;
            let audiences = jwt.audiences();
            p.fic_id = app
                .federated_identity_credentials
                .iter()
                .find(|f| {
                    f.issuer == issuer
                        && f.subject == subject
                        && f.audiences.iter().any(|a| {
                            audiences.iter().any(|b| {
                                a == b
                                    || (a == crate::tokens::EXCHANGE_AUDIENCE
                                        && b == ficus_core::cloud::TOKEN_EXCHANGE_APP_ID)
                            })
                        })
                })
                .map(|f| f.id);
        }
    } else if let Some(secret) = form_field(form, "client_secret").or(basic_secret) {
        p.kind = credential_type::CLIENT_SECRET;
        p.key_id = app
            .password_credentials
            .iter()
            .find(|c| c.secret_text.expose() == secret)
            .map(|c| c.key_id);
    }
    p
}

/// Records a client credentials request the token endpoint answered (`answer` is what it
/// answered). Requests that name no known tenant or app are not recorded, as in Entra.
pub fn record_client_credentials<T>(
    state: &AppState,
    segment: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    answer: &Result<T, StsError>,
) {
    let basic = basic_credentials(headers);
    let Some(client_id) = form_field(form, "client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
    else {
        return;
    };
    let Ok(app_id) = Uuid::parse_str(&client_id) else {
        return;
    };
    let now = OffsetDateTime::now_utc();
    let recorded = state.read(|d| {
        let tenant = d.tenant(segment)?;
        // A multitenant app's registration lives in its home tenant.
        let app = tenant.application_by_app_id(app_id).or_else(|| {
            d.tenants
                .iter()
                .find_map(|t| t.application_by_app_id(app_id))
        })?;
        let presented = presented_credential(
            app,
            &client_id,
            form,
            basic.as_ref().map(|(_, s)| s.as_str()),
        );
        let resource = form_field(form, "scope")
            .and_then(|s| s.split_whitespace().next())
            .map(|s| s.strip_suffix("/.default").unwrap_or(s))
            .and_then(|r| crate::tokens::resolve_resource(tenant, r));
        let (error_code, failure_reason) = match answer {
            Ok(_) => (0, None),
            Err(e) => (e.code, Some(e.message.clone())),
        };
        Some((
            tenant.id,
            SignIn {
                id: Uuid::new_v4(),
                sequence: 0,
                created_date_time: Timestamp(now),
                app_id,
                app_display_name: app.display_name.clone(),
                service_principal_id: tenant.service_principal_by_app_id(app_id).map(|s| s.id),
                sign_in_event_type: SERVICE_PRINCIPAL.into(),
                client_credential_type: presented.kind.into(),
                service_principal_credential_key_id: presented.key_id,
                service_principal_credential_thumbprint: presented.thumbprint,
                federated_credential_id: presented.fic_id,
                error_code,
                failure_reason,
                ip_address: client_ip(headers),
                resource_display_name: resource
                    .as_ref()
                    .map(|r| r.display_name.clone())
                    .unwrap_or_default(),
                resource_id: resource.map(|r| r.app_id),
                managed_identity_resource_id: None,
            },
        ))
    });
    if let Some((tenant, sign_in)) = recorded {
        state.record_sign_in(tenant, sign_in);
    }
}

/// Records a managed identity token the MSI endpoints handed out for the emulated host's
/// identity `client_id` (in the host's tenant).
pub fn record_managed_identity(state: &AppState, client_id: Uuid, resource: &str) {
    let now = OffsetDateTime::now_utc();
    let recorded = state.read(|d| {
        let tenant = d.host_tenant()?;
        let identity = tenant.service_principal_by_app_id(client_id)?;
        let res = crate::tokens::resolve_resource(tenant, resource);
        Some((
            tenant.id,
            managed_identity_sign_in(Uuid::new_v4(), identity, res.as_ref(), now, "127.0.0.1"),
        ))
    });
    if let Some((tenant, sign_in)) = recorded {
        state.record_sign_in(tenant, sign_in);
    }
}

fn managed_identity_sign_in(
    id: Uuid,
    identity: &crate::model::ServicePrincipal,
    resource: Option<&crate::tokens::Resource>,
    at: OffsetDateTime,
    ip: &str,
) -> SignIn {
    SignIn {
        id,
        sequence: 0,
        created_date_time: Timestamp(at),
        app_id: identity.app_id,
        app_display_name: identity.display_name.clone(),
        service_principal_id: Some(identity.id),
        sign_in_event_type: MANAGED_IDENTITY.into(),
        client_credential_type: credential_type::MANAGED_IDENTITY.into(),
        service_principal_credential_key_id: None,
        service_principal_credential_thumbprint: None,
        federated_credential_id: None,
        error_code: 0,
        failure_reason: None,
        ip_address: ip.into(),
        resource_display_name: resource.map(|r| r.display_name.clone()).unwrap_or_default(),
        resource_id: resource.map(|r| r.app_id),
        managed_identity_resource_id: identity
            .managed_identity
            .as_ref()
            .map(|m| m.resource_id.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Seeded history

/// The demo's believable past, relative to `now`: billing-worker's secret used daily until it
/// expired 35 days ago; payments-api's secret used daily until yesterday beside its FIC (and
/// id-payments' tokens for the exchange); inventory-sync refused with AADSTS700213 every five
/// minutes over the last 24 hours (its FIC is older, but a day of failures tells the story
/// without bloating the state); fabrikam without P1.
pub fn seed_demo_history(directory: &mut Directory, now: OffsetDateTime) {
    use crate::seed::{CONTOSO, FABRIKAM, app_ids, identity_ids, tenant_id};
    let contoso_id = tenant_id(CONTOSO);
    let mut records: Vec<SignIn> = Vec::new();
    if let Some(contoso) = directory.tenant_by_id(contoso_id) {
        let graph = crate::tokens::resolve_resource(contoso, "https://graph.microsoft.com");
        let exchange = crate::tokens::resolve_resource(contoso, crate::tokens::EXCHANGE_AUDIENCE);
        let app = |name: &str| contoso.application_by_app_id(app_ids(CONTOSO, name).1);
        let identity = |name: &str| {
            contoso
                .service_principals
                .get(&identity_ids(CONTOSO, name).0)
        };
        // Workloads run their jobs at a fixed minute past the hour, so times look real.
        let daily =
            |days_ago: i64, minute: i64| now - Duration::days(days_ago) - Duration::minutes(minute);

        if let Some(billing) = app("billing-worker")
            && let Some(secret) = billing.password_credentials.first()
        {
            let expired = secret.end_date_time.0;
            for day in 0..90 {
                let at = expired - Duration::days(day) - Duration::hours(3);
                records.push(app_sign_in(
                    contoso,
                    billing,
                    Seeded::Secret(secret.key_id),
                    graph.as_ref(),
                    at,
                    &format!("billing-worker/secret/{day}"),
                ));
            }
        }
        if let Some(payments) = app("payments-api") {
            let fic = payments.federated_identity_credentials.first();
            for day in 1..=30 {
                if let Some(secret) = payments.password_credentials.first() {
                    records.push(app_sign_in(
                        contoso,
                        payments,
                        Seeded::Secret(secret.key_id),
                        graph.as_ref(),
                        daily(day, 17),
                        &format!("payments-api/secret/{day}"),
                    ));
                }
            }
            for day in 0..30 {
                if let Some(fic) = fic {
                    let at = daily(day, 47);
                    records.push(app_sign_in(
                        contoso,
                        payments,
                        Seeded::Federated(Some(fic.id), None),
                        graph.as_ref(),
                        at,
                        &format!("payments-api/fic/{day}"),
                    ));
                    if let Some(mi) = identity("id-payments") {
                        records.push(managed_identity_sign_in(
                            derived_uuid(&format!("{CONTOSO}/signin/id-payments/{day}")),
                            mi,
                            exchange.as_ref(),
                            at - Duration::seconds(1),
                            HOST_IP,
                        ));
                    }
                }
            }
        }
        if let Some(inventory) = app("inventory-sync")
            && let Some(mi) = identity("id-inventory")
        {
            let reason = format!(
                "No matching federated identity record found for presented assertion subject '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                mi.id
            );
            let created = inventory
                .federated_identity_credentials
                .first()
                .map_or(now, |f| f.created_at.0);
            let since = (now - Duration::hours(24)).max(created);
            let mut at = now - Duration::minutes(2);
            let mut i = 0;
            while at > since {
                records.push(app_sign_in(
                    contoso,
                    inventory,
                    Seeded::Federated(None, Some((700213, reason.clone()))),
                    graph.as_ref(),
                    at,
                    &format!("inventory-sync/fic/{i}"),
                ));
                // Its managed identity token is cached for a day: one MI sign-in a day.
                if i % 288 == 0 {
                    records.push(managed_identity_sign_in(
                        derived_uuid(&format!("{CONTOSO}/signin/id-inventory/{i}")),
                        mi,
                        exchange.as_ref(),
                        at - Duration::seconds(1),
                        HOST_IP,
                    ));
                }
                at -= Duration::minutes(5);
                i += 1;
            }
        }
    }
    records.sort_by_key(|r| (r.created_date_time, r.id));
    for record in records {
        directory.audit.push(contoso_id, record);
    }
    directory.audit.without_premium.insert(tenant_id(FABRIKAM));
}

enum Seeded {
    Secret(Uuid),
    /// The FIC that matched, or the refusal.
    Federated(Option<Uuid>, Option<(u32, String)>),
}

fn app_sign_in(
    tenant: &Tenant,
    app: &Application,
    credential: Seeded,
    resource: Option<&crate::tokens::Resource>,
    at: OffsetDateTime,
    name: &str,
) -> SignIn {
    let (kind, key_id, fic_id, failure) = match credential {
        Seeded::Secret(key) => (credential_type::CLIENT_SECRET, Some(key), None, None),
        Seeded::Federated(fic, failure) => (credential_type::FEDERATED, None, fic, failure),
    };
    SignIn {
        id: derived_uuid(&format!("{}/signin/{name}", tenant.name)),
        sequence: 0,
        created_date_time: Timestamp(at),
        app_id: app.app_id,
        app_display_name: app.display_name.clone(),
        service_principal_id: tenant.service_principal_by_app_id(app.app_id).map(|s| s.id),
        sign_in_event_type: SERVICE_PRINCIPAL.into(),
        client_credential_type: kind.into(),
        service_principal_credential_key_id: key_id,
        service_principal_credential_thumbprint: None,
        federated_credential_id: fic_id,
        error_code: failure.as_ref().map_or(0, |f| f.0),
        failure_reason: failure.map(|f| f.1),
        ip_address: HOST_IP.into(),
        resource_display_name: resource.map(|r| r.display_name.clone()).unwrap_or_default(),
        resource_id: resource.map(|r| r.app_id),
        managed_identity_resource_id: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Graph: GET /beta/auditLogs/signIns

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/beta/auditLogs/signIns", axum::routing::any(list))
        .route("/beta/auditlogs/signins", axum::routing::any(list))
}

/// A Graph error answer of this endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ListError {
    fn bad_request(message: impl Into<String>) -> ListError {
        ListError {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequest",
            message: message.into(),
        }
    }

    fn into_response(self) -> Response {
        let now = OffsetDateTime::now_utc();
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": Timestamp(now),
                    "request-id": Uuid::new_v4(),
                    "client-request-id": Uuid::new_v4(),
                }
            }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

async fn list(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> Response {
    if method != Method::GET {
        return ListError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "Request_BadRequest",
            message: "The sign-in log is read-only: use GET.".into(),
        }
        .into_response();
    }
    match list_inner(&state, &uri, &headers) {
        Ok(body) => {
            let mut response = (StatusCode::OK, axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The permissions that let a caller read the sign-in log in the sandbox.
const AUDIT_READ_PERMISSIONS: &[&str] = &[
    "AuditLog.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];

fn list_inner(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<Value, ListError> {
    let caller = authenticate_graph(state, headers).map_err(|e| ListError {
        status: StatusCode::UNAUTHORIZED,
        code: "InvalidAuthenticationToken",
        message: e.to_string(),
    })?;
    if !AUDIT_READ_PERMISSIONS
        .iter()
        .any(|p| caller.has_permission(p))
    {
        return Err(ListError {
            status: StatusCode::FORBIDDEN,
            code: "Authorization_RequestDenied",
            message: "Insufficient privileges to complete the operation.".into(),
        });
    }
    let query = SignInQuery::parse(uri.query().unwrap_or(""))?;
    let base = format!("{}/beta", state.authority);
    state.read(|d| {
        if !d.audit.is_premium(caller.tenant_id) {
            return Err(ListError {
                status: StatusCode::FORBIDDEN,
                code: NON_PREMIUM,
                message: "Neither tenant is B2C or tenant doesn't have premium license".into(),
            });
        }
        Ok(query.page(d.audit.of(caller.tenant_id), &base))
    })
}

/// One `$filter` clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    EventType(String),
    AppId(Uuid),
    ServicePrincipalId(Uuid),
    CreatedDateTime(Comparison, OffsetDateTime),
    ErrorCode(Comparison, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Comparison {
    fn parse(op: &str) -> Option<Comparison> {
        Some(match op.to_ascii_lowercase().as_str() {
            "eq" => Comparison::Eq,
            "ne" => Comparison::Ne,
            "ge" => Comparison::Ge,
            "gt" => Comparison::Gt,
            "le" => Comparison::Le,
            "lt" => Comparison::Lt,
            _ => return None,
        })
    }

    fn holds<T: Ord>(self, left: T, right: T) -> bool {
        match self {
            Comparison::Eq => left == right,
            Comparison::Ne => left != right,
            Comparison::Ge => left >= right,
            Comparison::Gt => left > right,
            Comparison::Le => left <= right,
            Comparison::Lt => left < right,
        }
    }
}

/// The parsed query of a sign-in listing.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInQuery {
    pub clauses: Vec<Clause>,
    pub top: usize,
    pub ascending: bool,
    /// Continue after this sequence number.
    pub after: Option<u64>,
}

const SUPPORTED_FILTERS: &str = "supported: signInEventTypes/any(t: t eq 'servicePrincipal' or 'managedIdentity'), appId eq '…', servicePrincipalId eq '…', createdDateTime ge|gt|le|lt <date-time>, status/errorCode eq|ne N, joined with 'and'";

impl SignInQuery {
    pub fn parse(raw: &str) -> Result<SignInQuery, ListError> {
        let mut q = SignInQuery {
            clauses: Vec::new(),
            top: MAX_PAGE,
            ascending: false,
            after: None,
        };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "$filter" => q.clauses = parse_filter(&value)?,
                "$top" => {
                    q.top = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            ListError::bad_request(format!(
                                "Invalid $top value '{value}': give a number from 1 to {MAX_PAGE}."
                            ))
                        })?
                }
                "$orderby" => {
                    let mut words = value.split_whitespace();
                    let field = words.next().unwrap_or("");
                    let direction = words.next().unwrap_or("asc");
                    if !field.eq_ignore_ascii_case("createdDateTime") || words.next().is_some() {
                        return Err(ListError::bad_request(format!(
                            "Invalid $orderby '{value}': sign-ins sort by createdDateTime (asc or desc) only."
                        )));
                    }
                    q.ascending = match direction.to_ascii_lowercase().as_str() {
                        "asc" => true,
                        "desc" => false,
                        _ => {
                            return Err(ListError::bad_request(format!(
                                "Invalid $orderby direction '{direction}': use asc or desc."
                            )));
                        }
                    };
                }
                "$skiptoken" => {
                    q.after = Some(value.trim().parse::<u64>().map_err(|_| {
                        ListError::bad_request(
                            "Invalid $skiptoken: follow @odata.nextLink as given.",
                        )
                    })?)
                }
                _ => {}
            }
        }
        Ok(q)
    }

    pub fn matches(&self, s: &SignIn) -> bool {
        self.clauses.iter().all(|c| match c {
            Clause::EventType(t) => s.sign_in_event_type.eq_ignore_ascii_case(t),
            Clause::AppId(id) => s.app_id == *id,
            Clause::ServicePrincipalId(id) => s.service_principal_id == Some(*id),
            Clause::CreatedDateTime(op, at) => op.holds(s.created_date_time.0, *at),
            Clause::ErrorCode(op, code) => op.holds(s.error_code, *code),
        })
    }

    /// One page of the log (given oldest first) as Graph's collection body.
    fn page<'a>(&self, log: impl DoubleEndedIterator<Item = &'a SignIn>, base: &str) -> Value {
        let ordered: Box<dyn Iterator<Item = &SignIn>> = if self.ascending {
            Box::new(log)
        } else {
            Box::new(log.rev())
        };
        let after = self.after;
        let ascending = self.ascending;
        let mut matching = ordered
            .filter(|s| match after {
                None => true,
                Some(seq) if ascending => s.sequence > seq,
                Some(seq) => s.sequence < seq,
            })
            .filter(|s| self.matches(s));
        let items: Vec<&SignIn> = matching.by_ref().take(self.top).collect();
        let more = matching.next().is_some();
        let mut body = json!({
            "@odata.context": format!("{base}/$metadata#auditLogs/signIns"),
            "value": items.iter().map(|s| s.to_graph()).collect::<Vec<_>>(),
        });
        if more && let Some(last) = items.last() {
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            if !self.clauses.is_empty() {
                next.append_pair("$filter", &render_filter(&self.clauses));
            }
            next.append_pair("$top", &self.top.to_string());
            next.append_pair(
                "$orderby",
                if self.ascending {
                    "createdDateTime asc"
                } else {
                    "createdDateTime desc"
                },
            );
            next.append_pair("$skiptoken", &last.sequence.to_string());
            body["@odata.nextLink"] =
                Value::String(format!("{base}/auditLogs/signIns?{}", next.finish()));
        }
        body
    }
}

fn render_filter(clauses: &[Clause]) -> String {
    let op = |c: &Comparison| format!("{c:?}").to_ascii_lowercase();
    clauses
        .iter()
        .map(|c| match c {
            Clause::EventType(t) => format!("signInEventTypes/any(t: t eq '{t}')"),
            Clause::AppId(id) => format!("appId eq '{id}'"),
            Clause::ServicePrincipalId(id) => format!("servicePrincipalId eq '{id}'"),
            Clause::CreatedDateTime(c, at) => {
                format!(
                    "createdDateTime {} {}",
                    op(c),
                    Timestamp(*at).to_graph_string()
                )
            }
            Clause::ErrorCode(c, code) => format!("status/errorCode {} {code}", op(c)),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Splits on ` and ` outside quotes and parentheses.
fn split_and(filter: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut current = String::new();
    let words: Vec<&str> = filter.split(' ').collect();
    for word in words {
        if !quoted && depth == 0 && word.eq_ignore_ascii_case("and") {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        for ch in word.chars() {
            match ch {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => depth -= 1,
                _ => {}
            }
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn unquote(value: &str) -> Option<&str> {
    value.strip_prefix('\'')?.strip_suffix('\'')
}

pub fn parse_filter(filter: &str) -> Result<Vec<Clause>, ListError> {
    let unsupported = |part: &str| {
        ListError::bad_request(format!(
            "Invalid filter clause '{part}': {SUPPORTED_FILTERS}."
        ))
    };
    let mut clauses = Vec::new();
    for part in split_and(filter.trim()) {
        let compact: String = part.chars().filter(|c| !c.is_whitespace()).collect();
        let lower = compact.to_ascii_lowercase();
        if let Some(inner) = lower
            .strip_prefix("signineventtypes/any(")
            .and_then(|r| r.strip_suffix(')'))
        {
            // `t: t eq 'servicePrincipal'` with any variable name.
            let value = inner
                .split_once(':')
                .and_then(|(var, test)| test.strip_prefix(var))
                .and_then(|test| test.strip_prefix("eq"))
                .and_then(unquote)
                .ok_or_else(|| unsupported(&part))?;
            let value = match value {
                "serviceprincipal" => SERVICE_PRINCIPAL,
                "managedidentity" => MANAGED_IDENTITY,
                "interactiveuser" => "interactiveUser",
                "noninteractiveuser" => "nonInteractiveUser",
                _ => return Err(unsupported(&part)),
            };
            clauses.push(Clause::EventType(value.into()));
            continue;
        }
        let words: Vec<&str> = part.split_whitespace().collect();
        let [field, op, value] = words.as_slice() else {
            return Err(unsupported(&part));
        };
        let op = Comparison::parse(op).ok_or_else(|| unsupported(&part))?;
        let guid = || {
            unquote(value)
                .and_then(|v| Uuid::parse_str(v).ok())
                .ok_or_else(|| unsupported(&part))
        };
        let clause = match field.to_ascii_lowercase().as_str() {
            "appid" if op == Comparison::Eq => Clause::AppId(guid()?),
            "serviceprincipalid" if op == Comparison::Eq => Clause::ServicePrincipalId(guid()?),
            "createddatetime" if op != Comparison::Eq && op != Comparison::Ne => {
                let at = OffsetDateTime::parse(
                    unquote(value).unwrap_or(value),
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|_| {
                    ListError::bad_request(format!(
                        "Invalid date-time '{value}' in '{part}': use RFC 3339, e.g. 2026-11-30T00:00:00Z."
                    ))
                })?;
                Clause::CreatedDateTime(op, at)
            }
            "status/errorcode" if matches!(op, Comparison::Eq | Comparison::Ne) => {
                let code = value.parse::<u32>().map_err(|_| unsupported(&part))?;
                Clause::ErrorCode(op, code)
            }
            _ => return Err(unsupported(&part)),
        };
        clauses.push(clause);
    }
    Ok(clauses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_render_round_trip() {
        let clauses = parse_filter(
            "signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '6a4f2b7e-1f0e-4c1e-9a55-0f1f0f1f0f1f' and createdDateTime ge 2026-11-01T00:00:00Z and status/errorCode ne 0",
        )
        .expect("parses");
        assert_eq!(clauses.len(), 4);
        assert_eq!(clauses[0], Clause::EventType(SERVICE_PRINCIPAL.into()));
        assert!(matches!(clauses[3], Clause::ErrorCode(Comparison::Ne, 0)));
        assert_eq!(
            parse_filter(&render_filter(&clauses)).expect("again"),
            clauses
        );
        let err = parse_filter("userPrincipalName eq 'x'").expect_err("unsupported");
        assert!(err.message.contains("supported:"), "{}", err.message);
        assert!(parse_filter("appId eq 'not-a-guid'").is_err());
    }

    #[test]
    fn the_log_keeps_its_cap_and_numbers_in_order() {
        let mut logs = AuditLogs::default();
        let tenant = Uuid::new_v4();
        let d = crate::seed::build(crate::seed::Seed::Demo, "http://127.0.0.1:1").expect("seed");
        let template = d
            .audit
            .of(crate::seed::tenant_id("contoso"))
            .next()
            .cloned()
            .expect("seeded");
        for _ in 0..MAX_SIGN_INS_PER_TENANT + 5 {
            logs.push(tenant, template.clone());
        }
        let log: Vec<&SignIn> = logs.of(tenant).collect();
        assert_eq!(log.len(), MAX_SIGN_INS_PER_TENANT);
        assert_eq!(log[0].sequence, 6);
        assert_eq!(
            log.last().map(|s| s.sequence),
            Some(MAX_SIGN_INS_PER_TENANT as u64 + 5)
        );
    }

    #[test]
    fn the_demo_history_tells_each_story() {
        use crate::seed::{CONTOSO, FABRIKAM, app_ids, tenant_id};
        let d = crate::seed::build(crate::seed::Seed::Demo, "http://127.0.0.1:1").expect("seed");
        let now = OffsetDateTime::now_utc();
        let log: Vec<&SignIn> = d.audit.of(tenant_id(CONTOSO)).collect();
        let of = |app: &str| {
            let id = app_ids(CONTOSO, app).1;
            log.iter().filter(move |s| s.app_id == id)
        };
        let billing_last = of("billing-worker")
            .map(|s| s.created_date_time.0)
            .max()
            .expect("billing-worker used its secret");
        assert!(now - billing_last > Duration::days(35));
        assert!(now - billing_last < Duration::days(36));
        let payments_secret_last = of("payments-api")
            .filter(|s| s.client_credential_type == credential_type::CLIENT_SECRET)
            .map(|s| s.created_date_time.0)
            .max()
            .expect("payments-api used its secret");
        assert!(now - payments_secret_last < Duration::days(2));
        assert!(of("payments-api").any(|s| s.federated_credential_id.is_some()));
        let failures: Vec<_> = of("inventory-sync")
            .filter(|s| s.error_code == 700213)
            .collect();
        assert_eq!(failures.len(), 288);
        assert!(
            log.windows(2).all(|w| w[0].sequence < w[1].sequence
                && w[0].created_date_time <= w[1].created_date_time)
        );
        assert!(!d.audit.is_premium(tenant_id(FABRIKAM)));
        assert!(d.audit.is_premium(tenant_id(CONTOSO)));
    }
}
