//! What durability costs: the latency of one acknowledged Graph write (a FIC create, then its
//! delete) against a sandbox with a state file on disk, and the start time of a sandbox whose
//! state file holds `--seed large:100000`.
//!
//! The state lives under Cargo's target tmp directory (a real disk, not tmpfs), since an
//! fsync on tmpfs costs nothing and would hide what is measured.
//!
//! Run: `cargo bench --bench sandbox_durability`.

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::Bencher;
use divan::counter::ItemsCount;
use ficus::sandbox::seed::{self, CONTOSO, Seed};
use ficus::sandbox::{Sandbox, SandboxConfig, start};

fn main() {
    divan::main();
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sandbox-durability-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    _sandbox: Sandbox,
    http: reqwest::Client,
    token: String,
    fics: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        ficus::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let state = scratch("writes").join("sandbox.json");
        let sandbox = runtime
            .block_on(start(SandboxConfig {
                state_file: Some(state),
                ..SandboxConfig::default()
            }))
            .expect("sandbox starts");
        let token = sandbox
            .sign_in(
                CONTOSO,
                seed::DEMO_ADMIN,
                "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                &["https://graph.microsoft.com/.default"],
            )
            .expect("sign-in")
            .access_token
            .expose()
            .clone();
        let app_id = seed::app_ids(CONTOSO, "billing-worker").1;
        let fics = format!(
            "{}/applications(appId='{app_id}')/federatedIdentityCredentials",
            sandbox.info.graph
        );
        Fixture {
            runtime,
            _sandbox: sandbox,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("http client"),
            token,
            fics,
        }
    })
}

/// One FIC create (201) and its delete (204): two acknowledged writes.
#[divan::bench(sample_count = 200)]
fn create_and_delete_fic(bencher: Bencher) {
    let f = fixture();
    bencher.counter(ItemsCount::new(2usize)).bench(|| {
        f.runtime.block_on(async {
            let name = format!("bench-{}", uuid::Uuid::new_v4().simple());
            let created = f
                .http
                .post(&f.fics)
                .bearer_auth(&f.token)
                .json(&serde_json::json!({
                    "name": name,
                    "issuer": "https://token.actions.githubusercontent.com",
                    "subject": format!("repo:contoso/{name}:ref:refs/heads/main"),
                    "audiences": ["api://AzureADTokenExchange"],
                }))
                .send()
                .await
                .expect("create");
            assert_eq!(created.status(), 201);
            let deleted = f
                .http
                .delete(format!("{}/{name}", f.fics))
                .bearer_auth(&f.token)
                .send()
                .await
                .expect("delete");
            assert_eq!(deleted.status(), 204);
        })
    });
}

/// Start (load) a sandbox whose state file holds 100,000 apps, then stop it.
#[divan::bench(sample_count = 5)]
fn start_large_100k(bencher: Bencher) {
    static STATE: OnceLock<PathBuf> = OnceLock::new();
    ficus::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let state = STATE.get_or_init(|| {
        let state = scratch("large").join("sandbox.json");
        let sandbox = runtime
            .block_on(start(SandboxConfig {
                state_file: Some(state.clone()),
                seed: Seed::Large(100_000),
                ..SandboxConfig::default()
            }))
            .expect("seeds");
        runtime.block_on(sandbox.shutdown());
        state
    });
    bencher.bench_local(|| {
        let sandbox = runtime
            .block_on(start(SandboxConfig {
                state_file: Some(state.clone()),
                ..SandboxConfig::default()
            }))
            .expect("starts");
        runtime.block_on(sandbox.shutdown());
    });
}
