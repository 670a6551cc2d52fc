//! The console's warm start (issue 17) on the sandbox's demo tenant, through the real
//! Graph-backed directory and effects runner: a first start lists everything and caches it;
//! the next start shows the cached rows before any answer from Graph, marked with their age,
//! then applies the delta behind them (a renamed app changes, a deleted one leaves) and says
//! "updated"; an expired delta link lists again behind the cached rows; a refresh that fails
//! leaves the rows marked stale, with why and the key that retries (from the keymap); an
//! unreadable cache is refused and rebuilt.

use std::sync::Arc;
use std::time::Duration;

use crate::tui_fixture::Driver;
use ficus::entra::list_cache::{self, ListCache};
use ficus::sandbox::seed::CONTOSO;
use ficus::sandbox::{self, Sandbox, SandboxConfig};
use ficus::tui::effects;
use ficus::tui::filter::Load;
use ficus::tui::keymap::Keymap;
use ficus::tui::msg::{AppsRefresh, Cmd, Msg};
use ficus::tui::screens::lists::CacheMarker;
use ficus::tui::theme::Themes;
use ficus::tui::{Connector, GraphDirectory, State, update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

async fn start_sandbox() -> Arc<Sandbox> {
    ficus::install_crypto_provider();
    Arc::new(
        sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox starts"),
    )
}

/// The console's session on the sandbox with its token cache (so its list cache) in `dir`.
fn directory(sandbox: &Arc<Sandbox>, dir: &std::path::Path) -> Arc<GraphDirectory> {
    let mut connected =
        ficus::startup::sandbox::console_sandbox_session(Arc::clone(sandbox), "contoso", false)
            .expect("signed in to the sandbox");
    let mut config = connected.session.config.clone();
    config.cache_dir = Some(dir.to_path_buf());
    connected.session =
        ficus::entra::Session::new(config, connected.session.credentials.clone()).expect("session");
    Arc::new(GraphDirectory::new(Connector::Session(Box::pin(
        async move { Ok(connected) },
    ))))
}

fn tenant_id(sandbox: &Sandbox) -> String {
    sandbox
        .state()
        .read(|d| d.tenant(CONTOSO).map(|t| t.id.to_string()))
        .expect("contoso")
}

fn app_names(sandbox: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = sandbox.state().read(|d| {
        d.tenant(CONTOSO)
            .map(|t| {
                t.applications
                    .values()
                    .map(|a| a.display_name.clone())
                    .collect()
            })
            .unwrap_or_default()
    });
    names.sort();
    names
}

fn listed_names(state: &State) -> Vec<String> {
    let mut names: Vec<String> = state.apps.items().iter().map(|a| a.name.clone()).collect();
    names.sort();
    names
}

fn render(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}

/// The status line and the footer under the list (the rows are asserted on by name: the
/// header's counts and the preview depend on which other answers arrived first).
fn snapshot(name: &str, state: &mut State) {
    state.size = (100, 16);
    let rendered = render(state, 100, 16);
    let lines: Vec<&str> = rendered.lines().collect();
    let screen = lines[lines.len().saturating_sub(2)..].join("\n");
    insta::with_settings!({
        filters => vec![
            (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
            (r"127\.0\.0\.1:\d+", "[sandbox]"),
        ],
    }, {
        insta::assert_snapshot!(name, screen);
    });
}

/// A console start driven message by message: `on_msg` sees the state after each message
/// (so a test can look between the cached rows and the refresh); it ends once the apps'
/// listing and its certificate index have both answered.
async fn start_console(
    directory: Arc<GraphDirectory>,
    keymap: Keymap,
    mut on_msg: impl FnMut(&Msg, &mut State),
) -> State {
    let mut state = State::new(
        keymap,
        Themes::built_in(),
        "mono",
        time::OffsetDateTime::now_utc(),
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    effects::spawn(&directory, Cmd::StartSignIn, &tx);
    let (mut listed, mut certificates) = (false, false);
    while !(listed && certificates) {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the directory answers within 20 s")
            .expect("channel open");
        match &msg {
            Msg::AppsRefreshed { .. } | Msg::AppsRefreshFailed { .. } | Msg::AppsFailed { .. } => {
                listed = true
            }
            Msg::AppsPage { done: true, .. } => listed = true,
            Msg::CertificatesLoaded { .. } => certificates = true,
            _ => {}
        }
        let shown = msg.clone();
        for cmd in update(&mut state, msg) {
            if !matches!(cmd, Cmd::Copy(_) | Cmd::Quit) {
                effects::spawn(&directory, cmd, &tx);
            }
        }
        on_msg(&shown, &mut state);
    }
    // What the refresh sends after the apps (the identities, when they changed).
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        let shown = msg.clone();
        let _ = update(&mut state, msg);
        on_msg(&shown, &mut state);
    }
    state
}

/// The first start writes the cache: cold, as before.
async fn cold_start(sandbox: &Arc<Sandbox>, dir: &std::path::Path) {
    let mut driver = Driver::new(directory(sandbox, dir), "mono");
    driver.start().await;
    assert_eq!(listed_names(&driver.state), app_names(sandbox));
    assert_eq!(driver.state.lists.apps_cache, None, "listed live");
    let cache = ListCache::load(&dir.join("lists"), &tenant_id(sandbox))
        .expect("readable")
        .expect("the first start saved the lists");
    assert_eq!(cache.apps.len(), app_names(sandbox).len());
    assert!(
        !cache.identities.is_empty(),
        "the managed identities are cached too"
    );
}

#[tokio::test]
async fn the_cached_apps_show_before_the_refresh_which_then_applies_the_delta() {
    let sandbox = start_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    cold_start(&sandbox, dir.path()).await;
    let before = app_names(&sandbox);

    // Behind ficus's back: one app renamed, one deleted.
    let (renamed, deleted) = sandbox.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let mut apps = t.applications.values_mut();
        let renamed = apps.next().expect("an app");
        let old = renamed.display_name.clone();
        renamed.display_name = format!("{old}-renamed");
        let deleted = apps.next().expect("another app").id;
        let name = t.remove_application(deleted).expect("deleted").display_name;
        (old, name)
    });

    let mut seen_cached = false;
    let state = start_console(
        directory(&sandbox, dir.path()),
        Keymap::default(),
        |msg, state| {
            if matches!(msg, Msg::AppsCached { .. }) {
                seen_cached = true;
                // Before any refresh: every cached row, usable, marked with its age.
                assert_eq!(listed_names(state), before);
                assert!(matches!(state.apps.load, Load::Done));
                assert!(matches!(
                    state.lists.apps_cache,
                    Some(CacheMarker::Refreshing { .. })
                ));
                let screen = render(state, 100, 16);
                assert!(
                    screen.contains("· cached just now · refreshing…"),
                    "{screen}"
                );
                snapshot("warm_start_cached_refreshing", state);
            }
            if let Msg::AppsRefreshed { refresh, .. } = msg {
                assert!(
                    matches!(refresh, AppsRefresh::Delta { changed, removed }
                        if changed.len() == 1 && removed.len() == 1),
                    "{refresh:?}"
                );
            }
        },
    )
    .await;
    assert!(seen_cached, "the cached rows came first");
    let mut state = state;
    assert_eq!(listed_names(&state), app_names(&sandbox));
    assert!(
        !listed_names(&state).contains(&deleted),
        "a deleted app leaves"
    );
    assert!(listed_names(&state).contains(&format!("{renamed}-renamed")));
    assert_eq!(
        state.lists.apps_cache,
        Some(CacheMarker::Updated {
            changed: 1,
            removed: 1
        })
    );
    snapshot("warm_start_updated", &mut state);
}

