//! The app detail's sign-in evidence, against the sandbox's seeded history: per credential the
//! last use, the uses in 30 days and the last failure with its code, fetched as the app opens;
//! and, in a tenant without P1/P2, why there is none.

use crate::tui_fixture;

use ficus::tui::evidence::Evidence;
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

async fn open<D: ficus::tui::effects::Directory>(driver: &mut Driver<D>, app: &str) {
    driver.key(KeyCode::Char('/')).await;
    driver.keys(app).await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
}

#[tokio::test]
async fn the_app_detail_shows_each_credentials_last_use() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    open(&mut driver, "payments").await;
    let object_id = ficus::sandbox::seed::app_ids("contoso", "payments-api")
        .0
        .to_string();
    let Some(Evidence::Usage(uses)) = driver.state.evidence.get(&object_id) else {
        panic!("evidence loaded as the app opened")
    };
    assert_eq!(uses.len(), 2, "the secret and the FIC: {uses:?}");
    assert!(uses.iter().all(|u| u.uses >= 29 && u.last_used.is_some()));

    driver.state.size = (120, 40);
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("used 1 day ago · "), "{screen}");
    assert!(screen.contains(" in 30 d"), "{screen}");
    assert!(
        screen.contains("sign-ins  used"),
        "the FIC's line: {screen}"
    );
    insta::with_settings!({
        filters => vec![
            (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
            (r"127\.0\.0\.1:\d+", "[sandbox]"),
        ],
    }, {
        insta::assert_snapshot!("app_detail_evidence_payments_api@120x40", screen);
    });

    // inventory-sync: its FIC is not used, and fails with 700213.
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    open(&mut driver, "inventory").await;
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("✗ AADSTS700213"), "{screen}");
}

#[tokio::test]
async fn a_tenant_without_p1_says_why_there_is_no_evidence() {
    let mut driver = Driver::new(console_sandbox_directory("fabrikam").await, "default");
    driver.start().await;
    open(&mut driver, "fabrikam-erp").await;
    let evidence = driver.state.evidence.values().next().expect("answered");
    assert_eq!(
        evidence.unavailable(),
        Some(
            "this tenant has no Entra ID P1/P2: sign-in evidence is unavailable; everything else works"
        )
    );
    let screen = render(&driver.state, 140, 40);
    assert!(screen.contains("no Entra ID P1/P2"), "{screen}");
}

/// Below 100 columns there is no evidence column: the selected credential's evidence sits
/// under the credentials, and the selected FIC's among its values, so nothing is hidden.
#[tokio::test]
async fn the_app_detail_at_80_columns_still_shows_the_evidence() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    open(&mut driver, "payments").await;
    driver.state.size = (80, 24);
    let screen = render(&driver.state, 80, 24);
    assert!(
        screen.contains("sign-ins  used"),
        "the FIC's line: {screen}"
    );
    assert!(
        screen.contains("  sign-ins  ") && screen.contains(": used 1 day ago · "),
        "the selected credential's line under the table: {screen}"
    );
    insta::with_settings!({
        filters => vec![
            (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
            (r"127\.0\.0\.1:\d+", "[sandbox]"),
        ],
    }, {
        insta::assert_snapshot!("app_detail_evidence_payments_api@80x24", screen);
    });
}
