//! Issue 15's console part against the sandbox's seeded sign-in history: the Failing workloads
//! view (inventory-sync's 700213 with the FIC at fault; `f`, `x`, Enter; the 24 h / 7 d
//! window; a tenant without P1), the migration's end on App detail (a secret removed only once
//! quiet, or on a second confirmation; refused under --read-only) and undo from the journal.

use crate::tui_fixture;

use ficus::tui::evidence::{FailingReport, FailingWindow, SecretVerdict};
use ficus::tui::state::{DetailPane, Screen};
use ficus::tui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tui_fixture::{Driver, console_sandbox_directory, demo_directory};

fn render(state: &ficus::tui::State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}

/// Relative times, clock times and ports change from run to run.
fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({
        filters => vec![
            (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
            (r"since \d\d:\d\d", "since [hh:mm]"),
            (r"failed \d+ times", "failed [n] times"),
            (r"✗ \d+ ", "✗ [n] "),
            (r"127\.0\.0\.1:\d+", "[sandbox]"),
            (r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "[date]"),
            // The embedded sandbox's journal is one per process, shared by the tests.
            // (its number's width moves the box's border: the padding goes too).
            (r"Change \d+(:[^│]*?) +│", "Change [n]$1 │"),
        ],
    }, {
        insta::assert_snapshot!(name, screen);
    });
}

fn failing(state: &ficus::tui::State) -> &ficus::tui::screens::failing::FailingScreen {
    match state.stack.last() {
        Some(Screen::Failing(screen)) => screen,
        _ => panic!("the failing workloads view is on top"),
    }
}

async fn open_app<D: ficus::tui::effects::Directory>(driver: &mut Driver<D>, app: &str) {
    driver.key(KeyCode::Char('/')).await;
    driver.keys(app).await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
}

#[tokio::test]
async fn failing_workloads_show_inventory_sync_with_its_fic_at_fault() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    driver.keys("F").await;
    let view = failing(&driver.state);
    assert_eq!(view.window, FailingWindow::Day);
    let rows = view.rows();
    let inventory = rows
        .iter()
        .find(|r| r.app_name == "inventory-sync")
        .expect("inventory-sync fails");
    assert_eq!(inventory.error_code, 700213);
    assert_eq!(inventory.count, 288, "every five minutes for 24 hours");
    assert_eq!(
        inventory.identity.as_ref().map(|(_, name)| name.as_str()),
        Some("id-inventory")
    );
    let fault = inventory.fault.as_ref().expect("the FIC at fault");
    assert_eq!(fault.fic.name, "mi-id-inventory");
    assert!(
        inventory
            .summary
            .starts_with("inventory-sync has failed 288 times since "),
        "{}",
        inventory.summary
    );
    assert!(
        inventory.summary.contains("client id of id-inventory"),
        "{}",
        inventory.summary
    );
    let (field, corrected, _) = fault.fix.clone().expect("the rules know the principal id");
    assert_eq!(field, ficus::fic::Field::Subject);

    // The view as the admin sees it, wide and narrow; the worst first, selected.
    let index = rows
        .iter()
        .position(|r| r.app_name == "inventory-sync")
        .expect("listed");
    for _ in 0..index {
        driver.key(KeyCode::Char('j')).await;
    }
    driver.state.size = (120, 40);
    let wide = render(&driver.state, 120, 40);
    assert!(wide.contains("AADSTS700213"), "{wide}");
    assert!(wide.contains("mi-id-inventory"), "{wide}");
    assert!(wide.contains("f fixes"), "{wide}");
    snapshot("failing_workloads@120x40", &wide);
    driver.state.size = (80, 24);
    let narrow = render(&driver.state, 80, 24);
    assert!(narrow.contains("inventory-sync"), "{narrow}");
    snapshot("failing_workloads@80x24", &narrow);

    // f: the wizard on the FIC at fault, the subject corrected to the principal id.
    driver.key(KeyCode::Char('f')).await;
    let Some(Screen::Wizard(wizard)) = driver.state.stack.last() else {
        panic!("f opens the wizard");
    };
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains(&corrected), "{screen}");
    let _ = wizard;
    // Esc goes back a step; leaving the changed FIC asks to discard it (y).
    for _ in 0..6 {
        if matches!(driver.state.stack.last(), Some(Screen::Failing(_))) {
            break;
        }
        driver.key(KeyCode::Esc).await;
        if !matches!(driver.state.stack.last(), Some(Screen::Failing(_))) {
            driver.key(KeyCode::Char('y')).await;
        }
    }
    assert!(
        matches!(driver.state.stack.last(), Some(Screen::Failing(_))),
        "back to the view"
    );

    // x: the test exchange for that app and identity.
    driver.key(KeyCode::Char('x')).await;
    let Some(Screen::Exchange(exchange)) = driver.state.stack.last() else {
        panic!("x opens the exchange");
    };
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("inventory-sync"), "{screen}");
    assert!(screen.contains("id-inventory"), "{screen}");
    let _ = exchange;
    driver.key(KeyCode::Esc).await;
    assert!(matches!(
        driver.state.stack.last(),
        Some(Screen::Failing(_))
    ));

    // Enter: the app.
    driver.key(KeyCode::Enter).await;
    let Some(Screen::AppDetail(detail)) = driver.state.stack.last() else {
        panic!("Enter opens the app");
    };
    assert_eq!(detail.name, "inventory-sync");
    driver.key(KeyCode::Esc).await;

    // w: the last 7 days, read again.
    driver.key(KeyCode::Char('w')).await;
    let view = failing(&driver.state);
    assert_eq!(view.window, FailingWindow::Week);
    assert!(
        view.rows()
            .iter()
            .any(|r| r.app_name == "inventory-sync" && r.count >= 288)
    );
}