#[tokio::test]
async fn an_expired_delta_link_lists_again_behind_the_cached_rows() {
    let sandbox = start_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    cold_start(&sandbox, dir.path()).await;
    let lists = dir.path().join("lists");
    let tenant = tenant_id(&sandbox);
    let mut cache = ListCache::load(&lists, &tenant)
        .expect("readable")
        .expect("saved");
    // A token Graph no longer knows: 410 Gone, syncStateNotFound.
    let stale_link = cache
        .apps_delta_link
        .as_deref()
        .and_then(|l| l.split("$deltatoken=").next())
        .map(|base| format!("{base}$deltatoken=0.1"))
        .expect("a link");
    cache.apps_delta_link = Some(stale_link.clone());
    cache.save(&lists).expect("saved");
    sandbox.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let id = *t.applications.keys().next().expect("an app");
        t.remove_application(id);
    });

    let mut relisted = None;
    let state = start_console(
        directory(&sandbox, dir.path()),
        Keymap::default(),
        |msg, _| {
            if let Msg::AppsRefreshed {
                refresh: AppsRefresh::Relisted(rows),
                ..
            } = msg
            {
                relisted = Some(rows.len());
            }
        },
    )
    .await;
    assert_eq!(relisted, Some(app_names(&sandbox).len()), "listed in full");
    assert_eq!(listed_names(&state), app_names(&sandbox));
    let saved = ListCache::load(&lists, &tenant)
        .expect("readable")
        .expect("saved");
    assert_ne!(saved.apps_delta_link, Some(stale_link), "a fresh link");
    assert_eq!(saved.apps.len(), app_names(&sandbox).len());
}

