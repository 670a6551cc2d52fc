//! The warm start's list cache (issue 17) against the in-process sandbox: a cold start lists
//! everything and saves the lists with a delta link (0600 file, 0700 directory, no secret
//! hints); a warm start replays the link, so changes and deletions reach the cached rows; an
//! expired link (410) and an unreadable or other-version file fall back to a full listing
//! that rebuilds the cache.

use std::collections::HashSet;

use ficus::entra::list_cache::{self, ListCache, ListCacheError, Start};
use ficus::entra::{GraphClient, Session};
use ficus::sandbox::seed::{CONTOSO, DEMO_ADMIN};
use ficus::sandbox::{self, Sandbox, SandboxConfig, Seed};

async fn client(seed: Seed) -> (Sandbox, GraphClient, String) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig {
        seed,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let signed = ficus::startup::sandbox::sandbox_signed(&sb, DEMO_ADMIN, false)
        .expect("signed in to the sandbox");
    let session = Session::new(
        signed.session.config.clone(),
        signed.session.credentials.clone(),
    )
    .expect("session");
    let tenant = session.tenant.clone();
    (sb, session.graph(), tenant)
}

fn stored_ids(sb: &Sandbox) -> HashSet<String> {
    sb.state().read(|d| {
        d.tenant(CONTOSO)
            .map(|t| t.applications.keys().map(|id| id.to_string()).collect())
            .unwrap_or_default()
    })
}

#[tokio::test]
async fn a_cold_start_saves_and_a_warm_one_applies_changes_and_deletions() {
    let (sb, graph, tenant) = client(Seed::Large(600)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let lists = dir.path().join("lists");

    let streamed = std::sync::Mutex::new(0usize);
    let (cache, start) = list_cache::open_apps(&graph, &lists, &tenant, |rows| {
        *streamed.lock().expect("count") += rows.len();
        true
    })
    .await
    .expect("cold start");
    assert!(matches!(start, Start::Cold { .. }), "{start:?}");
    let ids = stored_ids(&sb);
    assert_eq!(cache.apps.keys().cloned().collect::<HashSet<_>>(), ids);
    assert_eq!(
        *streamed.lock().expect("count"),
        ids.len(),
        "rows streamed while listing"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = ListCache::path(&lists, &tenant);
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
        };
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&lists), 0o700);
        let saved = ListCache::load(&lists, &tenant)
            .expect("readable")
            .expect("saved");
        let secrets: Vec<_> = saved
            .apps
            .values()
            .flat_map(|a| &a.password_credentials)
            .collect();
        assert!(
            secrets.iter().all(|s| s.hint.is_none()),
            "no secret hints are kept"
        );
    }

    // Change one app, delete another, behind ficus's back.
    let (changed, deleted) = {
        let mut it = ids.iter();
        (
            it.next().expect("one").clone(),
            it.next().expect("two").clone(),
        )
    };
    let changed_uuid: uuid::Uuid = changed.parse().expect("guid");
    let deleted_uuid: uuid::Uuid = deleted.parse().expect("guid");
    sb.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        if let Some(app) = t.applications.get_mut(&changed_uuid) {
            app.identifier_uris = vec!["api://changed-behind-ficus".into()];
        }
        t.remove_application(deleted_uuid);
    });

    let (warm, start) = list_cache::open_apps(&graph, &lists, &tenant, |_| true)
        .await
        .expect("warm start");
    assert!(
        matches!(
            start,
            Start::Warm {
                changed: 1,
                removed: 1,
                ..
            }
        ),
        "{start:?}"
    );
    assert!(
        !warm.apps.contains_key(&deleted),
        "a deleted app leaves the list"
    );
    assert_eq!(
        warm.apps[&changed].identifier_uris,
        vec!["api://changed-behind-ficus".to_string()]
    );
    assert_eq!(warm.apps.len(), ids.len() - 1);
    // The refreshed cache was saved: a third start has nothing new.
    let (_, start) = list_cache::open_apps(&graph, &lists, &tenant, |_| true)
        .await
        .expect("warm again");
    assert!(
        matches!(
            start,
            Start::Warm {
                changed: 0,
                removed: 0,
                ..
            }
        ),
        "{start:?}"
    );
}

