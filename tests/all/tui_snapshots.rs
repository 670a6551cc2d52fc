//! Screens of the console on the sandbox's demo tenant, drawn into ratatui's `TestBackend` at
//! 80×24 and 120×40 and compared with the committed snapshots. Only what varies is redacted
//! (relative times, the sandbox's port): the demo tenant's GUIDs are deterministic and stay,
//! since a diff about the wrong id is what these snapshots are for.

use crate::tui_fixture;

use ficus::tui::msg::{Msg, SignInEvent, SignInFailure};
use ficus::tui::state::{Phase, SignInScreen};
use ficus::tui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tui_fixture::{Driver, demo_directory};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn render(state: &ficus::tui::State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}

fn check(name: &str, state: &mut ficus::tui::State) {
    for (width, height) in SIZES {
        state.size = (width, height);
        let screen = render(state, width, height);
        insta::with_settings!({
            snapshot_suffix => format!("{width}x{height}"),
            filters => vec![
                (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
                (r"127\.0\.0\.1:\d+", "[sandbox]"),
            ],
        }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

#[tokio::test]
async fn console_screens_on_the_demo_tenant() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    assert!(
        driver
            .state
            .apps
            .find(|a| a.name == "payments-api")
            .is_some()
    );
    check("apps", &mut driver.state);

    driver.key(KeyCode::Char('/')).await;
    driver.keys("fic:>0").await;
    check("apps_filtered_by_facet", &mut driver.state);
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;

    // A facet that does not exist is said under the filter, with the ones that do.
    driver.key(KeyCode::Char('/')).await;
    driver.keys("foo:bar").await;
    let screen = render(&driver.state, 120, 40);
    assert!(screen.contains("`foo:bar` is not a filter"), "{screen}");
    assert!(screen.contains("fic:0"), "{screen}");
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;

    driver.key(KeyCode::Char('/')).await;
    driver.keys("inventory").await;
    driver.key(KeyCode::Enter).await;
    // The cursor rested on inventory-sync: its FICs and worst finding under the list.
    check("apps_preview_inventory_sync", &mut driver.state);
    driver.key(KeyCode::Enter).await;
    check("app_detail_inventory_sync", &mut driver.state);
    driver.key(KeyCode::Esc).await;

    driver.key(KeyCode::Char('/')).await;
    driver.keys("payments").await;
    driver.key(KeyCode::Enter).await;
    check("apps_preview_payments_api", &mut driver.state);
    driver.key(KeyCode::Enter).await;
    check("app_detail_payments_api", &mut driver.state);
    driver.keys("D").await;
    check("confirm_delete", &mut driver.state);
    driver.key(KeyCode::Esc).await;
    driver.keys("e").await;
    check("export", &mut driver.state);
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;

    driver.key(KeyCode::Tab).await;
    check("identities", &mut driver.state);
    // Identities have their own facets; an apps facet is refused by name.
    driver.key(KeyCode::Char('/')).await;
    driver.keys("kind:system").await;
    assert!(driver.state.identities.query().problems.is_empty());
    assert!(driver.state.identities.visible_len() > 0);
    assert!(
        driver
            .state
            .identities
            .visible_rows(0, usize::MAX)
            .all(|i| i.kind == ficus::tui::model::IdentityKind::SystemAssigned)
    );
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Char('/')).await;
    driver.keys("fic:0").await;
    let screen = render(&driver.state, 120, 40);
    assert!(
        screen.contains("`fic:0` does not apply to identities"),
        "{screen}"
    );
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Enter).await;
    check("identity_detail_id_inventory", &mut driver.state);
    // On the wrong trust: its findings in full under the table.
    driver.keys("j").await;
    check("identity_detail_wrong_trust", &mut driver.state);
    driver.key(KeyCode::Esc).await;

    driver.keys("?").await;
    check("help", &mut driver.state);
    driver.key(KeyCode::Esc).await;

    driver.keys(":").await;
    driver.keys("pay").await;
    check("palette", &mut driver.state);
    driver.key(KeyCode::Esc).await;
    driver.keys(":").await;
    driver.keys("explain AADSTS700213").await;
    driver.key(KeyCode::Enter).await;
    check("palette_explain", &mut driver.state);
}

#[tokio::test]
async fn read_only_badge_and_refused_delete() {
    let mut driver = Driver::new(demo_directory(true).await, "mono");
    driver.start().await;
    driver.key(KeyCode::Char('/')).await;
    driver.keys("payments").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("D").await;
    assert!(driver.state.overlay.is_none());
    check("read_only_refused_delete", &mut driver.state);
}

#[tokio::test]
async fn sign_in_screens() {
    let directory =
        std::sync::Arc::new(std::sync::Mutex::new(ficus::tui::MemoryDirectory::default()));
    let mut driver = Driver::new(directory, "default");
    driver.state.phase = Phase::SigningIn(SignInScreen::default());
    // No code yet: nothing to copy, so no `y copy code` hint.
    let waiting = render(&driver.state, 80, 24);
    assert!(
        waiting.contains("Asking Entra for a sign-in code"),
        "{waiting}"
    );
    assert!(!waiting.contains("copy code"), "{waiting}");
    let expires_at = driver.state.now + time::Duration::minutes(15);
    driver
        .send(Msg::SignIn(SignInEvent::Code {
            verification_uri: "https://microsoft.com/devicelogin".into(),
            user_code: "FICUS2026".into(),
            expires_at,
        }))
        .await;
    check("sign_in_code", &mut driver.state);
    assert!(render(&driver.state, 80, 24).contains("y copy code"));
    driver
        .send(Msg::SignIn(SignInEvent::Failed(
            SignInFailure::ConditionalAccess {
                detail: "AADSTS53003: Access has been blocked by Conditional Access policies."
                    .into(),
            },
        )))
        .await;
    check("sign_in_conditional_access", &mut driver.state);
    assert!(!render(&driver.state, 80, 24).contains("copy code"));

    // Offline (DNS failure on login.microsoftonline.com): the way to try ficus without a
    // tenant is named.
    driver.state.phase = Phase::SigningIn(SignInScreen::default());
    driver
        .send(Msg::SignIn(SignInEvent::Failed(SignInFailure::Other {
            detail: "network error talking to https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode: dns error: failed to lookup address information: Temporary failure in name resolution; check the network, proxy settings and that the endpoint is reachable".into(),
        })))
        .await;
    let offline = render(&driver.state, 120, 40);
    assert!(
        offline.contains("could not reach Microsoft Entra ID"),
        "{offline}"
    );
    assert!(offline.contains("ficus --sandbox"), "{offline}");
    check("sign_in_offline", &mut driver.state);
}

/// A column's own sort key (`o 3`: FICs) and its reverse (`S`), marked ▲/▼ in the header; the
/// exchange's picker with its keys from the keymap's `[input]` table.
#[tokio::test]
async fn column_sort_and_input_keys_on_the_demo_tenant() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    driver.keys("o3").await;
    assert_eq!(driver.state.apps.sort(), Some((2, false)));
    check("apps_sorted_by_fics", &mut driver.state);
    driver.keys("S").await;
    assert_eq!(driver.state.apps.sort(), Some((2, true)));
    let screen = render(&driver.state, 80, 24);
    assert!(screen.contains("FIC▼"), "{screen}");

    driver.key(KeyCode::Char('/')).await;
    driver.keys("payments-api").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("x").await;
    driver.key(KeyCode::Enter).await;
    let screen = render(&driver.state, 80, 24);
    assert!(
        screen.contains("type to filter · ↑/↓ move · Enter choose · Esc cancel"),
        "{screen}"
    );
    check("exchange_picker", &mut driver.state);
}