#[tokio::test]
async fn a_failed_refresh_marks_the_rows_stale_with_why_and_the_retry_key() {
    let sandbox = start_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    cold_start(&sandbox, dir.path()).await;
    let lists = dir.path().join("lists");
    let tenant = tenant_id(&sandbox);
    let mut cache = ListCache::load(&lists, &tenant)
        .expect("readable")
        .expect("saved");
    // A link Graph cannot answer (another origin: refused before any token is sent), saved
    // two hours ago.
    cache.apps_delta_link = Some("https://elsewhere.invalid/v1.0/applications/delta".into());
    cache.saved_at -= 2 * 3600;
    cache.save(&lists).expect("saved");

    // The retry key as this admin's keymap binds it.
    let keymap = Keymap::default()
        .with_overrides("[lists]\nrefresh = [\"R\"]\n")
        .expect("keymap");
    let mut state = start_console(directory(&sandbox, dir.path()), keymap, |_, _| {}).await;
    assert_eq!(listed_names(&state), app_names(&sandbox), "the rows stay");
    let Some(CacheMarker::Stale { error, .. }) = &state.lists.apps_cache else {
        panic!("expected a stale marker, got {:?}", state.lists.apps_cache);
    };
    assert!(!error.is_empty());
    let screen = render(&state, 160, 16);
    assert!(
        screen.contains("! stale, cached 2 hours ago · R retries · refused to follow a link"),
        "{screen}"
    );
    assert!(screen.contains("(press R to retry)"), "{screen}");
    snapshot("warm_start_stale", &mut state);
}

#[tokio::test]
async fn an_unreadable_cache_is_refused_and_rebuilt_by_a_full_listing() {
    let sandbox = start_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let lists = dir.path().join("lists");
    let tenant = tenant_id(&sandbox);
    std::fs::create_dir_all(&lists).expect("dir");
    std::fs::write(ListCache::path(&lists, &tenant), b"FICUSLC\0garbage").expect("write");
    let mut driver = Driver::new(directory(&sandbox, dir.path()), "mono");
    driver.start().await;
    assert_eq!(listed_names(&driver.state), app_names(&sandbox));
    assert_eq!(driver.state.lists.apps_cache, None, "listed live");
    let rebuilt = ListCache::load(&lists, &tenant)
        .expect("readable again")
        .expect("rebuilt");
    assert_eq!(rebuilt.version, list_cache::FORMAT_VERSION);
    assert_eq!(rebuilt.apps.len(), app_names(&sandbox).len());
}

/// The managed identities come from the cache too (no Graph listing before they show), and
/// one renamed behind ficus's back is renamed in the list once the refresh finds it
/// (`servicePrincipals/delta`).
#[tokio::test]
async fn the_cached_identities_show_and_follow_the_refresh() {
    use ficus::sandbox::model::ServicePrincipalType;
    let sandbox = start_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    cold_start(&sandbox, dir.path()).await;
    let identity_names = |sandbox: &Sandbox| -> Vec<String> {
        let mut names: Vec<String> = sandbox.state().read(|d| {
            d.tenant(CONTOSO)
                .map(|t| {
                    t.service_principals
                        .values()
                        .filter(|s| {
                            s.service_principal_type == ServicePrincipalType::ManagedIdentity
                        })
                        .map(|s| s.display_name.clone())
                        .collect()
                })
                .unwrap_or_default()
        });
        names.sort();
        names
    };
    let cached = identity_names(&sandbox);
    let renamed = sandbox.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let sp = t
            .service_principals
            .values_mut()
            .find(|s| s.service_principal_type == ServicePrincipalType::ManagedIdentity)
            .expect("a managed identity");
        sp.display_name = format!("{}-renamed", sp.display_name);
        sp.display_name.clone()
    });
    let shown = |state: &State| -> Vec<String> {
        let mut names: Vec<String> = state
            .identities
            .items()
            .iter()
            .map(|i| i.name.clone())
            .collect();
        names.sort();
        names
    };
    let mut first_shown = None;
    let mut refreshed = false;
    let state = start_console(
        directory(&sandbox, dir.path()),
        Keymap::default(),
        |msg, state| match msg {
            Msg::IdentitiesPage { .. } => first_shown = Some(shown(state)),
            Msg::IdentitiesRefreshed { .. } => refreshed = true,
            _ => {}
        },
    )
    .await;
    assert_eq!(first_shown, Some(cached), "the cached identities first");
    assert!(refreshed, "the refresh sent the changed identities");
    assert_eq!(shown(&state), identity_names(&sandbox));
    assert!(shown(&state).contains(&renamed));
}
