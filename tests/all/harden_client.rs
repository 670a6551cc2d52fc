//! Issue 12, the client's side: a token goes only to the origin it is for (a rewritten
//! `@odata.nextLink` is refused, and the sandbox builds its links from its own base URL);
//! plain `http://` only to this machine; no password of a URL in an error; bounded reads of
//! stdin and of every HTTP answer; `decode` of binary input is an input error; a failed
//! `apps` prints nothing on stdout. All traffic stays on loopback.

use std::io::Write;
use std::process::{Command as StdCommand, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ficus::cloud::Cloud;
use ficus::commands::{self, Command, Context};
use ficus::entra::http::{Http, HttpConfig, MAX_BODY_BYTES, PlainHttp, Retry, RetryPolicy};
use ficus::entra::msi::{self, IdentitySelector, MsiSource};
use ficus::entra::{
    Credentials, EntraError, NetworkErrorKind, Renewal, Session, SessionConfig, signin, sts,
};
use ficus::secret::Secret;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::entra_http::{Action, Seen, fast_http, graph, serve, static_creds, tokens};

const BIN: &str = env!("CARGO_BIN_EXE_ficus");

fn apps_page(next: Option<String>) -> Action {
    let mut body = json!({
        "@odata.context": "x",
        "value": [{"id": "o1", "appId": "a1", "displayName": "one"}],
    });
    if let Some(next) = next {
        body["@odata.nextLink"] = json!(next);
    }
    crate::entra_http::json(200, body)
}

/// A listener that records every request it gets (and answers an empty page).
async fn recorder() -> (String, Arc<Mutex<Vec<Seen>>>) {
    serve(Arc::new(|_, _| apps_page(None))).await
}

// ---------------------------------------------------------------------------------------------
// 1. The bearer token never follows a link to another origin.

#[tokio::test]
async fn next_link_to_another_origin_never_carries_the_token() {
    let (elsewhere, elsewhere_log) = recorder().await;
    let foreign = format!("{elsewhere}/v1.0/applications?$skiptoken=stolen");
    let foreign2 = foreign.clone();
    let (base, log) = serve(Arc::new(move |seen, _| {
        if seen.target.contains("federatedIdentityCredentials") {
            crate::entra_http::json(
                200,
                json!({"value": [], "@odata.nextLink": foreign2.clone()}),
            )
        } else {
            apps_page(Some(foreign2.clone()))
        }
    }))
    .await;
    let g = graph(&base, static_creds());

    // The streamed list (apps), get_all (FICs), and the console's page call alike.
    let e = g.list_all_apps().await.expect_err("refused");
    match &e {
        EntraError::ForeignOrigin { expected, found } => {
            assert_eq!(expected, &base);
            assert_eq!(found, &elsewhere);
        }
        other => panic!("expected ForeignOrigin, got {other:?}"),
    }
    let shown = e.to_string();
    assert!(
        shown.contains(&base) && shown.contains(&elsewhere),
        "{shown}"
    );
    assert_eq!(e.to_json()["kind"], "foreign_origin");
    assert!(matches!(
        g.list_fics("o1").await,
        Err(EntraError::ForeignOrigin { .. })
    ));
    assert!(matches!(
        g.console_apps_page_light(Some(foreign.clone())).await,
        Err(EntraError::ForeignOrigin { .. })
    ));

    // The real Graph got the token; the other origin got nothing at all.
    assert!(
        log.lock()
            .expect("log")
            .iter()
            .all(|s| s.header("authorization") == Some("Bearer good"))
    );
    let other = elsewhere_log.lock().expect("log").clone();
    assert!(
        other.iter().all(|s| s.header("authorization").is_none()),
        "a token reached the other origin"
    );
    assert!(other.is_empty(), "nothing is sent to the other origin");
}

#[tokio::test]
async fn sandbox_links_come_from_its_base_url_not_the_host_header() {
    ficus::install_crypto_provider();
    let sb = ficus::sandbox::start(ficus::sandbox::SandboxConfig::default())
        .await
        .expect("sandbox");
    let token = sb
        .sign_in(
            "contoso",
            "admin@contoso.onmicrosoft.com",
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            &["https://graph.microsoft.com/.default"],
        )
        .expect("sign-in")
        .access_token
        .expose()
        .clone();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let answer: Value = client
        .get(format!("{}/applications?$top=1", sb.info.graph))
        .bearer_auth(&token)
        .header("Host", "attacker.example:4444")
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let next = answer["@odata.nextLink"].as_str().expect("a next page");
    assert!(
        next.starts_with(&format!("{}/", sb.info.graph)),
        "{next} starts with the sandbox's Graph {}",
        sb.info.graph
    );
    assert!(!next.contains("attacker"), "{next}");
    let context = answer["@odata.context"].as_str().expect("context");
    assert!(!context.contains("attacker"), "{context}");
    sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 2. Plain http only to this machine.

#[test]
fn plain_http_is_allowed_only_to_loopback_and_for_managed_identity_link_local() {
    let allows = |policy: PlainHttp, url: &str| policy.allows(&url::Url::parse(url).expect(url));
    for url in [
        "http://127.0.0.1:8080/x",
        "http://127.9.9.9/",
        "http://[::1]:1/",
        "http://localhost:9/",
        "http://LOCALHOST/",
        "https://graph.microsoft.com/v1.0",
        "https://10.0.0.1/",
    ] {
        assert!(allows(PlainHttp::LoopbackOnly, url), "{url}");
    }
    for url in [
        "http://10.0.0.1/",
        "http://graph.example.com/",
        "http://169.254.169.254/metadata",
        "http://[fe80::1]/",
        "http://localhost.example.com/",
        "http://127.0.0.1.nip.io/",
    ] {
        assert!(!allows(PlainHttp::LoopbackOnly, url), "{url}");
    }
    assert!(allows(
        PlainHttp::LoopbackAndLinkLocal,
        "http://169.254.169.254/metadata"
    ));
    assert!(allows(PlainHttp::LoopbackAndLinkLocal, "http://[fe80::1]/"));
    assert!(!allows(PlainHttp::LoopbackAndLinkLocal, "http://10.0.0.1/"));
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_sending() {
    // The HTTP layer: refused, typed, and nothing is connected to.
    let http = Http::new(&HttpConfig::default()).expect("http");
    let e = http
        .send(Retry::Idempotent, |c| {
            c.get("http://graph.remote.test/v1.0/x")
        })
        .await
        .expect_err("refused");
    assert_eq!(e.kind, NetworkErrorKind::PlainHttp);
    assert!(e.to_string().contains("https://"), "{e}");
    assert!(e.to_string().contains("127.0.0.1"), "{e}");

    // A session on such a cloud is refused when it is made.
    let config = SessionConfig::new(
        Cloud::custom(
            "http://sandbox.remote.test",
            "http://sandbox.remote.test/v1.0",
        ),
        "contoso",
    );
    let creds = Credentials::new(tokens("t", 3600), Renewal::Never { reason: "t".into() });
    match Session::new(config, creds) {
        Err(EntraError::Network(n)) => assert_eq!(n.kind, NetworkErrorKind::PlainHttp),
        Err(other) => panic!("expected a plain-http refusal, got {other}"),
        Ok(_) => panic!("expected a plain-http refusal, got a session"),
    }
}

/// A listener that counts the connections it accepts (and closes them).
async fn connection_counter() -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count: Arc<Mutex<usize>> = Arc::default();
    let count2 = count.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            *count2.lock().expect("count") += 1;
            drop(sock);
        }
    });
    (url, count)
}

