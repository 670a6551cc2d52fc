//! The console's cold listing of every app registration against a sandbox that answers each
//! request 150 ms late (`--faults latency=150`, roughly a real Graph round trip), for
//! `large:10000` and `large:100000` (issue 17).
//!
//! The cold listings run against `ficus sandbox` as a **child process** (loopback, plain
//! HTTP), so what this process spends is ficus's alone: each sample prints one
//! `cold_listing:` line to stderr with the wall time, the client's CPU time and peak memory
//! (`VmHWM`, reset before the sample through `/proc/self/clear_refs`), the sandbox's CPU time
//! (from `/proc/PID/stat`), the requests sent and the load average. The machine is shared, so
//! prefer the CPU times and request counts to the wall times.
//!
//! - `cold_two_phase`: the listing (rows with `$select` at 999 and FICs with
//!   `$select=id&$expand`, 100 a page, each in `displayName` ranges, both at once).
//! - `cold_one_phase_expand`: the previous design, every column with `$expand` in pages of 100
//!   (`ParallelListing { two_phase: false }`), the before figure.
//! - `console_sequential` (10k only: 100k takes minutes) and `select_sequential`: one
//!   `@odata.nextLink` chain, with `$expand` pages of 100 and with `$select` pages of 999.
//! - `warm_start`, `delta_refresh_100_changed`: the list cache (in-process sandbox).
//!
//! Before this round (in-process sandbox, 2 cores shared with six other helpers' builds, load
//! 6–12, release, medians): `console_sequential` 15.9 s (10k) / 2.6 min (100k);
//! `select_sequential` 1.7 s / 15.6 s; one-phase parallel 0.78 s / 6.9–7.5 s, peak RSS of the
//! whole process (sandbox included) 177 MB; `warm_start` 0.23 s / 0.72 s;
//! `delta_refresh_100_changed` 0.34 s / 0.92 s.
//!
//! Measured 2026-11-30 05:25 (child sandbox, release, load 8.2–9.6 on 2 shared cores; the
//! sandbox's Graph reads at cores − 1 = 1 at a time), 100k apps: one phase 7.9–9.1 s wall,
//! client CPU 0.58–0.67 s, sandbox CPU 2.7–3.0 s, client peak 31–36 MB, 1,033 requests;
//! two phases 12.1–16.4 s, client CPU 0.79–0.99 s, sandbox CPU 4.8–5.9 s, client peak
//! 70–74 MB, 1,160 requests. 10k: 0.69–0.75 s either way. Both are ~16 round trips deep
//! (1,000 `$expand` pages over 64 ranges = 2.4 s of latency); the rest is the emulator's CPU
//! (its range scans then went through every app, O(apps × ranges): see below), which on
//! real Graph is not on the client's cores.
//!
//! Issue 17, the sandbox's CPU per page (05:48 and 05:54 UTC, child sandbox, release, load
//! 3.4–5.5): the emulator's range listings now go through an index of applications by
//! `displayName` instead of scanning every app; one phase, 100k apps: sandbox CPU 2.86–2.95 s
//! -> 0.79–0.81 s, wall 5.39–5.78 s -> 4.65–4.86 s, same 1,033 requests; 10k: sandbox CPU
//! 0.15–0.19 s -> 0.06–0.08 s. Two phases, 100k (05:55 and 05:57, load 2.4–3.7): sandbox
//! CPU 5.09–5.41 s -> 0.69–0.81 s, wall 8.79–9.44 s -> 4.77–4.91 s, same 1,160 requests.
//!
//! Run: `cargo bench --bench cold_listing` (all), `cargo bench --bench cold_listing --
//! two_phase one_phase_expand` (the parallel listings only); `FICUS_BENCH_CHAINS=N` tries
//! other widths.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ficus::entra::graph::listing::{ListingReport, ParallelListing};
use ficus::entra::{GraphClient, Session};
use ficus::sandbox::{self, Faults, SandboxConfig, Seed};
use ficus::startup::session::Signed;

fn main() {
    let _reaper = Reaper;
    divan::main();
}

