//! The console's cold listing of every app registration against a sandbox that answers each
//! request 150 ms late (`--faults latency=150`, roughly a real Graph round trip), for
//! `large:10000` and `large:100000` (issue 17). The sandbox runs in-process, as the other
//! benches do; the machine is shared with other builds, so figures are noisy.
//!
//! - `console_sequential`: today's listing, `@odata.nextLink` followed one page at a time with
//!   `$select` + `$expand=federatedIdentityCredentials` (the console's `apps_page`), now that
//!   the sandbox pages `$expand` at 100 as Graph does.
//! - `select_sequential`: one chain of `$select` pages at 999 without FICs: the page count
//!   today's listing had while the sandbox served `$expand` 999 at a time (the 17.4 s).
//! - `console_parallel`: the new listing (`displayName` ranges paged in parallel with FICs).
//! - `warm_start`: the cached lists (written by a cold start once) reloaded and brought up to
//!   date through their delta link, nothing changed meanwhile.
//! - `delta_refresh_100_changed`: the same after 100 apps changed behind ficus's back.
//!
//! Measured 2026-11-30 (2 cores shared with six other helpers' builds, load 6–12), release,
//! medians: `console_sequential` 15.9 s (10k) / 2.6 min (100k); `select_sequential` 1.7 s /
//! 15.6 s; `console_parallel` 0.78 s / 6.9–7.5 s; `warm_start` 0.23 s / 0.72 s;
//! `delta_refresh_100_changed` 0.34 s / 0.92 s. Peak RSS of the whole process (both sandboxes
//! in it) while listing 100k in parallel: 177 MB.
//!
//! Run: `cargo bench --bench cold_listing` (`FICUS_BENCH_CHAINS=N` to try other widths).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ficus::sandbox::{self, Faults, SandboxConfig, Seed};
use ficus::startup::session::Signed;

fn main() {
    divan::main();
}

/// Each request waits this long in the sandbox first.
const LATENCY: Duration = Duration::from_millis(150);

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: sandbox::Sandbox,
    signed: Signed,
    /// Every app registration in the tenant (the large seed plus the demo apps).
    total: usize,
}

/// One sandbox per seed size, started once (seeding 100k apps takes seconds).
fn fixture(apps: usize) -> &'static Fixture {
    static FIXTURES: OnceLock<Mutex<HashMap<usize, &'static Fixture>>> = OnceLock::new();
    let mut map = FIXTURES
        .get_or_init(Mutex::default)
        .lock()
        .expect("fixture lock");
    map.entry(apps).or_insert_with(|| {
        ficus::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = runtime
            .block_on(sandbox::start(SandboxConfig {
                seed: Seed::Large(apps),
                faults: Faults {
                    latency: Some(LATENCY),
                    ..Faults::default()
                },
                ..SandboxConfig::default()
            }))
            .expect("sandbox");
        let total = sandbox
            .state()
            .read(|dir| dir.tenants.iter().map(|t| t.applications.len()).max())
            .unwrap_or(0);
        let signed =
            ficus::startup::sandbox::sandbox_signed(&sandbox, sandbox::seed::DEMO_ADMIN, true)
                .expect("signed in to the sandbox");
        Box::leak(Box::new(Fixture {
            runtime,
            sandbox,
            signed,
            total,
        }))
    })
}

/// Today's console listing: one chain of `$expand` pages.
#[divan::bench(args = [10_000, 100_000], sample_count = 1, sample_size = 1)]
fn console_sequential(bencher: divan::Bencher, apps: usize) {
    let f = fixture(apps);
    let graph = f.signed.session.graph();
    bencher.bench_local(|| {
        let listed = f.runtime.block_on(async {
            let mut next = None;
            let mut listed = 0;
            loop {
                let (items, link) = graph
                    .console_apps_page_light(next.take())
                    .await
                    .expect("page");
                listed += items.len();
                match link {
                    Some(link) => next = Some(link),
                    None => break listed,
                }
            }
        });
        assert_eq!(listed, f.total, "every app listed once");
        listed
    });
}

