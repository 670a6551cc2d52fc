//! The HTTP layer and Graph client against a tiny scripted HTTP server that can throttle, fail
//! and drop connections on cue (things the sandbox cannot be made to do at an exact request).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ficus::entra::http::{Http, HttpConfig, Retry, RetryPolicy};
use ficus::entra::signin::{Credentials, Renewal, TokenSet};
use ficus::entra::{EntraError, GraphClient, NetworkErrorKind};
use ficus::fic::Fic;
use ficus::secret::Secret;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the scripted server does with one request.
pub(crate) enum Action {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the connection without answering.
    Drop,
}

pub(crate) fn json(status: u16, body: serde_json::Value) -> Action {
    Action::Respond {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string(),
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) type Script = Arc<dyn Fn(&Seen, usize) -> Action + Send + Sync>;

/// Starts the server; returns its base URL and the log of requests seen.
pub(crate) async fn serve(script: Script) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap_or_default().to_string();
                let mut parts = request_line.split(' ');
                let method = parts.next().unwrap_or_default().to_string();
                let target = parts.next().unwrap_or_default().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let seen = Seen {
                    method,
                    target,
                    headers,
                    body,
                };
                let index = {
                    let mut l = log.lock().expect("log");
                    l.push(seen.clone());
                    l.len() - 1
                };
                match script(&seen, index) {
                    Action::Drop => {
                        let _ = sock.shutdown().await;
                    }
                    Action::Respond {
                        status,
                        headers,
                        body,
                    } => {
                        let mut resp = format!(
                            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            resp.push_str(&format!("{k}: {v}\r\n"));
                        }
                        resp.push_str("\r\n");
                        resp.push_str(&body);
                        let _ = sock.write_all(resp.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                }
            });
        }
    });
    (base, log)
}

pub(crate) fn fast_http() -> Http {
    Http::new(&HttpConfig {
        no_proxy: true,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
            waiter: ficus::entra::Waiter::virtual_clock(),
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    })
    .expect("client")
}

pub(crate) fn tokens(access: &str, expires_in: i64) -> TokenSet {
    TokenSet {
        access_token: Secret::new(access.to_string()),
        refresh_token: Some(Secret::new("refresh-1".into())),
        id_token: None,
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + expires_in,
        scope: None,
    }
}

pub(crate) fn graph(base: &str, creds: Credentials) -> GraphClient {
    GraphClient::new(fast_http(), format!("{base}/v1.0"), creds, false)
}

pub(crate) fn static_creds() -> Credentials {
    Credentials::new(
        tokens("good", 3600),
        Renewal::Never {
            reason: "test".into(),
        },
    )
}

#[tokio::test]
async fn throttled_requests_are_retried_honouring_retry_after() {
    let (base, log) = serve(Arc::new(|_, i| {
        if i < 2 {
            Action::Respond {
                status: 429,
                headers: vec![("Retry-After".into(), "0".into())],
                body: "{}".into(),
            }
        } else {
            json(200, serde_json::json!({"ok": true}))
        }
    }))
    .await;
    let http = fast_http();
    let resp = http
        .send(Retry::Idempotent, |c| c.get(format!("{base}/x")))
        .await
        .expect("answered");
    assert_eq!(resp.status.as_u16(), 200);
    assert_eq!(resp.attempts, 3);
    let seen = log.lock().expect("log").clone();
    assert_eq!(seen.len(), 3);
    // One client-request-id per logical call, on every attempt.
    let id = seen[0].header("client-request-id").expect("id").to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(
        seen.iter()
            .all(|s| s.header("client-request-id") == Some(id.as_str()))
    );
}

#[tokio::test]
async fn retries_stop_at_the_limit_and_return_the_last_answer() {
    let (base, log) = serve(Arc::new(|_, _| Action::Respond {
        status: 503,
        headers: vec![],
        body: "busy".into(),
    }))
    .await;
    let resp = fast_http()
        .send(Retry::Idempotent, |c| c.get(format!("{base}/x")))
        .await
        .expect("answered");
    assert_eq!(resp.status.as_u16(), 503);
    assert_eq!(log.lock().expect("log").len(), 4);
}

#[tokio::test]
async fn a_create_is_not_retried_after_a_dropped_connection_but_a_read_is() {
    let (base, log) = serve(Arc::new(|seen, i| {
        if seen.method == "POST" || i == 1 {
            Action::Drop
        } else {
            json(200, serde_json::json!({}))
        }
    }))
    .await;
    let http = fast_http();
    let err = http
        .send(Retry::Create, |c| {
            c.post(format!("{base}/create")).body("{}")
        })
        .await
        .expect_err("dropped");
    assert_eq!(err.kind, NetworkErrorKind::ConnectionReset, "{err}");
    assert_eq!(err.attempts, 1);
    assert!(err.to_string().contains("dropped"), "{err}");
    // The read: dropped once (request index 1), answered on the retry.
    let resp = http
        .send(Retry::Idempotent, |c| c.get(format!("{base}/read")))
        .await
        .expect("retried");
    assert_eq!(resp.attempts, 2);
    assert_eq!(log.lock().expect("log").len(), 3);
}

