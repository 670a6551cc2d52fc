//! The console's app list paged in parallel by `displayName` ranges (issue 17) against the
//! in-process sandbox, which pages `$expand` as Graph does (100 a page): every app exactly once
//! with its FIC count, checked against the sandbox's own state and `$count`; duplicates,
//! non-ASCII names and names equal to a range bound; and throttling, where every chain waits
//! out Graph's `Retry-After` (virtual clock: no real waiting) and no wait exceeds it.

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

#[tokio::test]
async fn every_app_is_listed_once_with_its_fic_count() {
    let (sb, graph, _) = client(Seed::Large(3000), "").await;
    let want = stored(&sb);
    let (got, sent, report, pages) = list(&graph, ParallelListing::default()).await;
    assert_eq!(sent, want.len(), "no app sent twice");
    assert_eq!(got, want, "every app, with the FIC count the sandbox holds");
    assert_eq!(report.expected, Some(want.len()), "checked against $count");
    assert_eq!(report.listed, want.len());
    assert!(report.partitions > 8, "{report:?}");
    assert!(
        pages >= want.len().div_ceil(100),
        "pages of at most 100: {pages}"
    );
    assert_eq!(report.recovered, 0);
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
    // Every third Graph request answers 429 with Retry-After: 1.
    let (sb, graph, waiter) = client(Seed::Large(2000), "throttle=3").await;
    let want = stored(&sb);
    let (got, sent, report, _) = list(&graph, ParallelListing::default()).await;
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
    assert!(report.partitions > 1);
}

#[tokio::test]
async fn a_small_tenant_is_one_chain() {
    let (sb, graph, _) = client(Seed::Demo, "").await;
    let want = stored(&sb);
    let (got, _, report, _) = list(&graph, ParallelListing::default()).await;
    assert_eq!(got, want);
    assert_eq!(report.partitions, 1, "{report:?}");
}
