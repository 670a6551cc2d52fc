//! Microsoft Graph v1.0, the subset ficus uses: `/me`, `/organization`, `/applications` (with
//! OData queries and paging), federated identity credentials (list, get, create, update,
//! delete, upsert by name), `/servicePrincipals` (managed identities included), and
//! `/directoryObjects` (by id, `getByIds`), and removing secrets and certificates
//! (`removePassword`, `removeKey`, a `keyCredentials` PATCH: `graph_credentials.rs`).
//!
//! Fidelity notes:
//! - JSON shapes, error bodies (`{"error":{"code","message","innerError":{…}}}`), status codes
//!   and advanced-query rules follow Graph (see `odata.rs` and `shared/docs/entra-reference.md`).
//! - Graph validates FICs far less than ficus does: only the name rules, lengths, exactly one
//!   audience, 20 per app and uniqueness. A semantically wrong issuer or subject is accepted.
//! - Pages are serialized straight from the borrowed directory under its read lock; the
//!   `$skiptoken` is the last id (and sort key) of the page, so the next page starts with a
//!   B-tree seek instead of a scan.
//!
//! The routes are a single `/v1.0/{*path}` handler that parses the path itself, because Graph's
//! key syntax (`applications(appId='…')`, `federatedIdentityCredentials(name='…')`) does not
//! fit a router's segment patterns.
//
// NEEDS FROM CORE: nothing outstanding.
// - `odata.rs` is compiled as `graph::odata` through the `#[path]` attribute below, so
//   src/sandbox/mod.rs need not declare it (if it ever does, drop the `#[path]` module here).
// - The server skips its latency middleware for `/v1.0` because this router applies the
//   latency and throttle faults to Graph itself (agreed with sandbox-core).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::LazyLock;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use uuid::Uuid;

use crate::bearer::{Caller, GraphAuthError, authenticate_graph};
use crate::faults::AfterWrite;
use crate::model::{
    ApiApplication, Application, FederatedIdentityCredential, KeyCredential, PermissionScope,
    ServicePrincipal, Tenant, Timestamp, User,
};
use crate::state::AppState;

#[path = "delta.rs"]
pub mod delta;
#[path = "odata.rs"]
pub mod odata;

#[path = "graph_credentials.rs"]
mod credentials;

use odata::{Cursor, Direction, EntitySchema, ODataError, Query, Record};

/// Graph's content type for JSON answers.
const JSON_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
/// Most FICs an application may have.
pub const MAX_FICS_PER_APP: usize = crate::model::MAX_FICS_PER_APP;
/// Longest issuer, subject, audience or description Graph accepts.
pub const MAX_FIC_FIELD_LEN: usize = 600;
/// Most ids `getByIds` takes in one call.
const MAX_GET_BY_IDS: usize = 1000;

const INSUFFICIENT_PRIVILEGES: &str = "Insufficient privileges to complete the operation.";

/// Permissions that let a caller read app registrations and service principals.
const READ_PERMISSIONS: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];
/// Delegated permissions that allow writing an application's credentials (the user's role or
/// ownership decides the rest).
const DELEGATED_WRITE_PERMISSIONS: &[&str] =
    &["Application.ReadWrite.All", "Directory.AccessAsUser.All"];

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1.0", axum::routing::any(dispatch))
        .route("/v1.0/", axum::routing::any(dispatch))
        .route("/v1.0/{*path}", axum::routing::any(dispatch))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A Graph error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl GraphError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    fn with_code(mut self, code: &str) -> GraphError {
        self.code = code.to_string();
        self
    }

    fn odata_bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    fn not_found(key: &str) -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    fn denied() -> GraphError {
        GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            INSUFFICIENT_PRIVILEGES,
        )
    }

    fn invalid_id(key: &str) -> GraphError {
        GraphError::bad_request(format!("Invalid object identifier '{key}'."))
    }

    fn unsupported_method() -> GraphError {
        GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    }

    /// 429 from a quota or the token bucket, with Graph's wording and a real `Retry-After`.
    fn too_many_requests(caller: &Caller, category: &str, retry_after: u64) -> GraphError {
        GraphError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "TooManyRequests".into(),
            message: format!(
                "Too many requests from Identifier:{}+{} under category:{category}. Please try again later.",
                caller.tenant_id, caller.client_app_id
            ),
            retry_after: Some(retry_after),
        }
    }

    /// 503 (`graph-503=N`): nothing was done.
    fn unavailable() -> GraphError {
        GraphError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "serviceNotAvailable".into(),
            message: "The service is temporarily unavailable. Please try again later.".into(),
            retry_after: Some(3),
        }
    }

    /// 504 (`graph-504=N`): the gateway gave up, the backend may well have done the work.
    fn gateway_timeout() -> GraphError {
        GraphError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "UnknownError",
            "The gateway did not receive a timely response from the backend.",
        )
    }

    fn invalid_json() -> GraphError {
        GraphError::odata_bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }
}

impl From<ODataError> for GraphError {
    fn from(e: ODataError) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, e.code.as_str(), e.message)
    }
}

/// A write the sandbox could not make durable (disk full, read-only state): Graph's 503, which
/// clients retry after `Retry-After`; nothing was changed.
impl From<crate::state::StateError> for GraphError {
    fn from(e: crate::state::StateError) -> GraphError {
        GraphError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "serviceNotAvailable".into(),
            message: format!("The service is temporarily unavailable: {e}. Try again later."),
            retry_after: Some(5),
        }
    }
}

impl From<GraphAuthError> for GraphError {
    fn from(e: GraphAuthError) -> GraphError {
        GraphError::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string())
    }
}

/// Per-request facts every answer needs.
struct Ctx {
    request_id: String,
    client_request_id: String,
    /// `https://127.0.0.1:8443`: the sandbox's configured base URL, for links.
    origin: String,
    path: String,
    raw_query: Option<String>,
    eventual: bool,
}

impl Ctx {
    fn new(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Ctx {
        let request_id = Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        // Links (nextLink, context, Location) are built from the configured base URL, never
        // from the request's Host header: a client must not be sent elsewhere by a header.
        let origin = state.authority.clone();
        let eventual = headers
            .get_all("consistencylevel")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.trim().eq_ignore_ascii_case("eventual"));
        Ctx {
            request_id,
            client_request_id,
            origin,
            path: uri.path().to_string(),
            raw_query: uri.query().map(str::to_string),
            eventual,
        }
    }

    fn query(&self) -> Option<&str> {
        self.raw_query.as_deref()
    }

    /// `https://host/v1.0/$metadata#<fragment>`
    fn context(&self, fragment: &str) -> String {
        format!("{}/v1.0/$metadata#{fragment}", self.origin)
    }

    fn base_headers(&self, response: &mut Response) {
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            headers.insert("request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.client_request_id) {
            headers.insert("client-request-id", v);
        }
    }