#[tokio::test]
async fn sandbox_url_over_plain_http_to_a_remote_host_is_refused_with_the_reason() {
    // Every proxy variable points at a local listener: whatever the binary would send to the
    // "remote" host arrives there instead (and nothing leaves this machine).
    let (proxy, connections) = connection_counter().await;
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tokio::process::Command::new(BIN)
        .args(["--sandbox-url", "http://sandbox.remote.test:8080", "apps"])
        .env("FICUS_CACHE_DIR", cache.path().join("tokens"))
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("HTTPS_PROXY", &proxy)
        .env("https_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("all_proxy", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("FICUS_TENANT")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("ficus runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("plain http://"), "{stderr}");
    assert!(stderr.contains("127.0.0.1, ::1"), "{stderr}");
    assert!(stderr.contains("unencrypted"), "{stderr}");
    assert!(stderr.contains("https://"), "{stderr}");
    assert_eq!(
        *connections.lock().expect("count"),
        0,
        "nothing was sent toward the remote host"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. A password in a URL never reaches an error message.

const PASSWORD: &str = "hunter2-secret";

fn assert_redacted(text: &str) {
    assert!(!text.contains(PASSWORD), "password echoed: {text}");
    assert!(!text.contains("admin:"), "user name echoed: {text}");
}

#[test]
fn redaction_removes_user_info_from_any_text() {
    let r = ficus::entra::redact_userinfo;
    assert_eq!(
        r("error sending request for url (https://admin:pw@127.0.0.1:1/t/oauth2)"),
        "error sending request for url (https://***@127.0.0.1:1/t/oauth2)"
    );
    assert_eq!(r("see https://h/p?x=a@b"), "see https://h/p?x=a@b");
    assert_eq!(
        r("a http://u@h b https://x:y@z/"),
        "a http://***@h b https://***@z/"
    );
    assert_eq!(r("no url here"), "no url here");
}

#[tokio::test]
async fn user_info_in_urls_is_redacted_from_every_error() {
    let (base, _log) = serve(Arc::new(|seen, _| {
        if seen.target.contains("oauth2") {
            crate::entra_http::json(
                400,
                json!({"error": "invalid_client", "error_description": "AADSTS700213: nope"}),
            )
        } else {
            Action::Respond {
                status: 500,
                headers: vec![],
                body: "oops".into(),
            }
        }
    }))
    .await;
    let with_password = base.replacen("http://", &format!("http://admin:{PASSWORD}@"), 1);
    let http = fast_http();

    // The token service's refusal names its endpoint.
    let endpoint = format!("{with_password}/t/oauth2/v2.0/token");
    let e = sts::client_assertion_token(
        &http,
        &endpoint,
        "c",
        "s/.default",
        &Secret::new("a".into()),
    )
    .await
    .expect_err("refused");
    assert_redacted(&e.to_string());
    assert_redacted(&e.to_json().to_string());

    // Discovery that fails names its URL.
    let e = sts::fetch_jwks(&http, &format!("{with_password}/t/v2.0"))
        .await
        .expect_err("fails");
    assert_redacted(&e.to_string());

    // A connection that fails names its URL (a closed port).
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let e = http
        .send(Retry::Never, |c| {
            c.get(format!("http://admin:{PASSWORD}@127.0.0.1:{closed}/x"))
        })
        .await
        .expect_err("refused");
    assert_redacted(&e.to_string());

    // The device code flow (through the oauth2 adapter).
    let cloud = Cloud::custom(&with_password, &format!("{with_password}/v1.0"));
    let e = signin::start_device_code(&http, &cloud, "t", "c", &["s".into()])
        .await
        .err()
        .expect("refused");
    assert_redacted(&e.to_string());

    // The CLI's error report, whatever layer wrote the message.
    let mut err = Vec::new();
    commands::report_error(
        &commands::CommandError::Usage(format!("cannot reach {with_password}/x")),
        false,
        &mut err,
    );
    assert_redacted(&String::from_utf8_lossy(&err));
    let mut err = Vec::new();
    commands::report_error(
        &commands::CommandError::Usage(format!("cannot reach {with_password}/x")),
        true,
        &mut err,
    );
    let text = String::from_utf8_lossy(&err).to_string();
    assert_redacted(&text);
    serde_json::from_str::<Value>(&text).expect("still JSON");
}

#[tokio::test]
async fn the_binary_never_echoes_a_sandbox_url_password() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cache = tempfile::tempdir().expect("tempdir");
    for json_flag in [false, true] {
        let mut args = vec![];
        if json_flag {
            args.push("--json".to_string());
        }
        args.extend([
            "--sandbox-url".to_string(),
            format!("https://admin:{PASSWORD}@127.0.0.1:{closed}"),
            "apps".to_string(),
        ]);
        let out = tokio::process::Command::new(BIN)
            .args(&args)
            .env("FICUS_CACHE_DIR", cache.path().join("tokens"))
            .env_remove("FICUS_TENANT")
            .stdin(Stdio::null())
            .output()
            .await
            .expect("ficus runs");
        assert_eq!(out.status.code(), Some(1));
        assert_redacted(&String::from_utf8_lossy(&out.stderr));
        assert_redacted(&String::from_utf8_lossy(&out.stdout));
    }
}

// ---------------------------------------------------------------------------------------------
// 11. `ficus decode` reads at most the limit (+1 byte) of stdin; binary input is an input error.

#[test]
fn decode_reads_at_most_the_limit_from_stdin() {
    const OFFERED: usize = 64 * 1024 * 1024;
    let mut child = StdCommand::new(BIN)
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ficus runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'a'; 64 * 1024];
        let mut written = 0;
        while written < OFFERED {
            match stdin.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => break, // the reader is gone (EPIPE)
            }
        }
        written
    });
    let out = child.wait_with_output().expect("exits");
    let written = writer.join().expect("writer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("64 KiB"), "{stderr}");
    assert!(
        written < 8 * 1024 * 1024,
        "ficus read {written} bytes of stdin before refusing"
    );
}

