//! "Use it in your workload" through the root `update`: tabs, scrolling, `y` copying the whole
//! snippet, and the identity a FIC names.
use super::*;
use crate::keymap::Keymap;
use crate::msg::Msg;
use crate::nav::Nav;
use crate::state::{Screen, State};
use crate::theme::Themes;
use crate::update::update;
use ficus_core::fic::IdentityKind;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::macros::datetime;

fn identity(name: &str, principal: &str, client: &str) -> Identity {
    Identity {
        name: name.into(),
        kind: IdentityKind::UserAssigned,
        client_id: client.into(),
        principal_id: principal.into(),
        arm_id: None,
        subscription: None,
        resource_group: None,
        tenant_id: None,
    }
}

fn app(name: &str, app_id: &str) -> AppRow {
    crate::nav::AppChoice {
        object_id: format!("object-of-{app_id}"),
        app_id: app_id.into(),
        name: name.into(),
    }
    .to_row()
}

fn values() -> WorkloadValues {
    values_for(
        &Cloud::us_gov(),
        &app("payments-api", "app-1"),
        &identity("id-payments", "principal-1", "client-1"),
        "tenant-1",
        None,
        None,
    )
}

fn state_with_view() -> State {
    let mut state = State::new(
        Keymap::default(),
        Themes::built_in(),
        "mono",
        datetime!(2026-06-01 12:00 UTC),
    );
    state.phase = crate::state::Phase::Console;
    state.stack.push(Screen::Workload(Box::new(open(values()))));
    state
}

fn key(state: &mut State, code: KeyCode) -> Vec<Cmd> {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn view(state: &State) -> &WorkloadScreen {
    match state.stack.last() {
        Some(Screen::Workload(screen)) => screen,
        _ => panic!("the workload view is on top"),
    }
}

#[test]
fn values_default_to_the_cloud_s_graph_scope_and_keep_a_chosen_one() {
    assert_eq!(values().scope, "https://graph.microsoft.us/.default");
    let chosen = values_for(
        &Cloud::global(),
        &app("a", "b"),
        &identity("i", "p", "c"),
        "t",
        Some(" api://x/.default "),
        None,
    );
    assert_eq!(chosen.scope, "api://x/.default");
    assert_eq!(chosen.identity_client_id, "c");
    assert_eq!(chosen.identity_principal_id, "p");
}

#[test]
fn tabs_go_round_both_ways_and_reset_the_scroll() {
    let mut state = state_with_view();
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(view(&state).scroll, 2);
    key(&mut state, KeyCode::Tab);
    assert_eq!(view(&state).shape(), Shape::AppSettings);
    assert_eq!(view(&state).scroll, 0);
    key(&mut state, KeyCode::Left);
    key(&mut state, KeyCode::Left);
    assert_eq!(view(&state).shape(), Shape::AzCli, "wraps to the last tab");
    key(&mut state, KeyCode::Char('l'));
    assert_eq!(view(&state).shape(), Shape::CsharpAzureIdentity);
}

#[test]
fn y_copies_the_whole_snippet_of_the_tab_shown() {
    let mut state = state_with_view();
    key(&mut state, KeyCode::Tab);
    let commands = key(&mut state, KeyCode::Char('y'));
    let [Cmd::Copy(text)] = commands.as_slice() else {
        panic!("one copy: {commands:?}");
    };
    assert_eq!(
        text.expose(),
        &workload::snippet(Shape::AppSettings, &values())
    );
    let toast = state.toast.as_ref().expect("a toast").text.clone();
    assert!(toast.contains("appsettings.json"), "{toast}");
}

#[test]
fn esc_closes_the_view() {
    let mut state = state_with_view();
    key(&mut state, KeyCode::Esc);
    assert!(state.stack.is_empty());
}

#[test]
fn a_fic_s_identity_is_found_by_principal_id_or_by_the_client_id_mistake() {
    let identities = [
        identity("id-a", "p-a", "c-a"),
        identity("id-b", "p-b", "c-b"),
    ];
    let fic = |subject: &str| Fic {
        id: None,
        name: "f".into(),
        issuer: "https://login.microsoftonline.com/t/v2.0".into(),
        subject: subject.into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    };
    assert_eq!(
        identity_of(&fic("P-B"), &identities).map(|i| &*i.name),
        Some("id-b")
    );
    assert_eq!(
        identity_of(&fic("c-a"), &identities).map(|i| &*i.name),
        Some("id-a")
    );
    assert_eq!(identity_of(&fic("repo:org/x:ref:main"), &identities), None);
    // Nav carries the values whole.
    let nav = Nav::OpenWorkload(Box::new(values()));
    assert!(matches!(nav, Nav::OpenWorkload(v) if v.app_client_id == "app-1"));
}

#[test]
fn the_infrastructure_tabs_write_the_fic_given_or_the_one_to_create() {
    let mut with_arm = identity("id-payments", "principal-1", "client-1");
    with_arm.arm_id = Some(
        "/subscriptions/s-1/resourceGroups/rg-1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments"
            .into(),
    );
    let stored = Fic {
        id: Some("fic-id".into()),
        name: "payments-trust".into(),
        issuer: "https://login.microsoftonline.com/tenant-1/v2.0".into(),
        subject: "principal-1".into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    };
    let given = values_for(
        &Cloud::global(),
        &app("payments-api", "app-1"),
        &with_arm,
        "tenant-1",
        None,
        Some(&stored),
    );
    let terraform = workload::snippet(Shape::Terraform, &given);
    assert!(
        terraform.contains("application_id = \"/applications/object-of-app-1\""),
        "{terraform}"
    );
    assert!(
        terraform.contains("display_name   = \"payments-trust\""),
        "{terraform}"
    );
    assert!(
        terraform.contains("default     = \"/subscriptions/s-1/resourceGroups/rg-1/"),
        "{terraform}"
    );
    // No stored FIC: the one ficus would create, issued by the tenant, naming the principal id.
    let new = values();
    assert_eq!(new.fic.subject, "principal-1");
    assert_eq!(
        new.fic.issuer,
        "https://login.microsoftonline.us/tenant-1/v2.0"
    );
    assert_eq!(
        new.fic.audiences,
        vec!["api://AzureADTokenExchangeUSGov".to_string()]
    );
    let az = workload::snippet(Shape::AzCli, &new);
    assert!(
        az.contains("az ad app federated-credential create --id 'app-1'"),
        "{az}"
    );
    assert!(az.contains("az cloud set --name AzureUSGovernment"), "{az}");
}
