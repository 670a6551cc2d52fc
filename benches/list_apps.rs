//! Listing 100k app registrations through the Graph client from a `large:100000` sandbox
//! (999 per page, `@odata.nextLink` followed verbatim, FICs expanded), as `ficus apps` does.
//!
//! Measured 2026-11-25 (2 cores shared with other builds, load 7–9), release:
//! `list_all_apps` median 1.03 s, `apps_json_to_sink` median 1.48 s (sandbox in-process).
//! `ficus apps --json > /dev/null` against a separate `ficus sandbox --seed large:100000 --tls`:
//! 2.55–3.4 s elapsed (client CPU ≈ 0.5 s; the rest is the sandbox building 101 pages), peak RSS
//! 17 MB.
//!
//! Run: `cargo bench --bench list_apps`. The sandbox is started once (seeding 100k apps takes a
//! while) and each sample lists the whole tenant.

use ficus::commands;
use ficus::sandbox::{self, SandboxConfig, Seed};

fn main() {
    divan::main();
}

const APPS: usize = 100_000;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    _sandbox: sandbox::Sandbox,
    context: commands::Context,
}

fn fixture() -> Fixture {
    ficus::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime
        .block_on(sandbox::start(SandboxConfig {
            seed: Seed::Large(APPS),
            ..SandboxConfig::default()
        }))
        .expect("sandbox");
    let context = ficus::commands::Context::new(
        ficus::startup::sandbox::sandbox_signed(&sandbox, sandbox::seed::DEMO_ADMIN, true)
            .expect("signed in to the sandbox"),
        true,
    );
    Fixture {
        runtime,
        _sandbox: sandbox,
        context,
    }
}

/// Every app, collected into one `Vec` (what the console holds).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn list_all_apps(bencher: divan::Bencher) {
    let f = fixture();
    let graph = f.context.session.graph();
    bencher.bench_local(|| {
        let apps = f.runtime.block_on(graph.list_all_apps()).expect("listed");
        assert!(apps.len() >= APPS, "{} apps", apps.len());
        apps.len()
    });
}

/// `ficus apps --json` into a sink: streamed page by page.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn apps_json_to_sink(bencher: divan::Bencher) {
    let f = fixture();
    let command = ficus::commands::Command::Apps { filter: None };
    bencher.bench_local(|| {
        let mut sink = std::io::sink();
        f.runtime
            .block_on(commands::execute(&f.context, &command, &mut sink))
            .expect("listed");
    });
}