#[test]
fn decode_of_binary_input_is_an_input_error() {
    for json_flag in [false, true] {
        let mut cmd = StdCommand::new(BIN);
        if json_flag {
            cmd.arg("--json");
        }
        let mut child = cmd
            .arg("decode")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ficus runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"eyJ\xff\xfe\x00\x01binary")
            .expect("write");
        let out = child.wait_with_output().expect("exits");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(!stderr.contains("output"), "{stderr}");
        assert!(stderr.contains("not text"), "{stderr}");
        if json_flag {
            let v: Value = serde_json::from_str(&stderr).expect("JSON error");
            assert_eq!(v["error"]["kind"], "input");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 12. Every HTTP answer is read up to a cap, then refused with a clear error.

/// A server that answers every request 200 with `size` bytes of JSON-ish filler, streamed in
/// chunks without a Content-Length (or with it, when `declare`), then ends properly.
async fn big_server(size: usize, declare: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let framing = if declare {
                    format!("Content-Length: {size}\r\n")
                } else {
                    "Transfer-Encoding: chunked\r\n".to_string()
                };
                let headers = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}Connection: close\r\n\r\n"
                );
                if sock.write_all(headers.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    let n = chunk.len().min(size - sent);
                    let frame = if declare {
                        chunk[..n].to_vec()
                    } else {
                        let mut f = format!("{n:x}\r\n").into_bytes();
                        f.extend_from_slice(&chunk[..n]);
                        f.extend_from_slice(b"\r\n");
                        f
                    };
                    if sock.write_all(&frame).await.is_err() {
                        return; // the client stopped reading
                    }
                    sent += n;
                }
                if !declare {
                    let _ = sock.write_all(b"0\r\n\r\n").await;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    base
}

fn capped_http(max: usize) -> Http {
    Http::new(&HttpConfig {
        no_proxy: true,
        retry: RetryPolicy::none(),
        max_body_bytes: max,
        ..HttpConfig::default()
    })
    .expect("http")
}

fn assert_too_large(e: &EntraError, what: &str) {
    match e {
        EntraError::Network(n) => {
            assert_eq!(n.kind, NetworkErrorKind::TooLarge, "{what}: {e}");
            assert!(e.to_string().contains("larger than"), "{what}: {e}");
        }
        other => panic!("{what}: expected a too-large error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_endless_graph_page_is_cut_off_at_the_default_cap() {
    assert_eq!(MAX_BODY_BYTES, 32 * 1024 * 1024);
    // More than the cap, streamed without a length: stopped once past the cap.
    let base = big_server(MAX_BODY_BYTES + 8 * 1024 * 1024, false).await;
    let g = graph(&base, static_creds());
    let e = g.list_all_apps().await.expect_err("too large");
    assert_too_large(&e, "graph page");
    // Declared too large: refused before reading.
    let base = big_server(MAX_BODY_BYTES + 1, true).await;
    let g = graph(&base, static_creds());
    assert_too_large(&g.list_all_apps().await.expect_err("too large"), "declared");
}

#[tokio::test]
async fn every_answer_is_capped_token_jwks_discovery_imds_and_device_code() {
    const CAP: usize = 1024 * 1024;
    let base = big_server(4 * CAP, false).await;
    let http = capped_http(CAP);

    let e = sts::client_assertion_token(
        &http,
        &format!("{base}/t/oauth2/v2.0/token"),
        "c",
        "s/.default",
        &Secret::new("a".into()),
    )
    .await
    .expect_err("too large");
    assert_too_large(&e, "token response");

    let e = sts::fetch_jwks(&http, &format!("{base}/t/v2.0"))
        .await
        .expect_err("too large");
    assert_too_large(&e, "discovery");

    let e = signin::start_device_code(
        &http,
        &Cloud::custom(&base, &format!("{base}/v1.0")),
        "t",
        "c",
        &["s".into()],
    )
    .await
    .err()
    .expect("too large");
    assert_too_large(&e, "device code");

    let msi_http = Http::new(&HttpConfig {
        no_proxy: true,
        retry: RetryPolicy::none(),
        max_body_bytes: CAP,
        plain_http: PlainHttp::LoopbackAndLinkLocal,
        ..HttpConfig::default()
    })
    .expect("http");
    let e = msi::acquire(
        &msi_http,
        &MsiSource::Imds { base: base.clone() },
        &IdentitySelector::SystemAssigned,
        "api://AzureADTokenExchange",
    )
    .await
    .expect_err("too large");
    assert_too_large(&e, "IMDS");

    // The JWKS itself, behind a discovery document that is fine.
    let (disco, _) = serve(Arc::new({
        let big = base.clone();
        move |_, _| crate::entra_http::json(200, json!({"jwks_uri": format!("{big}/keys")}))
    }))
    .await;
    let e = sts::fetch_jwks(&http, &format!("{disco}/t/v2.0"))
        .await
        .expect_err("too large");
    assert_too_large(&e, "JWKS");

    // A too-large answer is not retried: one request, not max_attempts.
    let (counted, log) = serve(Arc::new(|_, _| Action::Respond {
        status: 200,
        headers: vec![],
        body: " ".repeat(2048),
    }))
    .await;
    let small = Http::new(&HttpConfig {
        no_proxy: true,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            waiter: ficus::entra::Waiter::virtual_clock(),
            ..RetryPolicy::default()
        },
        max_body_bytes: 1024,
        ..HttpConfig::default()
    })
    .expect("http");
    let e = small
        .send(Retry::Idempotent, |c| c.get(format!("{counted}/x")))
        .await
        .expect_err("too large");
    assert_eq!(e.kind, NetworkErrorKind::TooLarge);
    assert_eq!(log.lock().expect("log").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// `apps` prints nothing on stdout when Graph fails mid-list (already collected before printing;
// kept as a regression test).

#[tokio::test]
async fn apps_prints_nothing_on_stdout_when_a_later_page_is_throttled() {
    let base_cell: Arc<Mutex<String>> = Arc::default();
    let cell = base_cell.clone();
    let (base, _log) = serve(Arc::new(move |seen, _| {
        if seen.target.contains("skiptoken") {
            Action::Respond {
                status: 429,
                headers: vec![("Retry-After".into(), "0".into())],
                body: json!({"error": {"code": "TooManyRequests", "message": "slow down"}})
                    .to_string(),
            }
        } else {
            let next = format!(
                "{}/v1.0/applications?$skiptoken=p2",
                cell.lock().expect("base")
            );
            apps_page(Some(next))
        }
    }))
    .await;
    *base_cell.lock().expect("base") = base.clone();
    let mut config = SessionConfig::new(Cloud::custom(&base, &format!("{base}/v1.0")), "contoso");
    config.http = HttpConfig {
        no_proxy: true,
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            waiter: ficus::entra::Waiter::virtual_clock(),
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    };
    let session = Session::new(config, static_creds()).expect("session");
    let ctx = Context {
        session,
        json: false,
        msi_source: None,
        msi_http: msi::msi_http(RetryPolicy::none()).expect("msi http"),
        signed_in_via: "test".into(),
    };
    let mut out = Vec::new();
    let result = commands::execute(&ctx, &Command::Apps { filter: None }, &mut out).await;
    let e = result.expect_err("throttled");
    assert!(e.to_string().contains("429"), "{e}");
    assert_eq!(String::from_utf8_lossy(&out), "", "nothing on stdout");
}
