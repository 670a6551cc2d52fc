//! The entra client living with Graph as it really behaves (issue 18, items 9-13), against
//! the in-process sandbox with its faults: read-after-write lag, the keyCredentials quota,
//! the token bucket, transient failures and lost answers, managed identities' tenant. No test
//! waits real seconds: the client's waits go through a virtual [`Waiter`], which can move the
//! sandbox's Graph clock with it.

use std::time::Duration;

use ficus::entra::http::{WaitReason, Waiter};
use ficus::entra::{GraphClient, Session};
use ficus::fic::{Fic, FicUpdate};
use ficus::sandbox::seed::{self, CONTOSO, DEMO_ADMIN};
use ficus::sandbox::{self, Faults, Sandbox, SandboxConfig};

const EXCHANGE: &str = "api://AzureADTokenExchange";

/// How the client's waits relate to the sandbox's clock.
#[derive(Clone, Copy, PartialEq)]
enum Clock {
    /// Waits take no time for the sandbox either: its lag and buckets stand still.
    Frozen,
    /// Each wait moves the sandbox's Graph clock forward by as much.
    Shared,
}

async fn client(spec: &str, clock: Clock) -> (Sandbox, GraphClient, Waiter) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig {
        faults: Faults::parse(spec).expect("faults"),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let signed = ficus::startup::sandbox::sandbox_signed(&sb, DEMO_ADMIN, false)
        .expect("signed in to the sandbox");
    let waiter = match clock {
        Clock::Frozen => Waiter::virtual_clock(),
        Clock::Shared => {
            let state = sb.state().clone();
            Waiter::virtual_clock_with(move |d| state.throttle.advance(d))
        }
    };
    let mut config = signed.session.config.clone();
    config.http.retry.waiter = waiter.clone();
    let session = Session::new(config, signed.session.credentials.clone()).expect("session");
    (sb, session.graph(), waiter)
}

fn app_object_id(name: &str) -> String {
    seed::app_ids(CONTOSO, name).0.to_string()
}

fn principal(name: &str) -> String {
    seed::identity_ids(CONTOSO, name).0.to_string()
}

fn draft(name: &str, subject: &str) -> Fic {
    Fic {
        id: None,
        name: name.into(),
        issuer: format!(
            "https://login.microsoftonline.com/{}/v2.0",
            seed::tenant_id(CONTOSO)
        ),
        subject: subject.into(),
        audiences: vec![EXCHANGE.into()],
        description: None,
    }
}

/// How many FICs named `name` the sandbox really holds on `app` (the primary, not a replica).
fn stored(sb: &Sandbox, app: &str, name: &str) -> usize {
    let app: uuid::Uuid = app.parse().expect("guid");
    sb.state().read(|d| {
        d.tenant(CONTOSO)
            .and_then(|t| t.application(app))
            .map_or(0, |a| {
                a.federated_identity_credentials
                    .iter()
                    .filter(|f| f.name == name)
                    .count()
            })
    })
}

fn waited(waiter: &Waiter, reason: WaitReason) -> Vec<Duration> {
    waiter
        .waits()
        .into_iter()
        .filter(|w| w.reason == reason)
        .map(|w| w.duration)
        .collect()
}

// --- 9: read-after-write lag --------------------------------------------------------------

#[tokio::test]
async fn a_create_graph_does_not_show_yet_is_not_replicated_never_failed_and_lists_merge_it() {
    let (sb, graph, waiter) = client("graph-lag=30", Clock::Frozen).await;
    let app = app_object_id("legacy-crm");
    let subject = principal("id-orphan");
    let created = graph
        .create_fic_outcome(&app, &draft("lagging", &subject))
        .await
        .expect("the write stands");
    assert!(!created.replicated, "reads do not show it yet");
    assert!(
        created.fic.id.is_some(),
        "Graph's answer: {:?}",
        created.fic
    );
    assert_eq!(created.fic.subject, subject);
    assert_eq!(stored(&sb, &app, "lagging"), 1, "created once");
    // It read back quietly, within its window, and no more.
    let replication = waited(&waiter, WaitReason::Replication);
    assert!(!replication.is_empty());
    assert!(replication.iter().sum::<Duration>() <= graph.read_back_window);
    // Graph's own reads do not show it; the client's list does, until Graph catches up.
    assert_eq!(graph.get_fic(&app, "lagging").await.expect("get"), None);
    let listed = graph.list_fics(&app).await.expect("list");
    assert!(listed.iter().any(|f| f.name == "lagging"), "{listed:?}");
    // A second client (another console, the CLI) does not merge what it did not write.
    let other = graph_of_same_session(&graph);
    assert!(
        other
            .list_fics(&app)
            .await
            .expect("list")
            .iter()
            .all(|f| f.name != "lagging")
    );

    // An update under lag: the written value is the answer and what the list shows.
    let update = FicUpdate {
        fic_key: "lagging".into(),
        issuer: None,
        subject: None,
        audiences: None,
        description: Some("moved".into()),
    };
    let updated = graph
        .update_fic(&app, &update)
        .await
        .expect("update stands");
    assert_eq!(updated.description.as_deref(), Some("moved"));
    let listed = graph.list_fics(&app).await.expect("list");
    let shown = listed.iter().find(|f| f.name == "lagging").expect("listed");
    assert_eq!(shown.description.as_deref(), Some("moved"));

    // Graph catches up: its list has it and says the same.
    sb.state().throttle.advance(Duration::from_secs(31));
    let fresh = graph
        .get_fic(&app, "lagging")
        .await
        .expect("get")
        .expect("visible");
    assert_eq!(fresh.description.as_deref(), Some("moved"));

    // A delete under lag: gone from the client's list at once.
    graph.delete_fic(&app, "lagging").await.expect("delete");
    assert!(
        graph.get_fic(&app, "lagging").await.expect("get").is_some(),
        "Graph lags"
    );
    let listed = graph.list_fics(&app).await.expect("list");
    assert!(listed.iter().all(|f| f.name != "lagging"), "{listed:?}");
    assert_eq!(stored(&sb, &app, "lagging"), 0);
}

