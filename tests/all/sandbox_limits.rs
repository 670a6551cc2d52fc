//! What no client can do to the sandbox: exhaust its connections with slow or idle ones, flood
//! it with device codes, stall the token and IMDS endpoints with heavy Graph queries, or reach
//! IMDS through a proxy.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::sandbox_support::*;
use ficus::sandbox::SandboxConfig;
use ficus::sandbox::limits::Limits;
use ficus::sandbox::seed::{DEMO_ADMIN, Seed};
use ficus::sandbox::sessions::MAX_PENDING_DEVICE_CODES_PER_CLIENT;

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_string()
}

/// Reads until the server closes the connection; `None` if it is still open after `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| got)
}

#[tokio::test]
async fn slow_and_idle_connections_are_cut_and_capped_on_both_listeners() {
    let limits = Limits {
        max_connections: 3,
        header_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(800),
    };
    let sb = start(SandboxConfig {
        limits,
        ..SandboxConfig::default()
    })
    .await;
    for base in [&sb.info.authority, &sb.info.imds] {
        let addr = host_port(base);
        // A request head that never ends is cut at the header timeout.
        let mut slow = TcpStream::connect(&addr).await.expect("connect");
        slow.write_all(b"GET /metadata/identity/oauth2/token HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("partial head");
        assert!(
            closed_within(&mut slow, Duration::from_secs(5))
                .await
                .is_some(),
            "{base}: a slow request head is cut"
        );
        // A connection that says nothing at all is cut too.
        let mut silent = TcpStream::connect(&addr).await.expect("connect");
        assert!(
            closed_within(&mut silent, Duration::from_secs(5))
                .await
                .is_some(),
            "{base}: a silent connection is cut"
        );

        // The cap: three held connections, the fourth is closed at once.
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(TcpStream::connect(&addr).await.expect("connect"));
        }
        // Let the server accept the three before the fourth arrives: a request on the first
        // one is answered.
        held[0]
            .write_all(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request");
        let mut buf = [0u8; 12];
        held[0].read_exact(&mut buf).await.expect("an answer");
        assert!(buf.starts_with(b"HTTP/1.1 "), "{buf:?}");
        let mut over = TcpStream::connect(&addr).await.expect("connect");
        let answered = closed_within(&mut over, Duration::from_millis(300)).await;
        assert_eq!(
            answered,
            Some(Vec::new()),
            "{base}: the connection over the cap is closed without an answer"
        );
        drop(held);
        // Room again once they are gone (the server notices the closes).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut fresh = TcpStream::connect(&addr).await.expect("connect");
            fresh
                .write_all(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .expect("request");
            let got = closed_within(&mut fresh, Duration::from_secs(2))
                .await
                .unwrap_or_default();
            if got.starts_with(b"HTTP/1.1 ") {
                break;
            }
            assert!(Instant::now() < deadline, "{base}: room again");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn imds_refuses_proxied_requests_and_unknown_api_versions() {
    let sb = start_default().await;
    let http = sb.http_client().expect("client");
    let url = |version: &str| {
        format!(
            "{}/metadata/identity/oauth2/token?api-version={version}&resource=https://management.azure.com/",
            sb.info.imds
        )
    };
    let ok = http
        .get(url("2018-02-01"))
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds");
    assert_eq!(ok.status(), 200);

    let proxied = http
        .get(url("2018-02-01"))
        .header("Metadata", "true")
        .header("X-Forwarded-For", "10.0.0.7")
        .send()
        .await
        .expect("imds");
    assert_eq!(proxied.status(), 400);
    let body: serde_json::Value = proxied.json().await.expect("json");
    assert!(body.get("access_token").is_none());
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("X-Forwarded-For")),
        "{body}"
    );

    for version in ["1999-01-01", "latest", "2018-02-01x"] {
        let unknown = http
            .get(url(version))
            .header("Metadata", "true")
            .send()
            .await
            .expect("imds");
        assert_eq!(unknown.status(), 400, "{version}");
        let body: serde_json::Value = unknown.json().await.expect("json");
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert!(body.get("access_token").is_none());
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn device_codes_are_bounded_per_client() {
    let sb = start(SandboxConfig {
        auto_approve: None,
        ..SandboxConfig::default()
    })
    .await;
    let client = sb.http_client().expect("client");
    let request = || {
        client
            .post(format!(
                "{}/contoso/oauth2/v2.0/devicecode",
                sb.info.authority
            ))
            .form(&[
                ("client_id", AZURE_CLI),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
    };
    for _ in 0..MAX_PENDING_DEVICE_CODES_PER_CLIENT {
        let r = request().await.expect("devicecode");
        assert_eq!(r.status(), 200);
    }
    let refused = request().await.expect("devicecode");
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error_codes"][0], 90055, "{body}");
    let held = sb
        .state()
        .sessions
        .lock()
        .expect("sessions")
        .device_flows
        .len();
    assert_eq!(held, MAX_PENDING_DEVICE_CODES_PER_CLIENT);
    sb.shutdown().await;
}

/// With one async worker, four heavy sorted Graph listers must not hold IMDS hostage: IMDS keeps
/// answering while every lister is still at work. (Counted, not timed: had the Graph work run on
/// the async worker, no IMDS answer could complete until a lister had finished.)
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn heavy_graph_queries_do_not_stall_imds() {
    let sb = start(SandboxConfig {
        seed: Seed::Large(20_000),
        ..SandboxConfig::default()
    })
    .await;
    let token = sb
        .sign_in(
            "contoso",
            DEMO_ADMIN,
            AZURE_CLI,
            &["https://graph.microsoft.com/.default"],
        )
        .expect("sign-in")
        .access_token
        .expose()
        .clone();
    let http = sb.http_client().expect("client");
    let list = format!(
        "{}/applications?$orderby=displayName desc&$count=true&$top=999&$filter=startswith(displayName,'synthetic')",
        sb.info.graph
    );
    let listers: Vec<_> = (0..4)
        .map(|_| {
            let (http, list, token) = (http.clone(), list.clone(), token.clone());
            tokio::spawn(async move {
                let t0 = Instant::now();
                let r = http
                    .get(&list)
                    .bearer_auth(&token)
                    .header("ConsistencyLevel", "eventual")
                    .send()
                    .await
                    .expect("list");
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.expect("body");
                (t0.elapsed(), Instant::now())
            })
        })
        .collect();
    let imds = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/",
        sb.info.imds
    );
    let mut answered_at = Vec::new();
    while listers.iter().any(|l| !l.is_finished()) {
        let r = http
            .get(&imds)
            .header("Metadata", "true")
            .send()
            .await
            .expect("imds");
        assert_eq!(r.status(), 200);
        answered_at.push(Instant::now());
    }
    let mut fastest_lister = Duration::MAX;
    let mut first_done: Option<Instant> = None;
    for l in listers {
        let (took, done) = l.await.expect("lister");
        fastest_lister = fastest_lister.min(took);
        first_done = Some(first_done.map_or(done, |f| f.min(done)));
    }
    let first_done = first_done.expect("four listers");
    let while_all_listed = answered_at
        .iter()
        .filter(|done| **done < first_done)
        .count();
    assert!(
        while_all_listed >= 3,
        "only {while_all_listed} IMDS answers completed while all four sorted listers ran (the fastest took {fastest_lister:?}; {} answers in all)",
        answered_at.len()
    );
    sb.shutdown().await;
}
