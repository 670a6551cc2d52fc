//! The palette's `tenant NAME` on a session made by a `Connector::Session` future: the
//! embedded sandbox as `ficus --sandbox` starts it switches from Contoso to Fabrikam (signing
//! Fabrikam's admin in), reloads the lists and the header, and refuses an unknown tenant with
//! the list of known ones while keeping the session.

use crate::tui_fixture;

use ficus::tui::state::{Phase, ToastLevel};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tui_fixture::{Driver, console_sandbox_directory};

fn header(state: &ficus::tui::State) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
    terminal
        .draw(|frame| ficus::tui::views::draw(frame, state))
        .expect("draws");
    terminal
        .backend()
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn palette(driver: &mut Driver<ficus::tui::GraphDirectory>, command: &str) {
    driver.keys(":").await;
    driver.keys(command).await;
    driver.key(KeyCode::Enter).await;
}

#[tokio::test]
async fn sandbox_switches_from_contoso_to_fabrikam_and_back() {
    let mut driver = Driver::new(console_sandbox_directory("contoso").await, "mono");
    driver.start().await;
    let names = |driver: &Driver<_>| -> Vec<String> {
        driver
            .state
            .apps
            .items()
            .iter()
            .map(|a| a.name.clone())
            .collect()
    };
    assert!(names(&driver).iter().any(|n| n == "payments-api"));
    assert!(header(&driver.state).contains("contoso (contoso.onmicrosoft.com)"));
    assert!(header(&driver.state).contains("admin@contoso.onmicrosoft.com"));

    palette(&mut driver, "tenant fabrikam").await;
    assert!(matches!(driver.state.phase, Phase::Console));
    let session = driver.state.session.clone().expect("signed in");
    assert_eq!(session.tenant, "fabrikam (fabrikam.onmicrosoft.com)");
    assert_eq!(session.user, "admin@fabrikam.onmicrosoft.com");
    let apps = names(&driver);
    assert!(apps.iter().any(|n| n == "fabrikam-erp"), "{apps:?}");
    assert!(!apps.iter().any(|n| n == "payments-api"), "{apps:?}");
    // Contoso's identities are gone with its session (the directory's cache was cleared).
    assert!(
        !driver
            .state
            .identities
            .items()
            .iter()
            .any(|i| i.name == "id-payments")
    );
    let top = header(&driver.state);
    assert!(top.contains("fabrikam (fabrikam.onmicrosoft.com)"), "{top}");
    assert!(top.contains("admin@fabrikam.onmicrosoft.com"), "{top}");

    // Fabrikam's app opens through the new session.
    driver.key(KeyCode::Char('/')).await;
    driver.keys("erp").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    let Some(ficus::tui::state::Screen::AppDetail(screen)) = driver.state.stack.last() else {
        panic!("the app opens");
    };
    assert_eq!(
        screen.detail.as_ref().map(|d| d.app.name.as_str()),
        Some("fabrikam-erp"),
        "{:?}",
        screen.error
    );
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;

    // An unknown tenant: a toast names the known ones; Fabrikam's session stays.
    palette(&mut driver, "tenant nowhere").await;
    assert!(matches!(driver.state.phase, Phase::Console));
    let toast = driver.state.toast.clone().expect("a toast says why");
    assert_eq!(toast.level, ToastLevel::Warning);
    assert!(
        toast.text == "No sandbox tenant `nowhere`; known: contoso, fabrikam",
        "{}",
        toast.text
    );
    assert_eq!(
        driver.state.session.as_ref().map(|s| s.tenant.as_str()),
        Some("fabrikam (fabrikam.onmicrosoft.com)")
    );
    assert!(names(&driver).iter().any(|n| n == "fabrikam-erp"));

    // Back by domain, in any case.
    palette(&mut driver, "tenant CONTOSO.onmicrosoft.com").await;
    assert_eq!(
        driver.state.session.as_ref().map(|s| s.user.as_str()),
        Some("admin@contoso.onmicrosoft.com")
    );
    assert!(names(&driver).iter().any(|n| n == "payments-api"));
    assert!(
        driver
            .state
            .identities
            .items()
            .iter()
            .any(|i| i.name == "id-payments")
    );
}