/// A client of the same session that shares nothing local with `graph`.
fn graph_of_same_session(graph: &GraphClient) -> GraphClient {
    GraphClient::new(
        graph.http().clone(),
        graph.base().to_string(),
        graph.credentials().clone(),
        false,
    )
}

#[tokio::test]
async fn a_create_is_verified_once_the_replicas_catch_up() {
    // The client's read-back waits move the sandbox's clock: the lag passes within the window.
    let (sb, mut graph, waiter) = client("graph-lag=4", Clock::Shared).await;
    graph.read_back_window = Duration::from_secs(10);
    let app = app_object_id("legacy-crm");
    let created = graph
        .create_fic_outcome(&app, &draft("catches-up", &principal("id-orphan")))
        .await
        .expect("created");
    assert!(created.replicated, "{created:?}");
    assert_eq!(stored(&sb, &app, "catches-up"), 1);
    let replication: Duration = waited(&waiter, WaitReason::Replication).iter().sum();
    assert!(replication >= Duration::from_secs(2), "{replication:?}");
}

#[tokio::test]
async fn the_reverse_lookup_merges_local_writes_and_says_the_index_lags() {
    let (_sb, graph, _waiter) = client("graph-lag=60", Clock::Frozen).await;
    let orphan = principal("id-orphan");
    let before = graph.apps_trusting_report(&orphan).await.expect("lookup");
    assert!(before.apps.is_empty());
    assert!(
        before
            .lag_note
            .as_deref()
            .is_some_and(|n| n.contains("eventually consistent")),
        "{before:?}"
    );
    let app = app_object_id("billing-worker");
    graph
        .create_fic(&app, &draft("trust-orphan", &orphan))
        .await
        .expect("created");
    let after = graph.apps_trusting_report(&orphan).await.expect("lookup");
    assert_eq!(after.apps.len(), 1, "{after:?}");
    assert_eq!(after.apps[0].app.id, app);
    assert_eq!(after.apps[0].fics[0].name, "trust-orphan");
    assert!(
        after
            .lag_note
            .as_deref()
            .is_some_and(|n| n.contains("does not show yet")),
        "{after:?}"
    );
}

// --- 10: keyCredentials out of hot paths -------------------------------------------------

#[tokio::test]
async fn key_credentials_stay_out_of_hot_paths_and_inside_the_quota() {
    let (sb, graph, waiter) = client("", Clock::Shared).await;
    let crm = app_object_id("legacy-crm");
    // The console's list and cursor-rest GET: no keyCredentials, no quota spent.
    let (page, _) = graph.console_apps_page_light(None).await.expect("page");
    assert!(page.iter().all(|a| a.key_credentials.is_empty()));
    for _ in 0..200 {
        let one = graph.console_app_light(&crm).await.expect("app");
        assert!(one.key_credentials.is_empty());
    }
    // Expiry from one bounded, cached listing.
    let index = graph.certificate_index().await.expect("index");
    let certs = index
        .by_app
        .get(&crm)
        .expect("legacy-crm has a certificate");
    assert!(certs[0].end_date_time.is_some());
    let again = graph.certificate_index().await.expect("cached");
    assert!(
        std::sync::Arc::ptr_eq(&index, &again),
        "reused, not fetched again"
    );
    // Details on demand stay inside ficus's own allowance: past it, ficus waits (and says
    // so) instead of drawing 429s.
    let fresh = graph_of_same_session(&graph);
    for _ in 0..130 {
        let certs = fresh.app_certificates(&crm).await.expect("certificates");
        assert_eq!(certs.len(), 1);
    }
    assert_eq!(sb.state().throttle.throttled(), 0, "no 429 drawn");
    let _ = waiter;
    let fresh_waits = waited(&fresh.http().retry_policy().waiter, WaitReason::Pacing);
    assert!(!fresh_waits.is_empty(), "it waited for its allowance");
}

