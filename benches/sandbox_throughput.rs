//! Issue 12's throughput figures, over HTTP on loopback:
//!
//! - federated exchanges per second (managed identity token → `client_assertion` → Graph
//!   token) with 1 and 4 concurrent clients (goal: ≥ 1,000/s and ≥ 2,000/s);
//! - the IMDS endpoint's latency while four listers read a `large:100000` tenant sorted with
//!   `$orderby` (goal: p99 < 20 ms), and idle for comparison. Divan reports the median and
//!   mean; the bench prints p50/p99/max itself.
//!
//! Run: `cargo bench --bench sandbox_throughput`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use divan::Bencher;
use divan::counter::ItemsCount;
use ficus::sandbox::seed::{self, CONTOSO, Seed};
use ficus::sandbox::{Sandbox, SandboxConfig};

fn main() {
    divan::main();
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime")
}

fn start(runtime: &tokio::runtime::Runtime, seed: Seed) -> Sandbox {
    ficus::install_crypto_provider();
    runtime
        .block_on(ficus::sandbox::start(SandboxConfig {
            auto_approve: None,
            seed,
            ..SandboxConfig::default()
        }))
        .expect("sandbox")
}

// ---------------------------------------------------------------------------------------------
// exchanges per second

/// The exchange's form: payments-api with id-payments' managed identity token.
fn exchange_form(sandbox: &Sandbox) -> HashMap<String, String> {
    let (principal, _) = seed::identity_ids(CONTOSO, "id-payments");
    let assertion = sandbox
        .managed_identity_token(
            CONTOSO,
            &principal.to_string(),
            "api://AzureADTokenExchange",
        )
        .expect("mi token")
        .into_inner();
    [
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
    .collect()
}

/// `clients` exchanges at once per iteration, each from a client of its own (its own
/// keep-alive connection), so the items per second divan reports are the total over all
/// clients. The sandbox serves from a runtime of its own.
fn exchanges(bencher: Bencher, clients: usize) {
    let server = runtime(2);
    let sandbox = start(&server, Seed::Demo);
    let form = exchange_form(&sandbox);
    let url = format!("{}/{CONTOSO}/oauth2/v2.0/token", sandbox.info.authority);
    let pool: Vec<reqwest::Client> = (0..clients)
        .map(|_| sandbox.http_client().expect("client"))
        .collect();
    let caller = runtime(2);
    bencher.counter(ItemsCount::new(clients)).bench_local(|| {
        caller.block_on(futures_util::future::join_all(pool.iter().map(
            |client| async {
                let response = client.post(&url).form(&form).send().await.expect("request");
                assert_eq!(response.status(), 200);
                divan::black_box(response.bytes().await.expect("body"));
            },
        )))
    });
    server.block_on(sandbox.shutdown());
}

/// One client: exchanges/s (goal ≥ 1,000).
#[divan::bench(sample_count = 100, sample_size = 20)]
fn exchanges_one_client(bencher: Bencher) {
    exchanges(bencher, 1);
}

/// Four concurrent clients: exchanges/s over all four (goal ≥ 2,000).
#[divan::bench(sample_count = 100, sample_size = 20)]
fn exchanges_four_clients(bencher: Bencher) {
    exchanges(bencher, 4);
}

// ---------------------------------------------------------------------------------------------
// IMDS latency under Graph load

const LARGE: usize = 100_000;
const IMDS_SAMPLES: u32 = 2_000;

/// The latencies one bench observed; p50/p99/max printed when it ends.
struct Latencies {
    label: &'static str,
    seen: Mutex<Vec<Duration>>,
}

impl Latencies {
    fn new(label: &'static str) -> Latencies {
        Latencies {
            label,
            seen: Mutex::new(Vec::with_capacity(IMDS_SAMPLES as usize)),
        }
    }

    fn record(&self, took: Duration) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(took);
        }
    }

    fn report(&self, extra: &str) {
        let mut seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        seen.sort();
        let at = |q: f64| {
            let i = ((seen.len() as f64 - 1.0) * q).round() as usize;
            seen.get(i)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(f64::NAN)
        };
        println!(
            "{}: {} IMDS requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms{extra}",
            self.label,
            seen.len(),
            at(0.50),
            at(0.99),
            at(1.0),
        );
    }
}

