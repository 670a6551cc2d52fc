//! The console's app list paged in parallel by `displayName` ranges (issue 17) against the
//! in-process sandbox, which pages `$expand` as Graph does (100 a page), in two phases at once
//! (rows at 999 a page, FICs apart): every app exactly once with its FIC count (0, 1 and 20),
//! checked against the sandbox's own state and `$count`; duplicates, non-ASCII names and names
//! equal to a range bound; apps created and deleted while the phases run (never a wrong
//! count); and throttling, where every chain waits out Graph's `Retry-After` (virtual clock:
//! no real waiting) and no wait exceeds it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use ficus::entra::graph::listing::{ListingReport, ParallelListing};
use ficus::entra::http::{WaitReason, Waiter};
use ficus::entra::{GraphClient, Session};
use ficus::sandbox::seed::{CONTOSO, DEMO_ADMIN};
use ficus::sandbox::{self, Faults, Sandbox, SandboxConfig, Seed};

async fn client(seed: Seed, faults: &str) -> (Sandbox, GraphClient, Waiter) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig {
        seed,
        faults: Faults::parse(faults).expect("faults"),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let signed = ficus::startup::sandbox::sandbox_signed(&sb, DEMO_ADMIN, true)
        .expect("signed in to the sandbox");
    // Each wait moves the sandbox's Graph clock as far, so its buckets refill as if it passed.
    let state = sb.state().clone();
    let waiter = Waiter::virtual_clock_with(move |d| state.throttle.advance(d));
    let mut config = signed.session.config.clone();
    config.http.retry.waiter = waiter.clone();
    let session = Session::new(config, signed.session.credentials.clone()).expect("session");
    (sb, session.graph(), waiter)
}

