//! Typed errors for everything that talks to Entra. Each keeps what an admin needs to act or to
//! open a support case (codes, request ids, dates) and says what to do next.

use serde::Serialize;
use std::path::PathBuf;

/// An error answered by Microsoft Graph (`{"error":{"code","message","innerError":{…}}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("Graph answered {status} {code}: {message}{}", request_hint(.request_id, .client_request_id))]
pub struct GraphError {
    pub status: u16,
    /// Graph's error code, e.g. `Request_ResourceNotFound`, `Authorization_RequestDenied`.
    pub code: String,
    pub message: String,
    /// `innerError.request-id` (or the `request-id` header).
    pub request_id: Option<String>,
    /// The `client-request-id` ficus sent.
    pub client_request_id: Option<String>,
    /// `innerError.date`.
    pub date: Option<String>,
}

impl GraphError {
    pub fn is_not_found(&self) -> bool {
        self.status == 404 || self.code == "Request_ResourceNotFound"
    }
    pub fn is_unsupported_query(&self) -> bool {
        self.code == "Request_UnsupportedQuery"
    }
}

fn request_hint(request_id: &Option<String>, client_request_id: &Option<String>) -> String {
    match (request_id, client_request_id) {
        (Some(r), _) => format!(" (request-id {r})"),
        (None, Some(c)) => format!(" (client-request-id {c})"),
        (None, None) => String::new(),
    }
}

/// An error answered by the Entra token service (OAuth error body with AADSTS codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("the token service refused ({error}): {}", first_line(.description))]
pub struct StsError {
    pub status: u16,
    /// The OAuth `error`: `invalid_client`, `invalid_grant`, `authorization_pending`, …
    pub error: String,
    pub description: String,
    /// AADSTS numbers from `error_codes` (or parsed from the description).
    pub codes: Vec<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
    pub error_uri: Option<String>,
    /// The endpoint that answered (no query string, never a token).
    pub endpoint: String,
}

impl StsError {
    /// The first AADSTS code, the one that names the problem.
    pub fn aadsts(&self) -> Option<u32> {
        self.codes.first().copied()
    }

    /// An error that came without an OAuth error body: no AADSTS codes, trace or timestamp.
    pub fn without_body(status: u16, error: String, description: String, endpoint: &str) -> Self {
        StsError {
            status,
            error,
            description,
            codes: Vec::new(),
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            error_uri: None,
            endpoint: crate::redact::redact_userinfo(endpoint),
        }
    }

    /// Parses an OAuth error body; `None` when the body is not one.
    pub fn from_body(status: u16, endpoint: &str, body: &[u8]) -> Option<StsError> {
        #[derive(serde::Deserialize)]
        struct Body {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
            #[serde(default)]
            error_codes: Vec<u32>,
            #[serde(default)]
            trace_id: Option<String>,
            #[serde(default)]
            correlation_id: Option<String>,
            #[serde(default)]
            timestamp: Option<String>,
            #[serde(default)]
            error_uri: Option<String>,
        }
        let body: Body = serde_json::from_slice(body).ok()?;
        let description = body.error_description.unwrap_or_default();
        let codes = if body.error_codes.is_empty() {
            ficus_core::fic::aadsts_codes(&description)
        } else {
            body.error_codes
        };
        Some(StsError {
            status,
            error: body.error,
            description,
            codes,
            trace_id: body.trace_id,
            correlation_id: body.correlation_id,
            timestamp: body.timestamp,
            error_uri: body.error_uri,
            endpoint: crate::redact::redact_userinfo(endpoint),
        })
    }
}

