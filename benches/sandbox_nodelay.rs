//! Round trips to the sandbox over loopback, the way ficus calls a standalone sandbox: one
//! small request per iteration, over HTTPS and plain HTTP, to the token service/Graph listener
//! and to the managed identity listener, on a new connection each time (each `ficus` command
//! is a new process) and on a kept-alive one. Without `TCP_NODELAY` on the accepted sockets, a
//! response written while an earlier small segment is unacknowledged (TLS 1.3's session
//! tickets after the handshake) waits for the client's delayed ACK (~40 ms on Linux).
//!
//! `cargo bench --bench sandbox_nodelay`

use divan::Bencher;
use ficus::sandbox::seed::{self, CONTOSO};
use ficus::sandbox::{Sandbox, SandboxConfig};

fn main() {
    divan::main();
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    client: reqwest::Client,
}

fn fixture(tls: bool) -> Fixture {
    ficus::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime
        .block_on(ficus::sandbox::start(SandboxConfig {
            tls,
            auto_approve: None,
            ..SandboxConfig::default()
        }))
        .expect("sandbox");
    let client = sandbox.http_client().expect("client");
    Fixture {
        runtime,
        sandbox,
        client,
    }
}

/// One request per iteration, each on a new connection (handshake included).
fn new_connections(bencher: Bencher, tls: bool, request: fn(&Fixture) -> reqwest::RequestBuilder) {
    let mut f = fixture(tls);
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench_local(|| {
            f.client = f.sandbox.http_client().expect("client");
            f.runtime.block_on(async {
                let response = request(&f).send().await.expect("request");
                assert!(response.status().is_success() || response.status().is_client_error());
                divan::black_box(response.bytes().await.expect("body"));
            })
        });
    f.runtime.block_on(f.sandbox.shutdown());
}

/// One request per iteration on a kept-alive connection.
fn round_trips(bencher: Bencher, tls: bool, request: fn(&Fixture) -> reqwest::RequestBuilder) {
    let f = fixture(tls);
    // Warm the connection (TLS handshake) outside the measurement.
    f.runtime
        .block_on(request(&f).send())
        .expect("first request");
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| {
            f.runtime.block_on(async {
                let response = request(&f).send().await.expect("request");
                assert!(response.status().is_success() || response.status().is_client_error());
                divan::black_box(response.bytes().await.expect("body"));
            })
        });
    f.runtime.block_on(f.sandbox.shutdown());
}

/// OIDC discovery: a small GET answered in one response.
fn discovery(f: &Fixture) -> reqwest::RequestBuilder {
    f.client.get(format!(
        "{}/{CONTOSO}/v2.0/.well-known/openid-configuration",
        f.sandbox.info.authority
    ))
}

/// A token endpoint POST (client secret), the request ficus sends most.
fn token(f: &Fixture) -> reqwest::RequestBuilder {
    f.client
        .post(format!(
            "{}/{CONTOSO}/oauth2/v2.0/token",
            f.sandbox.info.authority
        ))
        .form(&[
            ("grant_type", "client_credentials".to_string()),
            (
                "client_id",
                seed::app_ids(CONTOSO, "payments-api").1.to_string(),
            ),
            ("client_secret", seed::demo_secret(CONTOSO, "payments-api")),
            ("scope", "https://graph.microsoft.com/.default".to_string()),
        ])
}

/// IMDS on the managed identity listener (always plain HTTP).
fn imds(f: &Fixture) -> reqwest::RequestBuilder {
    let (_, client_id) = seed::identity_ids(CONTOSO, "id-payments");
    f.client
        .get(format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://AzureADTokenExchange&client_id={client_id}",
            f.sandbox.info.imds
        ))
        .header("Metadata", "true")
}

#[divan::bench]
fn https_discovery(bencher: Bencher) {
    round_trips(bencher, true, discovery);
}

#[divan::bench]
fn http_discovery(bencher: Bencher) {
    round_trips(bencher, false, discovery);
}

#[divan::bench]
fn https_token(bencher: Bencher) {
    round_trips(bencher, true, token);
}

#[divan::bench]
fn http_token(bencher: Bencher) {
    round_trips(bencher, false, token);
}

#[divan::bench]
fn imds_token(bencher: Bencher) {
    round_trips(bencher, false, imds);
}

#[divan::bench]
fn https_discovery_new_connection(bencher: Bencher) {
    new_connections(bencher, true, discovery);
}

#[divan::bench]
fn http_discovery_new_connection(bencher: Bencher) {
    new_connections(bencher, false, discovery);
}

#[divan::bench]
fn imds_token_new_connection(bencher: Bencher) {
    new_connections(bencher, false, imds);
}