/// Every app of contoso as the sandbox stores it: id -> FIC count (Graph expands at most 20).
fn stored(sb: &Sandbox) -> HashMap<String, usize> {
    sb.state().read(|d| {
        d.tenant(CONTOSO)
            .map(|t| {
                t.applications
                    .values()
                    .map(|a| {
                        (
                            a.id.to_string(),
                            a.federated_identity_credentials.len().min(20),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Lists in parallel; (id -> FIC count, how many times each id was sent, report, pages).
async fn list(
    graph: &GraphClient,
    options: ParallelListing,
) -> (HashMap<String, usize>, usize, ListingReport, usize) {
    let rows: Mutex<Vec<(String, usize)>> = Mutex::default();
    let pages = Mutex::new(0usize);
    let report = graph
        .list_parallel(options, |page| {
            *pages.lock().expect("pages") += 1;
            rows.lock().expect("rows").extend(page.into_iter().map(|r| {
                let fics = r
                    .federated_identity_credentials
                    .map_or(usize::MAX, |f| f.len());
                (r.id, fics)
            }));
            true
        })
        .await
        .expect("the listing finishes");
    let rows = rows.into_inner().expect("rows");
    let sent = rows.len();
    let pages = pages.into_inner().expect("pages");
    (rows.into_iter().collect(), sent, report, pages)
}

/// The listing in two phases (rows and FICs apart, at once).
fn two_phases() -> ParallelListing {
    ParallelListing {
        two_phase: true,
        ..ParallelListing::default()
    }
}

#[tokio::test]
async fn every_app_is_listed_once_with_its_fic_count() {
    let (sb, graph, _) = client(Seed::Large(3000), "").await;
    let want = stored(&sb);
    let (got, sent, report, pages) = list(&graph, two_phases()).await;
    assert_eq!(sent, want.len(), "no app sent twice");
    assert_eq!(got, want, "every app, with the FIC count the sandbox holds");
    assert_eq!(report.expected, Some(want.len()), "checked against $count");
    assert_eq!(report.listed, want.len());
    assert!(report.partitions >= 2, "rows in ranges of 999s: {report:?}");
    assert!(
        report.fic_partitions > 8,
        "FICs in ranges of 100s: {report:?}"
    );
    assert!(pages > 1, "rows stream as the FIC pages join them: {pages}");
    assert_eq!(report.recovered, 0);
    assert_eq!(report.completed_by_id, 0, "{report:?}");
    assert_eq!(report.fics_unknown, 0, "{report:?}");
    // Rows at 999 a page, FICs at 100: about a tenth more requests than FICs alone.
    let least = want.len().div_ceil(999) + want.len().div_ceil(100);
    assert!(
        report.requests >= least
            && report.requests <= least + report.partitions + report.fic_partitions + 1,
        "{report:?}"
    );
}

#[tokio::test]
async fn apps_with_no_fic_and_with_twenty_get_their_counts() {
    let (sb, graph, _) = client(Seed::Large(1500), "").await;
    sb.state().update(|d| {
        let tenant = d.tenant_mut(CONTOSO).expect("contoso");
        for (i, app) in tenant.applications.values_mut().enumerate() {
            match i % 3 {
                0 => app.federated_identity_credentials.clear(),
                1 => {
                    let template = app.federated_identity_credentials.first().cloned();
                    if let Some(fic) = template {
                        app.federated_identity_credentials = (0..20)
                            .map(|n| {
                                let mut f = fic.clone();
                                f.id = uuid::Uuid::new_v4();
                                f.name = format!("fic-{n}");
                                f.subject = format!("subject-{n}");
                                f
                            })
                            .collect();
                    }
                }
                _ => {}
            }
        }
    });
    let want = stored(&sb);
    assert!(
        want.values().any(|&n| n == 20),
        "the seed gave some apps 20 FICs"
    );
    assert!(want.values().any(|&n| n == 0));
    for options in [two_phases(), ParallelListing::default()] {
        let (got, sent, report, _) = list(&graph, options).await;
        assert_eq!(sent, want.len(), "{report:?}");
        assert_eq!(got, want, "{options:?}");
    }
}

#[tokio::test]
async fn apps_created_and_deleted_during_the_listing_never_show_a_wrong_count() {
    let (sb, graph, _) = client(Seed::Large(2500), "").await;
    let before = stored(&sb);
    let victims: Vec<uuid::Uuid> = sb.state().read(|d| {
        d.tenant(CONTOSO)
            .map(|t| t.applications.keys().step_by(97).copied().collect())
            .unwrap_or_default()
    });
    let changed = std::sync::atomic::AtomicBool::new(false);
    let created: Mutex<Vec<String>> = Mutex::default();
    let rows: Mutex<Vec<(String, usize)>> = Mutex::default();
    let report = graph
        .list_parallel(two_phases(), |page| {
            // After the first page: new apps (one with two FICs) and some deleted, while both
            // phases are still paging.
            if !changed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                sb.state().update(|d| {
                    let tenant = d.tenant_mut(CONTOSO).expect("contoso");
                    let template = tenant
                        .applications
                        .values()
                        .find(|a| a.federated_identity_credentials.len() == 1)
                        .cloned()
                        .expect("an app with a FIC");
                    for (n, name) in ["aaa-new", "mmm-new", "zzz-new"].iter().enumerate() {
                        let mut app = template.clone();
                        app.id = uuid::Uuid::new_v4();
                        app.app_id = uuid::Uuid::new_v4();
                        app.display_name = name.to_string();
                        let fic = app.federated_identity_credentials[0].clone();
                        app.federated_identity_credentials = (0..n)
                            .map(|k| {
                                let mut f = fic.clone();
                                f.id = uuid::Uuid::new_v4();
                                f.name = format!("new-{k}");
                                f.subject = format!("new-subject-{k}");
                                f
                            })
                            .collect();
                        created.lock().expect("created").push(app.id.to_string());
                        tenant.insert_application(app);
                    }
                    for id in &victims {
                        tenant.applications.remove(id);
                    }
                });
            }
            rows.lock().expect("rows").extend(page.into_iter().map(|r| {
                let n = r
                    .federated_identity_credentials
                    .map_or(usize::MAX, |f| f.len());
                (r.id, n)
            }));
            true
        })
        .await
        .expect("the listing finishes");
    let after = stored(&sb);
    let rows = rows.into_inner().expect("rows");
    let ids: std::collections::HashSet<&String> = rows.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), rows.len(), "no app sent twice");
    for (id, count) in &rows {
        // Every count sent is the one Graph holds (or held, for an app deleted meanwhile);
        // never a guess.
        let truth = after.get(id).or(before.get(id));
        assert_eq!(Some(count), truth, "app {id}");
    }
    for (id, _) in before.iter().filter(|(id, _)| after.contains_key(*id)) {
        assert!(ids.contains(id), "an app that stayed is listed: {id}");
    }
    // The change fell between the phases for some apps: completed by id, or dropped as gone.
    assert!(report.completed_by_id > 0, "{report:?}");
    assert_eq!(report.fics_unknown, 0, "{report:?}");
}

#[tokio::test]
async fn duplicate_non_ascii_and_bound_names_are_listed_once() {
    let (sb, graph, _) = client(Seed::Large(1200), "").await;
    let names = [
        "same",
        "SAME",
        "Ärger",
        "中文应用",
        "😀 emoji",
        "o'neil",
        "",
        "zz",
        "a",
    ];
    sb.state().update(|d| {
        let tenant = d.tenant_mut(CONTOSO).expect("contoso");
        for (i, app) in tenant.applications.values_mut().enumerate() {
            // A third share one name (so range bounds fall on it), the rest cycle through
            // names outside ASCII, with quotes, empty.
            app.display_name = if i % 3 == 0 {
                "same".to_string()
            } else {
                format!("{}{}", names[i % names.len()], i % 7)
            };
        }
    });
    let want = stored(&sb);
    let options = ParallelListing {
        chains: 16,
        ..ParallelListing::default()
    };
    let (got, sent, report, _) = list(&graph, options).await;
    assert_eq!(sent, want.len(), "no app sent twice: {report:?}");
    assert_eq!(
        got.keys().collect::<std::collections::HashSet<_>>(),
        want.keys().collect()
    );
    assert_eq!(report.expected, Some(want.len()));
}

#[tokio::test]
async fn a_throttled_listing_finishes_and_never_waits_past_retry_after() {
    for options in [two_phases(), ParallelListing::default()] {
        // Every third Graph request answers 429 with Retry-After: 1.
        let (sb, graph, waiter) = client(Seed::Large(2000), "throttle=3").await;
        let want = stored(&sb);
        let (got, sent, report, _) = list(&graph, options).await;
        assert_eq!(sent, want.len());
        assert_eq!(got, want);
        let throttled: Vec<Duration> = waiter
            .waits()
            .into_iter()
            .filter(|w| w.reason == WaitReason::Throttled)
            .map(|w| w.duration)
            .collect();
        assert!(!throttled.is_empty(), "the fault throttled the listing");
        assert!(
            throttled.iter().all(|d| *d <= Duration::from_secs(1)),
            "no wait longer than Retry-After: {throttled:?}"
        );
        // The gate closes for Retry-After from the 429: the first chain to meet it waits all
        // of it (less the microseconds between the answer and the wait).
        assert!(
            throttled.iter().any(|d| *d >= Duration::from_millis(990)),
            "a full Retry-After was waited: {throttled:?}"
        );
        assert!(report.partitions > 1, "{report:?}");
        assert_eq!(report.fic_partitions > 1, options.two_phase, "{report:?}");
    }
}

#[tokio::test]
async fn a_small_tenant_is_one_chain() {
    let (sb, graph, _) = client(Seed::Demo, "").await;
    let want = stored(&sb);
    let (got, _, report, _) = list(&graph, two_phases()).await;
    assert_eq!(got, want);
    assert_eq!(report.partitions, 1, "{report:?}");
    assert_eq!(report.fic_partitions, 1, "{report:?}");
}

#[tokio::test]
async fn one_phase_of_expand_pages_still_lists_everything() {
    let (sb, graph, _) = client(Seed::Large(1200), "").await;
    let want = stored(&sb);
    let options = ParallelListing {
        two_phase: false,
        ..ParallelListing::default()
    };
    let (got, sent, report, _) = list(&graph, options).await;
    assert_eq!(sent, want.len());
    assert_eq!(got, want);
    assert_eq!(report.fic_partitions, 0);
    assert!(report.requests >= want.len().div_ceil(100), "{report:?}");
}
