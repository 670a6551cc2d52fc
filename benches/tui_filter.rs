//! The console with 100 000 apps loaded: one filter keystroke (the worst case, a full re-scan
//! with fuzzy text), one keystroke that narrows, a facet filter, and drawing one 200×60 frame.
//! Before the benchmarks run, the memory taken by loading the 100 000 apps is printed.
//!
//! `cargo bench --bench tui_filter`

use std::hint::black_box;

use divan::Bencher;
use ficus::tui::filter::Listing;
use ficus::tui::keymap::Keymap;
use ficus::tui::model::{AppRow, Audience, Credential, CredentialKind};
use ficus::tui::msg::{Msg, Session};
use ficus::tui::theme::Themes;
use ficus::tui::{State, update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::{Duration, OffsetDateTime};

const APPS: usize = 100_000;
const PAGE: usize = 999;

const WORDS: &[&str] = &[
    "payments",
    "billing",
    "inventory",
    "reporting",
    "orders",
    "catalog",
    "search",
    "ledger",
    "shipping",
    "identity",
    "partner",
    "gateway",
    "worker",
    "portal",
    "sync",
    "api",
    "export",
    "analytics",
    "mobile",
    "backend",
    "frontend",
    "legacy",
    "crm",
    "hr",
    "audit",
    "vault",
];

fn synthetic_apps(now: OffsetDateTime) -> Vec<AppRow> {
    (0..APPS)
        .map(|i| {
            let a = WORDS[i % WORDS.len()];
            let b = WORDS[(i / WORDS.len()) % WORDS.len()];
            let c = WORDS[(i / 7 + 3) % WORDS.len()];
            AppRow {
                object_id: format!("{:08x}-0000-4000-8000-{:012x}", i, i * 7),
                app_id: format!("{:08x}-1111-4000-8000-{:012x}", i, i * 13),
                name: format!("{a}-{b}-{c}-{i}"),
                fic_count: Some(i % 4),
                fic_subjects: None,
                credentials: (0..(i % 3))
                    .map(|k| Credential {
                        kind: if k == 0 {
                            CredentialKind::Secret
                        } else {
                            CredentialKind::Certificate
                        },
                        name: format!("cred-{k}"),
                        key_id: format!("{:08x}-2222-4000-8000-{:012x}", i, k),
                        expires: Some(now + Duration::days((i % 800) as i64 - 100)),
                    })
                    .collect(),
                audience: if i % 10 == 0 {
                    Audience::Multi
                } else {
                    Audience::Single
                },
            }
        })
        .collect()
}

fn loaded_state() -> State {
    let now = OffsetDateTime::now_utc();
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", now);
    state.session = Some(Session {
        tenant: "contoso (contoso.onmicrosoft.com)".into(),
        tenant_id: "00000000-0000-0000-0000-000000000001".into(),
        cloud: "sandbox".into(),
        user: "admin@contoso.onmicrosoft.com".into(),
        read_only: false,
        graph_base: "https://graph.microsoft.com/v1.0".into(),
        cloud_endpoints: ficus::cloud::Cloud::global(),
        known_tenants: vec!["contoso".into()],
    });
    let commands = ficus::tui::update::start_console(&mut state);
    drop(commands);
    let request = state.apps.request;
    let apps = synthetic_apps(now);
    let pages = apps.chunks(PAGE).count();
    for (n, page) in apps.chunks(PAGE).enumerate() {
        update(
            &mut state,
            Msg::AppsPage {
                request,
                rows: page.to_vec(),
                page: n + 1,
                done: n + 1 == pages,
            },
        );
    }
    assert_eq!(state.apps.len(), APPS);
    state
}

fn listing() -> Listing<AppRow> {
    let now = OffsetDateTime::now_utc();
    let mut listing = Listing::new();
    listing.extend(synthetic_apps(now), now);
    listing
}

fn kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let before = kib("VmRSS:").unwrap_or(0);
    let state = loaded_state();
    let after = kib("VmRSS:").unwrap_or(0);
    let peak = kib("VmHWM:").unwrap_or(0);
    eprintln!(
        "memory: {APPS} apps loaded through update(): RSS {} MiB -> {} MiB (+{} MiB), peak RSS {} MiB",
        before / 1024,
        after / 1024,
        after.saturating_sub(before) / 1024,
        peak / 1024
    );
    drop(black_box(state));
    divan::main();
}

/// Worst case: the text changes so that nothing can be narrowed, every name is matched again.
#[divan::bench(sample_count = 30)]
fn keystroke_full_rescan(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let mut listing = listing();
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        listing.set_query(if flip { "pa" } else { "pb" }, now);
        black_box(listing.visible_len())
    });
}

/// A full re-scan whose matches are few enough (≤ `RANK_LIMIT`) to be ranked by nucleo's
/// score: the scan plus scoring every match.
#[divan::bench(sample_count = 30)]
fn keystroke_full_rescan_ranked(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let mut listing = listing();
    let queries = ["hr-po", "crm-po"];
    for query in queries {
        listing.set_query(query, now);
        let matches = listing.visible_len();
        assert!(
            (1_000..=ficus::tui::filter::RANK_LIMIT).contains(&matches),
            "{query:?} should match between 1000 and RANK_LIMIT apps, matched {matches}"
        );
    }
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        listing.set_query(queries[usize::from(flip)], now);
        black_box(listing.visible_len())
    });
}

/// The common case: one more character narrows the previous matches.
#[divan::bench(sample_count = 10)]
fn keystroke_narrowing(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    bencher
        .with_inputs(|| {
            let mut listing = listing();
            listing.set_query("pay", now);
            listing
        })
        .bench_local_refs(|listing| {
            listing.set_query("payb", now);
            black_box(listing.visible_len())
        });
}

#[divan::bench(sample_count = 30)]
fn keystroke_facet(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let mut listing = listing();
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        listing.set_query(if flip { "expires:<30d" } else { "fic:0" }, now);
        black_box(listing.visible_len())
    });
}

#[divan::bench(sample_count = 50)]
fn draw_frame_200x60(bencher: Bencher) {
    let mut state = loaded_state();
    state.size = (200, 60);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    let mut down = true;
    bencher.bench_local(|| {
        // Move the cursor each frame so every draw has something new to show.
        state.apps.move_cursor(if down { 1 } else { -1 });
        down = !down;
        terminal
            .draw(|frame| views::draw(frame, &state))
            .expect("draws");
    });
}
