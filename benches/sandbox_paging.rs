//! Paging through a 100,000-app tenant over HTTP with `$top=999`, as the console does when it
//! loads the app list: one in-process sandbox (`--seed large:100000`), a reqwest client that
//! follows `@odata.nextLink` to the end. Reported as apps per second (target: ≥ 50,000).
//!
//! Run: `cargo bench --bench sandbox_paging`.

use std::sync::OnceLock;

use divan::Bencher;
use divan::counter::ItemsCount;
use ficus::sandbox::seed::Seed;
use ficus::sandbox::{Sandbox, SandboxConfig, start};
use serde::Deserialize;
use serde::de::IgnoredAny;

const APPS: usize = 100_000;
/// The columns the console's app list asks for.
const CONSOLE_SELECT: &str =
    "id,appId,displayName,signInAudience,createdDateTime,passwordCredentials,keyCredentials";

fn main() {
    divan::main();
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    http: reqwest::Client,
    token: String,
    /// Every app registration in the tenant (the large seed plus the demo apps).
    total: usize,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        ficus::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let sandbox = runtime
            .block_on(start(SandboxConfig {
                seed: Seed::Large(APPS),
                ..SandboxConfig::default()
            }))
            .expect("sandbox with 100k apps starts");
        let token = sandbox
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
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        let mut fixture = Fixture {
            runtime,
            sandbox,
            http,
            token,
            total: 0,
        };
        let total = fixture.runtime.block_on(page_all(&fixture, "$select=id"));
        assert!(
            total >= APPS,
            "the large seed holds {APPS} apps, paged {total}"
        );
        fixture.total = total;
        fixture
    })
}

#[derive(Deserialize)]
struct PageBody {
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    value: Vec<IgnoredAny>,
}

/// Follows `@odata.nextLink` from the first page to the last; returns the number of apps.
async fn page_all(fixture: &Fixture, select: &str) -> usize {
    let mut url = format!(
        "{}/applications?$top=999&{select}",
        fixture.sandbox.info.graph
    );
    let mut seen = 0;
    loop {
        let bytes = fixture
            .http
            .get(&url)
            .bearer_auth(&fixture.token)
            .send()
            .await
            .expect("page answered")
            .error_for_status()
            .expect("page is 200")
            .bytes()
            .await
            .expect("page body");
        let page: PageBody = serde_json::from_slice(&bytes).expect("page is JSON");
        seen += page.value.len();
        match page.next_link {
            Some(next) => url = next,
            None => return seen,
        }
    }
}

/// The console's list query: a handful of columns.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn console_columns(bencher: Bencher) {
    let fixture = fixture();
    let select = format!("$select={CONSOLE_SELECT}");
    bencher
        .counter(ItemsCount::new(fixture.total))
        .bench(|| fixture.runtime.block_on(page_all(fixture, &select)));
}

/// Every property of every app (no `$select`): the heaviest page Graph serves.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn all_properties(bencher: Bencher) {
    let fixture = fixture();
    bencher
        .counter(ItemsCount::new(fixture.total))
        .bench(|| fixture.runtime.block_on(page_all(fixture, "")));
}