/// One chain of 999-object `$select` pages (no FIC counts), over plain HTTP.
#[divan::bench(args = [10_000, 100_000], sample_count = 1, sample_size = 1)]
fn select_sequential(bencher: divan::Bencher, apps: usize) {
    #[derive(serde::Deserialize)]
    struct Page {
        value: Vec<serde::de::IgnoredAny>,
        #[serde(rename = "@odata.nextLink")]
        next: Option<String>,
    }
    let f = fixture(apps);
    let http = f.sandbox.http_client().expect("http client");
    let session = &f.signed.session;
    let token = f
        .runtime
        .block_on(session.credentials.access_token(&session.http))
        .expect("token");
    bencher.bench_local(|| {
        let listed = f.runtime.block_on(async {
            let mut url = format!(
                "{}/applications?$select=id,appId,displayName&$top=999",
                f.sandbox.info.graph
            );
            let mut listed = 0;
            loop {
                let page: Page = http
                    .get(&url)
                    .bearer_auth(token.expose())
                    .send()
                    .await
                    .expect("answered")
                    .json()
                    .await
                    .expect("a page");
                listed += page.value.len();
                match page.next {
                    Some(next) => url = next,
                    None => break listed,
                }
            }
        });
        assert_eq!(listed, f.total, "every app listed once");
        listed
    });
}

/// The new listing: ranges of names paged in parallel, FIC counts included.
/// `FICUS_BENCH_CHAINS=N` overrides the chains in flight (default 48).
#[divan::bench(args = [10_000, 100_000], sample_count = 3, sample_size = 1)]
fn console_parallel(bencher: divan::Bencher, apps: usize) {
    let f = fixture(apps);
    let graph = f.signed.session.graph();
    let mut options = ficus::entra::graph::listing::ParallelListing::default();
    if let Some(chains) = std::env::var("FICUS_BENCH_CHAINS")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        options.chains = chains;
    }
    // Graph's (and the sandbox's) token bucket holds 3,500 resource units per 10 s for a small
    // tenant and one listing of 100k apps spends about 2,000: each sample starts with a full
    // bucket, as a console start does, instead of paying for the previous sample's spending.
    bencher
        .with_inputs(|| std::thread::sleep(Duration::from_secs(10)))
        .bench_local_values(|()| {
            let report = f
                .runtime
                .block_on(graph.list_parallel(options, |_| true))
                .expect("listed");
            assert_eq!(report.listed, f.total, "every app listed once");
            report.listed
        });
}

/// A list cache of the whole tenant, written once per fixture by a cold start.
fn cache_dir(f: &Fixture, apps: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ficus-bench-lists-{}-{apps}", std::process::id()));
    if ficus::entra::list_cache::ListCache::load(&dir, &f.signed.session.tenant)
        .ok()
        .flatten()
        .is_none()
    {
        let graph = f.signed.session.graph();
        f.runtime
            .block_on(ficus::entra::list_cache::open_apps(
                &graph,
                &dir,
                &f.signed.session.tenant,
                |_| true,
            ))
            .expect("cold start writes the cache");
    }
    dir
}

/// Cache read, delta replayed (no changes), the full list in hand.
#[divan::bench(args = [10_000, 100_000], sample_count = 5, sample_size = 1)]
fn warm_start(bencher: divan::Bencher, apps: usize) {
    let f = fixture(apps);
    let dir = cache_dir(f, apps);
    let graph = f.signed.session.graph();
    bencher.bench_local(|| {
        let (cache, start) = f
            .runtime
            .block_on(ficus::entra::list_cache::open_apps(
                &graph,
                &dir,
                &f.signed.session.tenant,
                |_| true,
            ))
            .expect("warm start");
        assert!(
            matches!(start, ficus::entra::list_cache::Start::Warm { .. }),
            "{start:?}"
        );
        assert_eq!(cache.apps.len(), f.total);
        cache.apps.len()
    });
}

/// 100 apps changed since the cache was saved: the refresh fetches just those.
#[divan::bench(args = [10_000, 100_000], sample_count = 5, sample_size = 1)]
fn delta_refresh_100_changed(bencher: divan::Bencher, apps: usize) {
    let f = fixture(apps);
    let dir = cache_dir(f, apps);
    let graph = f.signed.session.graph();
    let tenant = f.signed.session.tenant.clone();
    let mut round = 0u32;
    bencher
        .with_inputs(|| {
            round += 1;
            let mut cache = ficus::entra::list_cache::ListCache::load(&dir, &tenant)
                .expect("readable")
                .expect("saved");
            // A fresh link, then 100 changes after it.
            cache.apps_delta_link =
                Some(f.runtime.block_on(graph.apps_delta_latest()).expect("link"));
            f.sandbox.state().update(|d| {
                let t = d.tenant_mut(sandbox::seed::CONTOSO).expect("contoso");
                for app in t.applications.values_mut().take(100) {
                    app.identifier_uris = vec![format!("api://bench-{round}-{}", app.id)];
                }
            });
            cache
        })
        .bench_local_values(|mut cache| {
            let outcome = f
                .runtime
                .block_on(cache.refresh(&graph))
                .expect("refreshed");
            assert_eq!(
                outcome,
                ficus::entra::list_cache::Refresh::Applied {
                    changed: 100,
                    removed: 0
                }
            );
            cache.apps.len()
        });
}