/// Each request waits this long in the sandbox first.
const LATENCY: Duration = Duration::from_millis(150);
const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// The child sandboxes, stopped when the benches end (or panic).
static CHILDREN: Mutex<Vec<Child>> = Mutex::new(Vec::new());

struct Reaper;

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in CHILDREN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `ficus sandbox --seed large:N --faults latency=150` as a child process, and a Graph client
/// signed in to it.
struct ChildSandbox {
    runtime: tokio::runtime::Runtime,
    pid: u32,
    graph: GraphClient,
    /// Every app registration of contoso (the large seed plus the demo apps).
    total: usize,
    graph_url: String,
    token: String,
    _state: tempfile::TempDir,
}

fn child_sandbox(apps: usize) -> &'static ChildSandbox {
    static CHILD_FIXTURES: OnceLock<Mutex<HashMap<usize, &'static ChildSandbox>>> = OnceLock::new();
    let mut map = CHILD_FIXTURES
        .get_or_init(Mutex::default)
        .lock()
        .expect("fixture lock");
    map.entry(apps)
        .or_insert_with(|| Box::leak(Box::new(start_child(apps))))
}

fn start_child(apps: usize) -> ChildSandbox {
    ficus::install_crypto_provider();
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--msi-listen",
            "127.0.0.1:0",
        ])
        .args(["--json", "--state"])
        .arg(state.path().join("sandbox.json"))
        .args(["--seed", &format!("large:{apps}")])
        .args(["--faults", &format!("latency={}", LATENCY.as_millis())])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ficus sandbox starts");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the sandbox says where it is");
    CHILDREN.lock().expect("children").push(child);
    let info: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    let authority = info["authority"].as_str().expect("authority").to_string();
    let graph_url = info["graph"].as_str().expect("graph").to_string();
    let tenant = info["tenants"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| t["name"].as_str() == Some(sandbox::seed::CONTOSO))
        })
        .and_then(|t| t["id"].as_str())
        .expect("contoso")
        .to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = reqwest::Client::builder().no_proxy().build().expect("http");
    let token = runtime.block_on(device_code_token(&http, &authority, &tenant));
    let mut config = ficus::entra::SessionConfig::new(
        ficus::cloud::Cloud::custom(&authority, &graph_url),
        tenant,
    );
    config.read_only = true;
    let credentials = ficus::entra::Credentials::new(
        ficus::entra::signin::TokenSet {
            access_token: ficus::secret::Secret::new(token.clone()),
            refresh_token: None,
            id_token: None,
            expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
            scope: None,
        },
        ficus::entra::signin::Renewal::Never {
            reason: "a bench token".into(),
        },
    );
    let graph = Session::new(config, credentials).expect("session").graph();
    let total = runtime.block_on(async {
        let answer = http
            .get(format!("{graph_url}/applications/$count"))
            .bearer_auth(&token)
            .header("ConsistencyLevel", "eventual")
            .send()
            .await
            .expect("count");
        answer
            .text()
            .await
            .expect("count")
            .trim()
            .parse()
            .expect("a number")
    });
    ChildSandbox {
        runtime,
        pid,
        graph,
        total,
        graph_url,
        token,
        _state: state,
    }
}

