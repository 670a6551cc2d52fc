//! "Use it in your workload" in the console on the sandbox's demo tenant: opened with `u` from
//! App detail on the selected FIC, its tabs, and snapshots at 80×24 and 120×40. The exchange's
//! and the wizard's `u` are in `tui_exchange.rs` and the screen's unit tests.

use crate::tui_fixture;

use ficus::sandbox::seed::{self, CONTOSO};
use ficus::tui::state::Screen;
use ficus::tui::views;
use ficus_core::workload::Shape;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tui_fixture::{Driver, demo_directory};

fn render(state: &ficus::tui::State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}

fn snapshot(name: &str, state: &mut ficus::tui::State) {
    for (width, height) in [(80, 24), (120, 40)] {
        state.size = (width, height);
        let screen = render(state, width, height);
        insta::with_settings!({
            snapshot_suffix => format!("{width}x{height}"),
            filters => vec![(r"127\.0\.0\.1:\d+", "[sandbox]")],
        }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

fn workload(state: &ficus::tui::State) -> &ficus::tui::screens::workload::WorkloadScreen {
    match state.stack.last() {
        Some(Screen::Workload(screen)) => screen,
        _ => panic!("the workload view is on top"),
    }
}

#[tokio::test]
async fn u_on_a_fic_opens_its_workload_code() {
    let mut driver = Driver::new(demo_directory(false).await, "default");
    driver.start().await;
    driver.key(KeyCode::Char('/')).await;
    driver.keys("payments").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("u").await;

    let view = workload(&driver.state);
    let (principal, client) = seed::identity_ids(CONTOSO, "id-payments");
    assert_eq!(
        view.values.app_client_id,
        seed::app_ids(CONTOSO, "payments-api").1.to_string()
    );
    assert_eq!(view.values.identity_client_id, client.to_string());
    assert_eq!(view.values.identity_principal_id, principal.to_string());
    assert_eq!(
        view.values.resource_tenant,
        seed::tenant_id(CONTOSO).to_string()
    );
    assert_eq!(view.values.scope, "https://graph.microsoft.com/.default");
    snapshot("workload_payments_api", &mut driver.state);

    // Tab by tab to Python: its program, with the identity's client id.
    for _ in 0..3 {
        driver.key(KeyCode::Tab).await;
    }
    assert_eq!(workload(&driver.state).shape(), Shape::PythonAzureIdentity);
    let screen = render(&driver.state, 120, 40);
    assert!(
        screen.contains(&format!("MANAGED_IDENTITY_CLIENT_ID = \"{client}\"")),
        "{screen}"
    );
    snapshot("workload_payments_api_python", &mut driver.state);

    // Back one tab (wrapping) past the code to the infrastructure: the az script creates
    // payments-api's own FIC (as stored) and attaches id-payments by its ARM id.
    for _ in 0..(3 + 1) {
        driver.key(KeyCode::Left).await;
    }
    assert_eq!(workload(&driver.state).shape(), Shape::AzCli);
    let values = &workload(&driver.state).values;
    assert_eq!(values.fic.name, "mi-id-payments");
    assert_eq!(values.fic.subject, principal.to_string());
    let arm_id = values
        .identity_resource_id
        .clone()
        .expect("the sandbox's identities carry their ARM id");
    assert!(
        arm_id.ends_with("/userAssignedIdentities/id-payments"),
        "{arm_id}"
    );
    let script = workload(&driver.state).snippet();
    assert!(
        script.contains(&format!("IDENTITY_ID='{arm_id}'")),
        "{script}"
    );
    driver.key(KeyCode::Left).await;
    assert_eq!(workload(&driver.state).shape(), Shape::Terraform);
    snapshot("workload_payments_api_terraform", &mut driver.state);

    // inventory-sync's FIC names id-inventory's client id: the code still selects it by
    // client id (and the exchange would say AADSTS700213).
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Esc).await;
    driver.key(KeyCode::Char('/')).await;
    driver.keys("inventory").await;
    driver.key(KeyCode::Enter).await;
    driver.key(KeyCode::Enter).await;
    driver.keys("u").await;
    let (_, inventory_client) = seed::identity_ids(CONTOSO, "id-inventory");
    assert_eq!(
        workload(&driver.state).values.identity_client_id,
        inventory_client.to_string()
    );
}