#[tokio::test]
async fn the_palette_opens_failing_workloads_and_a_tenant_without_p1_says_why() {
    let mut driver = Driver::new(console_sandbox_directory("fabrikam").await, "default");
    driver.start().await;
    driver.key(KeyCode::Char(':')).await;
    driver.keys("failing").await;
    driver.key(KeyCode::Enter).await;
    let view = failing(&driver.state);
    assert_eq!(
        view.report,
        Some(FailingReport::Unavailable(
            "this tenant has no Entra ID P1/P2: sign-in evidence is unavailable; everything else works"
                .into()
        ))
    );
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("no Entra ID P1/P2"), "{screen}");
    // The rest works: back to the lists, an app opens.
    driver.key(KeyCode::Esc).await;
    assert!(driver.state.stack.is_empty());
}

/// App detail of `app` with the credentials pane focused on its first secret.
async fn on_secret<D: ficus::tui::effects::Directory>(driver: &mut Driver<D>, app: &str) {
    open_app(driver, app).await;
    driver.key(KeyCode::Tab).await;
    let Some(Screen::AppDetail(detail)) = driver.state.stack.last() else {
        panic!("{app} open");
    };
    assert_eq!(detail.pane, DetailPane::Credentials);
    assert!(detail.migration.evidence.is_some(), "evidence arrived");
}

fn question(state: &ficus::tui::State) -> Option<&ficus::tui::screens::app_detail::Question> {
    match state.stack.last() {
        Some(Screen::AppDetail(detail)) => detail.migration.question.as_ref(),
        _ => None,
    }
}

fn secrets(state: &ficus::tui::State) -> usize {
    match state.stack.last() {
        Some(Screen::AppDetail(detail)) => detail
            .detail
            .as_ref()
            .expect("loaded")
            .app
            .credentials
            .iter()
            .filter(|c| c.kind == ficus::tui::model::CredentialKind::Secret)
            .count(),
        _ => panic!("App detail on top"),
    }
}

