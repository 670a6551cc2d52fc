//! Graph beta's `GET /beta/auditLogs/signIns` over the sign-in log (`sign_in_log.rs`):
//! `$filter` (`signInEventTypes/any(t: t eq '…')`, `appId eq`, `servicePrincipalId eq`,
//! `createdDateTime ge|gt|le|lt`, `status/errorCode eq|ne`, joined by `and`), `$orderby`
//! (`createdDateTime desc|asc`), `$top` and `@odata.nextLink` paging (the cursor is the last
//! item's sequence number, so pages stay stable while sign-ins arrive). A tenant without
//! P1/P2 gets 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`.
//!
//! Reading needs `AuditLog.Read.All`; the sandbox also accepts a directory read permission in
//! its place, since the demo tenants' consent (and ficus's default scopes) carry
//! `Directory.Read.All` but not `AuditLog.Read.All`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::bearer::authenticate_graph;
use crate::sign_in_log::{MANAGED_IDENTITY, SERVICE_PRINCIPAL, SignIn, graph_time};
use crate::state::AppState;

/// Graph's page size for sign-ins when `$top` is not given, and the most `$top` may ask.
pub const MAX_PAGE: usize = 1000;

const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

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
                    "date": graph_time::render(now),
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
    state.flush_sign_ins();
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
            Clause::CreatedDateTime(op, at) => op.holds(s.created_date_time, *at),
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
                format!("createdDateTime {} {}", op(c), graph_time::render(*at))
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
}