    fn json(&self, status: StatusCode, body: Vec<u8>) -> Response {
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(JSON_CONTENT_TYPE),
        );
        self.base_headers(&mut response);
        response
    }

    fn no_content(&self) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        self.base_headers(&mut response);
        response
    }

    fn error(&self, state: &AppState, error: GraphError) -> Response {
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]"
            ))
            .unwrap_or_default();
        let body = serde_json::json!({
            "error": {
                "code": error.code,
                "message": error.message,
                "innerError": {
                    "date": date,
                    "request-id": self.request_id,
                    "client-request-id": self.client_request_id,
                }
            }
        });
        let mut response = self.json(error.status, body.to_string().into_bytes());
        if let Some(seconds) = error.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if error.status == StatusCode::UNAUTHORIZED {
            let challenge = format!(
                "Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                state.authority
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, GraphError> {
    serde_json::to_vec(value).map_err(|e| {
        GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            format!("The sandbox could not serialize its answer ({e}); please report this."),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/// How many Graph reads may do their work at once: all cores but one (at least one). A read
/// over a large tenant is CPU work (filter, sort, serialize) on the blocking pool; four sorted
/// listers on two cores would otherwise take every core, and token and IMDS answers would
/// queue behind them for the CPU (issue 12: IMDS p99 under four listers of `large:100000`).
pub fn graph_read_permits() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// The permits of [`graph_read_permits`], one set per sandbox, handed to [`dispatch`] as a
/// request extension (a router without it reads unlimited).
#[derive(Clone)]
pub struct GraphReads(pub std::sync::Arc<tokio::sync::Semaphore>);

impl GraphReads {
    pub fn new() -> GraphReads {
        GraphReads(std::sync::Arc::new(tokio::sync::Semaphore::new(
            graph_read_permits(),
        )))
    }
}

impl Default for GraphReads {
    fn default() -> Self {
        GraphReads::new()
    }
}

async fn dispatch(
    State(state): State<AppState>,
    reads: Option<axum::Extension<GraphReads>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The injected latency is the network's and Graph's front end: it holds no read permit,
    // so sleeping requests never queue the CPU work of others behind them.
    if let Some(latency) = state.faults.latency {
        tokio::time::sleep(latency).await;
    }
    let ctx = Ctx::new(&state, &uri, &headers);
    let write = is_write(&method, &ctx.path);
    // Reads hold a permit while they work (writes are bound by fsync, not the CPU). The
    // semaphore is never closed; should it be, the read runs unlimited.
    let _permit = match &reads {
        Some(axum::Extension(GraphReads(permits))) if !write => {
            permits.clone().acquire_owned().await.ok()
        }
        _ => None,
    };
    // Queries over a large tenant (filter, sort, serialize) and durable writes (fsync) run on
    // the blocking pool, so the async workers keep answering tokens and IMDS meanwhile.
    let worker_state = state.clone();
    let work = tokio::task::spawn_blocking(move || {
        let result = handle(&worker_state, &ctx, &method, &headers, &body);
        (ctx, result)
    });
    match work.await {
        Ok((ctx, Ok(response))) if write && response.status().is_success() => {
            // `graph-504=N` / `graph-drop=N`: the write is done, its answer is lost.
            match state.throttle.after_write(&state.faults) {
                AfterWrite::Answer => response,
                AfterWrite::GatewayTimeout => ctx.error(&state, GraphError::gateway_timeout()),
                AfterWrite::Drop => dropped_connection(),
            }
        }
        Ok((_, Ok(response))) => response,
        Ok((ctx, Err(error))) => ctx.error(&state, error),
        Err(join) => {
            let ctx = Ctx::new(&state, &uri, &HeaderMap::new());
            ctx.error(
                &state,
                GraphError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    format!("The sandbox failed while answering ({join}); please report this."),
                ),
            )
        }
    }
}

/// POST, PATCH and DELETE change the directory, except `getByIds` (a read sent as POST).
fn is_write(method: &Method, path: &str) -> bool {
    matches!(*method, Method::POST | Method::PATCH | Method::DELETE)
        && !path.to_ascii_lowercase().ends_with("/getbyids")
}

/// An answer whose body fails before its first byte: the server closes the connection, and the
/// client sees it drop without an answer (`graph-drop=N`).
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "graph-drop fault: connection dropped",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// The resource units a request costs in Graph's token bucket. Graph's identity and access
/// cost table: a GET on applications or service principals costs 2, other requests 1;
/// `$select` takes 1 off, `$expand` adds 1, never below 1. [doc, approximate: the table has
/// more rows than ficus uses]
fn request_cost(method: &Method, path: &str, raw_query: Option<&str>) -> u64 {
    if *method != Method::GET {
        return 1;
    }
    let rest = path
        .strip_prefix("/v1.0/")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut cost: i64 = if rest.starts_with("applications") || rest.starts_with("serviceprincipals")
    {
        2
    } else {
        1
    };
    let query = percent_decode(raw_query.unwrap_or("")).to_ascii_lowercase();
    let has = |option: &str| query.split('&').any(|p| p.trim_start().starts_with(option));
    if has("$select=") {
        cost -= 1;
    }
    if has("$expand=") {
        cost += 1;
    }
    cost.max(1) as u64
}

/// Whether the query's `$select` names `keyCredentials` (quota of 150 per minute per tenant).
fn selects_key_credentials(raw_query: Option<&str>) -> bool {
    let query = percent_decode(raw_query.unwrap_or("").replace('+', " ").as_str());
    query.split('&').any(|p| {
        p.trim_start().strip_prefix("$select=").is_some_and(|list| {
            list.split(',')
                .any(|c| c.trim().eq_ignore_ascii_case("keyCredentials"))
        })
    })
}

fn handle(
    state: &AppState,
    ctx: &Ctx,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, GraphError> {
    let caller = authenticate_graph(state, headers)?;
    if state.throttle.should_throttle(state.faults.throttle_every) {
        return Err(GraphError::too_many_requests(
            &caller,
            "throttle.aad.ctp.graph.application",
            1,
        ));
    }
    if state.throttle.unavailable(&state.faults) {
        return Err(GraphError::unavailable());
    }
    // Graph's token bucket per app and tenant, always on: resource units per 10 s by tenant
    // size (or `graph-budget=RU`), and the write quota.
    let capacity = state.faults.graph_budget.unwrap_or_else(|| {
        state.read(|dir| {
            crate::faults::tenant_budget(
                dir.tenant_by_id(caller.tenant_id)
                    .map_or(0, |t| t.users.len()),
            )
        })
    });
    let cost = request_cost(method, &ctx.path, ctx.query());
    if let Err(over) = state.throttle.spend(
        caller.tenant_id,
        &caller.client_app_id,
        capacity,
        cost,
        is_write(method, &ctx.path).then(|| {
            state
                .faults
                .graph_write_quota
                .map_or(crate::faults::WRITES_PER_WINDOW, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                })
        }),
    ) {
        return Err(GraphError::too_many_requests(
            &caller,
            "throttle.aad.ctp.graph.application",
            over.retry_after,
        ));
    }
    // `$select=keyCredentials`: 150 requests per minute per tenant (application list and get).
    if selects_key_credentials(ctx.query())
        && let Err(over) = state.throttle.key_credentials(caller.tenant_id)
    {
        return Err(GraphError::too_many_requests(
            &caller,
            "throttle.aad.ctp.graph.application.keycredentials",
            over.retry_after,
        ));
    }
    let prefer_create = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("create-if-missing"));
    let rest = ctx
        .path
        .strip_prefix("/v1.0")
        .unwrap_or("")
        .trim_start_matches('/');
    let segments: Vec<String> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.trim_end_matches('/')
            .split('/')
            .map(percent_decode)
            .collect()
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let request = Request {
        state,
        ctx,
        caller: &caller,
        method,
        body,
        prefer_create,
    };
    request.route(&segments)
}

struct Request<'a> {
    state: &'a AppState,
    ctx: &'a Ctx,
    caller: &'a Caller,
    method: &'a Method,
    body: &'a Bytes,
    /// `Prefer: create-if-missing`: a PATCH by name may create (the upsert).
    prefer_create: bool,
}

/// How a request names an application.
#[derive(Debug, Clone, Copy)]
enum AppKey {
    ObjectId(Uuid),
    AppId(Uuid),
}

/// How a request names a FIC.
#[derive(Debug, Clone)]
enum FicKey {
    /// `/federatedIdentityCredentials/{id-or-name}`
    IdOrName(String),
    /// `/federatedIdentityCredentials(name='…')`
    Name(String),
}

impl Request<'_> {
    fn route(&self, segments: &[&str]) -> Result<Response, GraphError> {
        let Some((&first, rest)) = segments.split_first() else {
            return Err(GraphError::odata_bad_request(
                "Invalid request: name a resource after /v1.0/, e.g. /v1.0/applications.",
            ));
        };
        if first.eq_ignore_ascii_case("me") {
            return match rest {
                [] => self.only(Method::GET).and_then(|_| self.me()),
                [owned] if owned.eq_ignore_ascii_case("ownedObjects") => {
                    self.only(Method::GET).and_then(|_| self.owned_objects())
                }
                [segment, ..] => Err(unknown_segment(segment)),
            };
        }
        if first.eq_ignore_ascii_case("organization") && rest.is_empty() {
            return self.only(Method::GET).and_then(|_| self.organization());
        }
        if first.eq_ignore_ascii_case("applications") {
            return match rest {
                [] => self
                    .only(Method::GET)
                    .and_then(|_| self.list::<Application>()),
                [count] if *count == "$count" => self
                    .only(Method::GET)
                    .and_then(|_| self.count::<Application>()),
                [delta] if delta.eq_ignore_ascii_case("delta") => self
                    .only(Method::GET)
                    .and_then(|_| self.delta::<Application>()),
                [id, tail @ ..] => {
                    let id = Uuid::parse_str(id).map_err(|_| GraphError::invalid_id(id))?;
                    self.application_route(AppKey::ObjectId(id), tail)
                }
            };
        }
        if let Some(keys) = keyed_segment(first, "applications")? {
            let app_id = single_key(&keys, "appId", first)?;
            let app_id = Uuid::parse_str(&app_id).map_err(|_| GraphError::invalid_id(&app_id))?;
            return self.application_route(AppKey::AppId(app_id), rest);
        }
        if first.eq_ignore_ascii_case("servicePrincipals") {
            return match rest {
                [] => self
                    .only(Method::GET)
                    .and_then(|_| self.list::<ServicePrincipal>()),
                [count] if *count == "$count" => self
                    .only(Method::GET)
                    .and_then(|_| self.count::<ServicePrincipal>()),
                [delta] if delta.eq_ignore_ascii_case("delta") => self
                    .only(Method::GET)
                    .and_then(|_| self.delta::<ServicePrincipal>()),
                [id] => {
                    self.only(Method::GET)?;
                    let id = Uuid::parse_str(id).map_err(|_| GraphError::invalid_id(id))?;
                    self.get_service_principal(|t| t.service_principals.get(&id), &id.to_string())
                }
                [id, owners] if owners.eq_ignore_ascii_case("owners") => {
                    self.only(Method::GET)?;
                    let id = Uuid::parse_str(id).map_err(|_| GraphError::invalid_id(id))?;
                    self.owners(|t| {
                        t.service_principals
                            .get(&id)
                            .map(|sp| sp.owners.clone())
                            .ok_or_else(|| GraphError::not_found(&id.to_string()))
                    })
                }
                [_, segment, ..] => Err(unknown_segment(segment)),
            };
        }
        if let Some(keys) = keyed_segment(first, "servicePrincipals")? {
            self.only(Method::GET)?;
            let app_id = single_key(&keys, "appId", first)?;
            let parsed = Uuid::parse_str(&app_id).map_err(|_| GraphError::invalid_id(&app_id))?;
            return match rest {
                [] => {
                    self.get_service_principal(|t| t.service_principal_by_app_id(parsed), &app_id)
                }
                [owners] if owners.eq_ignore_ascii_case("owners") => self.owners(|t| {
                    t.service_principal_by_app_id(parsed)
                        .map(|sp| sp.owners.clone())
                        .ok_or_else(|| GraphError::not_found(&app_id))
                }),
                [segment, ..] => Err(unknown_segment(segment)),
            };
        }
        if first.eq_ignore_ascii_case("directoryObjects") {
            return match rest {
                [op] if op.eq_ignore_ascii_case("getByIds") => {
                    self.only(Method::POST).and_then(|_| self.get_by_ids())
                }
                [id] => {
                    self.only(Method::GET)?;
                    let id = Uuid::parse_str(id).map_err(|_| GraphError::invalid_id(id))?;
                    self.directory_object(id)
                }
                [] => Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    "Listing all directory objects is not supported. Address one by id, or POST /directoryObjects/getByIds.",
                )),
                [_, segment, ..] => Err(unknown_segment(segment)),
            };
        }
        Err(unknown_segment(first))
    }

    fn only(&self, method: Method) -> Result<(), GraphError> {
        if *self.method == method {
            Ok(())
        } else {
            Err(GraphError::unsupported_method())
        }
    }

    fn application_route(&self, key: AppKey, tail: &[&str]) -> Result<Response, GraphError> {
        match tail {
            [] => match *self.method {
                Method::GET => self.get_application(key),
                Method::PATCH => self.update_application(key),
                _ => Err(GraphError::unsupported_method()),
            },
            [fics] if fics.eq_ignore_ascii_case("federatedIdentityCredentials") => {
                match *self.method {
                    Method::GET => self.list_fics(key),
                    Method::POST => self.create_fic(key),
                    _ => Err(GraphError::unsupported_method()),
                }
            }
            [fics, id] if fics.eq_ignore_ascii_case("federatedIdentityCredentials") => {
                self.fic_route(key, FicKey::IdOrName((*id).to_string()))
            }
            [op] if op.eq_ignore_ascii_case("removePassword") => self
                .only(Method::POST)
                .and_then(|_| self.remove_password(key)),
            [op] if op.eq_ignore_ascii_case("removeKey") => {
                self.only(Method::POST).and_then(|_| self.remove_key(key))
            }
            [owners] if owners.eq_ignore_ascii_case("owners") => {
                self.only(Method::GET)?;
                self.owners(|t| Self::find_app(t, key).map(|app| app.owners.clone()))
            }
            [segment] => match keyed_segment(segment, "federatedIdentityCredentials")? {
                Some(keys) => {
                    let name = single_key(&keys, "name", segment)?;
                    self.fic_route(key, FicKey::Name(name))
                }
                None => Err(unknown_segment(segment)),
            },
            [segment, ..] => Err(unknown_segment(segment)),
        }
    }

    fn fic_route(&self, key: AppKey, fic: FicKey) -> Result<Response, GraphError> {
        match *self.method {
            Method::GET => self.get_fic(key, &fic),
            Method::PATCH => self.update_fic(key, &fic),
            Method::DELETE => self.delete_fic(key, &fic),
            _ => Err(GraphError::unsupported_method()),
        }
    }

    // --- helpers over the directory -----------------------------------------------------

    /// Runs `f` on the caller's tenant under the read lock. Under `graph-lag`, as a replica
    /// sees it: applications whose FICs were just written show them as before the write.
    fn read<R>(&self, f: impl FnOnce(&Tenant) -> Result<R, GraphError>) -> Result<R, GraphError> {
        let tenant_id = self.caller.tenant_id;
        let stale = self
            .state
            .throttle
            .stale_view(tenant_id, self.state.faults.graph_lag);
        self.state.read(|dir| match dir.tenant_by_id(tenant_id) {
            Some(tenant) if stale.is_empty() => f(tenant),
            Some(tenant) => {
                let mut replica = tenant.clone();
                for (app, fics) in stale {
                    if let Some(app) = replica.applications.get_mut(&app) {
                        app.federated_identity_credentials = fics;
                    }
                }
                f(&replica)
            }
            None => Err(GraphError::from(GraphAuthError::WrongIssuer)),
        })
    }

    fn require_read(&self) -> Result<(), GraphError> {
        if READ_PERMISSIONS
            .iter()
            .any(|p| self.caller.has_permission(p))
        {
            Ok(())
        } else {
            Err(GraphError::denied())
        }
    }

    /// May the caller change this application's credentials?
    fn may_write(&self, tenant: &Tenant, app: &Application) -> bool {
        let caller = self.caller;
        let owner = app.owners.contains(&caller.object_id);
        if caller.is_user() {
            let scoped = DELEGATED_WRITE_PERMISSIONS
                .iter()
                .any(|p| caller.has_permission(p));
            let role = tenant
                .users
                .get(&caller.object_id)
                .is_some_and(User::can_manage_all_applications);
            scoped && (role || owner)
        } else {
            caller.has_permission("Application.ReadWrite.All")
                || (caller.has_permission("Application.ReadWrite.OwnedBy") && owner)
        }
    }

    fn find_app(tenant: &Tenant, key: AppKey) -> Result<&Application, GraphError> {
        match key {
            AppKey::ObjectId(id) => tenant
                .application(id)
                .ok_or_else(|| GraphError::not_found(&id.to_string())),
            AppKey::AppId(app_id) => tenant
                .application_by_app_id(app_id)
                .ok_or_else(|| GraphError::not_found(&app_id.to_string())),
        }
    }

    fn parse_query(&self, schema: &'static EntitySchema) -> Result<Query, GraphError> {
        Ok(odata::parse(self.ctx.query(), self.ctx.eventual, schema)?)
    }

    // --- /me, /organization ---------------------------------------------------------------

    fn me(&self) -> Result<Response, GraphError> {
        if !self.caller.is_user() {
            return Err(GraphError::odata_bad_request(
                "/me request is only valid with delegated authentication flow.",
            ));
        }
        let query = self.parse_query(&USER_SCHEMA)?;
        let context = self
            .ctx
            .context(&format!("users{}/$entity", query.context_select_suffix()));
        let body = self.read(|tenant| {
            let user = tenant
                .users
                .get(&self.caller.object_id)
                .ok_or_else(|| GraphError::not_found(&self.caller.object_id.to_string()))?;
            to_json(&UserJson {
                user,
                query: &query,
                context: Some(&context),
                odata_type: false,
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    fn organization(&self) -> Result<Response, GraphError> {
        let context = self.ctx.context("organization");
        let body = self.read(|tenant| {
            let created = tenant.created_date_time.to_graph_string();
            to_json(&serde_json::json!({
                "@odata.context": context,
                "value": [{
                    "id": tenant.id,
                    "deletedDateTime": null,
                    "businessPhones": [],
                    "city": null,
                    "country": null,
                    "countryLetterCode": "US",
                    "createdDateTime": created,
                    "defaultUsageLocation": null,
                    "displayName": tenant.display_name,
                    "marketingNotificationEmails": [],
                    "onPremisesLastSyncDateTime": null,
                    "onPremisesSyncEnabled": null,
                    "postalCode": null,
                    "preferredLanguage": "en",
                    "securityComplianceNotificationMails": [],
                    "securityComplianceNotificationPhones": [],
                    "state": null,
                    "street": null,
                    "technicalNotificationMails": [],
                    "tenantType": "AAD",
                    "assignedPlans": [],
                    "privacyProfile": null,
                    "provisionedPlans": [],
                    "verifiedDomains": [{
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": true,
                        "isInitial": true,
                        "name": tenant.domain,
                        "type": "Managed"
                    }]
                }]
            }))
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    // --- applications ----------------------------------------------------------------------

    /// A page of `/applications` or `/servicePrincipals`, with Graph's context, count and
    /// nextLink.
    fn list<T: Listed>(&self) -> Result<Response, GraphError> {
        self.require_read()?;
        let query = self.parse_query(T::schema())?;
        let context = self.ctx.context(&format!(
            "{}{}",
            T::COLLECTION,
            query.context_select_suffix()
        ));
        let body = self.read(|tenant| {
            let named = query
                .filter
                .as_ref()
                .and_then(|f| f.display_name_range())
                .and_then(|(low, high)| T::named_in(tenant, low, high));
            let page = paginate(
                T::all(tenant),
                T::pinned(tenant, &query),
                named.as_deref(),
                &query,
                T::id,
                T::sort_key,
            )?;
            let next = page.next.as_ref().map(|c| self.next_link(c));
            to_json(&CollectionJson {
                context: &context,
                // Graph puts `@odata.count` on the first page only.
                count: page.count.filter(|_| query.skiptoken.is_none()),
                next_link: next.as_deref(),
                items: &page.items,
                item: |item: &&T| item.json(tenant, &query),
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    /// `/$count` of a collection: how many items pass the request's `$filter`/`$search`.
    fn count<T: Listed>(&self) -> Result<Response, GraphError> {
        self.require_read()?;
        let query = odata::parse_count_request(self.ctx.query(), self.ctx.eventual, T::schema())?;
        let count = self.read(|tenant| {
            Ok(T::all(tenant)
                .values()
                .filter(|item| keep(&query, *item))
                .count())
        })?;
        Ok(self.text(count.to_string()))
    }

    /// The `@odata.nextLink` that continues this request after `cursor`.
    fn next_link(&self, cursor: &Cursor) -> String {
        let base = format!("{}{}", self.ctx.origin, self.ctx.path);
        odata::next_link(&base, self.ctx.query(), cursor)
    }

    fn text(&self, body: String) -> Response {
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=utf-8"),
        );
        self.ctx.base_headers(&mut response);
        response
    }

    fn get_application(&self, key: AppKey) -> Result<Response, GraphError> {
        self.require_read()?;
        let query = self.parse_query(&odata::APPLICATION)?;
        let context = self.ctx.context(&format!(
            "applications{}/$entity",
            query.context_select_suffix()
        ));
        let body = self.read(|tenant| {
            let app = Self::find_app(tenant, key)?;
            to_json(&AppJson {
                app,
                query: &query,
                context: Some(&context),
                odata_type: false,
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    /// `PATCH /applications/{id}`: the parts the sandbox models, `api` (its
    /// `requestedAccessTokenVersion` and `oauth2PermissionScopes`; the token service follows
    /// them) and `identifierUris`. A sub-property left out of `api` is kept. 204, as Graph.
    fn update_application(&self, key: AppKey) -> Result<Response, GraphError> {
        self.require_write(key)?;
        let body = self.body_object()?;
        let mut api_version: Option<Option<u8>> = None;
        let mut scopes: Option<Vec<PermissionScope>> = None;
        let mut identifier_uris: Option<Vec<String>> = None;
        let mut key_credentials: Option<Vec<KeyCredentialPatch>> = None;
        for (name, value) in &body {
            if name.starts_with('@') || name.contains("@odata.") {
                continue;
            }
            match name.as_str() {
                "api" => {
                    let Value::Object(api) = value else {
                        return Err(GraphError::odata_bad_request(
                            "Invalid value for property 'api': expected an object (microsoft.graph.apiApplication).",
                        ));
                    };
                    for (field, v) in api {
                        match field.as_str() {
                            "requestedAccessTokenVersion" => {
                                api_version = Some(match v {
                                    Value::Null => None,
                                    Value::Number(n) if matches!(n.as_u64(), Some(1 | 2)) => {
                                        n.as_u64().and_then(|n| u8::try_from(n).ok())
                                    }
                                    _ => {
                                        return Err(GraphError::bad_request(
                                            "Property 'api.requestedAccessTokenVersion' must be null, 1 or 2.",
                                        ));
                                    }
                                })
                            }
                            "oauth2PermissionScopes" => scopes = Some(parse_scopes(v)?),
                            // Modeled as Graph's defaults; accepted and kept as they are.
                            "acceptMappedClaims"
                            | "knownClientApplications"
                            | "preAuthorizedApplications" => {}
                            other => {
                                return Err(GraphError::odata_bad_request(format!(
                                    "The property '{other}' does not exist on type 'microsoft.graph.apiApplication'. Make sure to only use property names that are defined by the type."
                                )));
                            }
                        }
                    }
                }
                "identifierUris" => {
                    let uris = match value {
                        Value::Array(items) => items
                            .iter()
                            .map(|v| v.as_str().map(str::to_string))
                            .collect::<Option<Vec<String>>>(),
                        _ => None,
                    };
                    identifier_uris = Some(uris.ok_or_else(|| {
                        GraphError::odata_bad_request(
                            "Invalid value for property 'identifierUris': expected an array of strings.",
                        )
                    })?);
                }
                "keyCredentials" => key_credentials = Some(parse_key_credentials(value)?),
                other if odata::APPLICATION.properties.contains(&other) => {
                    return Err(GraphError::bad_request(format!(
                        "The sandbox does not model changes to '{other}'; it accepts api (requestedAccessTokenVersion, oauth2PermissionScopes), identifierUris and keyCredentials."
                    )));
                }
                other => {
                    return Err(GraphError::odata_bad_request(format!(
                        "The property '{other}' does not exist on type 'microsoft.graph.application'. Make sure to only use property names that are defined by the type."
                    )));
                }
            }
        }
        self.write(key, |app| {
            if let Some(new) = &scopes {
                // Graph refuses to drop or change a scope that is still enabled: disable it
                // first, in its own PATCH.
                for old in app.api.oauth2_permission_scopes.iter().filter(|s| s.is_enabled) {
                    let kept = new
                        .iter()
                        .find(|s| s.id == old.id)
                        .is_some_and(|s| s.value == old.value && s.consent_type == old.consent_type);
                    if !kept {
                        return Err(GraphError::bad_request(
                            "Permission (scope or role) cannot be deleted or updated unless disabled first.",
                        )
                        .with_code("CannotDeleteOrUpdateEnabledEntitlement"));
                    }
                }
                app.api.oauth2_permission_scopes = new.clone();
            }
            if let Some(version) = api_version {
                app.api.requested_access_token_version = version;
            }
            if let Some(uris) = &identifier_uris {
                app.identifier_uris = uris.clone();
            }
            if let Some(patches) = key_credentials {
                app.key_credentials = apply_key_credentials(&app.key_credentials, patches)?;
            }
            Ok(())
        })?;
        Ok(self.ctx.no_content())
    }

    // --- federated identity credentials ----------------------------------------------------

    fn fic_context(&self, app_object_id: Uuid, entity: bool) -> String {
        self.ctx.context(&format!(
            "applications('{}')/federatedIdentityCredentials{}",
            app_object_id,
            if entity { "/$entity" } else { "" }
        ))
    }

    fn list_fics(&self, key: AppKey) -> Result<Response, GraphError> {
        self.require_read()?;
        let query = self.parse_query(&odata::FEDERATED_IDENTITY_CREDENTIAL)?;
        let body = self.read(|tenant| {
            let app = Self::find_app(tenant, key)?;
            let context = self.fic_context(app.id, false);
            let matching: Vec<&FederatedIdentityCredential> = app
                .federated_identity_credentials
                .iter()
                .filter(|f| keep(&query, *f))
                .collect();
            let start = match &query.skiptoken {
                None => 0,
                Some(cursor) => {
                    let after = Uuid::parse_str(&cursor.after_id).ok();
                    match matching.iter().position(|f| Some(f.id) == after) {
                        Some(i) => i + 1,
                        None => matching.len(),
                    }
                }
            };
            let size = query.page_size();
            let items: Vec<&FederatedIdentityCredential> =
                matching.iter().skip(start).take(size).copied().collect();
            let next = (start + items.len() < matching.len())
                .then(|| items.last())
                .flatten()
                .map(|last| {
                    self.next_link(&Cursor {
                        after_key: None,
                        after_id: last.id.to_string(),
                    })
                });
            to_json(&CollectionJson {
                context: &context,
                count: (query.count && query.skiptoken.is_none()).then_some(matching.len()),
                next_link: next.as_deref(),
                items: &items,
                item: |fic: &&FederatedIdentityCredential| FicJson {
                    fic,
                    query: Some(&query),
                    context: None,
                },
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    fn get_fic(&self, key: AppKey, fic_key: &FicKey) -> Result<Response, GraphError> {
        self.require_read()?;
        let query = self.parse_query(&odata::FEDERATED_IDENTITY_CREDENTIAL)?;
        let body = self.read(|tenant| {
            let app = Self::find_app(tenant, key)?;
            let fic = find_fic(app, fic_key)?;
            let context = self.fic_context(app.id, true);
            to_json(&FicJson {
                fic,
                query: Some(&query),
                context: Some(&context),
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    /// Checks write rights on the app under the read lock (cheap; the write re-finds it).
    fn require_write(&self, key: AppKey) -> Result<(), GraphError> {
        self.read(|tenant| {
            let app = Self::find_app(tenant, key)?;
            if self.may_write(tenant, app) {
                Ok(())
            } else {
                Err(GraphError::denied())
            }
        })
    }

    /// Runs `f` on the application under the write lock.
    fn write<R>(
        &self,
        key: AppKey,
        f: impl FnOnce(&mut Application) -> Result<R, GraphError>,
    ) -> Result<R, GraphError> {
        let tenant_id = self.caller.tenant_id;
        // Durable before it returns (journal + fsync); a write that cannot be saved is refused.
        self.state.update_application(
            |dir| {
                let tenant = dir
                    .tenant_by_id(tenant_id)
                    .ok_or_else(|| GraphError::from(GraphAuthError::WrongIssuer))?;
                let app = match key {
                    AppKey::ObjectId(id) => tenant.applications.get(&id),
                    AppKey::AppId(app_id) => tenant.application_by_app_id(app_id),
                };
                let app = app.ok_or_else(|| {
                    GraphError::not_found(&match key {
                        AppKey::ObjectId(id) | AppKey::AppId(id) => id.to_string(),
                    })
                })?;
                Ok((tenant_id, app.id))
            },
            |app| {
                // `graph-lag`: reads keep showing the FICs as they were until the replicas
                // catch up.
                let before = self
                    .state
                    .faults
                    .graph_lag
                    .map(|_| app.federated_identity_credentials.clone());
                let result = f(app)?;
                if let Some(before) = before {
                    self.state.throttle.record_write(
                        tenant_id,
                        app.id,
                        &before,
                        self.state.faults.graph_lag,
                    );
                }
                Ok(result)
            },
        )
    }

    fn body_object(&self) -> Result<serde_json::Map<String, Value>, GraphError> {
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(GraphError::invalid_json()),
        }
    }

    fn created(
        &self,
        app_object_id: Uuid,
        fic: &FederatedIdentityCredential,
    ) -> Result<Response, GraphError> {
        let context = self.fic_context(app_object_id, true);
        let body = to_json(&FicJson {
            fic,
            query: None,
            context: Some(&context),
        })?;
        let mut response = self.ctx.json(StatusCode::CREATED, body);
        let location = format!(
            "{}/v1.0/applications/{}/federatedIdentityCredentials/{}",
            self.ctx.origin, app_object_id, fic.id
        );
        if let Ok(v) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Ok(response)
    }

    fn create_fic(&self, key: AppKey) -> Result<Response, GraphError> {
        self.require_write(key)?;
        let body = self.body_object()?;
        let input = FicInput::from_body(&body)?;
        let (app, fic) = self.write(key, |app| {
            let fic = input.create(app, None)?;
            app.federated_identity_credentials.push(fic.clone());
            Ok((app.id, fic))
        })?;
        self.created(app, &fic)
    }

    fn update_fic(&self, key: AppKey, fic_key: &FicKey) -> Result<Response, GraphError> {
        self.require_write(key)?;
        let body = self.body_object()?;
        let input = FicInput::from_body(&body)?;
        let outcome = self.write(key, |app| {
            let existing = match find_fic(app, fic_key) {
                Ok(f) => Some(f.id),
                Err(e) => match fic_key {
                    // PATCH …(name='x') with `Prefer: create-if-missing` is the upsert;
                    // without the header a missing name is 404.
                    FicKey::Name(_) if self.prefer_create => None,
                    _ => return Err(e),
                },
            };
            match existing {
                Some(id) => {
                    input.update(app, id)?;
                    Ok(None)
                }
                None => {
                    let FicKey::Name(name) = fic_key else {
                        return Err(GraphError::not_found(""));
                    };
                    let fic = input.create(app, Some(name))?;
                    app.federated_identity_credentials.push(fic.clone());
                    Ok(Some((app.id, fic)))
                }
            }
        })?;
        match outcome {
            Some((app, fic)) => self.created(app, &fic),
            None => Ok(self.ctx.no_content()),
        }
    }

    fn delete_fic(&self, key: AppKey, fic_key: &FicKey) -> Result<Response, GraphError> {
        self.require_write(key)?;
        self.write(key, |app| {
            let id = find_fic(app, fic_key)?.id;
            app.federated_identity_credentials.retain(|f| f.id != id);
            Ok(())
        })?;
        Ok(self.ctx.no_content())
    }

    // --- service principals ----------------------------------------------------------------

    fn get_service_principal(
        &self,
        find: impl for<'t> FnOnce(&'t Tenant) -> Option<&'t ServicePrincipal>,
        key: &str,
    ) -> Result<Response, GraphError> {
        self.require_read()?;
        let query = self.parse_query(&odata::SERVICE_PRINCIPAL)?;
        let context = self.ctx.context(&format!(
            "servicePrincipals{}/$entity",
            query.context_select_suffix()
        ));
        let body = self.read(|tenant| {
            let sp = find(tenant).ok_or_else(|| GraphError::not_found(key))?;
            to_json(&SpJson {
                sp,
                query: &query,
                context: Some(&context),
                odata_type: false,
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    // --- navigation properties (owners, ownedObjects) ----------------------------------------

    /// `GET …/owners`: the owners `find` names, as directory objects, in id order and pages.
    fn owners(
        &self,
        find: impl FnOnce(&Tenant) -> Result<Vec<Uuid>, GraphError>,
    ) -> Result<Response, GraphError> {
        self.require_read()?;
        self.directory_objects(|tenant| find(tenant))
    }

    /// `GET /me/ownedObjects`: the applications and service principals the signed-in user owns.
    fn owned_objects(&self) -> Result<Response, GraphError> {
        if !self.caller.is_user() {
            return Err(GraphError::odata_bad_request(
                "/me request is only valid with delegated authentication flow.",
            ));
        }
        let me = self.caller.object_id;
        self.directory_objects(|tenant| {
            let apps = tenant
                .applications
                .values()
                .filter(|a| a.owners.contains(&me))
                .map(|a| a.id);
            let sps = tenant
                .service_principals
                .values()
                .filter(|sp| sp.owners.contains(&me))
                .map(|sp| sp.id);
            Ok(apps.chain(sps).collect())
        })
    }

    /// A page of directory objects (`$top`, `$skiptoken`, `$select`), each with its
    /// `@odata.type`, in id order. Ids that name no object are left out.
    fn directory_objects(
        &self,
        ids: impl FnOnce(&Tenant) -> Result<Vec<Uuid>, GraphError>,
    ) -> Result<Response, GraphError> {
        let query = self.parse_query(&DIRECTORY_OBJECT_SCHEMA)?;
        let context = self.ctx.context(&format!(
            "directoryObjects{}",
            query.context_select_suffix()
        ));
        let body = self.read(|tenant| {
            let mut ids = ids(tenant)?;
            ids.sort();
            ids.dedup();
            let after = match &query.skiptoken {
                Some(cursor) => Some(
                    Uuid::parse_str(&cursor.after_id)
                        .map_err(|_| GraphError::from(odata::invalid_skiptoken()))?,
                ),
                None => None,
            };
            let objects: Vec<DirectoryObject<'_>> = ids
                .into_iter()
                .filter(|id| after.is_none_or(|after| *id > after))
                .filter_map(|id| DirectoryObject::find(tenant, id))
                .collect();
            let size = query.page_size();
            let next = (objects.len() > size).then(|| {
                self.next_link(&Cursor {
                    after_key: None,
                    after_id: objects[size - 1].id().to_string(),
                })
            });
            let page = &objects[..objects.len().min(size)];
            to_json(&CollectionJson {
                context: &context,
                count: query
                    .count
                    .then_some(objects.len())
                    .filter(|_| after.is_none()),
                next_link: next.as_deref(),
                items: page,
                item: |o: &DirectoryObject<'_>| DirectoryObjectJson {
                    object: *o,
                    context: None,
                    query: &query,
                },
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    // --- directory objects -----------------------------------------------------------------

    fn directory_object(&self, id: Uuid) -> Result<Response, GraphError> {
        self.require_read()?;
        let context = self.ctx.context("directoryObjects/$entity");
        let body = self.read(|tenant| {
            let object = DirectoryObject::find(tenant, id)
                .ok_or_else(|| GraphError::not_found(&id.to_string()))?;
            to_json(&object.json(tenant, Some(&context)))
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    fn get_by_ids(&self) -> Result<Response, GraphError> {
        self.require_read()?;
        let body = self.body_object()?;
        let ids = match body.get("ids") {
            Some(Value::Array(ids)) => ids,
            _ => {
                return Err(GraphError::bad_request(
                    "The request body needs \"ids\": an array of object ids (GUIDs), e.g. {\"ids\":[\"…\"]}.",
                ));
            }
        };
        if ids.len() > MAX_GET_BY_IDS {
            return Err(GraphError::bad_request(format!(
                "Too many ids: {} given, at most {MAX_GET_BY_IDS} per request. Split the list.",
                ids.len()
            )));
        }
        let mut parsed = Vec::with_capacity(ids.len());
        for id in ids {
            let text = id.as_str().unwrap_or("");
            let uuid =
                Uuid::parse_str(text).map_err(|_| GraphError::invalid_id(&id.to_string()))?;
            parsed.push(uuid);
        }
        let types = match body.get("types") {
            None | Some(Value::Null) => None,
            Some(Value::Array(types)) => {
                let mut kinds = Vec::new();
                for t in types {
                    let name = t.as_str().unwrap_or("");
                    let bare = name
                        .strip_prefix("microsoft.graph.")
                        .or_else(|| name.strip_prefix("#microsoft.graph."))
                        .unwrap_or(name);
                    let kind = ObjectKind::parse(bare).ok_or_else(|| {
                        GraphError::bad_request(format!(
                            "Unsupported type '{name}' in \"types\". Use user, application, servicePrincipal, group or device."
                        ))
                    })?;
                    kinds.push(kind);
                }
                Some(kinds)
            }
            Some(_) => {
                return Err(GraphError::bad_request(
                    "\"types\" must be an array of type names such as [\"servicePrincipal\"].",
                ));
            }
        };
        let context = self.ctx.context("directoryObjects");
        let out = self.read(|tenant| {
            let objects: Vec<DirectoryObject<'_>> = parsed
                .iter()
                .filter_map(|id| DirectoryObject::find(tenant, *id))
                .filter(|o| types.as_ref().is_none_or(|t| t.contains(&o.kind())))
                .collect();
            to_json(&CollectionJson {
                context: &context,
                count: None,
                next_link: None,
                items: &objects,
                item: |o| o.json(tenant, None),
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, out))
    }
}

/// One item of a PATCH's `keyCredentials` (the whole collection is replaced, as in Graph).
enum KeyCredentialPatch {
    /// An existing credential, named by `keyId` without a `key` (as a GET returns it).
    Keep {
        key_id: Uuid,
        display_name: Option<Option<String>>,
    },
    /// A certificate uploaded with its `key` (base64 DER).
    New(KeyCredential),
}

/// Parses `keyCredentials`: `AsymmetricX509Cert` / `Verify` items, each an existing `keyId` or
/// a new certificate in `key`. Dates default to the certificate's validity; the thumbprint
/// (`customKeyIdentifier`) is computed, as Graph does.
fn parse_key_credentials(value: &Value) -> Result<Vec<KeyCredentialPatch>, GraphError> {
    use base64::Engine;
    let Value::Array(items) = value else {
        return Err(GraphError::odata_bad_request(
            "Invalid value for property 'keyCredentials': expected an array of microsoft.graph.keyCredential.",
        ));
    };
    let invalid = |property: &str, hint: &str| {
        GraphError::bad_request(format!(
            "Invalid value specified for property '{property}' of resource 'KeyCredential'. {hint}"
        ))
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(item) = item else {
            return Err(GraphError::odata_bad_request(
                "Invalid value for property 'keyCredentials': each item must be an object.",
            ));
        };
        let text = |name: &str| item.get(name).and_then(Value::as_str);
        let key_id = match item.get("keyId") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| {
                        invalid("keyId", "Give a GUID, or leave it out for a new key.")
                    })?,
            ),
        };
        let display_name = match item.get("displayName") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => return Err(invalid("displayName", "Give a string.")),
        };
        let Some(key) = text("key") else {
            let key_id = key_id.ok_or_else(|| {
                invalid(
                    "key",
                    "A new key credential needs the certificate in 'key' (base64 of its DER); an existing one is named by its 'keyId'.",
                )
            })?;
            out.push(KeyCredentialPatch::Keep {
                key_id,
                display_name,
            });
            continue;
        };
        let key_type = text("type").unwrap_or("AsymmetricX509Cert");
        let usage = text("usage").unwrap_or("Verify");
        if key_type != "AsymmetricX509Cert" {
            return Err(invalid(
                "type",
                "The sandbox models 'AsymmetricX509Cert' certificates only.",
            ));
        }
        if usage != "Verify" {
            return Err(invalid(
                "usage",
                "A certificate that verifies client assertions has usage 'Verify'.",
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| invalid("key", "Give the certificate as base64 of its DER encoding."))?;
        let cert =
            crate::certs::parse_certificate(&der).map_err(|e| invalid("key", &format!("{e}.")))?;
        let date = |name: &str, default: i64| -> Result<Timestamp, GraphError> {
            match item.get(name) {
                None | Some(Value::Null) => Ok(Timestamp(
                    time::OffsetDateTime::from_unix_timestamp(default)
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
                )),
                Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
                    invalid(
                        name,
                        "Give an ISO 8601 date and time such as 2026-01-31T00:00:00Z.",
                    )
                }),
            }
        };
        let start = date("startDateTime", cert.not_before)?;
        let end = date("endDateTime", cert.not_after)?;
        if start.unix() < cert.not_before
            || end.unix() > cert.not_after
            || end.unix() <= start.unix()
        {
            return Err(invalid(
                "endDateTime",
                "The key's dates must lie within the certificate's validity, and end after they start.",
            ));
        }
        out.push(KeyCredentialPatch::New(KeyCredential {
            key_id: key_id.unwrap_or_else(Uuid::new_v4),
            display_name: display_name.flatten(),
            key_type: key_type.to_string(),
            usage: usage.to_string(),
            custom_key_identifier: base64::engine::general_purpose::STANDARD.encode(cert.sha1),
            start_date_time: start,
            end_date_time: end,
            key: Some(base64::engine::general_purpose::STANDARD.encode(&der)),
        }));
    }
    Ok(out)
}

/// The new `keyCredentials`: kept items from `old`, new ones as given; key ids unique.
fn apply_key_credentials(
    old: &[KeyCredential],
    patches: Vec<KeyCredentialPatch>,
) -> Result<Vec<KeyCredential>, GraphError> {
    let mut out: Vec<KeyCredential> = Vec::with_capacity(patches.len());
    for patch in patches {
        let credential = match patch {
            KeyCredentialPatch::Keep {
                key_id,
                display_name,
            } => {
                let mut kept = old.iter().find(|k| k.key_id == key_id).cloned().ok_or_else(|| {
                    GraphError::bad_request(format!(
                        "Invalid value specified for property 'keyId' of resource 'KeyCredential'. '{key_id}' names no key credential of this application; to add a certificate give its 'key' (base64 DER)."
                    ))
                })?;
                if let Some(name) = display_name {
                    kept.display_name = name;
                }
                kept
            }
            KeyCredentialPatch::New(credential) => credential,
        };
        if out.iter().any(|k| k.key_id == credential.key_id) {
            return Err(GraphError::bad_request(format!(
                "Invalid value specified for property 'keyId' of resource 'KeyCredential'. '{}' appears twice.",
                credential.key_id
            )));
        }
        out.push(credential);
    }
    Ok(out)
}

/// `api.oauth2PermissionScopes` of a PATCH: each needs an `id` (GUID), a `value`, a `type`
/// (`User` or `Admin`) and `isEnabled`; values are unique.
fn parse_scopes(value: &Value) -> Result<Vec<PermissionScope>, GraphError> {
    let Value::Array(items) = value else {
        return Err(GraphError::odata_bad_request(
            "Invalid value for property 'oauth2PermissionScopes': expected an array of permissionScope objects.",
        ));
    };
    let mut out: Vec<PermissionScope> = Vec::with_capacity(items.len());
    for item in items {
        let text = |field: &str| item.get(field).and_then(Value::as_str).map(str::to_string);
        let id = text("id").and_then(|id| Uuid::parse_str(&id).ok());
        let scope_value = text("value").filter(|v| !v.is_empty() && !v.contains(' '));
        let consent = text("type").filter(|t| t == "User" || t == "Admin");
        let enabled = item.get("isEnabled").and_then(Value::as_bool);
        let (Some(id), Some(scope_value), Some(consent_type), Some(is_enabled)) =
            (id, scope_value, consent, enabled)
        else {
            return Err(GraphError::bad_request(
                "Each oauth2PermissionScopes entry needs id (a GUID), value (no spaces), type ('User' or 'Admin') and isEnabled.",
            ));
        };
        if out
            .iter()
            .any(|s| s.id == id || s.value.eq_ignore_ascii_case(&scope_value))
        {
            return Err(GraphError::bad_request(format!(
                "Duplicate permission scope '{scope_value}': ids and values must be unique."
            )));
        }
        out.push(PermissionScope {
            id,
            value: scope_value,
            consent_type,
            admin_consent_display_name: text("adminConsentDisplayName").unwrap_or_default(),
            is_enabled,
        });
    }
    Ok(out)
}

fn unknown_segment(segment: &str) -> GraphError {
    GraphError::odata_bad_request(format!("Resource not found for the segment '{segment}'."))
}

/// Decodes `%xx` escapes in a path segment (`+` stays `+` in paths).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses `entity(key='value')` or `entity('value')` (entity name case-insensitive) into
/// its key/value pairs. `Ok(None)` when the segment is not of that form for `entity`.
fn keyed_segment(segment: &str, entity: &str) -> Result<Option<Vec<(String, String)>>, GraphError> {
    let Some(head) = segment.get(..entity.len()) else {
        return Ok(None);
    };
    if !head.eq_ignore_ascii_case(entity) || segment.as_bytes().get(entity.len()) != Some(&b'(') {
        return Ok(None);
    }
    let inner = segment[entity.len() + 1..]
        .strip_suffix(')')
        .ok_or_else(|| bad_key(segment))?;
    let mut pairs = Vec::new();
    let mut rest = inner.trim();
    loop {
        let (name, after_name) = match rest.find(['=', '\'']) {
            Some(i) if rest.as_bytes()[i] == b'=' => (rest[..i].trim().to_string(), &rest[i + 1..]),
            _ => (String::new(), rest),
        };
        let after_name = after_name.trim_start();
        let Some(literal) = after_name.strip_prefix('\'') else {
            return Err(bad_key(segment));
        };
        let mut value = String::new();
        let mut chars = literal.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                    value.push('\'');
                } else {
                    end = Some(i + 1);
                    break;
                }
            } else {
                value.push(c);
            }
        }
        let end = end.ok_or_else(|| bad_key(segment))?;
        pairs.push((name, value));
        rest = literal[end..].trim_start();
        if rest.is_empty() {
            break;
        }
        rest = rest
            .strip_prefix(',')
            .ok_or_else(|| bad_key(segment))?
            .trim_start();
    }
    Ok(Some(pairs))
}

fn bad_key(segment: &str) -> GraphError {
    GraphError::odata_bad_request(format!(
        "Bad request - malformed key in segment '{segment}'. Write it as name='value', doubling any quote inside the value."
    ))
}

/// The value of the one alternate key a segment may use (`appId`, `name`).
fn single_key(pairs: &[(String, String)], key: &str, segment: &str) -> Result<String, GraphError> {
    match pairs {
        [(name, value)] if name.eq_ignore_ascii_case(key) => Ok(value.clone()),
        _ => Err(GraphError::odata_bad_request(format!(
            "The key in segment '{segment}' is not supported; use {key}='…'."
        ))),
    }
}

fn find_fic<'a>(
    app: &'a Application,
    key: &FicKey,
) -> Result<&'a FederatedIdentityCredential, GraphError> {
    let fics = &app.federated_identity_credentials;
    let by_name = |name: &str| {
        fics.iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                GraphError::new(
                    StatusCode::NOT_FOUND,
                    "Request_ResourceNotFound",
                    format!("FederatedIdentityCredential with name {name} not found."),
                )
            })
    };
    match key {
        // A GUID is an id; anything else is the name (the alternate key).
        FicKey::IdOrName(text) => match Uuid::parse_str(text) {
            // A name may itself look like a GUID.
            Ok(id) => fics
                .iter()
                .find(|f| f.id == id)
                .or_else(|| fics.iter().find(|f| f.name.eq_ignore_ascii_case(text)))
                .ok_or_else(|| GraphError::not_found(text)),
            Err(_) => by_name(text),
        },
        FicKey::Name(name) => by_name(name),
    }
}

// ---------------------------------------------------------------------------------------------
// FIC input and Graph's (few) validation rules

/// The fields a create/update body may carry. `None`: absent from the body.
#[derive(Debug, Default)]
struct FicInput {
    name: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Option<Vec<String>>,
    /// `Some(None)`: explicitly null.
    description: Option<Option<String>>,
}

impl FicInput {
    fn from_body(body: &serde_json::Map<String, Value>) -> Result<FicInput, GraphError> {
        let mut input = FicInput::default();
        let string = |name: &str, value: &Value| -> Result<Option<String>, GraphError> {
            match value {
                Value::String(s) => Ok(Some(s.clone())),
                Value::Null => Ok(None),
                _ => Err(GraphError::odata_bad_request(format!(
                    "Invalid value for property '{name}': expected a string (Edm.String)."
                ))),
            }
        };
        for (key, value) in body {
            if key.starts_with('@') || key.contains("@odata.") {
                continue;
            }
            match key.as_str() {
                "name" => input.name = string(key, value)?,
                "issuer" => input.issuer = string(key, value)?,
                "subject" => input.subject = string(key, value)?,
                "description" => input.description = Some(string(key, value)?),
                "audiences" => {
                    input.audiences = match value {
                        Value::Null => None,
                        Value::Array(items) => Some(
                            items
                                .iter()
                                .map(|v| match v {
                                    Value::String(s) => Ok(s.clone()),
                                    _ => Err(GraphError::odata_bad_request(
                                        "Invalid value for property 'audiences': expected an array of strings.",
                                    )),
                                })
                                .collect::<Result<_, _>>()?,
                        ),
                        _ => {
                            return Err(GraphError::odata_bad_request(
                                "Invalid value for property 'audiences': expected an array of strings (Collection(Edm.String)).",
                            ));
                        }
                    }
                }
                // Read-only; OData accepts and ignores it on writes.
                "id" => {}
                other => {
                    return Err(GraphError::odata_bad_request(format!(
                        "The property '{other}' does not exist on type 'microsoft.graph.federatedIdentityCredential'. Make sure to only use property names that are defined by the type."
                    )));
                }
            }
        }
        Ok(input)
    }

    /// Builds a new FIC for `app` (name from the body, or from the `(name='…')` key).
    fn create(
        &self,
        app: &Application,
        key_name: Option<&str>,
    ) -> Result<FederatedIdentityCredential, GraphError> {
        let name = match (key_name, self.name.as_deref()) {
            (Some(key), Some(body)) if body != key => {
                return Err(GraphError::bad_request(format!(
                    "The name in the body ('{body}') differs from the name in the URL ('{key}'). Leave it out of the body or make them equal."
                )));
            }
            (Some(key), _) => key.to_string(),
            (None, Some(body)) => body.to_string(),
            (None, None) => return Err(missing("name")),
        };
        let fic = FederatedIdentityCredential {
            id: Uuid::new_v4(),
            name,
            issuer: self.issuer.clone().ok_or_else(|| missing("issuer"))?,
            subject: self.subject.clone().ok_or_else(|| missing("subject"))?,
            audiences: self.audiences.clone().ok_or_else(|| missing("audiences"))?,
            description: self.description.clone().flatten(),
            created_at: Timestamp::now(),
        };
        validate(&fic)?;
        if app.federated_identity_credentials.len() >= MAX_FICS_PER_APP {
            return Err(GraphError::new(
                StatusCode::FORBIDDEN,
                "Request_BadRequest",
                format!(
                    "Size of object exceeded limit. An application can have at most {MAX_FICS_PER_APP} federated identity credentials; delete one before adding another."
                ),
            ));
        }
        check_unique(app, &fic, None)?;
        Ok(fic)
    }

    fn update(&self, app: &mut Application, id: Uuid) -> Result<(), GraphError> {
        let Some(index) = app
            .federated_identity_credentials
            .iter()
            .position(|f| f.id == id)
        else {
            return Err(GraphError::not_found(&id.to_string()));
        };
        let mut updated = app.federated_identity_credentials[index].clone();
        if let Some(name) = &self.name
            && *name != updated.name
        {
            return Err(GraphError::bad_request(format!(
                "Property 'name' is immutable: '{}' cannot be renamed to '{name}'. Delete the credential and create a new one instead.",
                updated.name
            )));
        }
        if let Some(issuer) = &self.issuer {
            updated.issuer = issuer.clone();
        }
        if let Some(subject) = &self.subject {
            updated.subject = subject.clone();
        }
        if let Some(audiences) = &self.audiences {
            updated.audiences = audiences.clone();
        }
        if let Some(description) = &self.description {
            updated.description = description.clone();
        }
        validate(&updated)?;
        check_unique(app, &updated, Some(id))?;
        app.federated_identity_credentials[index] = updated;
        Ok(())
    }
}

fn missing(field: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Property '{field}' is required for a federatedIdentityCredential; add it to the request body."
    ))
}

/// Graph's checks, and no more: semantics (is the issuer an issuer? is the subject the
/// identity's principal id?) are not Graph's business.
fn validate(fic: &FederatedIdentityCredential) -> Result<(), GraphError> {
    let name = &fic.name;
    let name_ok = (3..=120).contains(&name.chars().count())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(GraphError::bad_request(format!(
            "FederatedIdentityCredential name '{name}' is invalid. It must be 3 to 120 characters of letters, digits, '-' and '_', starting with a letter or digit."
        )));
    }
    for (field, value) in [("issuer", &fic.issuer), ("subject", &fic.subject)] {
        if value.is_empty() {
            return Err(missing(field));
        }
        if value.chars().count() > MAX_FIC_FIELD_LEN {
            return Err(too_long(field));
        }
    }
    if fic.audiences.len() != 1 {
        return Err(GraphError::bad_request(format!(
            "Federated identity credentials must have exactly one audience; {} given.",
            fic.audiences.len()
        )));
    }
    if fic.audiences[0].is_empty() {
        return Err(missing("audiences"));
    }
    if fic.audiences[0].chars().count() > MAX_FIC_FIELD_LEN {
        return Err(too_long("audiences"));
    }
    if fic
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_FIC_FIELD_LEN)
    {
        return Err(too_long("description"));
    }
    Ok(())
}

fn too_long(field: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Property '{field}' is longer than {MAX_FIC_FIELD_LEN} characters; shorten it."
    ))
}

fn check_unique(
    app: &Application,
    fic: &FederatedIdentityCredential,
    except: Option<Uuid>,
) -> Result<(), GraphError> {
    let others = app
        .federated_identity_credentials
        .iter()
        .filter(|f| Some(f.id) != except);
    for other in others {
        if other.name.eq_ignore_ascii_case(&fic.name) {
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                format!(
                    "FederatedIdentityCredential with name {} already exists.",
                    fic.name
                ),
            ));
        }
        if other.issuer == fic.issuer && other.subject == fic.subject {
            return Err(GraphError::bad_request(format!(
                "Combination of issuer and subject must be unique: FederatedIdentityCredential '{}' already has this issuer and subject.",
                other.name
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Filtering and paging

impl Record for Application {
    fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut buf = Uuid::encode_buffer();
        match property {
            "id" => test(self.id.hyphenated().encode_lower(&mut buf)),
            "appId" => test(self.app_id.hyphenated().encode_lower(&mut buf)),
            "displayName" => test(&self.display_name),
            "description" => self.description.as_deref().is_some_and(test),
            "publisherDomain" => self.publisher_domain.as_deref().is_some_and(test),
            "signInAudience" => test(&self.sign_in_audience),
            _ => false,
        }
    }

    fn any_in(&self, collection: &str, predicate: &mut dyn FnMut(&dyn Record) -> bool) -> bool {
        match collection {
            "federatedIdentityCredentials" => self
                .federated_identity_credentials
                .iter()
                .any(|f| predicate(f)),
            "identifierUris" => {
                odata::any_string(self.identifier_uris.iter().map(String::as_str), predicate)
            }
            // The sandbox's applications carry no tags (they serialize as `[]`).
            _ => false,
        }
    }

    fn count_in(&self, collection: &str) -> usize {
        match collection {
            "federatedIdentityCredentials" => self.federated_identity_credentials.len(),
            "identifierUris" => self.identifier_uris.len(),
            _ => 0,
        }
    }
}

impl Record for FederatedIdentityCredential {
    fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        match property {
            "name" => test(&self.name),
            "issuer" => test(&self.issuer),
            "subject" => test(&self.subject),
            _ => false,
        }
    }
}

impl Record for ServicePrincipal {
    fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut buf = Uuid::encode_buffer();
        match property {
            "id" => test(self.id.hyphenated().encode_lower(&mut buf)),
            "appId" => test(self.app_id.hyphenated().encode_lower(&mut buf)),
            "displayName" => test(&self.display_name),
            "servicePrincipalType" => test(self.service_principal_type.as_str()),
            "appOwnerOrganizationId" => match self.app_owner_organization_id {
                Some(id) if self.managed_identity.is_none() => {
                    test(id.hyphenated().encode_lower(&mut buf))
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn any_in(&self, collection: &str, predicate: &mut dyn FnMut(&dyn Record) -> bool) -> bool {
        match collection {
            "servicePrincipalNames" => odata::any_string(
                self.service_principal_names.iter().map(String::as_str),
                predicate,
            ),
            "alternativeNames" => {
                odata::any_string(self.alternative_names.iter().map(String::as_str), predicate)
            }
            "tags" => odata::any_string(sp_tags(self).iter().copied(), predicate),
            _ => false,
        }
    }
}

/// A service principal's `tags`: what Graph shows for an app's principal; none for a
/// managed identity.
fn sp_tags(sp: &ServicePrincipal) -> &'static [&'static str] {
    if sp.managed_identity.is_some() {
        &[]
    } else {
        &["WindowsAzureActiveDirectoryIntegratedApp"]
    }
}

fn keep<T: Record>(query: &Query, item: &T) -> bool {
    query.filter.as_ref().is_none_or(|f| f.matches(item))
        && query.search.as_ref().is_none_or(|s| s.matches(item))
}

/// A top-level collection that Graph pages through (`/applications`, `/servicePrincipals`).
trait Listed: Record + Sized {
    /// The collection's URL segment, also used in `@odata.context`.
    const COLLECTION: &'static str;
    type Json<'a>: Serialize
    where
        Self: 'a;
    fn schema() -> &'static EntitySchema;
    fn all(tenant: &Tenant) -> &BTreeMap<Uuid, Self>;
    fn by_id(tenant: &Tenant, id: Uuid) -> Option<&Self>;
    fn by_app_id(tenant: &Tenant, app_id: Uuid) -> Option<&Self>;
    /// When the filter pins `id` or `appId`, the one candidate (or none) from the indexes.
    fn pinned<'t>(tenant: &'t Tenant, query: &Query) -> Option<Option<&'t Self>> {
        let filter = query.filter.as_ref()?;
        if let Some(id) = filter.pinned("id") {
            return Some(
                Uuid::parse_str(id)
                    .ok()
                    .and_then(|id| Self::by_id(tenant, id)),
            );
        }
        if let Some(app_id) = filter.pinned("appId") {
            return Some(
                Uuid::parse_str(app_id)
                    .ok()
                    .and_then(|id| Self::by_app_id(tenant, id)),
            );
        }
        None
    }
    /// The ids whose `displayName` lies in `low..=high` (lower-cased bounds), from a name
    /// index; `None` when the collection has none (the listing then scans).
    fn named_in(tenant: &Tenant, low: Option<&str>, high: Option<&str>) -> Option<Vec<Uuid>> {
        let _ = (tenant, low, high);
        None
    }
    fn id(&self) -> Uuid;
    fn sort_key(&self) -> &str;
    /// The item as it stands inside a collection response.
    fn json<'a>(&'a self, tenant: &'a Tenant, query: &'a Query) -> Self::Json<'a>;
}

impl Listed for Application {
    const COLLECTION: &'static str = "applications";
    type Json<'a> = AppJson<'a>;
    fn schema() -> &'static EntitySchema {
        &odata::APPLICATION
    }
    fn all(tenant: &Tenant) -> &BTreeMap<Uuid, Application> {
        &tenant.applications
    }
    fn by_id(tenant: &Tenant, id: Uuid) -> Option<&Application> {
        tenant.application(id)
    }
    fn by_app_id(tenant: &Tenant, app_id: Uuid) -> Option<&Application> {
        tenant.application_by_app_id(app_id)
    }
    fn named_in(tenant: &Tenant, low: Option<&str>, high: Option<&str>) -> Option<Vec<Uuid>> {
        Some(tenant.application_names().ids_in(low, high))
    }
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_key(&self) -> &str {
        &self.display_name
    }
    fn json<'a>(&'a self, _tenant: &'a Tenant, query: &'a Query) -> AppJson<'a> {
        AppJson {
            app: self,
            query,
            context: None,
            odata_type: false,
        }
    }
}

impl Listed for ServicePrincipal {
    const COLLECTION: &'static str = "servicePrincipals";
    type Json<'a> = SpJson<'a>;
    fn schema() -> &'static EntitySchema {
        &odata::SERVICE_PRINCIPAL
    }
    fn all(tenant: &Tenant) -> &BTreeMap<Uuid, ServicePrincipal> {
        &tenant.service_principals
    }
    fn by_id(tenant: &Tenant, id: Uuid) -> Option<&ServicePrincipal> {
        tenant.service_principals.get(&id)
    }
    fn by_app_id(tenant: &Tenant, app_id: Uuid) -> Option<&ServicePrincipal> {
        tenant.service_principal_by_app_id(app_id)
    }
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_key(&self) -> &str {
        &self.display_name
    }
    fn json<'a>(&'a self, _tenant: &'a Tenant, query: &'a Query) -> SpJson<'a> {
        SpJson {
            sp: self,
            query,
            context: None,
            odata_type: false,
        }
    }
}

struct Page<'a, T> {
    items: Vec<&'a T>,
    next: Option<Cursor>,
    count: Option<usize>,
}

fn invalid_cursor() -> ODataError {
    odata::invalid_skiptoken()
}

/// The items of `all` named by `ids` (any order), or all of them.
fn candidates<'a, 'b, T>(
    all: &'a BTreeMap<Uuid, T>,
    ids: Option<&'b [Uuid]>,
) -> Box<dyn Iterator<Item = &'a T> + 'b>
where
    'a: 'b,
{
    match ids {
        Some(ids) => Box::new(ids.iter().filter_map(|id| all.get(id))),
        None => Box::new(all.values()),
    }
}

/// One page of `all` (id order, or `$orderby` order) after the query's cursor, filtered.
/// `pinned`: an index already narrowed the candidates to at most one. `named`: a name index
/// narrowed them to these ids (a superset of the matches: the filter still decides).
fn paginate<'a, T: Record>(
    all: &'a BTreeMap<Uuid, T>,
    pinned: Option<Option<&'a T>>,
    named: Option<&[Uuid]>,
    query: &Query,
    id_of: fn(&T) -> Uuid,
    sort_key: fn(&T) -> &str,
) -> Result<Page<'a, T>, ODataError> {
    let size = query.page_size();
    let cursor = query.skiptoken.as_ref();
    let after_id = match cursor {
        Some(c) => Some(Uuid::parse_str(&c.after_id).map_err(|_| invalid_cursor())?),
        None => None,
    };
    if let Some(c) = cursor
        && c.after_key.is_some() != query.orderby.is_some()
    {
        return Err(invalid_cursor());
    }

    if let Some(candidate) = pinned {
        let matching: Vec<&T> = candidate.into_iter().filter(|t| keep(query, *t)).collect();
        let count = query.count.then_some(matching.len());
        let items = match after_id {
            Some(_) => Vec::new(),
            None => matching.into_iter().take(size).collect(),
        };
        return Ok(Page {
            items,
            next: None,
            count,
        });
    }

    let Some(order) = &query.orderby else {
        // Id order: seek past the cursor, then take matches until the page is full.
        let after: Box<dyn Iterator<Item = &'a T>> = match named {
            // The named ids past the cursor, in id order: only the page's are looked up.
            Some(ids) => {
                let mut ids: Vec<Uuid> = ids
                    .iter()
                    .copied()
                    .filter(|id| after_id.is_none_or(|after| *id > after))
                    .collect();
                ids.sort_unstable();
                Box::new(ids.into_iter().filter_map(|id| all.get(&id)))
            }
            None => {
                let range = match after_id {
                    Some(id) => all.range((Bound::Excluded(id), Bound::Unbounded)),
                    None => all.range(..),
                };
                Box::new(range.map(|(_, v)| v))
            }
        };
        let mut items = Vec::with_capacity(size.min(all.len()));
        let mut more = false;
        for item in after.filter(|t| keep(query, *t)) {
            if items.len() == size {
                more = true;
                break;
            }
            items.push(item);
        }
        let next = if more {
            items.last().map(|last| Cursor {
                after_key: None,
                after_id: id_of(last).to_string(),
            })
        } else {
            None
        };
        let count = query
            .count
            .then(|| candidates(all, named).filter(|t| keep(query, *t)).count());
        return Ok(Page { items, next, count });
    };

    // `$orderby=displayName`: order by (lower-cased name, id), select the page after the
    // cursor with a partial sort instead of sorting everything.
    let descending = order.direction == Direction::Descending;
    let mut matching: Vec<(String, Uuid, &T)> = candidates(all, named)
        .filter(|t| keep(query, *t))
        .map(|t| (sort_key(t).to_lowercase(), id_of(t), t))
        .collect();
    let count = query.count.then_some(matching.len());
    if let (Some(c), Some(id)) = (cursor, after_id) {
        let key = c.after_key.clone().unwrap_or_default();
        let after = (key, id);
        matching.retain(|(k, i, _)| {
            let here = (k, i);
            let cursor = (&after.0, &after.1);
            if descending {
                here < cursor
            } else {
                here > cursor
            }
        });
    }
    let compare = |a: &(String, Uuid, &T), b: &(String, Uuid, &T)| {
        let ordering = (&a.0, &a.1).cmp(&(&b.0, &b.1));
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    };
    let more = matching.len() > size;
    if more {
        matching.select_nth_unstable_by(size, compare);
        matching.truncate(size);
    }
    matching.sort_unstable_by(compare);
    let next = if more {
        matching.last().map(|(key, id, _)| Cursor {
            after_key: Some(key.clone()),
            after_id: id.to_string(),
        })
    } else {
        None
    };
    Ok(Page {
        items: matching.into_iter().map(|(_, _, t)| t).collect(),
        next,
        count,
    })
}

// ---------------------------------------------------------------------------------------------
// JSON projections (serialized straight from the borrowed model)

/// `{"@odata.context", "@odata.count"?, "@odata.nextLink"?, "value": [...]}`.
struct CollectionJson<'a, T, F, J>
where
    F: Fn(&T) -> J,
    J: Serialize,
{
    context: &'a str,
    count: Option<usize>,
    next_link: Option<&'a str>,
    items: &'a [T],
    item: F,
}

impl<T, F, J> Serialize for CollectionJson<'_, T, F, J>
where
    F: Fn(&T) -> J,
    J: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Items<'b, T, F>(&'b [T], &'b F);
        impl<T, F: Fn(&T) -> J, J: Serialize> Serialize for Items<'_, T, F> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for item in self.0 {
                    seq.serialize_element(&(self.1)(item))?;
                }
                seq.end()
            }
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("@odata.context", self.context)?;
        if let Some(count) = self.count {
            map.serialize_entry("@odata.count", &count)?;
        }
        if let Some(link) = self.next_link {
            map.serialize_entry("@odata.nextLink", link)?;
        }
        map.serialize_entry("value", &Items(self.items, &self.item))?;
        map.end()
    }
}

/// A GUID serialized without allocating.
struct Guid(Uuid);

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        s.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

struct Time(Timestamp);

impl Serialize for Time {
    /// `2026-11-25T21:30:15Z`, formatted on the stack (a page holds thousands of these).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0.0.to_offset(time::UtcOffset::UTC);
        let year = t.year();
        if !(0..=9999).contains(&year) {
            return s.serialize_str(&self.0.to_graph_string());
        }
        let mut buf = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, value: u32, width: usize| {
            let mut v = value;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year.unsigned_abs(), 4);
        put(5, u32::from(u8::from(t.month())), 2);
        put(8, u32::from(t.day()), 2);
        put(11, u32::from(t.hour()), 2);
        put(14, u32::from(t.minute()), 2);
        put(17, u32::from(t.second()), 2);
        s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

const EMPTY: [(); 0] = [];

/// An application's `api` section from the model: the token version and published scopes
/// (what the token service reads), Graph's defaults for the rest.
struct ApiJson<'a>(&'a ApiApplication);

impl Serialize for ApiJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Scopes<'b>(&'b [PermissionScope]);
        impl Serialize for Scopes<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for scope in self.0 {
                    seq.serialize_element(&serde_json::json!({
                        // The model keeps what tokens need; the consent texts it does not
                        // model read as null.
                        "adminConsentDescription": null,
                        "adminConsentDisplayName": scope.admin_consent_display_name,
                        "id": scope.id,
                        "isEnabled": scope.is_enabled,
                        "type": scope.consent_type,
                        "userConsentDescription": null,
                        "userConsentDisplayName": null,
                        "value": scope.value,
                    }))?;
                }
                seq.end()
            }
        }
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("acceptMappedClaims", &Value::Null)?;
        m.serialize_entry("knownClientApplications", &EMPTY)?;
        m.serialize_entry(
            "requestedAccessTokenVersion",
            &self.0.requested_access_token_version,
        )?;
        m.serialize_entry(
            "oauth2PermissionScopes",
            &Scopes(&self.0.oauth2_permission_scopes),
        )?;
        m.serialize_entry("preAuthorizedApplications", &EMPTY)?;
        m.end()
    }
}

// Sub-objects of an application the sandbox does not model: built once, serialized per app
// without allocating.
static PARENTAL_CONTROL_DEFAULT: LazyLock<Value> = LazyLock::new(
    || serde_json::json!({"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}),
);
static REDIRECT_URIS_DEFAULT: LazyLock<Value> =
    LazyLock::new(|| serde_json::json!({"redirectUris": []}));
static VERIFIED_PUBLISHER_DEFAULT: LazyLock<Value> = LazyLock::new(
    || serde_json::json!({"displayName": null, "verifiedPublisherId": null, "addedDateTime": null}),
);
static WEB_DEFAULT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::json!({
        "homePageUrl": null,
        "logoutUrl": null,
        "redirectUris": [],
        "implicitGrantSettings": {
            "enableAccessTokenIssuance": false,
            "enableIdTokenIssuance": false
        },
        "redirectUriSettings": []
    })
});

/// The properties to write, in order: the `$select` list, or the schema's.
fn properties<'q>(query: &'q Query, schema: &'static EntitySchema) -> &'q [&'static str] {
    match &query.select {
        Some(list) => list,
        None => schema.properties,
    }
}

/// Writes the `@odata.context` and `@odata.type` annotations an entity carries, if any.
fn annotate<M: SerializeMap>(
    m: &mut M,
    context: Option<&str>,
    odata_type: Option<&str>,
) -> Result<(), M::Error> {
    if let Some(context) = context {
        m.serialize_entry("@odata.context", context)?;
    }
    if let Some(odata_type) = odata_type {
        m.serialize_entry("@odata.type", odata_type)?;
    }
    Ok(())
}

struct AppJson<'a> {
    app: &'a Application,
    query: &'a Query,
    context: Option<&'a str>,
    odata_type: bool,
}

impl Serialize for AppJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let app = self.app;
        let mut m = s.serialize_map(None)?;
        annotate(
            &mut m,
            self.context,
            self.odata_type.then_some("#microsoft.graph.application"),
        )?;
        for &property in properties(self.query, &odata::APPLICATION) {
            match property {
                "id" => m.serialize_entry(property, &Guid(app.id))?,
                "appId" => m.serialize_entry(property, &Guid(app.app_id))?,
                "createdDateTime" => m.serialize_entry(property, &Time(app.created_date_time))?,
                "description" => m.serialize_entry(property, &app.description)?,
                "displayName" => m.serialize_entry(property, &app.display_name)?,
                "identifierUris" => m.serialize_entry(property, &app.identifier_uris)?,
                "isFallbackPublicClient" => {
                    m.serialize_entry(property, &app.is_fallback_public_client)?
                }
                "publisherDomain" => m.serialize_entry(property, &app.publisher_domain)?,
                "signInAudience" => m.serialize_entry(property, &app.sign_in_audience)?,
                "tags" => m.serialize_entry(property, &EMPTY)?,
                "api" => m.serialize_entry(property, &ApiJson(&app.api))?,
                "appRoles" => m.serialize_entry(property, &AppRolesJson(&app.app_roles))?,
                "info" => m.serialize_entry(property, &InfoJson)?,
                "keyCredentials" => m.serialize_entry(property, &KeyCredentialsJson(app))?,
                "passwordCredentials" => {
                    m.serialize_entry(property, &PasswordCredentialsJson(app))?
                }
                "parentalControlSettings" => {
                    m.serialize_entry(property, &*PARENTAL_CONTROL_DEFAULT)?
                }
                "publicClient" | "spa" => m.serialize_entry(property, &*REDIRECT_URIS_DEFAULT)?,
                "requiredResourceAccess" => m.serialize_entry(property, &EMPTY)?,
                "verifiedPublisher" => m.serialize_entry(property, &*VERIFIED_PUBLISHER_DEFAULT)?,
                "web" => m.serialize_entry(property, &*WEB_DEFAULT)?,
                // Real properties the sandbox does not model: Graph's value for an app that
                // never set them.
                _ => m.serialize_entry(property, &Value::Null)?,
            }
        }
        if self.query.expands("federatedIdentityCredentials") {
            m.serialize_entry(
                "federatedIdentityCredentials",
                &FicListJson(crate::listing::expanded(
                    &app.federated_identity_credentials,
                )),
            )?;
        }
        m.end()
    }
}

