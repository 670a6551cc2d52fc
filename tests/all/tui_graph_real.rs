//! The console living with Graph as it really behaves (issue 18, items 9-11), against the
//! in-process sandbox with its faults, through the real Graph-backed directory and effects
//! runner: the Apps list spends no `$select=keyCredentials` per row, a create Graph's reads do
//! not show yet is saved (not failed, no retry), the identity detail says when the reverse
//! lookup's index lags, and the Graph client's waits reach the loop as messages. No test waits
//! real seconds: the client waits on a virtual clock.

use crate::tui_fixture;

use ficus::entra::http::WaitReason;
use ficus::fic::Fic;
use ficus::sandbox::seed::{self, CONTOSO, Seed};
use ficus::tui::Directory;
use ficus::tui::model::CredentialKind;
use ficus::tui::msg::Cmd;
use ficus::tui::state::Screen;
use ficus::tui::views;
use ficus::tui::wizard::{Step, Wizard, WizardCmd};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tui_fixture::{Driver, faulty_directory};

fn render(state: &ficus::tui::State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| views::draw(frame, state))
        .expect("draws");
    // One line of text per screen line, without the debug quoting.
    terminal
        .backend()
        .buffer()
        .content()
        .chunks(width as usize)
        .map(|line| line.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn wizard(state: &ficus::tui::State) -> &Wizard {
    match state.stack.last() {
        Some(Screen::Wizard(wizard)) => wizard,
        _ => panic!("the wizard is not on top"),
    }
}

fn app_object_id(name: &str) -> String {
    seed::app_ids(CONTOSO, name).0.to_string()
}

fn fic_count(state: &ficus::tui::State, name: &str) -> Option<usize> {
    state
        .apps
        .items()
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.fic_count)
}

#[tokio::test]
async fn tui_the_app_list_over_200_apps_spends_no_key_credentials_per_row() {
    let (directory, sandbox, waiter) = faulty_directory("", Seed::Large(250), true).await;
    let mut driver = Driver::new(directory.clone(), "mono");
    driver.start().await;
    assert!(driver.state.apps.len() > 200, "{}", driver.state.apps.len());
    // Certificate expiry came from the index, joined by app id: the credentials column and the
    // `expires:` facets have it.
    let crm = driver
        .state
        .apps
        .items()
        .iter()
        .find(|a| a.name == "legacy-crm")
        .expect("legacy-crm is listed");
    assert!(
        crm.credentials
            .iter()
            .any(|c| c.kind == CredentialKind::Certificate && c.expires.is_some()),
        "{:?}",
        crm.credentials
    );
    // The cursor-rest / detail GET for every row: more than Graph's 150 keyCredentials
    // requests a minute if each selected them.
    let ids: Vec<String> = driver
        .state
        .apps
        .items()
        .iter()
        .map(|a| a.object_id.clone())
        .collect();
    for id in ids {
        let detail = directory.app_detail(id).await.expect("detail");
        if detail.app.name == "legacy-crm" {
            assert!(
                detail
                    .app
                    .credentials
                    .iter()
                    .any(|c| c.kind == CredentialKind::Certificate),
                "the detail has the certificate on demand"
            );
        }
    }
    assert_eq!(sandbox.state().throttle.throttled(), 0, "no 429 drawn");
    let paced: Vec<_> = waiter
        .waits()
        .into_iter()
        .filter(|w| w.reason == WaitReason::Pacing || w.reason == WaitReason::Throttled)
        .collect();
    assert!(
        paced.is_empty(),
        "no keyCredentials allowance spent per row: {paced:?}"
    );
}

/// Opens billing-worker, presses `a`, chooses id-payments, reviews and creates.
async fn create_billing_worker<D: Directory>(driver: &mut Driver<D>) {
    driver.key(KeyCode::Char('/')).await;
    driver.keys("billing").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("a").await;
    driver.keys("/id-payments").await;
    driver.key(KeyCode::Enter).await;
    assert_eq!(wizard(&driver.state).step, Step::Fields);
    driver.key(KeyCode::Enter).await;
    assert_eq!(wizard(&driver.state).step, Step::Review);
    driver.key(KeyCode::Enter).await;
}