fn first_line(text: &str) -> &str {
    // Entra appends "Trace ID: … Correlation ID: … Timestamp: …" to descriptions; those are
    // kept in their own fields.
    let line = text.lines().next().unwrap_or("");
    match line.find(" Trace ID:") {
        Some(at) => line[..at].trim_end(),
        None => line.trim_end(),
    }
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkErrorKind {
    /// Could not connect (refused, DNS, unreachable).
    Connect,
    Timeout,
    /// The connection dropped while the request or the answer was in flight.
    ConnectionReset,
    Tls,
    /// The answer could not be read or decoded.
    Body,
    /// The answer was larger than any real one; reading stopped at the cap.
    TooLarge,
    /// Refused before sending: plain `http://` to a host that is not this machine.
    PlainHttp,
    Other,
}

/// A failure to talk to a service at all, distinct from an error the service answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("network error talking to {url}: {detail}; {}", network_advice(*.kind))]
pub struct NetworkError {
    pub kind: NetworkErrorKind,
    /// Scheme, host and path (the query is dropped: it may be long, never secret).
    pub url: String,
    pub detail: String,
    pub attempts: u32,
    pub client_request_id: Option<String>,
}

fn network_advice(kind: NetworkErrorKind) -> &'static str {
    match kind {
        NetworkErrorKind::Connect => {
            "check the network, proxy settings and that the endpoint is reachable"
        }
        NetworkErrorKind::Timeout => "the service did not answer in time; try again",
        NetworkErrorKind::ConnectionReset => {
            "the connection dropped mid-request; try again (writes are verified by reading back)"
        }
        NetworkErrorKind::Tls => {
            "the TLS handshake failed; for the sandbox pass --ca-file with its CA certificate"
        }
        NetworkErrorKind::Body => "the answer was cut short or malformed; try again",
        NetworkErrorKind::TooLarge => {
            "check that the URL points at Entra or Graph (a proxy or a wrong --sandbox-url can stream without end)"
        }
        NetworkErrorKind::PlainHttp => {
            "point ficus at an https:// URL (plain http:// is only for 127.0.0.1, ::1 and localhost)"
        }
        NetworkErrorKind::Other => "try again; run with RUST_LOG=ficus=debug for details",
    }
}

/// The token cache refused to work.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(
        "the token cache {path} is readable by others (mode {mode:o}); fix it with `chmod {want:o} {path}` or remove it and sign in again",
        path = .path.display()
    )]
    Permissions { path: PathBuf, mode: u32, want: u32 },
    #[error("the token cache {path} cannot be used: {source}; check the directory exists and is yours", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the token cache {path} is corrupt ({detail}); remove it with `ficus logout` and sign in again", path = .path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error("no data directory is known for this user; set HOME or XDG_DATA_HOME")]
    NoDataDir,
}

/// Getting a managed identity token failed before any service answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum MsiError {
    #[error(
        "no managed identity source found: not in App Service (IDENTITY_ENDPOINT/IDENTITY_HEADER unset), no IMDS answered at {imds} within {probe_ms} ms, and AZURE_FEDERATED_TOKEN_FILE is unset; run on Azure, or pass a token with --token-file FILE (or - for stdin)"
    )]
    NoSource { imds: String, probe_ms: u64 },
    #[error(
        "no managed identity source found: not in App Service (IDENTITY_ENDPOINT/IDENTITY_HEADER unset), AZURE_FEDERATED_TOKEN_FILE is unset, and this machine is not an Azure VM, so the real IMDS (169.254.169.254) was not asked; run on Azure, point AZURE_POD_IDENTITY_AUTHORITY_HOST at an IMDS (a sandbox's), or pass a token with --token-file FILE (or - for stdin)"
    )]
    NotAzureHost,
    #[error(
        "the managed identity endpoint {endpoint} refused: {status} {message}; check the identity is attached to this host"
    )]
    Refused {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("the token file {path} cannot be read: {detail}; check the path")]
    TokenFile { path: String, detail: String },
    #[error("the managed identity endpoint {endpoint} answered without a usable token ({detail})")]
    BadAnswer { endpoint: String, detail: String },
}

/// Every error `entra` returns.
#[derive(Debug, thiserror::Error)]
pub enum EntraError {
    #[error(transparent)]
    Graph(Box<GraphError>),
    #[error(transparent)]
    Sts(Box<StsError>),
    #[error(transparent)]
    Network(Box<NetworkError>),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Msi(#[from] MsiError),
    #[error("not signed in to {tenant}: run `ficus login` (or pass --use-az-cli, or --sandbox)")]
    NotSignedIn { tenant: String },
    #[error(
        "the sign-in expired and cannot be renewed silently ({reason}); run `ficus login` again"
    )]
    SignInExpired { reason: String },
    #[error("read-only mode: {action} is a write; drop --read-only to allow it")]
    ReadOnly { action: String },
    #[error("no {what} matches '{query}'; {hint}")]
    NotFound {
        what: &'static str,
        query: String,
        hint: String,
    },
    #[error("'{query}' names {} {what}s; use one of their ids instead:\n  {}", .candidates.len(), .candidates.join("\n  "))]
    Ambiguous {
        what: &'static str,
        query: String,
        candidates: Vec<String>,
    },
    #[error(
        "{service} answered something ficus cannot read ({detail}); it may not be Entra, check the URL"
    )]
    Protocol { service: String, detail: String },
    #[error(
        "refused to follow a link to {found}: this session's token is only for {expected} (its Graph), so it was not sent; something between ficus and Graph (a proxy, a wrong --sandbox-url) rewrote the link, check HTTPS_PROXY and the URL"
    )]
    ForeignOrigin {
        /// The origin the session's token is for (`scheme://host:port`).
        expected: String,
        /// The origin the link pointed to.
        found: String,
    },
    #[error(
        "the write was sent but reading it back shows something else: {detail}; check it in the portal"
    )]
    Verification { detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the Azure CLI could not give a token: {0}; run `az login` first, or use `ficus login`"
    )]
    AzCli(String),
}

