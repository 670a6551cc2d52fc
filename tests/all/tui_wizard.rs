//! The FIC wizard against the in-process sandbox, through the real Graph-backed directory and
//! effects runner: create `billing-worker` ← `id-payments`, read it back through Graph, run the
//! exchange; and the sandbox's faults (throttling, replication delay) keep every input and say
//! what to do. Screens at 80×24 and 120×40, redacted like the console's other snapshots.

use crate::tui_fixture;

use std::time::Duration;

use ficus::entra::http::WaitReason;
use ficus::sandbox::Seed;
use ficus::sandbox::{Faults, SandboxConfig};
use ficus::tui::Directory;
use ficus::tui::exchange::ExchangeScreen;
use ficus::tui::state::Screen;
use ficus::tui::views;
use ficus::tui::wizard::{FieldId, Step, Wizard};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_fixture::{Driver, demo_directory, demo_directory_with, faulty_directory};

fn render(state: &ficus::tui::State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}

fn check(name: &str, state: &mut ficus::tui::State) {
    for (width, height) in [(80, 24), (120, 40)] {
        state.size = (width, height);
        let screen = render(state, width, height);
        insta::with_settings!({
            snapshot_suffix => format!("{width}x{height}"),
            filters => vec![
                (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
                (r"\(\d+ ms\)", "([ms])"),
                (r"127\.0\.0\.1:\d+", "[sandbox]"),
                // Minted per run by the sandbox: the id of a FIC just created, a request id.
                (r#"(?m)^"(\s+id\s+)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, "\"${1}[new fic id]"),
                (r"request-id [0-9a-f-]{36}", "request-id [request id]"),
                // The same id wrapped onto the next line.
                (r"[0-9a-f-]{36}( for a support case)", "[request id]$1"),
            ],
        }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

fn wizard(state: &ficus::tui::State) -> &Wizard {
    match state.stack.last() {
        Some(Screen::Wizard(wizard)) => wizard,
        _ => panic!("the wizard is not on top"),
    }
}

/// The exchange screen (#7) the wizard's `x` opened.
fn exchange_screen(state: &ficus::tui::State) -> &ExchangeScreen {
    match state.stack.last() {
        Some(Screen::Exchange(screen)) => screen,
        _ => panic!("the exchange screen is not on top"),
    }
}

fn screen_text(state: &ficus::tui::State) -> String {
    render(state, 80, 24)
}

/// Opens billing-worker, presses `a`, filters the identities to id-payments and chooses it.
async fn to_fields<D: Directory>(driver: &mut Driver<D>) {
    driver.key(KeyCode::Char('/')).await;
    driver.keys("billing").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    assert!(matches!(
        driver.state.stack.last(),
        Some(Screen::AppDetail(screen)) if screen.detail.is_some()
    ));
    driver.keys("a").await;
    assert_eq!(
        wizard(&driver.state).step,
        Step::Pick(ficus::tui::wizard::Side::Identity)
    );
    driver.keys("/id-payments").await;
    driver.key(KeyCode::Enter).await;
    assert_eq!(wizard(&driver.state).step, Step::Fields);
}

#[tokio::test]
async fn creates_billing_worker_trusting_id_payments_reads_it_back_and_exchanges() {
    let directory = demo_directory(false).await;
    let mut driver = Driver::new(directory.clone(), "mono");
    driver.start().await;
    to_fields(&mut driver).await;
    check("wizard_fields_billing_worker", &mut driver.state);
    let tenant_id = driver
        .state
        .session
        .as_ref()
        .map(|s| s.tenant_id.clone())
        .expect("signed in");
    let principal_id = driver
        .state
        .identities
        .items()
        .iter()
        .find(|i| i.name == "id-payments")
        .map(|i| i.principal_id.clone())
        .expect("id-payments is listed");
    assert!(wizard(&driver.state).findings.is_empty());

    driver.key(KeyCode::Enter).await;
    assert_eq!(wizard(&driver.state).step, Step::Review);
    check("wizard_review_billing_worker", &mut driver.state);
    driver.key(KeyCode::Enter).await;
    let stored = match &wizard(&driver.state).step {
        Step::Done { stored } => stored.clone(),
        other => panic!("expected the FIC created, got {other:?}"),
    };
    assert!(stored.id.is_some());

    // Independently of the wizard: what Graph now holds for billing-worker.
    let object_id = wizard(&driver.state)
        .app
        .as_ref()
        .map(|a| a.row.object_id.clone())
        .expect("app");
    let detail = directory.app_detail(object_id).await.expect("Graph read");
    let created = detail
        .fics
        .iter()
        .find(|f| f.fic.name == "mi-id-payments")
        .expect("the FIC exists in Graph");
    let cloud = driver
        .state
        .session
        .as_ref()
        .map(|s| s.cloud_endpoints.clone())
        .expect("cloud");
    assert_eq!(created.fic.issuer, cloud.issuer(&tenant_id));
    assert_eq!(created.fic.subject, principal_id);
    assert_eq!(created.fic.audiences, vec!["api://AzureADTokenExchange"]);
    assert!(created.findings.is_empty(), "{:?}", created.findings);

    let text = screen_text(&driver.state);
    assert!(text.contains("client secret"), "{text}");
    check("wizard_done", &mut driver.state);

    // One key: the live exchange for billing-worker with id-payments (the exchange screen).
    driver.keys("x").await;
    let screen = exchange_screen(&driver.state);
    assert!(screen.just_created);
    let result = screen.result().expect("the exchange ran");
    assert!(result.succeeded(), "{:?}", result.steps);
    assert_eq!(
        result.nearest().map(|(fic, _)| fic.name.as_str()),
        Some("mi-id-payments")
    );
    // Esc: back to the wizard's last step.
    driver.key(KeyCode::Esc).await;
    assert!(matches!(wizard(&driver.state).step, Step::Done { .. }));

    // Enter: back to billing-worker, reloaded with its new FIC.
    driver.key(KeyCode::Enter).await;
    match driver.state.stack.last() {
        Some(Screen::AppDetail(screen)) => {
            let detail = screen.detail.as_ref().expect("reloaded");
            assert!(detail.fics.iter().any(|f| f.fic.name == "mi-id-payments"));
        }
        _ => panic!("expected the app detail"),
    }
}

#[tokio::test]
async fn already_trusted_and_fix_it_on_the_demo_tenant() {
    let mut driver = Driver::new(demo_directory(false).await, "mono");
    driver.start().await;
    // payments-api already trusts id-payments.
    driver.key(KeyCode::Char('/')).await;
    driver.keys("payments-api").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("a/id-payments").await;
    driver.key(KeyCode::Enter).await;
    assert!(matches!(
        wizard(&driver.state).step,
        Step::AlreadyTrusted { .. }
    ));
    check("wizard_already_trusted", &mut driver.state);
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    // inventory-sync's FIC names id-inventory's client id: f puts the principal id in, and
    // saving it makes the exchange work.
    driver.key(KeyCode::Char('/')).await;
    driver.keys("inventory").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("f").await;
    let principal = driver
        .state
        .identities
        .items()
        .iter()
        .find(|i| i.name == "id-inventory")
        .map(|i| i.principal_id.clone())
        .expect("id-inventory");
    let w = wizard(&driver.state);
    assert!(w.is_edit());
    assert_eq!(w.field(FieldId::Subject).input.value(), principal);
    assert!(w.findings.is_empty(), "{:?}", w.findings);
    check("wizard_fix_it_inventory_sync", &mut driver.state);
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    match &wizard(&driver.state).step {
        Step::Done { stored } => assert_eq!(stored.subject, principal),
        other => panic!("expected the change saved, got {other:?}"),
    }
    driver.keys("x").await;
    let result = exchange_screen(&driver.state)
        .result()
        .expect("the exchange ran");
    assert!(result.succeeded(), "{:?}", result.steps);
}

#[tokio::test]
async fn throttling_keeps_every_input_and_says_what_to_do() {
    // A clean sandbox lends its screens (the demo ids are the same in every sandbox)…
    let mut clean = Driver::new(demo_directory(false).await, "mono");
    clean.start().await;
    to_fields(&mut clean).await;
    let Some(Screen::AppDetail(app_screen)) = clean.state.stack.first() else {
        panic!("app detail under the wizard");
    };
    let detail = app_screen.detail.clone().expect("loaded");

    // …to a console on a sandbox that answers every Graph request with 429 (`Retry-After: 1`),
    // its Graph client waiting on a virtual clock: every wait is recorded, none is slept.
    let (directory, _sandbox, waiter) = faulty_directory("throttle=1", Seed::Demo, false).await;
    let mut throttled = Driver::new(directory, "mono");
    throttled.start().await;
    assert!(
        throttled.state.apps.is_empty(),
        "every Graph read is throttled"
    );
    let apps_request = throttled.state.apps.request;
    let identities_request = throttled.state.identities.request;
    throttled
        .send(ficus::tui::Msg::AppsPage {
            request: apps_request,
            rows: clean.state.apps.items().to_vec(),
            page: 1,
            done: true,
        })
        .await;
    throttled
        .send(ficus::tui::Msg::IdentitiesPage {
            request: identities_request,
            rows: clean.state.identities.items().to_vec(),
            page: 1,
            done: true,
        })
        .await;
    let request = throttled.state.new_request();
    throttled.state.stack.push(Screen::AppDetail(Box::new(
        ficus::tui::state::AppDetailScreen {
            object_id: detail.app.object_id.clone(),
            name: detail.app.name.clone(),
            request,
            detail: Some(detail),
            error: None,
            pane: ficus::tui::state::DetailPane::Fics,
            fic_cursor: 0,
            credential_cursor: 0,
            migration: Default::default(),
        },
    )));
    throttled.keys("a/id-payments").await;
    throttled.key(KeyCode::Enter).await;
    // Type a description of one's own, then try to create.
    throttled.keys("jjjje").await;
    throttled
        .send(ficus::tui::Msg::paste(" (typed before the throttling)"))
        .await;
    throttled.key(KeyCode::Enter).await;
    let typed = wizard(&throttled.state)
        .field(FieldId::Description)
        .input
        .value()
        .to_string();
    assert!(typed.ends_with("(typed before the throttling)"));
    throttled.key(KeyCode::Enter).await;
    assert_eq!(wizard(&throttled.state).step, Step::Review);
    let started = std::time::Instant::now();
    throttled.key(KeyCode::Enter).await;
    match &wizard(&throttled.state).step {
        Step::Failed { error } => {
            assert!(error.contains("throttling"), "{error}");
            assert!(error.contains("429"), "{error}");
            assert!(error.contains("nothing was created"), "{error}");
            assert!(error.contains("Wait a minute, then retry."), "{error}");
        }
        other => panic!("expected the create to fail, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        wizard(&throttled.state)
            .field(FieldId::Description)
            .input
            .value(),
        typed
    );
    check("wizard_failed_throttled", &mut throttled.state);
    // The create was retried, each time after the 429's `Retry-After` in full, before the
    // wizard gave up.
    let waits = waiter.waits();
    assert_throttled_waits_honour_retry_after(&waits);
    assert!(
        waits
            .iter()
            .any(|w| w.url.ends_with("/federatedIdentityCredentials")),
        "the create was retried: {waits:?}"
    );
    // Esc: back to the review, then to the fields: nothing lost.
    throttled.key(KeyCode::Esc).await;
    assert_eq!(wizard(&throttled.state).step, Step::Review);
    throttled.key(KeyCode::Esc).await;
    assert_eq!(wizard(&throttled.state).step, Step::Fields);
    assert_eq!(
        wizard(&throttled.state)
            .field(FieldId::Description)
            .input
            .value(),
        typed
    );
}

#[tokio::test]
async fn throttling_every_other_request_is_absorbed() {
    // Waits on a virtual clock: recorded, not slept.
    let (directory, _sandbox, waiter) =
        faulty_directory("throttle=2,latency=5", Seed::Demo, false).await;
    let mut driver = Driver::new(directory, "mono");
    driver.start().await;
    to_fields(&mut driver).await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    assert!(
        matches!(wizard(&driver.state).step, Step::Done { .. }),
        "{:?}",
        wizard(&driver.state).step
    );
    // The 429s were there, and each was waited out for its `Retry-After`.
    let waits = waiter.waits();
    assert!(!waits.is_empty(), "every other request was throttled");
    assert_throttled_waits_honour_retry_after(&waits);
}

/// Every wait is for a 429 (`Retry-After: 1`). A request's own retry waits it in full; the
/// listing's shared gate (named by the origin alone) waits what is left of it since the 429.
fn assert_throttled_waits_honour_retry_after(waits: &[ficus::entra::Wait]) {
    for wait in waits {
        assert_eq!(wait.reason, WaitReason::Throttled, "{wait}");
        if wait.url.contains("/v1.0/") {
            assert!(wait.duration >= Duration::from_secs(1), "{wait}");
        } else {
            assert!(!wait.duration.is_zero(), "{wait}");
        }
    }
}

#[tokio::test]
async fn a_fresh_fic_is_retried_through_the_replication_delay() {
    let config = SandboxConfig {
        faults: Faults::parse("replication=3").expect("fault spec"),
        ..SandboxConfig::default()
    };
    let mut driver = Driver::new(demo_directory_with(config, false).await, "mono");
    driver.start().await;
    to_fields(&mut driver).await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    assert!(matches!(wizard(&driver.state).step, Step::Done { .. }));
    let text = screen_text(&driver.state);
    assert!(text.contains("AADSTS70021"), "{text}");
    // The first exchange meets AADSTS70021; the screen retries by itself and then succeeds.
    driver.keys("x").await;
    let screen = exchange_screen(&driver.state);
    let run = screen.run.as_ref().expect("a run");
    assert!(run.attempt > 1, "retried: attempt {}", run.attempt);
    let result = screen.result().expect("the exchange ran");
    assert!(result.succeeded(), "{:?}", result.steps);
}

#[tokio::test]
async fn typing_on_a_selected_field_starts_editing_it() {
    let directory = demo_directory(false).await;
    let mut driver = Driver::new(directory.clone(), "mono");
    driver.start().await;
    to_fields(&mut driver).await;
    let focused = wizard(&driver.state).focused();
    assert!(wizard(&driver.state).editable(focused));
    assert!(!wizard(&driver.state).editing);
    let before = wizard(&driver.state)
        .field(focused)
        .input
        .value()
        .to_string();
    // `z` is bound to nothing in the wizard: it goes into the field, no `e` needed.
    driver.keys("z").await;
    assert!(wizard(&driver.state).editing);
    assert_eq!(
        wizard(&driver.state).field(focused).input.value(),
        format!("{before}z")
    );
    assert!(screen_text(&driver.state).contains("Ctrl-U clears"));
    // Ctrl-U clears the line, as the hint says.
    driver
        .send(ficus::tui::Msg::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )))
        .await;
    assert_eq!(wizard(&driver.state).field(focused).input.value(), "");
}
