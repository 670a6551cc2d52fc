//! The console's warm start (issue 17) with a cache of a `large:100000` tenant (and 10,000),
//! the sandbox answering each request 150 ms late (`--faults latency=150`, roughly a real
//! Graph round trip): the real Graph-backed directory, the real effects runner and `update`,
//! frames drawn on a 200×60 test terminal, from the sign-in (the session is already made, as
//! with a valid token cache) to:
//!
//! - `to_full_list`: the first frame that shows the whole list, usable (from the cache: no
//!   request is waited for, so it must stay well under the 150 ms one round trip costs);
//! - `to_refreshed`: the frame after the delta refresh behind it landed (nothing changed);
//! - `cached_rows_*`: the console's speed on the 100,000 rows the cache gave, after a delta
//!   changed 100 of them (renamed, one FIC more) and removed 10: a filter keystroke that
//!   re-scans every row, one that narrows, and a 200×60 frame.
//!
//! Before the benchmarks, one start is broken down (`FICUS_BENCH_QUIET=1` hides it): the first
//! frame (drawn before any answer, as the terminal loop does), when the
//! cached rows arrived, when their frame was drawn, when the refresh landed; and the cache
//! file's size and read time.
//!
//! Run: `cargo bench --bench warm_start`. The machine may be shared: read the figures with
//! the load (`uptime`) beside them.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ficus::sandbox::{self, Faults, SandboxConfig, Seed};
use ficus::tui::effects;
use ficus::tui::filter::Load;
use ficus::tui::keymap::Keymap;
use ficus::tui::msg::{Cmd, Msg};
use ficus::tui::screens::lists::CacheMarker;
use ficus::tui::theme::Themes;
use ficus::tui::{Connector, GraphDirectory, State, update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const LATENCY: Duration = Duration::from_millis(150);

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: Arc<sandbox::Sandbox>,
    cache_dir: tempfile::TempDir,
    tenant_id: String,
    total: usize,
}

fn fixture(apps: usize) -> &'static Fixture {
    static TEN: OnceLock<Fixture> = OnceLock::new();
    static HUNDRED: OnceLock<Fixture> = OnceLock::new();
    let cell = if apps >= 100_000 { &HUNDRED } else { &TEN };
    cell.get_or_init(|| {
        ficus::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = Arc::new(
            runtime
                .block_on(sandbox::start(SandboxConfig {
                    seed: Seed::Large(apps),
                    faults: Faults {
                        latency: Some(LATENCY),
                        ..Faults::default()
                    },
                    ..SandboxConfig::default()
                }))
                .expect("sandbox"),
        );
        let total = sandbox
            .state()
            .read(|dir| dir.tenants.iter().map(|t| t.applications.len()).max())
            .unwrap_or(0);
        let cache_dir = tempfile::tempdir().expect("temp dir");
        let connected = connected(&sandbox, cache_dir.path());
        let tenant_id = connected.info.tenant_id.clone();
        // One cold start writes the cache the warm starts read.
        let graph = connected.session.graph();
        let (cache, _) = runtime
            .block_on(ficus::entra::list_cache::open_apps(
                &graph,
                &cache_dir.path().join("lists"),
                &tenant_id,
                |_| true,
            ))
            .expect("cold start writes the cache");
        assert_eq!(cache.apps.len(), total, "the cache holds every app");
        Fixture {
            runtime,
            sandbox,
            cache_dir,
            tenant_id,
            total,
        }
    })
}

/// The console's session on the sandbox, its token cache (and so its list cache) in `dir`.
fn connected(sandbox: &Arc<sandbox::Sandbox>, dir: &std::path::Path) -> ficus::tui::Connected {
    let mut connected =
        ficus::startup::sandbox::console_sandbox_session(Arc::clone(sandbox), "contoso", false)
            .expect("signed in to the sandbox");
    let mut config = connected.session.config.clone();
    config.cache_dir = Some(dir.to_path_buf());
    connected.session =
        ficus::entra::Session::new(config, connected.session.credentials.clone()).expect("session");
    connected
}

/// When each stage of one warm start was reached, from the sign-in's start.
#[derive(Debug, Default)]
struct Stages {
    /// The first frame (the console as the terminal loop first draws it, before any answer).
    first_frame: Option<Duration>,
    rows_arrived: Option<Duration>,
    full_list_frame: Option<Duration>,
    refreshed_frame: Option<Duration>,
}