// --- 11: throttling ----------------------------------------------------------------------

#[tokio::test]
async fn fan_outs_stay_inside_the_token_bucket_and_say_when_they_wait() {
    // A small bucket: 30 resource units per 10 s for the app in this tenant.
    let (sb, mut graph, waiter) = client("graph-budget=30", Clock::Shared).await;
    graph.fanout_budget = 20;
    let payments = principal("id-payments");
    for _ in 0..4 {
        let report = graph.apps_trusting_report(&payments).await.expect("lookup");
        assert!(!report.apps.is_empty());
        graph.resolve_guid(&payments, None).await.expect("whois");
    }
    assert_eq!(
        sb.state().throttle.throttled(),
        0,
        "paced inside the budget"
    );
    assert!(
        !waited(&waiter, WaitReason::Pacing).is_empty(),
        "and said so"
    );
}

#[tokio::test]
async fn retry_after_beyond_thirty_seconds_is_honoured_in_full() {
    // Two writes per 150 s: the third waits as long as Graph says (more than 30 s).
    let (sb, graph, waiter) = client("graph-write-quota=2", Clock::Shared).await;
    let app = app_object_id("billing-worker");
    for name in ["quota-1", "quota-2", "quota-3"] {
        graph
            .create_fic(&app, &draft(name, &format!("subject-{name}")))
            .await
            .expect("created after waiting");
    }
    let throttled = waited(&waiter, WaitReason::Throttled);
    assert_eq!(throttled.len(), 1, "{:?}", waiter.waits());
    assert!(throttled[0] > Duration::from_secs(30), "{throttled:?}");
    assert!(throttled[0] <= Duration::from_secs(150), "{throttled:?}");
    assert_eq!(
        sb.state().throttle.throttled(),
        1,
        "one 429, then it waited"
    );
    assert_eq!(stored(&sb, &app, "quota-3"), 1);
}

// --- 12: transient faults and lost answers -------------------------------------------------

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_read_back_by_name_never_created_twice() {
    for spec in ["graph-drop=1", "graph-504=1"] {
        let (sb, graph, _waiter) = client(spec, Clock::Frozen).await;
        let app = app_object_id("billing-worker");
        let created = graph
            .create_fic_outcome(&app, &draft("lost-answer", &principal("id-orphan")))
            .await
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert!(created.replicated, "{spec}: read back by name");
        assert!(created.fic.id.is_some(), "{spec}");
        assert_eq!(stored(&sb, &app, "lost-answer"), 1, "{spec}: created once");
    }
    // Lost answer and lag together: the name is not visible, the second POST meets 409, and
    // the create stands as not replicated yet. Still one FIC.
    let (sb, graph, _waiter) = client("graph-drop=1,graph-lag=60", Clock::Frozen).await;
    let app = app_object_id("billing-worker");
    let created = graph
        .create_fic_outcome(&app, &draft("lost-and-lagging", &principal("id-orphan")))
        .await
        .expect("stands");
    assert!(!created.replicated);
    assert_eq!(stored(&sb, &app, "lost-and-lagging"), 1, "never twice");
    let listed = graph.list_fics(&app).await.expect("list");
    assert!(listed.iter().any(|f| f.name == "lost-and-lagging"));
}

#[tokio::test]
async fn reads_ride_out_503_with_its_retry_after() {
    let (_sb, graph, waiter) = client("graph-503=2", Clock::Frozen).await;
    let app = app_object_id("payments-api");
    for _ in 0..3 {
        graph.list_fics(&app).await.expect("retried past the 503");
    }
    let unavailable = waited(&waiter, WaitReason::Unavailable);
    assert!(!unavailable.is_empty());
    assert!(
        unavailable.iter().all(|d| *d == Duration::from_secs(3)),
        "{unavailable:?}"
    );
}

// --- 13: a managed identity's tenant ------------------------------------------------------

#[tokio::test]
async fn managed_identities_take_the_tenant_of_the_directory_they_were_read_from() {
    let (_sb, graph, _waiter) = client("", Clock::Frozen).await;
    let identities = graph.list_managed_identities().await.expect("identities");
    assert!(!identities.is_empty());
    let contoso = seed::tenant_id(CONTOSO).to_string();
    for identity in &identities {
        assert_eq!(
            identity.tenant_id.as_deref(),
            Some(contoso.as_str()),
            "{identity:?}"
        );
    }
}