#[tokio::test]
async fn a_secret_still_in_use_is_refused_unless_the_admin_insists() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    on_secret(&mut driver, "payments").await;
    let before = secrets(&driver.state);
    assert_eq!(before, 1);

    driver.keys("X").await;
    let Some(ficus::tui::screens::app_detail::Question::RemoveSecret {
        verdict,
        request_line,
        insisted: false,
        ..
    }) = question(&driver.state)
    else {
        panic!("X asks first");
    };
    assert!(
        matches!(verdict, SecretVerdict::InUse { .. }),
        "{verdict:?}"
    );
    assert!(request_line.starts_with("POST "), "{request_line}");
    assert!(
        request_line.contains("/removePassword {\"keyId\": \""),
        "{request_line}"
    );
    driver.state.size = (120, 40);
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("Refused: it was used"), "{screen}");
    assert!(screen.contains("cannot come back"), "{screen}");
    snapshot("remove_secret_in_use@120x40", &screen);
    let narrow = render(&driver.state, 80, 24);
    snapshot("remove_secret_in_use@80x24", &narrow);

    // Any other key keeps it.
    driver.key(KeyCode::Char('n')).await;
    assert!(question(&driver.state).is_none());
    assert_eq!(secrets(&driver.state), 1, "not removed");

    // y once: a second confirmation; y again: removed anyway.
    driver.keys("X").await;
    driver.key(KeyCode::Char('y')).await;
    assert!(
        matches!(
            question(&driver.state),
            Some(ficus::tui::screens::app_detail::Question::RemoveSecret { insisted: true, .. })
        ),
        "a refusal takes a second y"
    );
    assert_eq!(secrets(&driver.state), 1, "not yet");
    driver.key(KeyCode::Char('y')).await;
    assert_eq!(secrets(&driver.state), 0, "removed on the second y");
    let toast = driver.state.toast.as_ref().expect("said").text.clone();
    assert!(toast.contains("cannot come back"), "{toast}");
}

#[tokio::test]
async fn a_quiet_secret_goes_on_one_yes_and_the_journal_cannot_bring_it_back() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    on_secret(&mut driver, "billing").await;
    driver.keys("X").await;
    let Some(ficus::tui::screens::app_detail::Question::RemoveSecret { verdict, .. }) =
        question(&driver.state)
    else {
        panic!("X asks first");
    };
    assert!(
        matches!(verdict, SecretVerdict::Quiet { .. }),
        "billing-worker's secret went quiet 35 days ago: {verdict:?}"
    );
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("✓ Quiet"), "{screen}");
    driver.key(KeyCode::Char('y')).await;
    assert_eq!(secrets(&driver.state), 0, "removed on one y");
    // The journal holds the removal, and says it cannot be undone.
    driver.keys("U").await;
    assert!(question(&driver.state).is_none(), "nothing to confirm");
    let toast = driver.state.toast.as_ref().expect("said").text.clone();
    assert!(toast.starts_with("Cannot undo: the secret"), "{toast}");
    assert!(toast.contains("cannot come back"), "{toast}");
}

#[tokio::test]
async fn read_only_refuses_the_removal() {
    let mut driver = Driver::new(demo_directory(true).await, "default");
    driver.start().await;
    on_secret(&mut driver, "billing").await;
    driver.keys("X").await;
    assert!(question(&driver.state).is_none(), "nothing asked");
    let toast = driver.state.toast.as_ref().expect("said").text.clone();
    assert!(toast.contains("Read-only"), "{toast}");
}

#[tokio::test]
async fn undo_restores_a_deleted_fic() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    open_app(&mut driver, "reporting").await;
    let fics = |state: &ficus::tui::State| match state.stack.last() {
        Some(Screen::AppDetail(d)) => d.detail.as_ref().map(|d| {
            d.fics
                .iter()
                .map(|f| f.fic.name.clone())
                .collect::<Vec<_>>()
        }),
        _ => None,
    };
    let before = fics(&driver.state).expect("loaded");
    assert!(!before.is_empty());
    driver.keys("D").await;
    driver.key(KeyCode::Char('y')).await;
    assert_eq!(
        fics(&driver.state).map(|f| f.len()),
        Some(before.len() - 1),
        "deleted"
    );
    driver.keys("U").await;
    let Some(ficus::tui::screens::app_detail::Question::Undo(plan)) = question(&driver.state)
    else {
        panic!("U asks first");
    };
    assert!(plan.change.ends_with("deleted"), "{plan:?}");
    assert!(plan.description.starts_with("create the FIC"), "{plan:?}");
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("Undo the last change"), "{screen}");
    snapshot("undo_question@120x40", &screen);
    driver.key(KeyCode::Char('y')).await;
    assert_eq!(fics(&driver.state), Some(before), "restored");
    let toast = driver.state.toast.as_ref().expect("said").text.clone();
    assert!(toast.starts_with("Undone: create the FIC"), "{toast}");
}
