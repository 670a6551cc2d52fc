//! Token endpoint throughput for the federated exchange (managed identity token →
//! `client_assertion` → Graph token): in process (the endpoint's logic alone) and over HTTP
//! on loopback with a keep-alive client. Target: ≥ 1,000 exchanges/s.

use std::collections::HashMap;

use divan::Bencher;
use ficus::sandbox::seed::{self, CONTOSO};
use ficus::sandbox::{Sandbox, SandboxConfig};

fn main() {
    divan::main();
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    form: HashMap<String, String>,
}

fn fixture() -> Fixture {
    ficus::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime
        .block_on(ficus::sandbox::start(SandboxConfig {
            auto_approve: None,
            ..SandboxConfig::default()
        }))
        .expect("sandbox");
    let (principal, _) = seed::identity_ids(CONTOSO, "id-payments");
    let assertion = sandbox
        .managed_identity_token(
            CONTOSO,
            &principal.to_string(),
            "api://AzureADTokenExchange",
        )
        .expect("mi token")
        .into_inner();
    let form: HashMap<String, String> = [
        ("grant_type", "client_credentials".to_string()),
        (
            "client_id",
            seed::app_ids(CONTOSO, "payments-api").1.to_string(),
        ),
        ("scope", "https://graph.microsoft.com/.default".to_string()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ),
        ("client_assertion", assertion),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Fixture {
        runtime,
        sandbox,
        form,
    }
}

/// The token endpoint's logic without HTTP: parse, match, verify, mint.
#[divan::bench]
fn exchange_in_process(bencher: Bencher) {
    let f = fixture();
    let headers = axum::http::HeaderMap::new();
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| {
            let body =
                ficus::sandbox::sts::token_inner(f.sandbox.state(), CONTOSO, &headers, &f.form)
                    .expect("exchange succeeds");
            divan::black_box(body);
        });
    f.runtime.block_on(f.sandbox.shutdown());
}

/// One exchange per iteration over HTTP on loopback (keep-alive client).
#[divan::bench]
fn exchange_over_http(bencher: Bencher) {
    bench_http_exchanges(bencher);
}

/// The floor: one RS256 signature with a tenant key (every exchange mints one token).
#[divan::bench]
fn rs256_sign_only(bencher: Bencher) {
    let material = ficus::sandbox::keys::generate_material().expect("key");
    let key = ficus::sandbox::keys::TenantKey::from_material(uuid::Uuid::nil(), &material)
        .expect("key parses");
    let input = vec![b'a'; 1200];
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| divan::black_box(key.sign(&input)));
}

/// Exchanges over HTTP from two client threads at once (the machine has two cores).
#[divan::bench(threads = 2)]
fn exchange_over_http_two_clients(bencher: Bencher) {
    bench_http_exchanges(bencher);
}

/// One exchange per iteration over HTTP on loopback (keep-alive client), on each bench thread.
fn bench_http_exchanges(bencher: Bencher) {
    let f = fixture();
    let client = f.sandbox.http_client().expect("client");
    let url = format!("{}/{CONTOSO}/oauth2/v2.0/token", f.sandbox.info.authority);
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| {
            f.runtime.block_on(async {
                let response = client
                    .post(&url)
                    .form(&f.form)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 200);
                divan::black_box(response.bytes().await.expect("body"));
            })
        });
    f.runtime.block_on(f.sandbox.shutdown());
}