/// A page as the listers read it: where the next one is; the apps are skipped over.
#[derive(serde::Deserialize)]
struct Page {
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "value")]
    _value: serde::de::IgnoredAny,
}

struct ImdsFixture {
    server: tokio::runtime::Runtime,
    sandbox: Sandbox,
    url: String,
    client: reqwest::Client,
}

fn imds_fixture(seed: Seed) -> ImdsFixture {
    let server = runtime(2);
    let sandbox = start(&server, seed);
    let (_, client_id) = seed::identity_ids(CONTOSO, "id-payments");
    let url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://AzureADTokenExchange&client_id={client_id}",
        sandbox.info.imds
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    ImdsFixture {
        server,
        sandbox,
        url,
        client,
    }
}

/// How often the IMDS client asks: paced like a busy workload (not back to back), so that the
/// measurement spans many of the listers' sorted pages.
const IMDS_PACE: Duration = Duration::from_millis(5);

/// One IMDS token request per iteration from a client runtime of its own, timed; the pause
/// before each one is not (it is divan's untimed input).
fn imds_requests(bencher: Bencher, fixture: &ImdsFixture, latencies: &Latencies) {
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bencher
        .counter(ItemsCount::new(1usize))
        .with_inputs(|| std::thread::sleep(IMDS_PACE))
        .bench_local_values(|()| {
            let started = Instant::now();
            caller.block_on(async {
                let response = fixture
                    .client
                    .get(&fixture.url)
                    .header("Metadata", "true")
                    .send()
                    .await
                    .expect("imds");
                assert_eq!(response.status(), 200);
                divan::black_box(response.bytes().await.expect("body"));
            });
            latencies.record(started.elapsed());
        });
}

/// IMDS alone, for comparison.
#[divan::bench(sample_count = IMDS_SAMPLES, sample_size = 1)]
fn imds_idle(bencher: Bencher) {
    let fixture = imds_fixture(Seed::Demo);
    let latencies = Latencies::new("imds_idle");
    imds_requests(bencher, &fixture, &latencies);
    latencies.report("");
    fixture.server.block_on(fixture.sandbox.shutdown());
}

/// IMDS while four listers page through 100,000 apps sorted by display name (goal p99 < 20 ms).
#[divan::bench(sample_count = IMDS_SAMPLES, sample_size = 1)]
fn imds_while_four_sorted_listers_read_large_100000(bencher: Bencher) {
    let fixture = imds_fixture(Seed::Large(LARGE));
    let token = fixture
        .sandbox
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
    let list = format!(
        "{}/applications?$orderby=displayName desc&$count=true&$top=999&$select=id,appId,displayName",
        fixture.sandbox.info.graph
    );
    // The listers: a runtime of their own (another process, as far as the sandbox can tell),
    // each reading sorted pages to the end and starting over until the bench ends. They skip
    // over the apps without building them (the sandbox's work is what is measured, not theirs).
    let listers = runtime(1);
    let stop = Arc::new(AtomicBool::new(false));
    let pages = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (http, list, token) = (fixture.client.clone(), list.clone(), token.clone());
            let (stop, pages) = (stop.clone(), pages.clone());
            listers.spawn(async move {
                let mut url = list.clone();
                while !stop.load(Ordering::Relaxed) {
                    let page: Page = http
                        .get(&url)
                        .bearer_auth(&token)
                        .header("ConsistencyLevel", "eventual")
                        .send()
                        .await
                        .expect("list")
                        .error_for_status()
                        .expect("list is 200")
                        .json()
                        .await
                        .expect("page");
                    pages.fetch_add(1, Ordering::Relaxed);
                    url = page.next_link.unwrap_or_else(|| list.clone());
                }
            })
        })
        .collect();
    // Wait until every lister is reading before measuring.
    while pages.load(Ordering::Relaxed) < 4 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let latencies = Latencies::new("imds_while_four_sorted_listers_read_large_100000");
    let before = pages.load(Ordering::Relaxed);
    let started = Instant::now();
    imds_requests(bencher, &fixture, &latencies);
    let read = pages.load(Ordering::Relaxed) - before;
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    listers.block_on(async {
        for task in tasks {
            let _ = task.await;
        }
    });
    latencies.report(&format!(
        " (listers read {read} sorted pages of 999 meanwhile, {:.1} pages/s)",
        read as f64 / secs
    ));
    fixture.server.block_on(fixture.sandbox.shutdown());
}