/// The demo admin's Graph token through the device code flow (the sandbox approves it).
async fn device_code_token(http: &reqwest::Client, authority: &str, tenant: &str) -> String {
    let started: serde_json::Value = http
        .post(format!("{authority}/{tenant}/oauth2/v2.0/devicecode"))
        .form(&[("client_id", AZURE_CLI), ("scope", GRAPH_DEFAULT)])
        .send()
        .await
        .expect("devicecode")
        .json()
        .await
        .expect("json");
    let code = started["device_code"].as_str().expect("device code");
    for _ in 0..100 {
        let answer: serde_json::Value = http
            .post(format!("{authority}/{tenant}/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", AZURE_CLI),
                ("device_code", code),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        if let Some(token) = answer["access_token"].as_str() {
            return token.to_string();
        }
        tokio::time::sleep(Duration::from_millis(550)).await;
    }
    panic!("the device code was never approved");
}

/// CPU seconds (user + system) of a process, from `/proc/PID/stat` (clock ticks of 1/100 s).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's peak resident memory in MB (`VmHWM`).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One parallel listing against the child sandbox, measured and printed.
fn measured_listing(f: &ChildSandbox, name: &str, options: ParallelListing) -> ListingReport {
    // Peak memory of this sample only: `5` resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let sandbox_pid = f.pid.to_string();
    let (client_cpu, sandbox_cpu) = (cpu_seconds("self"), cpu_seconds(&sandbox_pid));
    let started = Instant::now();
    let report = f
        .runtime
        .block_on(f.graph.list_parallel(options, |_| true))
        .expect("listed");
    let wall = started.elapsed();
    eprintln!(
        "cold_listing: {name} apps={}: wall {:.2} s, client CPU {:.2} s, sandbox CPU {:.2} s, client peak {:.0} MB, {} requests, {} row + {} FIC ranges, load {}",
        f.total,
        wall.as_secs_f64(),
        cpu_seconds("self") - client_cpu,
        cpu_seconds(&sandbox_pid) - sandbox_cpu,
        peak_mb(),
        report.requests,
        report.partitions,
        report.fic_partitions,
        load(),
    );
    report
}

fn options(two_phase: bool) -> ParallelListing {
    let mut options = ParallelListing {
        two_phase,
        ..ParallelListing::default()
    };
    if let Some(chains) = std::env::var("FICUS_BENCH_CHAINS")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        options.chains = chains;
    }
    options
}

/// The listing: rows and FICs in two phases at once, each in `displayName` ranges.
#[divan::bench(args = [10_000, 100_000], sample_count = 3, sample_size = 1)]
fn cold_two_phase(bencher: divan::Bencher, apps: usize) {
    let f = child_sandbox(apps);
    // Graph's (and the sandbox's) token bucket holds 3,500 resource units per 10 s for a small
    // tenant and one listing of 100k apps spends about 2,100: each sample starts with a full
    // bucket, as a console start does, instead of paying for the previous sample's spending.
    bencher
        .with_inputs(|| std::thread::sleep(Duration::from_secs(10)))
        .bench_local_values(|()| {
            let report = measured_listing(f, "two_phase", options(true));
            assert_eq!(report.listed, f.total, "every app listed once");
            report.listed
        });
}

/// The previous design: every column with `$expand`, pages of 100, in ranges.
#[divan::bench(args = [10_000, 100_000], sample_count = 2, sample_size = 1)]
fn cold_one_phase_expand(bencher: divan::Bencher, apps: usize) {
    let f = child_sandbox(apps);
    bencher
        .with_inputs(|| std::thread::sleep(Duration::from_secs(10)))
        .bench_local_values(|()| {
            let report = measured_listing(f, "one_phase_expand", options(false));
            assert_eq!(report.listed, f.total, "every app listed once");
            report.listed
        });
}

/// One chain of `$expand` pages (100 each): the console's listing before issue 17.
#[divan::bench(args = [10_000], sample_count = 1, sample_size = 1)]
fn console_sequential(bencher: divan::Bencher, apps: usize) {
    let f = child_sandbox(apps);
    bencher.bench_local(|| {
        let listed = f.runtime.block_on(async {
            let mut next = None;
            let mut listed = 0;
            loop {
                let (items, link) = f
                    .graph
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
    let f = child_sandbox(apps);
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    bencher.bench_local(|| {
        let listed = f.runtime.block_on(async {
            let mut url = format!(
                "{}/applications?$select=id,appId,displayName&$top=999",
                f.graph_url
            );
            let mut listed = 0;
            loop {
                let page: Page = http
                    .get(&url)
                    .bearer_auth(&f.token)
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

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: sandbox::Sandbox,
    signed: Signed,
    /// Every app registration in the tenant (the large seed plus the demo apps).
    total: usize,
}

/// One in-process sandbox per seed size (the list cache benches change its state directly).
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