#[tokio::test]
async fn network_failure_mid_paging_is_a_clear_error_after_the_first_page() {
    let (base, _log) = serve(Arc::new(move |seen, _| {
        if seen.target.contains("skiptoken") {
            Action::Drop
        } else {
            let next = format!(
                "http://{}/v1.0/applications?$skiptoken=page2",
                seen.header("host").unwrap_or_default()
            );
            json(
                200,
                serde_json::json!({
                    "value": [{"id": "o1", "appId": "a1", "displayName": "first"}],
                    "@odata.nextLink": next,
                }),
            )
        }
    }))
    .await;
    let g = graph(&base, static_creds());
    let mut pages = std::pin::pin!(g.list_apps());
    let first = pages.next().await.expect("a page").expect("first page ok");
    assert_eq!(first[0].display_name, "first");
    let second = pages.next().await.expect("an item");
    match second {
        Err(EntraError::Network(n)) => {
            assert_eq!(n.kind, NetworkErrorKind::ConnectionReset);
            assert!(n.url.ends_with("/v1.0/applications"), "{}", n.url);
            assert_eq!(n.attempts, 4);
            let msg = EntraError::Network(n).to_string();
            assert!(
                msg.contains("network error") && msg.contains("try again"),
                "{msg}"
            );
        }
        other => panic!("expected a network error, got {other:?}"),
    }
    assert!(
        pages.next().await.is_none(),
        "the stream ends after an error"
    );
}

#[tokio::test]
async fn graph_errors_keep_code_message_and_request_id() {
    let (base, _log) = serve(Arc::new(|_, _| {
        json(
            404,
            serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist",
                "innerError": {"date": "2026-11-25T10:00:00", "request-id": "rid-1", "client-request-id": "c"}}}),
        )
    }))
    .await;
    let err = graph(&base, static_creds())
        .get_app("x")
        .await
        .expect_err("404");
    match err {
        EntraError::Graph(g) => {
            assert_eq!(g.status, 404);
            assert_eq!(g.code, "Request_ResourceNotFound");
            assert_eq!(g.request_id.as_deref(), Some("rid-1"));
            assert_eq!(g.date.as_deref(), Some("2026-11-25T10:00:00"));
            assert!(g.client_request_id.is_some());
        }
        other => panic!("expected a Graph error, got {other:?}"),
    }
}

/// A Graph that accepts only `new-token`, and a token endpoint that renews `refresh-1`.
fn graph_and_sts(seen: &Seen, _: usize) -> Action {
    if seen.target.contains("/oauth2/v2.0/token") {
        if seen.body.contains("grant_type=refresh_token")
            && seen.body.contains("refresh_token=refresh-1")
        {
            return json(
                200,
                serde_json::json!({"access_token": "new-token", "refresh_token": "refresh-2", "expires_in": 3600, "token_type": "Bearer"}),
            );
        }
        return json(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": "AADSTS70008: expired", "error_codes": [70008]}),
        );
    }
    if seen.header("authorization") == Some("Bearer new-token") {
        json(200, serde_json::json!({"value": []}))
    } else {
        json(
            401,
            serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "Lifetime validation failed, the token is expired."}}),
        )
    }
}

#[tokio::test]
async fn an_expired_token_is_renewed_before_the_call() {
    let (base, log) = serve(Arc::new(graph_and_sts)).await;
    let creds = Credentials::new(
        tokens("old-token", -10),
        Renewal::RefreshToken {
            token_endpoint: format!("{base}/contoso/oauth2/v2.0/token"),
            client_id: "client".into(),
            scopes: vec!["Application.ReadWrite.All".into()],
            cache: None,
        },
    );
    let fics = graph(&base, creds.clone())
        .list_fics("app")
        .await
        .expect("renewed silently");
    assert!(fics.is_empty());
    let seen = log.lock().expect("log").clone();
    assert_eq!(seen.len(), 2, "one refresh, one Graph call: {seen:?}");
    assert_eq!(
        creds.tokens().await.refresh_token.expect("rt").expose(),
        "refresh-2",
        "the rotated refresh token is kept"
    );
}