#[tokio::test]
async fn an_expired_delta_link_falls_back_to_a_full_listing() {
    let (sb, graph, tenant) = client(Seed::Demo).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut stale = ListCache::new(&tenant);
    stale.apps_delta_link = Some(format!(
        "{}/applications/delta?$deltatoken=0.1",
        graph.base()
    ));
    stale.save(dir.path()).expect("saved");
    let (cache, start) = list_cache::open_apps(&graph, dir.path(), &tenant, |_| true)
        .await
        .expect("rebuilt");
    match start {
        Start::Cold { reason } => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected a full listing, got {other:?}"),
    }
    assert_eq!(
        cache.apps.keys().cloned().collect::<HashSet<_>>(),
        stored_ids(&sb)
    );
    let reloaded = ListCache::load(dir.path(), &tenant)
        .expect("readable")
        .expect("saved");
    assert_ne!(
        reloaded.apps_delta_link, stale.apps_delta_link,
        "a fresh link"
    );
}

#[tokio::test]
async fn a_corrupt_or_other_version_cache_is_refused_and_rebuilt() {
    let (sb, graph, tenant) = client(Seed::Demo).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = ListCache::path(dir.path(), &tenant);
    std::fs::write(&path, b"{not json").expect("write");
    assert!(matches!(
        ListCache::load(dir.path(), &tenant),
        Err(ListCacheError::Corrupt { .. })
    ));
    // Format 1's JSON is refused too (the next start lists in full and writes format 2).
    std::fs::write(
        &path,
        br#"{"version":1,"tenantId":"t","savedAt":0,"apps":{}}"#,
    )
    .expect("write");
    assert!(matches!(
        ListCache::load(dir.path(), &tenant),
        Err(ListCacheError::Corrupt { .. })
    ));
    ListCache::new(&tenant).save(dir.path()).expect("saved");
    let mut other = std::fs::read(&path).expect("read");
    other[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(&path, other).expect("write");
    let err = ListCache::load(dir.path(), &tenant).expect_err("another version is refused");
    assert!(err.to_string().contains("format 99"), "{err}");
    assert!(err.to_string().contains("rebuilt"), "{err}");

    let (cache, start) = list_cache::open_apps(&graph, dir.path(), &tenant, |_| true)
        .await
        .expect("rebuilt");
    assert!(matches!(start, Start::Cold { .. }));
    assert_eq!(cache.apps.len(), stored_ids(&sb).len());
    let reloaded = ListCache::load(dir.path(), &tenant)
        .expect("readable now")
        .expect("saved");
    assert_eq!(reloaded.apps.len(), cache.apps.len());
    assert_eq!(reloaded.version, list_cache::FORMAT_VERSION);
}

#[tokio::test]
async fn a_refresh_that_fails_shows_the_cached_rows_with_their_age() {
    let (_sb, graph, tenant) = client(Seed::Demo).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (cold, _) = list_cache::open_apps(&graph, dir.path(), &tenant, |_| true)
        .await
        .expect("cold start");
    let mut cache = ListCache::load(dir.path(), &tenant)
        .expect("readable")
        .expect("saved");
    // A link Graph cannot answer (another origin: refused before any token is sent).
    cache.apps_delta_link = Some("https://elsewhere.invalid/v1.0/applications/delta".into());
    cache.saved_at -= 3600;
    cache.save(dir.path()).expect("saved");
    let (stale, start) = list_cache::open_apps(&graph, dir.path(), &tenant, |_| true)
        .await
        .expect("cached rows");
    match start {
        Start::Stale { age_secs, .. } => assert!(age_secs >= 3600, "{age_secs}"),
        other => panic!("expected the cached rows, got {other:?}"),
    }
    assert_eq!(stale.apps, cold.apps);
}