struct AppRolesJson<'a>(&'a [crate::model::AppRole]);

impl Serialize for AppRolesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for role in self.0 {
            seq.serialize_element(&serde_json::json!({
                "allowedMemberTypes": role.allowed_member_types,
                "description": role.description,
                "displayName": role.display_name,
                "id": role.id,
                "isEnabled": role.is_enabled,
                "origin": "Application",
                "value": role.value,
            }))?;
        }
        seq.end()
    }
}

struct InfoJson;

impl Serialize for InfoJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        for key in [
            "logoUrl",
            "marketingUrl",
            "privacyStatementUrl",
            "supportUrl",
            "termsOfServiceUrl",
        ] {
            m.serialize_entry(key, &Value::Null)?;
        }
        m.end()
    }
}

struct KeyCredentialsJson<'a>(&'a Application);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyCredentialJson<'a> {
    custom_key_identifier: &'a str,
    display_name: &'a Option<String>,
    end_date_time: Time,
    key: Option<()>,
    key_id: Guid,
    start_date_time: Time,
    #[serde(rename = "type")]
    key_type: &'a str,
    usage: &'a str,
}

impl Serialize for KeyCredentialsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let creds = &self.0.key_credentials;
        let mut seq = s.serialize_seq(Some(creds.len()))?;
        for k in creds {
            seq.serialize_element(&KeyCredentialJson {
                custom_key_identifier: &k.custom_key_identifier,
                display_name: &k.display_name,
                end_date_time: Time(k.end_date_time),
                key: None,
                key_id: Guid(k.key_id),
                start_date_time: Time(k.start_date_time),
                key_type: &k.key_type,
                usage: &k.usage,
            })?;
        }
        seq.end()
    }
}