#[tokio::test]
async fn a_rejected_token_is_renewed_once_and_the_call_repeated() {
    let (base, log) = serve(Arc::new(graph_and_sts)).await;
    let creds = Credentials::new(
        tokens("revoked-token", 3600),
        Renewal::RefreshToken {
            token_endpoint: format!("{base}/contoso/oauth2/v2.0/token"),
            client_id: "client".into(),
            scopes: vec![],
            cache: None,
        },
    );
    graph(&base, creds)
        .list_fics("app")
        .await
        .expect("renewed after 401");
    let seen = log.lock().expect("log").clone();
    let methods: Vec<String> = seen.iter().map(|s| s.target.clone()).collect();
    assert_eq!(seen.len(), 3, "{methods:?}");
    assert!(seen[1].target.contains("/token"));
}

#[tokio::test]
async fn an_unrenewable_sign_in_says_to_log_in_again() {
    let (base, _log) = serve(Arc::new(graph_and_sts)).await;
    let mut t = tokens("old-token", -10);
    t.refresh_token = Some(Secret::new("refresh-unknown".into()));
    let creds = Credentials::new(
        t,
        Renewal::RefreshToken {
            token_endpoint: format!("{base}/contoso/oauth2/v2.0/token"),
            client_id: "client".into(),
            scopes: vec![],
            cache: None,
        },
    );
    let err = graph(&base, creds)
        .list_fics("app")
        .await
        .expect_err("cannot renew");
    assert!(matches!(err, EntraError::SignInExpired { .. }), "{err:?}");
    assert!(err.to_string().contains("ficus login"), "{err}");
}

fn fic_json(name: &str) -> serde_json::Value {
    serde_json::json!({"id": "f-1", "name": name, "issuer": "https://iss/t/v2.0", "subject": "p1",
        "audiences": ["api://AzureADTokenExchange"], "description": null})
}

fn draft(name: &str) -> Fic {
    Fic {
        id: None,
        name: name.into(),
        issuer: "https://iss/t/v2.0".into(),
        subject: "p1".into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    }
}

#[tokio::test]
async fn create_reads_back_through_replication_404s() {
    let (base, log) = serve(Arc::new(|seen, _| {
        if seen.method == "POST" {
            return json(201, fic_json("mi-a"));
        }
        json(404, serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "not yet"}}))
    }))
    .await;
    // Every GET is 404 here: Graph's 201 is the truth, the create stands as "not replicated
    // yet" (issue 18: never "failed").
    let mut g = graph(&base, static_creds());
    g.read_back_window = Duration::from_millis(500);
    let created = g
        .create_fic_outcome("app", &draft("mi-a"))
        .await
        .expect("the write stands");
    assert!(!created.replicated);
    assert_eq!(created.fic.id.as_deref(), Some("f-1"));
    let posts = log
        .lock()
        .expect("log")
        .iter()
        .filter(|s| s.method == "POST")
        .count();
    assert_eq!(posts, 1, "the create is never repeated");

    // Now a Graph where the second read succeeds.
    let (base, _log) = serve(Arc::new(|seen, i| {
        if seen.method == "POST" {
            json(201, fic_json("mi-b"))
        } else if i == 1 {
            json(404, serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "not yet"}}))
        } else {
            json(200, fic_json("mi-b"))
        }
    }))
    .await;
    let created = graph(&base, static_creds())
        .create_fic("app", &draft("mi-b"))
        .await
        .expect("verified");
    assert_eq!(created.id.as_deref(), Some("f-1"));
}

#[tokio::test]
async fn a_lost_create_answer_is_resolved_by_reading_back() {
    let (base, log) = serve(Arc::new(|seen, _| {
        if seen.method == "POST" {
            Action::Drop
        } else if seen.target.ends_with("/federatedIdentityCredentials/mi-c") {
            json(200, fic_json("mi-c"))
        } else {
            json(
                404,
                serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "no"}}),
            )
        }
    }))
    .await;
    let created = graph(&base, static_creds())
        .create_fic("app", &draft("mi-c"))
        .await
        .expect("found by name");
    assert_eq!(created.name, "mi-c");
    let seen = log.lock().expect("log").clone();
    assert_eq!(seen.iter().filter(|s| s.method == "POST").count(), 1);
}

#[tokio::test]
async fn writes_are_refused_in_read_only_mode_without_a_request() {
    let (base, log) = serve(Arc::new(|_, _| json(200, serde_json::json!({})))).await;
    let g = GraphClient::new(fast_http(), format!("{base}/v1.0"), static_creds(), true);
    let err = g
        .create_fic("app", &draft("x"))
        .await
        .expect_err("read-only");
    assert!(err.to_string().contains("--read-only"), "{err}");
    assert!(g.delete_fic("app", "x").await.is_err());
    assert!(log.lock().expect("log").is_empty());
}