/// `V` on a FIC: each value alone on one unwrapped line, the screen's whole width, so a
/// mouse selection copies an issuer or a subject whole instead of a wrapped half.
#[tokio::test]
async fn one_line_values_on_the_demo_tenant() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    driver.key(KeyCode::Char('/')).await;
    driver.keys("payments-api").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("V").await;
    let screen = render(&driver.state, 80, 24);
    let subject_line = screen
        .lines()
        .find(|line| line.contains("subject:"))
        .map(|_| ());
    assert!(subject_line.is_some(), "{screen}");
    check("one_line_values", &mut driver.state);
}

/// The exchange's resource tenant for a multitenant app: the home tenant and the other
/// tenants the session knows (the sandbox's fabrikam), not only a free-text field.
#[tokio::test]
async fn exchange_tenant_choice_for_a_multitenant_app() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    driver.key(KeyCode::Char('/')).await;
    driver.keys("partner-sync").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("x").await;
    // The focus starts on the scope; the resource tenant is above it.
    driver.keys("k").await;
    driver.key(KeyCode::Enter).await;
    let screen = render(&driver.state, 80, 24);
    assert!(screen.contains("fabrikam"), "{screen}");
    check("exchange_tenant_picker", &mut driver.state);
}

/// The Health tab (#14) on the demo tenant: every seeded lesson found, counted by kind, worst
/// first, and nothing about the correct apps.
#[tokio::test]
async fn health_view_on_the_demo_tenant() {
    use ficus::tui::screens::health::HealthScreen;
    use ficus::tui::state::Screen;
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    driver.keys("3").await;
    let health = |state: &ficus::tui::State| -> Vec<(String, String)> {
        let Some(Screen::Health(screen)) = state.stack.first() else {
            panic!("the Health tab is open");
        };
        let screen: &HealthScreen = screen;
        screen
            .findings
            .visible_rows(0, usize::MAX)
            .map(|r| {
                (
                    r.finding.kind.code().to_string(),
                    r.finding.object_name().to_string(),
                )
            })
            .collect()
    };
    let found = health(&driver.state);
    for (kind, object) in [
        ("clientIdAsSubject", "inventory-sync"),
        ("issuerTrailingSlash", "reporting-portal"),
        ("audienceOtherCloud", "gov-exporter"),
        ("subjectCase", "orders-api"),
        ("secretExpired", "billing-worker"),
        ("leftoverSecret", "payments-api"),
        ("untrustedIdentity", "id-orphan"),
    ] {
        assert!(
            found.iter().any(|(k, o)| k == kind && o == object),
            "{kind} on {object} missing from {found:?}"
        );
    }
    assert!(
        !found.iter().any(|(_, o)| o == "partner-sync"),
        "a correct app has no finding: {found:?}"
    );
    // Worst first: errors before warnings before infos.
    assert_eq!(
        found.last().map(|(k, _)| k.as_str()),
        Some("untrustedIdentity")
    );
    for (width, height) in SIZES {
        driver.state.size = (width, height);
        let screen = render(&driver.state, width, height);
        insta::with_settings!({
            snapshot_suffix => format!("{width}x{height}"),
            filters => vec![
                (r"\b(in )?\d+ (second|minute|hour|day|month|year)s?( ago)?", "[time]"),
                // A message cut at the column's edge inside its time.
                (r"\b(in )?\d+ [a-z]*… ", "[time]… "),
                (r"127\.0\.0\.1:\d+", "[sandbox]"),
            ],
        }, {
            insta::assert_snapshot!("health", screen);
        });
    }
}