struct PasswordCredentialsJson<'a>(&'a Application);

/// Graph never returns the secret after creation: `secretText` is null.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordCredentialJson<'a> {
    custom_key_identifier: Option<()>,
    display_name: &'a Option<String>,
    end_date_time: Time,
    hint: &'a str,
    key_id: Guid,
    secret_text: Option<()>,
    start_date_time: Time,
}

impl Serialize for PasswordCredentialsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let creds = &self.0.password_credentials;
        let mut seq = s.serialize_seq(Some(creds.len()))?;
        for p in creds {
            seq.serialize_element(&PasswordCredentialJson {
                custom_key_identifier: None,
                display_name: &p.display_name,
                end_date_time: Time(p.end_date_time),
                hint: &p.hint,
                key_id: Guid(p.key_id),
                secret_text: None,
                start_date_time: Time(p.start_date_time),
            })?;
        }
        seq.end()
    }
}

struct FicListJson<'a>(&'a [FederatedIdentityCredential]);

impl Serialize for FicListJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for fic in self.0 {
            seq.serialize_element(&FicJson {
                fic,
                query: None,
                context: None,
            })?;
        }
        seq.end()
    }
}

struct FicJson<'a> {
    fic: &'a FederatedIdentityCredential,
    query: Option<&'a Query>,
    context: Option<&'a str>,
}