#[tokio::test]
async fn tui_a_create_under_graph_lag_is_saved_not_replicated_and_counted_at_once() {
    let (directory, sandbox, _waiter) = faulty_directory("graph-lag=30", Seed::Demo, false).await;
    let mut driver = Driver::new(directory.clone(), "mono");
    driver.start().await;
    let before = fic_count(&driver.state, "billing-worker").expect("counted");
    create_billing_worker(&mut driver).await;
    let wizard = wizard(&driver.state);
    assert!(
        matches!(&wizard.step, Step::Done { stored } if stored.name == "mi-id-payments"),
        "{:?}",
        wizard.step
    );
    assert!(!wizard.replicated);
    let text = render(&driver.state, 120, 40);
    assert!(
        text.contains("created — Graph's reads do not show it yet (replication); it is saved"),
        "{text}"
    );
    assert!(!text.contains("Could not"), "{text}");
    assert!(
        !text.contains("r retry") && !text.contains("r or Enter retries"),
        "no retry offered: {text}"
    );
    let toast = driver.state.toast.as_ref().expect("a toast");
    assert!(toast.text.contains("not show it yet"), "{}", toast.text);
    // Saved once, and the list and the app's detail show it at once.
    let app = app_object_id("billing-worker");
    let held = sandbox.state().read(|d| {
        d.tenant(CONTOSO)
            .and_then(|t| t.application(app.parse().expect("guid")))
            .map_or(0, |a| {
                a.federated_identity_credentials
                    .iter()
                    .filter(|f| f.name == "mi-id-payments")
                    .count()
            })
    });
    assert_eq!(held, 1, "created once");
    assert_eq!(fic_count(&driver.state, "billing-worker"), Some(before + 1));
    let detail = directory.app_detail(app).await.expect("detail");
    assert!(
        detail.fics.iter().any(|f| f.fic.name == "mi-id-payments"),
        "the client merges its own write"
    );

    // The identity detail: the query index does not show it yet; ficus merges it and says so.
    let identity = driver
        .state
        .identities
        .items()
        .iter()
        .find(|i| i.name == "id-payments")
        .cloned()
        .expect("id-payments");
    driver.key(KeyCode::Enter).await; // back to the app from the done step
    let cmds = ficus::tui::update::open_identity(&mut driver.state, identity);
    driver.run(cmds).await;
    let Some(Screen::IdentityDetail(screen)) = driver.state.stack.last() else {
        panic!("the identity detail is on top");
    };
    let detail = screen.detail.as_ref().expect("loaded");
    assert!(
        detail
            .trusted_by
            .iter()
            .any(|t| t.app_name == "billing-worker"),
        "{:?}",
        detail.trusted_by
    );
    let note = detail.lag_note.clone().expect("a lag note");
    assert!(note.contains("moments ago"), "{note}");
    let text = render(&driver.state, 120, 40);
    assert!(
        text.contains("i includes credentials ficus created"),
        "{text}"
    );
}

#[tokio::test]
async fn tui_graph_waits_reach_the_loop_as_messages() {
    // Two writes per 150 s: the third create waits as long as Graph says, and says so.
    let (_directory, _sandbox, waiter) =
        faulty_directory("graph-write-quota=2", Seed::Demo, true).await;
    let mut driver = Driver::new(_directory, "mono");
    driver.start().await;
    let app = app_object_id("billing-worker");
    let tenant = seed::tenant_id(CONTOSO);
    for (i, name) in ["quota-1", "quota-2", "quota-3"].into_iter().enumerate() {
        let fic = Fic {
            id: None,
            name: name.into(),
            issuer: format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            subject: format!("subject-{name}"),
            audiences: vec!["api://AzureADTokenExchange".into()],
            description: None,
        };
        driver
            .run(vec![Cmd::Wizard(WizardCmd::Create {
                request: 9000 + i as u64,
                app_object_id: app.clone(),
                fic,
            })])
            .await;
    }
    assert!(
        waiter
            .waits()
            .iter()
            .any(|w| w.reason == WaitReason::Throttled && w.duration.as_secs() > 30),
        "{:?}",
        waiter.waits()
    );
    assert!(
        driver.waits.iter().any(
            |t| t.starts_with("waiting ") && t.ends_with(" s: Graph is throttling ficus (429)")
        ),
        "{:?}",
        driver.waits
    );
    // Once the answer arrived, the wait's toast is gone.
    assert!(
        driver
            .state
            .toast
            .as_ref()
            .is_none_or(|t| !t.text.starts_with("waiting ")),
        "{:?}",
        driver.state.toast
    );
}