/// One console start: the directory signs in, the effects run, every message goes through
/// `update`, and a frame is drawn after each batch, as the terminal loop does.
fn start(f: &Fixture, until_refreshed: bool) -> Stages {
    let directory = Arc::new(GraphDirectory::new(Connector::Session(Box::pin({
        let connected = connected(&f.sandbox, f.cache_dir.path());
        async move { Ok(connected) }
    }))));
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    f.runtime.block_on(async {
        let started = Instant::now();
        let mut state = State::new(
            Keymap::default(),
            Themes::built_in(),
            "default",
            time::OffsetDateTime::now_utc(),
        );
        state.size = (200, 60);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
        effects::spawn(&directory, Cmd::StartSignIn, &tx);
        let mut stages = Stages::default();
        terminal
            .draw(|frame| views::draw(frame, &state))
            .expect("draws");
        stages.first_frame = Some(started.elapsed());
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(60), rx.recv())
                .await
                .expect("the console hears back within 60 s")
                .expect("channel open");
            let mut batch = vec![msg];
            while let Ok(more) = rx.try_recv() {
                batch.push(more);
            }
            for msg in batch {
                if matches!(msg, Msg::AppsCached { .. }) {
                    stages.rows_arrived.get_or_insert(started.elapsed());
                }
                for cmd in update(&mut state, msg) {
                    if !matches!(cmd, Cmd::Copy(_) | Cmd::Quit) {
                        effects::spawn(&directory, cmd, &tx);
                    }
                }
            }
            terminal
                .draw(|frame| views::draw(frame, &state))
                .expect("draws");
            let full = state.apps.len() == f.total && matches!(state.apps.load, Load::Done);
            if full && stages.full_list_frame.is_none() {
                stages.full_list_frame = Some(started.elapsed());
                if !until_refreshed {
                    return stages;
                }
            }
            if matches!(state.lists.apps_cache, Some(CacheMarker::Updated { .. })) {
                assert!(full, "the refreshed list still holds every app");
                stages.refreshed_frame = Some(started.elapsed());
                return stages;
            }
            if let Some(CacheMarker::Stale { error, .. }) = &state.lists.apps_cache {
                panic!("the refresh failed: {error}");
            }
        }
    })
}

/// Where a warm start's time goes, stage by stage, on the UI thread and off it.
fn breakdown(f: &Fixture) {
    use ficus::tui::effects::Directory;
    let directory = GraphDirectory::new(Connector::Session(Box::pin({
        let connected = connected(&f.sandbox, f.cache_dir.path());
        async move { Ok(connected) }
    })));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    f.runtime.block_on(directory.sign_in(tx));
    let t = Instant::now();
    let cached = f
        .runtime
        .block_on(directory.cached_apps())
        .expect("cached rows");
    let read_and_rows = t.elapsed();
    let mut state = State::new(
        Keymap::default(),
        Themes::built_in(),
        "default",
        time::OffsetDateTime::now_utc(),
    );
    state.size = (200, 60);
    let mut listing = ficus::tui::filter::Listing::<ficus::tui::model::AppRow>::new();
    let t = Instant::now();
    listing.extend(cached.rows.clone(), state.now);
    let extend = t.elapsed();
    let mut sorted = cached.rows.clone();
    sorted.sort_by(|a, b| ficus::tui::filter::compare_names(&a.name, &b.name));
    let mut listing = ficus::tui::filter::Listing::<ficus::tui::model::AppRow>::new();
    let t = Instant::now();
    listing.extend(sorted, state.now);
    let extend_sorted = t.elapsed();
    drop(listing);
    let commands = ficus::tui::update::start_console(&mut state);
    drop(commands);
    let request = state.apps.request;
    let t = Instant::now();
    let _ = update(
        &mut state,
        Msg::AppsCached {
            request,
            rows: cached.rows,
            saved_at: cached.saved_at,
        },
    );
    let apply = t.elapsed();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    let t = Instant::now();
    terminal
        .draw(|frame| views::draw(frame, &state))
        .expect("draws");
    let frame = t.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "  {} apps: cache read + rows {:.0} ms (off the UI thread); Listing::extend {:.0} ms \
         ({:.0} ms when the rows arrive sorted); update(AppsCached) {:.0} ms; frame {:.1} ms",
        f.total,
        ms(read_and_rows),
        ms(extend),
        ms(extend_sorted),
        ms(apply),
        ms(frame)
    );
}

fn main() {
    if std::env::var_os("FICUS_BENCH_QUIET").is_none() {
        for apps in [10_000, 100_000] {
            let f = fixture(apps);
            let lists = f.cache_dir.path().join("lists");
            let path = ficus::entra::list_cache::ListCache::path(&lists, &f.tenant_id);
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let read = Instant::now();
            let cache = ficus::entra::list_cache::ListCache::load(&lists, &f.tenant_id)
                .expect("readable")
                .expect("cached");
            let read = read.elapsed();
            assert_eq!(cache.apps.len(), f.total);
            drop(cache);
            breakdown(f);
            let stages = start(f, true);
            eprintln!(
                "warm start, {apps} apps: cache file {:.1} MB read and decoded in {:.0} ms; \
                 first frame at {:.1} ms, rows in the loop at {:.0} ms, full list on screen at {:.0} ms, \
                 refreshed on screen at {:.0} ms",
                size as f64 / 1e6,
                read.as_secs_f64() * 1e3,
                stages.first_frame.unwrap_or_default().as_secs_f64() * 1e3,
                stages.rows_arrived.unwrap_or_default().as_secs_f64() * 1e3,
                stages.full_list_frame.unwrap_or_default().as_secs_f64() * 1e3,
                stages.refreshed_frame.unwrap_or_default().as_secs_f64() * 1e3,
            );
        }
    }
    divan::main();
}