impl Serialize for FicJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fic = self.fic;
        let mut m = s.serialize_map(None)?;
        if let Some(context) = self.context {
            m.serialize_entry("@odata.context", context)?;
        }
        let all = odata::FEDERATED_IDENTITY_CREDENTIAL.properties;
        let list = self.query.map_or(all, |q| {
            properties(q, &odata::FEDERATED_IDENTITY_CREDENTIAL)
        });
        for &property in list {
            match property {
                "id" => m.serialize_entry(property, &Guid(fic.id))?,
                "name" => m.serialize_entry(property, &fic.name)?,
                "issuer" => m.serialize_entry(property, &fic.issuer)?,
                "subject" => m.serialize_entry(property, &fic.subject)?,
                "description" => m.serialize_entry(property, &fic.description)?,
                "audiences" => m.serialize_entry(property, &fic.audiences)?,
                _ => m.serialize_entry(property, &Value::Null)?,
            }
        }
        m.end()
    }
}

struct SpJson<'a> {
    sp: &'a ServicePrincipal,
    query: &'a Query,
    context: Option<&'a str>,
    odata_type: bool,
}

impl Serialize for SpJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sp = self.sp;
        let is_mi = sp.managed_identity.is_some();
        let mut m = s.serialize_map(None)?;
        annotate(
            &mut m,
            self.context,
            self.odata_type
                .then_some("#microsoft.graph.servicePrincipal"),
        )?;
        for &property in properties(self.query, &odata::SERVICE_PRINCIPAL) {
            match property {
                "id" => m.serialize_entry(property, &Guid(sp.id))?,
                "appId" => m.serialize_entry(property, &Guid(sp.app_id))?,
                "accountEnabled" => m.serialize_entry(property, &sp.account_enabled)?,
                "alternativeNames" => m.serialize_entry(property, &sp.alternative_names)?,
                "appDisplayName" => {
                    // Managed identities have no app registration, so no app display name.
                    let name = (!is_mi).then_some(sp.display_name.as_str());
                    m.serialize_entry(property, &name)?
                }
                // Documented for application-backed principals only: Graph returns null for
                // managed identities.
                "appOwnerOrganizationId" => m.serialize_entry(
                    property,
                    &sp.app_owner_organization_id.filter(|_| !is_mi).map(Guid),
                )?,
                "appRoleAssignmentRequired" => m.serialize_entry(property, &false)?,
                "displayName" => m.serialize_entry(property, &sp.display_name)?,
                "servicePrincipalNames" => {
                    m.serialize_entry(property, &sp.service_principal_names)?
                }
                "servicePrincipalType" => {
                    m.serialize_entry(property, sp.service_principal_type.as_str())?
                }
                "signInAudience" => m.serialize_entry(property, &sp.sign_in_audience)?,
                "tags" => m.serialize_entry(property, sp_tags(sp))?,
                "notificationEmailAddresses"
                | "replyUrls"
                | "addIns"
                | "appRoles"
                | "keyCredentials"
                | "oauth2PermissionScopes"
                | "passwordCredentials"
                | "resourceSpecificApplicationPermissions" => {
                    m.serialize_entry(property, &EMPTY)?
                }
                "info" => m.serialize_entry(property, &InfoJson)?,
                "verifiedPublisher" => m.serialize_entry(property, &*VERIFIED_PUBLISHER_DEFAULT)?,
                _ => m.serialize_entry(property, &Value::Null)?,
            }
        }
        m.end()
    }
}