// Boxed so `Result<_, EntraError>` stays small on the happy path.
impl From<GraphError> for EntraError {
    fn from(e: GraphError) -> Self {
        EntraError::Graph(Box::new(e))
    }
}
impl From<StsError> for EntraError {
    fn from(e: StsError) -> Self {
        EntraError::Sts(Box::new(e))
    }
}
impl From<NetworkError> for EntraError {
    fn from(e: NetworkError) -> Self {
        EntraError::Network(Box::new(e))
    }
}

impl EntraError {
    /// A short machine-readable kind for `--json` errors.
    pub fn kind(&self) -> &'static str {
        match self {
            EntraError::Graph(_) => "graph",
            EntraError::Sts(_) => "token_service",
            EntraError::Network(_) => "network",
            EntraError::Cache(_) => "token_cache",
            EntraError::Msi(_) => "managed_identity",
            EntraError::NotSignedIn { .. } => "not_signed_in",
            EntraError::SignInExpired { .. } => "sign_in_expired",
            EntraError::ReadOnly { .. } => "read_only",
            EntraError::NotFound { .. } => "not_found",
            EntraError::Ambiguous { .. } => "ambiguous",
            EntraError::Protocol { .. } => "protocol",
            EntraError::ForeignOrigin { .. } => "foreign_origin",
            EntraError::Verification { .. } => "verification",
            EntraError::Invalid(_) => "invalid",
            EntraError::AzCli(_) => "az_cli",
        }
    }

    /// The error as JSON: `{"kind", "message", "detail"?}`; `detail` carries the typed fields.
    pub fn to_json(&self) -> serde_json::Value {
        let detail = match self {
            EntraError::Graph(e) => serde_json::to_value(e).ok(),
            EntraError::Sts(e) => serde_json::to_value(e).ok(),
            EntraError::Network(e) => serde_json::to_value(e).ok(),
            EntraError::Msi(e) => serde_json::to_value(e).ok(),
            EntraError::Ambiguous { candidates, .. } => {
                Some(serde_json::json!({ "candidates": candidates }))
            }
            EntraError::ForeignOrigin { expected, found } => {
                Some(serde_json::json!({ "expected": expected, "found": found }))
            }
            _ => None,
        };
        let mut out = serde_json::json!({ "kind": self.kind(), "message": self.to_string() });
        if let Some(detail) = detail {
            out["detail"] = detail;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_error_parses_entra_body_and_strips_trace_from_display() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject 'x'. Trace ID: t1 Correlation ID: c1 Timestamp: 2025-10-13 14:54:34Z","error_codes":[700213],"trace_id":"t1","correlation_id":"c1","timestamp":"2025-10-13 14:54:34Z"}"#;
        let e =
            StsError::from_body(401, "https://login/x/oauth2/v2.0/token", body).expect("parses");
        assert_eq!(e.aadsts(), Some(700213));
        assert_eq!(e.trace_id.as_deref(), Some("t1"));
        let shown = e.to_string();
        assert!(shown.contains("AADSTS700213"), "{shown}");
        assert!(!shown.contains("Trace ID"), "{shown}");
    }

    #[test]
    fn aadsts_codes_found_in_text_when_error_codes_absent() {
        let body = br#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found. AADSTS90002 again"}"#;
        let e = StsError::from_body(400, "e", body).expect("parses");
        assert_eq!(e.codes, vec![90002]);
        assert!(StsError::from_body(400, "e", b"<html>").is_none());
    }

    #[test]
    fn errors_serialize_with_kind_and_detail() {
        let e = EntraError::Ambiguous {
            what: "app",
            query: "x".into(),
            candidates: vec!["a".into(), "b".into()],
        };
        let json = e.to_json();
        assert_eq!(json["kind"], "ambiguous");
        assert_eq!(json["detail"]["candidates"][1], "b");
        assert!(e.to_string().contains("names 2 apps"));
    }
}