/// Console start to the first frame showing the whole cached list, usable.
#[divan::bench(args = [10_000, 100_000], sample_count = 5, sample_size = 1)]
fn to_full_list(bencher: divan::Bencher, apps: usize) {
    let f = fixture(apps);
    // The refresh a sample leaves running (it is not waited for) ends before the next one.
    bencher
        .with_inputs(|| std::thread::sleep(Duration::from_millis(1500)))
        .bench_local_values(|()| {
            let stages = start(f, false);
            assert!(stages.full_list_frame.is_some());
            stages.full_list_frame
        });
}

/// Console start to the frame after the delta refresh landed (one round trip or more, each
/// 150 ms late).
#[divan::bench(args = [10_000, 100_000], sample_count = 5, sample_size = 1)]
fn to_refreshed(bencher: divan::Bencher, apps: usize) {
    let f = fixture(apps);
    bencher.bench_local(|| {
        let stages = start(f, true);
        assert!(stages.refreshed_frame.is_some());
        stages.refreshed_frame
    });
}

/// The 100,000 cached rows in a console state, after a delta changed 100 and removed 10.
fn state_after_delta() -> State {
    use ficus::tui::effects::Directory;
    use ficus::tui::msg::AppsRefresh;
    let f = fixture(100_000);
    let directory = GraphDirectory::new(Connector::Session(Box::pin({
        let connected = connected(&f.sandbox, f.cache_dir.path());
        async move { Ok(connected) }
    })));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    f.runtime.block_on(directory.sign_in(tx));
    let cached = f
        .runtime
        .block_on(directory.cached_apps())
        .expect("cached rows");
    let mut state = State::new(
        Keymap::default(),
        Themes::built_in(),
        "default",
        time::OffsetDateTime::now_utc(),
    );
    state.size = (200, 60);
    drop(ficus::tui::update::start_console(&mut state));
    let request = state.apps.request;
    let changed: Vec<_> = cached
        .rows
        .iter()
        .step_by(997)
        .take(100)
        .map(|row| {
            let mut row = row.clone();
            row.name = format!("{}-renamed", row.name);
            row.fic_count = row.fic_count.map(|n| n + 1);
            row
        })
        .collect();
    let removed: Vec<String> = cached
        .rows
        .iter()
        .skip(500)
        .step_by(5003)
        .take(10)
        .map(|row| row.object_id.clone())
        .collect();
    let _ = update(
        &mut state,
        Msg::AppsCached {
            request,
            rows: cached.rows,
            saved_at: cached.saved_at,
        },
    );
    let _ = update(
        &mut state,
        Msg::AppsRefreshed {
            request,
            refresh: AppsRefresh::Delta { changed, removed },
        },
    );
    assert_eq!(state.apps.len(), f.total - 10);
    assert_eq!(
        state
            .apps
            .items()
            .iter()
            .filter(|a| a.name.ends_with("-renamed"))
            .count(),
        100
    );
    state
}

/// A keystroke that changes the text so nothing narrows: every cached row matched again.
#[divan::bench(sample_count = 30)]
fn cached_rows_full_rescan(bencher: divan::Bencher) {
    let mut state = state_after_delta();
    let now = state.now;
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        state.apps.set_query(if flip { "pa" } else { "pb" }, now);
        state.apps.visible_len()
    });
}

/// One more character narrows the previous matches.
#[divan::bench(sample_count = 10)]
fn cached_rows_narrowing(bencher: divan::Bencher) {
    // The rows after the delta, in a listing built as the delta's rebuild builds it.
    let state = state_after_delta();
    let now = state.now;
    let rows = state.apps.items().to_vec();
    drop(state);
    bencher
        .with_inputs(|| {
            let mut listing = ficus::tui::filter::Listing::new();
            listing.extend(rows.clone(), now);
            listing.set_query("syn", now);
            listing
        })
        .bench_local_refs(|listing| {
            listing.set_query("synt", now);
            listing.visible_len()
        });
}

/// A 200×60 frame of the cached list, the cursor moving each time.
#[divan::bench(sample_count = 50)]
fn cached_rows_frame_200x60(bencher: divan::Bencher) {
    let mut state = state_after_delta();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    let mut down = true;
    bencher.bench_local(|| {
        state.apps.move_cursor(if down { 1 } else { -1 });
        down = !down;
        terminal
            .draw(|frame| views::draw(frame, &state))
            .expect("draws");
    });
}