/// `/me` and users as directory objects.
static USER_SCHEMA: EntitySchema = EntitySchema {
    type_name: "microsoft.graph.user",
    resource_name: "User",
    properties: &[
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
    ],
    filters: &[],
    lambdas: &[],
    searchable: &[],
    orderable: &[],
    expandable: &[],
};

struct UserJson<'a> {
    user: &'a User,
    query: &'a Query,
    context: Option<&'a str>,
    odata_type: bool,
}

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.user;
        let mut m = s.serialize_map(None)?;
        annotate(
            &mut m,
            self.context,
            self.odata_type.then_some("#microsoft.graph.user"),
        )?;
        for &property in properties(self.query, &USER_SCHEMA) {
            match property {
                "businessPhones" => m.serialize_entry(property, &EMPTY)?,
                "displayName" => m.serialize_entry(property, &u.display_name)?,
                "givenName" => m.serialize_entry(property, &u.given_name)?,
                "jobTitle" => m.serialize_entry(property, &u.job_title)?,
                "mail" => m.serialize_entry(property, &u.mail)?,
                "surname" => m.serialize_entry(property, &u.surname)?,
                "userPrincipalName" => m.serialize_entry(property, &u.user_principal_name)?,
                "id" => m.serialize_entry(property, &Guid(u.id))?,
                _ => m.serialize_entry(property, &Value::Null)?,
            }
        }
        m.end()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    User,
    Application,
    ServicePrincipal,
    Group,
    Device,
}

impl ObjectKind {
    fn parse(name: &str) -> Option<ObjectKind> {
        [
            ("user", ObjectKind::User),
            ("application", ObjectKind::Application),
            ("servicePrincipal", ObjectKind::ServicePrincipal),
            ("group", ObjectKind::Group),
            ("device", ObjectKind::Device),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| k)
    }
}

#[derive(Clone, Copy)]
enum DirectoryObject<'t> {
    User(&'t User),
    Application(&'t Application),
    ServicePrincipal(&'t ServicePrincipal),
}

impl<'t> DirectoryObject<'t> {
    fn find(tenant: &'t Tenant, id: Uuid) -> Option<DirectoryObject<'t>> {
        if let Some(u) = tenant.users.get(&id) {
            return Some(DirectoryObject::User(u));
        }
        if let Some(a) = tenant.applications.get(&id) {
            return Some(DirectoryObject::Application(a));
        }
        tenant
            .service_principals
            .get(&id)
            .map(DirectoryObject::ServicePrincipal)
    }

    fn id(&self) -> Uuid {
        match self {
            DirectoryObject::User(u) => u.id,
            DirectoryObject::Application(a) => a.id,
            DirectoryObject::ServicePrincipal(sp) => sp.id,
        }
    }

    fn kind(&self) -> ObjectKind {
        match self {
            DirectoryObject::User(_) => ObjectKind::User,
            DirectoryObject::Application(_) => ObjectKind::Application,
            DirectoryObject::ServicePrincipal(_) => ObjectKind::ServicePrincipal,
        }
    }

    fn json<'a>(self, _tenant: &'a Tenant, context: Option<&'a str>) -> DirectoryObjectJson<'a>
    where
        't: 'a,
    {
        DirectoryObjectJson {
            object: self,
            context,
            query: &ALL_PROPERTIES,
        }
    }
}

static ALL_PROPERTIES: LazyLock<Query> = LazyLock::new(Query::default);

/// What `$select` may name on a collection of directory objects of mixed types (owners,
/// ownedObjects); a property an object's type lacks comes back null.
static DIRECTORY_OBJECT_SCHEMA: EntitySchema = EntitySchema {
    type_name: "microsoft.graph.directoryObject",
    resource_name: "DirectoryObject",
    properties: &[
        "id",
        "deletedDateTime",
        "displayName",
        "appId",
        "userPrincipalName",
        "mail",
    ],
    filters: &[],
    lambdas: &[],
    searchable: &[],
    orderable: &[],
    expandable: &[],
};

struct DirectoryObjectJson<'a> {
    object: DirectoryObject<'a>,
    context: Option<&'a str>,
    /// `$select` of the request (every property of the object's type without one).
    query: &'a Query,
}

impl Serialize for DirectoryObjectJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let query = self.query;
        match self.object {
            DirectoryObject::User(user) => UserJson {
                user,
                query,
                context: self.context,
                odata_type: true,
            }
            .serialize(s),
            DirectoryObject::Application(app) => AppJson {
                app,
                query,
                context: self.context,
                odata_type: true,
            }
            .serialize(s),
            DirectoryObject::ServicePrincipal(sp) => SpJson {
                sp,
                query,
                context: self.context,
                odata_type: true,
            }
            .serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_segments() {
        let keys = keyed_segment("applications(appId='abc')", "applications")
            .expect("well formed")
            .expect("keyed");
        assert_eq!(keys, vec![("appId".to_string(), "abc".to_string())]);
        let keys = keyed_segment(
            "federatedIdentityCredentials(name='o''brien')",
            "federatedIdentityCredentials",
        )
        .expect("well formed")
        .expect("keyed");
        assert_eq!(keys[0].1, "o'brien");
        assert!(
            keyed_segment("applications", "applications")
                .expect("ok")
                .is_none()
        );
        assert!(keyed_segment("app", "applications").expect("ok").is_none());
        for bad in [
            "applications(appId='abc'",
            "applications(appId=abc)",
            "applications(appId='abc)",
            "applications(appId='a' 'b')",
        ] {
            let e = keyed_segment(bad, "applications").expect_err(bad);
            assert_eq!(e.code, "BadRequest", "{bad}");
        }
        assert!(single_key(&[("name".into(), "x".into())], "appId", "s").is_err());
    }

    #[test]
    fn times_render_like_graph_without_allocating() {
        let t = Timestamp(time::macros::datetime!(2026-03-04 05:06:07.890 +02:00));
        assert_eq!(
            serde_json::to_string(&Time(t)).expect("serializes"),
            format!("\"{}\"", t.to_graph_string())
        );
        assert_eq!(t.to_graph_string(), "2026-03-04T03:06:07Z");
    }

    fn named(names: &[&str]) -> BTreeMap<Uuid, FederatedIdentityCredential> {
        names
            .iter()
            .map(|n| {
                let f = fic(n, "i", "s", &["a"]);
                (f.id, f)
            })
            .collect()
    }

    /// Pages through `all` one item at a time with `raw` options; returns names in order.
    fn page_through(all: &BTreeMap<Uuid, FederatedIdentityCredential>, raw: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut query = odata::parse(Some(raw), true, &odata::APPLICATION).expect("query");
        for _ in 0..=all.len() {
            let page =
                paginate(all, None, None, &query, |f| f.id, |f| f.name.as_str()).expect("page");
            assert!(page.items.len() <= 1);
            names.extend(page.items.iter().map(|f| f.name.clone()));
            match page.next {
                Some(cursor) => query.skiptoken = Some(cursor),
                None => return names,
            }
        }
        panic!("paging did not terminate");
    }

    fn application(name: &str) -> Application {
        Application {
            id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            display_name: name.to_string(),
            description: None,
            created_date_time: Timestamp::now(),
            sign_in_audience: "AzureADMyOrg".into(),
            identifier_uris: Vec::new(),
            publisher_domain: None,
            password_credentials: Vec::new(),
            key_credentials: Vec::new(),
            federated_identity_credentials: Vec::new(),
            app_roles: Vec::new(),
            is_fallback_public_client: false,
            owners: Vec::new(),
            api: Default::default(),
        }
    }

    /// Every page of `raw` (ids and the first page's count), scanning or through the index.
    fn pages(
        all: &BTreeMap<Uuid, Application>,
        index: &crate::listing::NameIndex,
        raw: &str,
        indexed: bool,
    ) -> (Vec<Uuid>, Option<usize>) {
        let mut query = odata::parse(Some(raw), true, &odata::APPLICATION).expect("query");
        let named = if indexed {
            query
                .filter
                .as_ref()
                .and_then(|f| f.display_name_range())
                .map(|(low, high)| index.ids_in(low, high))
        } else {
            None
        };
        let mut ids = Vec::new();
        let mut count = None;
        for _ in 0..=all.len() {
            let page = paginate(
                all,
                None,
                named.as_deref(),
                &query,
                |a| a.id,
                |a| a.display_name.as_str(),
            )
            .expect("page");
            if query.skiptoken.is_none() {
                count = page.count;
            }
            ids.extend(page.items.iter().map(|a| a.id));
            match page.next {
                Some(cursor) => query.skiptoken = Some(cursor),
                None => return (ids, count),
            }
        }
        panic!("paging did not terminate");
    }

    #[test]
    fn a_name_range_pages_the_same_through_the_index_as_by_scanning() {
        let names = [
            "Alpha",
            "alpha",
            "ALPHA",
            "beta",
            "Beta app",
            "m",
            "M",
            "mango",
            "Zeta",
            "zz",
            "",
            "o'neil",
            "Ünïcode",
            "über",
            "ΣΊΣΥΦΟΣ",
            "σ",
            "a",
            "B",
            "b",
            "n",
        ];
        let all: BTreeMap<Uuid, Application> = names
            .iter()
            .map(|n| {
                let app = application(n);
                (app.id, app)
            })
            .collect();
        let index =
            crate::listing::NameIndex::build(all.values().map(|a| (a.display_name.as_str(), a.id)));
        let filters = [
            "displayName ge 'a' and displayName le 'm'",
            "displayName le 'b'",
            "displayName ge 'm'",
            "displayName ge 'ü'",
            "displayName ge 'σ'",
            "displayName ge 'm' and displayName le 'a'",
            "displayName ge 'b' and displayName le 'zeta' and displayName ge 'beta app'",
            "displayName ge 'a' and startsWith(displayName, 'al')",
            "displayName ge 'x' or displayName le 'b'",
        ];
        let mut matched = 0;
        for filter in filters {
            for extra in [
                "$top=1",
                "$top=2&$count=true",
                "$top=3&$orderby=displayName&$count=true",
                "$top=2&$orderby=displayName desc&$count=true",
            ] {
                let raw = format!("$filter={filter}&{extra}");
                let scanned = pages(&all, &index, &raw, false);
                let indexed = pages(&all, &index, &raw, true);
                assert_eq!(indexed, scanned, "{raw}");
                matched += scanned.0.len();
            }
        }
        assert!(matched > 50, "the ranges select apps ({matched})");
        // Id order stays id order.
        let (ids, count) = pages(
            &all,
            &index,
            "$filter=displayName le 'b'&$top=1&$count=true",
            true,
        );
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(count, Some(ids.len()));
        assert_eq!(ids.len(), 7, "'', a, alpha ×3, b ×2 and nothing after 'b'");
    }

    #[test]
    fn paging_visits_everything_once_in_every_order() {
        let all = named(&["b", "A", "c", "a", "B", "a"]);
        let by_id = page_through(&all, "$top=1");
        assert_eq!(by_id.len(), 6);
        let ids: Vec<String> = all.values().map(|f| f.name.clone()).collect();
        assert_eq!(by_id, ids, "id order");
        let ascending = page_through(&all, "$top=1&$orderby=displayName");
        let mut lower: Vec<String> = ascending.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(
            lower,
            ["a", "a", "a", "b", "b", "c"],
            "ties are broken by id"
        );
        let descending = page_through(&all, "$top=1&$orderby=displayName desc");
        lower = descending.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower, ["c", "b", "b", "a", "a", "a"]);
        let mut sorted_a = ascending.clone();
        sorted_a.sort();
        let mut sorted_d = descending.clone();
        sorted_d.sort();
        assert_eq!(sorted_a, sorted_d, "same items either way");
    }

    #[test]
    fn a_cursor_from_another_order_is_refused() {
        let all = named(&["a", "b", "c"]);
        let mut query = odata::parse(Some("$top=1"), true, &odata::APPLICATION).expect("query");
        let page = paginate(&all, None, None, &query, |f| f.id, |f| f.name.as_str()).expect("page");
        let id_cursor = page.next.expect("more");
        query = odata::parse(
            Some("$top=1&$orderby=displayName"),
            true,
            &odata::APPLICATION,
        )
        .expect("query");
        query.skiptoken = Some(id_cursor);
        let e = paginate(&all, None, None, &query, |f| f.id, |f| f.name.as_str())
            .err()
            .expect("refused");
        assert_eq!(e.code, odata::ErrorCode::RequestBadRequest);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("applications(appId=%27a%27)"),
            "applications(appId='a')"
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("a+b"), "a+b");
    }

    fn fic(
        name: &str,
        issuer: &str,
        subject: &str,
        audiences: &[&str],
    ) -> FederatedIdentityCredential {
        FederatedIdentityCredential {
            id: Uuid::new_v4(),
            name: name.into(),
            issuer: issuer.into(),
            subject: subject.into(),
            audiences: audiences.iter().map(|a| a.to_string()).collect(),
            description: None,
            created_at: Timestamp::now(),
        }
    }

    #[test]
    fn fic_validation_is_graphs_and_no_more() {
        let ok = fic(
            "mi-payments",
            "not even a url",
            "wrong subject",
            &["api://AzureADTokenExchange"],
        );
        assert!(validate(&ok).is_ok(), "semantics are not Graph's business");
        for name in ["ab", "-abc", "has space", "ünï", &"a".repeat(121)] {
            let e = validate(&fic(name, "i", "s", &["a"])).expect_err(name);
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
        assert!(validate(&fic("abc", "i", "s", &["a", "b"])).is_err());
        assert!(validate(&fic("abc", "i", "s", &[])).is_err());
        assert!(validate(&fic("abc", &"i".repeat(601), "s", &["a"])).is_err());
        assert!(validate(&fic("abc", &"i".repeat(600), "s", &["a"])).is_ok());
        assert!(validate(&fic("a_1-B", "i", "", &["a"])).is_err());
    }
}
