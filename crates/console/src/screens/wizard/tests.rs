//! `update` tests of every wizard step and transition, and 80×24 snapshots of each step.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::keymap::Keymap;
use crate::model::{AppDetail, Audience, Credential, CredentialKind, FicRow};
use crate::model::{AppRow, IdentityKind, IdentityRow};
use crate::msg::Session;
use crate::msg::{Cmd, Msg, RequestId};
use crate::state::{AppDetailScreen, DetailPane, Phase};
use crate::state::{Screen, State};
use crate::theme::Themes;
use crate::update::{start_console, update};
use ficus_core::cloud::Cloud;
use ficus_core::fic::{Fic, Field};

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const TENANT: &str = "aaaaaaaa-0000-4000-8000-000000000001";

fn guid(kind: u8, n: u8) -> String {
    format!("{kind:02x}000000-0000-4000-8000-0000000000{n:02x}")
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Msg {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn press(state: &mut State, keys: &str) -> Vec<Cmd> {
    keys.chars().flat_map(|c| update(state, ch(c))).collect()
}

/// The picker's rows of the wizard on top.
fn picker_rows(state: &State) -> PickerRows<'_> {
    let Some(Screen::Wizard(wizard)) = state.stack.last() else {
        panic!("the wizard is not on top");
    };
    super::picker_rows(wizard, &state.ctx())
}

fn cloud() -> Cloud {
    Cloud::custom("https://127.0.0.1:8443", "https://127.0.0.1:8443/v1.0")
}

fn session(read_only: bool) -> Session {
    Session {
        tenant: "Contoso (contoso.onmicrosoft.com)".into(),
        tenant_id: TENANT.into(),
        cloud: "sandbox".into(),
        user: "admin@contoso.onmicrosoft.com".into(),
        read_only,
        graph_base: "https://127.0.0.1:8443/v1.0".into(),
        cloud_endpoints: cloud(),
        known_tenants: vec!["contoso".into()],
    }
}

fn app_row(name: &str, n: u8, fics: usize, secret: bool) -> AppRow {
    AppRow {
        object_id: guid(0xa0, n),
        app_id: guid(0xa1, n),
        name: name.into(),
        fic_count: Some(fics),
        fic_subjects: None,
        credentials: if secret {
            vec![Credential {
                kind: CredentialKind::Secret,
                name: "legacy".into(),
                key_id: guid(0xa2, n),
                expires: Some(NOW - Duration::days(3)),
            }]
        } else {
            Vec::new()
        },
        audience: Audience::Single,
    }
}

fn identity_row(name: &str, n: u8, kind: IdentityKind) -> IdentityRow {
    IdentityRow::new(ficus_core::fic::Identity {
        name: name.into(),
        kind,
        client_id: guid(0xc0, n),
        principal_id: guid(0xd0, n),
        resource_group: Some("rg-apps".into()),
        subscription: Some(guid(0xe0, 1)),
        arm_id: None,
        tenant_id: Some(TENANT.into()),
    })
}

fn payments() -> IdentityRow {
    identity_row("id-payments", 1, IdentityKind::UserAssigned)
}

fn inventory() -> IdentityRow {
    identity_row("id-inventory", 2, IdentityKind::UserAssigned)
}

fn good_fic(identity: &IdentityRow, name: &str, id: &str) -> Fic {
    Fic {
        id: Some(id.into()),
        name: name.into(),
        issuer: cloud().issuer(TENANT),
        subject: identity.principal_id.clone(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    }
}

fn detail(row: AppRow, fics: Vec<Fic>) -> AppDetail {
    AppDetail {
        app: AppRow {
            fic_count: Some(fics.len()),
            fic_subjects: None,
            ..row
        },
        fics: fics
            .into_iter()
            .map(|fic| FicRow {
                fic,
                raw: None,
                subject_name: None,
                findings: Vec::new(),
            })
            .collect(),
        identifier_uris: Vec::new(),
    }
}

/// A signed-in console with apps and identities loaded.
fn console(read_only: bool) -> State {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "mono", NOW);
    state.session = Some(session(read_only));
    start_console(&mut state);
    let (apps, identities) = (state.apps.request, state.identities.request);
    update(
        &mut state,
        Msg::AppsPage {
            request: apps,
            rows: vec![
                app_row("billing-worker", 1, 0, true),
                app_row("payments-api", 2, 1, true),
                app_row("crowded-app", 3, 20, false),
            ],
            page: 1,
            done: true,
        },
    );
    update(
        &mut state,
        Msg::IdentitiesPage {
            request: identities,
            rows: vec![
                identity_row("vm-legacy", 9, IdentityKind::SystemAssigned),
                payments(),
                inventory(),
            ],
            page: 1,
            done: true,
        },
    );
    state
}

/// The App detail of `detail` on screen.
fn on_app_detail(state: &mut State, detail: AppDetail) {
    let request = state.new_request();
    state
        .stack
        .push(Screen::AppDetail(Box::new(AppDetailScreen {
            object_id: detail.app.object_id.clone(),
            name: detail.app.name.clone(),
            request,
            detail: Some(detail),
            error: None,
            pane: DetailPane::Fics,
            fic_cursor: 0,
            credential_cursor: 0,
            migration: Default::default(),
        })));
}

fn billing_detail() -> AppDetail {
    detail(app_row("billing-worker", 1, 0, true), Vec::new())
}

fn the_wizard(state: &State) -> &Wizard {
    match state.stack.last() {
        Some(Screen::Wizard(wizard)) => wizard,
        _ => panic!("the wizard is not on top"),
    }
}

fn value(state: &State, id: FieldId) -> String {
    the_wizard(state).field(id).input.value().to_string()
}

/// The exchange screen (#7) on top, opened for `app_id` and `identity`.
fn assert_exchange_opened(state: &State, app_id: &str, identity: &str, just_created: bool) {
    match state.stack.last() {
        Some(Screen::Exchange(screen)) => {
            assert_eq!(screen.app.as_ref().map(|a| a.app_id.as_str()), Some(app_id));
            assert_eq!(
                screen.identity.as_ref().map(|i| i.name.as_str()),
                Some(identity)
            );
            assert_eq!(screen.just_created, just_created);
        }
        _ => panic!("the exchange screen is not on top"),
    }
}

fn toast(state: &State) -> String {
    state
        .toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// billing-worker's detail → a → id-payments chosen → the fields.
fn at_fields(read_only: bool) -> State {
    let mut state = console(read_only);
    on_app_detail(&mut state, billing_detail());
    assert!(press(&mut state, "a").is_empty());
    assert_eq!(the_wizard(&state).step, Step::Pick(Side::Identity));
    // id-inventory is first; j moves to id-payments.
    press(&mut state, "j");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    state
}

fn set_field(state: &mut State, id: FieldId, text: &str) {
    let Some(Screen::Wizard(wizard)) = state.stack.last_mut() else {
        panic!("no wizard");
    };
    wizard.focus = id as usize;
    press(state, "e");
    // Clear it: Ctrl-U deletes to the start in tui-input... move to end and backspace all.
    let len = value(state, id).chars().count();
    update(state, key(KeyCode::End));
    for _ in 0..len {
        update(state, key(KeyCode::Backspace));
    }
    assert_eq!(value(state, id), "");
    update(state, Msg::paste(text.to_string()));
    update(state, key(KeyCode::Enter));
}

#[test]
fn from_app_detail_the_fields_are_auto_filled_with_their_provenance() {
    let state = at_fields(false);
    let wizard = the_wizard(&state);
    assert_eq!(value(&state, FieldId::Name), "mi-id-payments");
    assert_eq!(value(&state, FieldId::Issuer), cloud().issuer(TENANT));
    assert_eq!(value(&state, FieldId::Subject), payments().principal_id);
    assert_eq!(
        value(&state, FieldId::Audience),
        "api://AzureADTokenExchange"
    );
    assert!(value(&state, FieldId::Description).contains("id-payments"));
    assert!(
        wizard
            .field(FieldId::Issuer)
            .provenance()
            .contains("tenant's authority")
    );
    assert!(
        wizard
            .field(FieldId::Subject)
            .provenance()
            .contains("principal id of id-payments")
    );
    assert!(
        wizard
            .field(FieldId::Audience)
            .provenance()
            .contains("exchange audience")
    );
    assert!(wizard.findings.is_empty(), "{:?}", wizard.findings);
}

#[test]
fn system_assigned_identities_are_listed_but_refused_with_the_reason() {
    let mut state = console(false);
    on_app_detail(&mut state, billing_detail());
    press(&mut state, "a");
    match picker_rows(&state) {
        PickerRows::Identities(rows) => {
            // Usable ones first, by name; the system-assigned one last.
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(names, ["id-inventory", "id-payments", "vm-legacy"]);
            assert_eq!(rows[2].kind, IdentityKind::SystemAssigned);
        }
        PickerRows::Apps(_) => panic!("expected identities"),
    }
    press(&mut state, "G");
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(commands.is_empty());
    assert_eq!(the_wizard(&state).step, Step::Pick(Side::Identity));
    assert!(
        toast(&state).contains("only user-assigned"),
        "{}",
        toast(&state)
    );
}

#[test]
fn the_picker_filters_as_you_type_and_takes_a_paste() {
    let mut state = console(false);
    on_app_detail(&mut state, billing_detail());
    press(&mut state, "a");
    press(&mut state, "/inv");
    assert_eq!(picker_rows(&state).len(), 1);
    update(&mut state, key(KeyCode::Esc));
    assert!(!the_wizard(&state).picker_editing);
    assert_eq!(the_wizard(&state).picker_filter.value(), "inv");
    // A pasted principal id filters too.
    let mut state = console(false);
    on_app_detail(&mut state, billing_detail());
    press(&mut state, "a");
    update(
        &mut state,
        Msg::paste(format!("{}\n", payments().principal_id)),
    );
    assert_eq!(picker_rows(&state).len(), 1);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).identity, Some(payments()));
}

#[test]
fn from_the_apps_list_the_fics_are_read_and_the_limit_said_before_typing() {
    let mut state = console(false);
    assert!(state.apps.select_where(|a| a.name == "crowded-app"));
    let commands = press(&mut state, "a");
    let request = match commands.as_slice() {
        [Cmd::Wizard(WizardCmd::LoadApp { request, object_id })] => {
            assert_eq!(object_id, &guid(0xa0, 3));
            *request
        }
        other => panic!("expected the app's FICs to be read, got {other:?}"),
    };
    assert_eq!(the_wizard(&state).step, Step::Pick(Side::Identity));
    let fics: Vec<Fic> = (0..20)
        .map(|n| good_fic(&inventory(), &format!("fic-{n}"), &format!("id-{n}")))
        .collect();
    update(
        &mut state,
        Msg::Wizard(WizardMsg::AppLoaded {
            request,
            result: Ok(Box::new(detail(app_row("crowded-app", 3, 20, false), fics))),
        }),
    );
    assert_eq!(the_wizard(&state).step, Step::Full);
    update(&mut state, key(KeyCode::Enter));
    assert!(toast(&state).contains("20 FICs"));
    // Started from the app: Esc leaves the wizard.
    update(&mut state, key(KeyCode::Esc));
    assert!(state.stack.is_empty());
}

#[test]
fn from_an_identity_the_app_is_picked_then_read() {
    let mut state = console(false);
    press(&mut state, "2");
    assert!(state.identities.select_where(|i| i.name == "id-payments"));
    assert!(press(&mut state, "a").is_empty());
    assert_eq!(the_wizard(&state).step, Step::Pick(Side::App));
    assert_eq!(the_wizard(&state).start, Side::Identity);
    let commands = update(&mut state, key(KeyCode::Enter));
    let request = match commands.as_slice() {
        [Cmd::Wizard(WizardCmd::LoadApp { request, object_id })] => {
            assert_eq!(object_id, &guid(0xa0, 1));
            *request
        }
        other => panic!("expected a read of billing-worker, got {other:?}"),
    };
    assert_eq!(the_wizard(&state).step, Step::Loading);
    // A stale answer is dropped.
    update(
        &mut state,
        Msg::Wizard(WizardMsg::AppLoaded {
            request: request + 100,
            result: Ok(Box::new(billing_detail())),
        }),
    );
    assert_eq!(the_wizard(&state).step, Step::Loading);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::AppLoaded {
            request,
            result: Ok(Box::new(billing_detail())),
        }),
    );
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert_eq!(value(&state, FieldId::Subject), payments().principal_id);
    // Esc goes back to the app picker; the identity stays chosen.
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(the_wizard(&state).step, Step::Pick(Side::App));
    assert_eq!(the_wizard(&state).identity, Some(payments()));
}

#[test]
fn a_system_assigned_identity_cannot_start_the_wizard() {
    let mut state = console(false);
    press(&mut state, "2");
    assert!(state.identities.select_where(|i| i.name == "vm-legacy"));
    assert!(press(&mut state, "a").is_empty());
    assert!(state.stack.is_empty());
    assert!(toast(&state).contains("only user-assigned"));
}

#[test]
fn an_app_already_trusting_the_identity_offers_a_test_instead() {
    let mut state = console(false);
    let existing = good_fic(&payments(), "mi-id-payments", "fic-1");
    on_app_detail(
        &mut state,
        detail(app_row("payments-api", 2, 1, true), vec![existing.clone()]),
    );
    press(&mut state, "aj");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        the_wizard(&state).step,
        Step::AlreadyTrusted {
            fic: existing.clone()
        }
    );
    let commands = press(&mut state, "x");
    assert!(!commands.is_empty(), "the exchange starts at once");
    assert_exchange_opened(&state, &guid(0xa1, 2), "id-payments", false);
    // Esc on the exchange screen comes back to the wizard.
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(
        the_wizard(&state).step,
        Step::AlreadyTrusted { .. }
    ));
    // c changes the existing FIC instead: the edit mode, name fixed.
    press(&mut state, "c");
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert!(the_wizard(&state).is_edit());
    assert!(!the_wizard(&state).editable(FieldId::Name));
}

#[test]
fn classic_mistakes_are_caught_in_the_right_words_and_fixed_in_one_key() {
    let mut state = at_fields(false);
    // The client id as subject.
    set_field(&mut state, FieldId::Subject, &payments().client_id);
    let wizard = the_wizard(&state);
    let finding = wizard
        .errors()
        .find(|f| f.field == Field::Subject)
        .expect("a subject error");
    assert!(
        finding.message.contains("client id of id-payments"),
        "{}",
        finding.message
    );
    assert!(finding.message.contains("principal id"));
    press(&mut state, "f");
    assert_eq!(value(&state, FieldId::Subject), payments().principal_id);
    assert!(the_wizard(&state).findings.is_empty());
    assert!(
        the_wizard(&state)
            .field(FieldId::Subject)
            .provenance()
            .contains("principal id of id-payments")
    );

    // A trailing slash on the issuer.
    let issuer = format!("{}/", cloud().issuer(TENANT));
    set_field(&mut state, FieldId::Issuer, &issuer);
    let finding = the_wizard(&state)
        .errors()
        .find(|f| f.field == Field::Issuer)
        .expect("an issuer error");
    assert!(
        finding.message.contains("ends with '/'"),
        "{}",
        finding.message
    );
    press(&mut state, "f");
    assert_eq!(value(&state, FieldId::Issuer), cloud().issuer(TENANT));

    // Another cloud's audience.
    set_field(
        &mut state,
        FieldId::Audience,
        "api://AzureADTokenExchangeUSGov",
    );
    let finding = the_wizard(&state)
        .errors()
        .find(|f| f.field == Field::Audiences)
        .expect("an audience error");
    assert!(finding.message.contains("cloud"), "{}", finding.message);
    // Enter is blocked while an error stands, and says why.
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert!(toast(&state).contains("block saving"), "{}", toast(&state));
    press(&mut state, "f");
    assert_eq!(
        value(&state, FieldId::Audience),
        "api://AzureADTokenExchange"
    );
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
}

#[test]
fn warnings_need_an_explicit_ok() {
    let mut state = console(false);
    let other = good_fic(&inventory(), "Mi-Id-Payments", "fic-9");
    on_app_detail(
        &mut state,
        detail(app_row("payments-api", 2, 1, true), vec![other]),
    );
    press(&mut state, "aj");
    update(&mut state, key(KeyCode::Enter));
    // The auto-filled name is made unique (-2); type one that differs only in case.
    set_field(&mut state, FieldId::Name, "mi-id-PAYMENTS");
    let wizard = the_wizard(&state);
    assert_eq!(wizard.errors().count(), 0, "{:?}", wizard.findings);
    assert_eq!(wizard.warnings().count(), 1);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert!(toast(&state).contains("w accepts"));
    press(&mut state, "w");
    assert!(the_wizard(&state).warnings_acknowledged());
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
}

#[test]
fn escape_goes_back_one_step_and_keeps_every_input() {
    let mut state = at_fields(false);
    set_field(&mut state, FieldId::Name, "billing-uses-payments");
    set_field(&mut state, FieldId::Description, "typed by hand");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert_eq!(value(&state, FieldId::Name), "billing-uses-payments");
    // Esc while typing leaves the field, keeping the text.
    press(&mut state, "e");
    press(&mut state, "-x");
    update(&mut state, key(KeyCode::Esc));
    assert!(!the_wizard(&state).editing);
    assert_eq!(value(&state, FieldId::Description), "typed by hand-x");
    // Back to the identity picker, choose the same identity again: nothing lost.
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(the_wizard(&state).step, Step::Pick(Side::Identity));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert_eq!(value(&state, FieldId::Name), "billing-uses-payments");
    assert_eq!(value(&state, FieldId::Description), "typed by hand-x");
    assert_eq!(
        the_wizard(&state).field(FieldId::Name).provenance(),
        "typed by you"
    );
}

#[test]
fn quitting_mid_wizard_asks_first() {
    let mut state = at_fields(false);
    assert!(press(&mut state, "q").is_empty());
    assert!(the_wizard(&state).confirm_quit);
    assert!(toast(&state).contains("Quit ficus?"));
    assert!(press(&mut state, "n").is_empty());
    assert!(!state.quit);
    assert_eq!(the_wizard(&state).step, Step::Fields);
    // Ctrl-C asks too; y then quits.
    assert!(update(&mut state, ctrl('c')).is_empty());
    assert!(the_wizard(&state).confirm_quit);
    assert_eq!(press(&mut state, "y"), vec![Cmd::Quit]);
    assert!(state.quit);
}

#[test]
fn quitting_asks_from_the_first_step_but_not_after_the_save() {
    let mut state = console(false);
    on_app_detail(&mut state, billing_detail());
    press(&mut state, "a");
    assert!(press(&mut state, "q").is_empty());
    assert!(the_wizard(&state).confirm_quit);
    update(&mut state, key(KeyCode::Esc));
    assert!(!the_wizard(&state).confirm_quit);
    assert!(!state.quit);
    // Esc out of the first step just leaves the wizard.
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(state.stack.last(), Some(Screen::AppDetail(_))));

    let mut state = at_fields(false);
    let (request, fic) = saving(&mut state);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Ok(Fic {
                id: Some(guid(0xf0, 1)),
                ..fic
            }),
        }),
    );
    assert_eq!(press(&mut state, "q"), vec![Cmd::Quit]);
}

#[test]
fn review_shows_the_exact_request_and_copies_each_format() {
    let mut state = at_fields(false);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    let snippets = review_snippets(the_wizard(&state));
    assert_eq!(snippets.len(), 5);
    let request = &snippets[0].1;
    assert!(request.starts_with(&format!(
        "POST https://127.0.0.1:8443/v1.0/applications/{}/federatedIdentityCredentials",
        guid(0xa0, 1)
    )));
    assert!(request.contains("\"subject\": \"d0000000-"));
    assert!(request.contains("\"audiences\": ["));
    assert!(
        snippets[1]
            .1
            .starts_with("az ad app federated-credential create")
    );
    assert!(
        snippets[2]
            .1
            .starts_with("New-MgApplicationFederatedIdentityCredential")
    );
    assert!(snippets[3].1.contains("federatedIdentityCredentials"));
    assert!(
        snippets[4]
            .1
            .contains("azuread_application_federated_identity_credential")
    );
    assert_eq!(press(&mut state, "y"), vec![Cmd::copy(request.clone())]);
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(
        press(&mut state, "y"),
        vec![Cmd::copy(snippets[1].1.clone())]
    );
    assert!(toast(&state).contains("Azure CLI"));
}

#[test]
fn read_only_disables_create_with_the_reason() {
    let mut state = at_fields(true);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert_eq!(the_wizard(&state).step, Step::Review);
    assert!(toast(&state).contains("--read-only"));
}

fn saving(state: &mut State) -> (RequestId, Fic) {
    update(state, key(KeyCode::Enter));
    let commands = update(state, key(KeyCode::Enter));
    match commands.as_slice() {
        [
            Cmd::Wizard(WizardCmd::Create {
                request,
                app_object_id,
                fic,
            }),
        ] => {
            assert_eq!(app_object_id, &guid(0xa0, 1));
            (*request, fic.clone())
        }
        other => panic!("expected a create, got {other:?}"),
    }
}

#[test]
fn create_then_read_back_then_one_key_to_test() {
    let mut state = at_fields(false);
    let (request, fic) = saving(&mut state);
    assert_eq!(fic.subject, payments().principal_id);
    assert_eq!(fic.id, None);
    assert_eq!(the_wizard(&state).step, Step::Saving { request });
    // Esc does not abandon a request in flight.
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(the_wizard(&state).step, Step::Saving { request });
    let stored = Fic {
        id: Some(guid(0xf0, 1)),
        ..fic
    };
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Ok(stored.clone()),
        }),
    );
    assert_eq!(
        the_wizard(&state).step,
        Step::Done {
            stored: stored.clone()
        }
    );
    let commands = press(&mut state, "x");
    assert!(!commands.is_empty(), "the exchange starts at once");
    // Just created: the exchange screen retries an AADSTS70021 by itself (replication).
    assert_exchange_opened(&state, &guid(0xa1, 1), "id-payments", true);
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(the_wizard(&state).step, Step::Done { .. }));
    // u: the saved FIC's workload code, with the identity's client id.
    press(&mut state, "u");
    match state.stack.last() {
        Some(Screen::Workload(view)) => {
            assert_eq!(view.values.identity_client_id, payments().client_id);
            assert_eq!(view.values.app_client_id, guid(0xa1, 1));
        }
        _ => panic!("the workload view opened"),
    }
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(the_wizard(&state).step, Step::Done { .. }));
    // Enter goes back to the app, reloading it.
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::LoadAppDetail { object_id, .. }] if object_id == &guid(0xa0, 1)
    ));
    assert!(matches!(state.stack.last(), Some(Screen::AppDetail(_))));
}

#[test]
fn a_failed_create_keeps_every_field_and_retries() {
    let mut state = at_fields(false);
    set_field(&mut state, FieldId::Description, "kept across failures");
    let (request, _) = saving(&mut state);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Err("Graph is throttling this tenant (429 Too Many Requests)\u{1b}[31m".into()),
        }),
    );
    match &the_wizard(&state).step {
        Step::Failed { error } => {
            assert!(error.contains("429"));
            assert!(!error.contains('\u{1b}'), "sanitized");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(value(&state, FieldId::Description), "kept across failures");
    // r retries with the same fields.
    let commands = press(&mut state, "r");
    match commands.as_slice() {
        [
            Cmd::Wizard(WizardCmd::Create {
                fic,
                request: again,
                ..
            }),
        ] => {
            assert_ne!(*again, request);
            assert_eq!(fic.description.as_deref(), Some("kept across failures"));
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    // An answer to the first request arriving late is ignored.
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Ok(Fic::default()),
        }),
    );
    assert!(matches!(the_wizard(&state).step, Step::Saving { .. }));
}

#[test]
fn editing_an_existing_fic_patches_only_what_changed_and_keeps_the_name() {
    let mut state = console(false);
    let existing = good_fic(&payments(), "mi-id-payments", "fic-1");
    on_app_detail(
        &mut state,
        detail(app_row("payments-api", 2, 1, true), vec![existing.clone()]),
    );
    press(&mut state, "c");
    assert!(the_wizard(&state).is_edit());
    assert_eq!(the_wizard(&state).identity, Some(payments()));
    // The name cannot be edited.
    the_wizard(&state);
    if let Some(Screen::Wizard(wizard)) = state.stack.last_mut() {
        wizard.focus = 0;
    }
    press(&mut state, "e");
    assert!(!the_wizard(&state).editing);
    assert!(toast(&state).contains("cannot change"));
    // Nothing changed: Enter says so.
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    set_field(&mut state, FieldId::Description, "runs the payments job");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    let snippets = review_snippets(the_wizard(&state));
    assert!(snippets[0].1.starts_with(&format!(
        "PATCH https://127.0.0.1:8443/v1.0/applications/{}/federatedIdentityCredentials/fic-1",
        guid(0xa0, 2)
    )));
    assert!(
        snippets[0]
            .1
            .contains("\"description\": \"runs the payments job\"")
    );
    assert!(!snippets[0].1.contains("\"subject\""));
    assert!(
        snippets[1]
            .1
            .starts_with("az ad app federated-credential update")
    );
    let commands = update(&mut state, key(KeyCode::Enter));
    match commands.as_slice() {
        [Cmd::Wizard(WizardCmd::Update { update, .. })] => {
            assert_eq!(
                *update,
                ficus_core::fic::FicUpdate {
                    fic_key: "fic-1".into(),
                    description: Some("runs the payments job".into()),
                    ..Default::default()
                }
            );
        }
        other => panic!("expected an update, got {other:?}"),
    }
}

/// Issue 11: clearing a description in the wizard sends `"description": ""` and nothing
/// else — the body the review showed — and the directory stores the cleared description.
#[test]
fn clearing_a_description_sends_exactly_the_body_the_review_showed() {
    let mut state = console(false);
    let existing = Fic {
        description: Some("runs the payments job".into()),
        ..good_fic(&payments(), "mi-id-payments", "fic-1")
    };
    let mut app = detail(app_row("payments-api", 2, 1, true), vec![existing.clone()]);
    on_app_detail(&mut state, app.clone());
    press(&mut state, "c");
    set_field(&mut state, FieldId::Description, "");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    let snippets = review_snippets(the_wizard(&state));
    let shown_body = snippets[0]
        .1
        .split("\n\n")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string();
    assert_eq!(shown_body, "{\n  \"description\": \"\"\n}");
    let sent = match update(&mut state, key(KeyCode::Enter)).as_slice() {
        [Cmd::Wizard(WizardCmd::Update { update, .. })] => update.clone(),
        other => panic!("expected an update, got {other:?}"),
    };
    assert_eq!(
        sent,
        ficus_core::fic::FicUpdate {
            fic_key: "fic-1".into(),
            description: Some(String::new()),
            ..Default::default()
        }
    );
    assert_eq!(sent.body_text(true), shown_body);
    // What the directory receives is applied as sent: the description is cleared.
    app.fics[0].fic = existing.clone();
    let directory = std::sync::Mutex::new(crate::MemoryDirectory {
        apps: vec![app.clone()],
        ..Default::default()
    });
    let object_id = app.app.object_id.clone();
    let stored =
        block_on(crate::Directory::update_fic(&directory, object_id, sent)).expect("updated");
    assert_eq!(stored.description.as_deref(), Some(""));
    assert_eq!(stored.subject, existing.subject);
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

#[test]
fn fix_it_from_app_detail_corrects_the_subject_in_one_key() {
    let mut state = console(false);
    let wrong = Fic {
        subject: inventory().identity.client_id,
        ..good_fic(&inventory(), "mi-id-inventory", "fic-2")
    };
    let mut with_finding = detail(app_row("inventory-sync", 4, 1, false), vec![wrong]);
    // As the directory reports it: the row's finding offers a fix (App detail's `f`).
    with_finding.fics[0].findings.push(crate::model::Finding {
        severity: crate::model::Severity::Error,
        field: "subject".into(),
        message: "the subject is the identity's client id, not its principal id".into(),
        fixable: true,
    });
    on_app_detail(&mut state, with_finding);
    press(&mut state, "f");
    let wizard = the_wizard(&state);
    assert!(wizard.is_edit());
    assert_eq!(value(&state, FieldId::Subject), inventory().principal_id);
    assert!(wizard.findings.is_empty(), "{:?}", wizard.findings);
    assert!(
        toast(&state).contains("principal id of id-inventory"),
        "{}",
        toast(&state)
    );
    assert!(
        wizard
            .field(FieldId::Subject)
            .provenance()
            .starts_with("fixed:")
    );
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    let patch = &review_snippets(the_wizard(&state))[0].1;
    assert!(patch.contains(&format!("\"subject\": \"{}\"", inventory().principal_id)));
    // Esc twice: back to the fields, then out once the fix may be dropped (edits are not
    // saved; defect (d): leaving with a changed value asks first).
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, key(KeyCode::Esc));
    assert!(toast(&state).contains("Discard"), "{}", toast(&state));
    update(&mut state, ch('y'));
    assert!(matches!(state.stack.last(), Some(Screen::AppDetail(_))));
}

#[test]
fn the_wizard_has_its_own_keys_in_help_and_hints() {
    let state = at_fields(false);
    assert_eq!(state.context(), Context::Wizard);
    let hints = state.keymap.hints(Context::Wizard);
    for wanted in ["Enter", "Esc", "e", "f", "w", "y", "x"] {
        assert!(
            hints.iter().any(|(k, _)| k == wanted),
            "{wanted} in {hints:?}"
        );
    }
    assert!(matches!(state.phase, Phase::Console));
}

// ---------------------------------------------------------------------------------------------
// Snapshots (80×24, GUIDs redacted)

fn redact_guids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 36 <= chars.len() {
            let candidate: String = chars[i..i + 36].iter().collect();
            if ficus_core::fic::is_guid(&candidate) {
                out.push_str("<guid>");
                i += 36;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn screen(state: &State) -> String {
    let backend = ratatui::backend::TestBackend::new(80, 24);
    let mut terminal = ratatui::Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| crate::views::draw(frame, state))
        .expect("draws");
    let buffer = terminal.backend().buffer();
    let mut lines = Vec::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        lines.push(line.trim_end().to_string());
    }
    redact_guids(&lines.join("\n"))
}

#[test]
fn redaction_replaces_guids_only() {
    assert_eq!(
        redact_guids(&format!("subject {} (x)", guid(1, 2))),
        "subject <guid> (x)"
    );
    assert_eq!(redact_guids("mi-id-payments"), "mi-id-payments");
}

#[test]
fn snapshot_pick_identity() {
    let mut state = console(false);
    on_app_detail(&mut state, billing_detail());
    press(&mut state, "a");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_pick_app() {
    let mut state = console(false);
    press(&mut state, "2");
    state.identities.select_where(|i| i.name == "id-payments");
    press(&mut state, "a");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_full() {
    let mut state = console(false);
    let fics: Vec<Fic> = (0..20)
        .map(|n| good_fic(&inventory(), &format!("fic-{n}"), &format!("id-{n}")))
        .collect();
    on_app_detail(
        &mut state,
        detail(app_row("crowded-app", 3, 20, false), fics),
    );
    press(&mut state, "a");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_already_trusted() {
    let mut state = console(false);
    on_app_detail(
        &mut state,
        detail(
            app_row("payments-api", 2, 1, true),
            vec![good_fic(&payments(), "mi-id-payments", "fic-1")],
        ),
    );
    press(&mut state, "aj");
    update(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_fields_clean() {
    let state = at_fields(false);
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_fields_with_client_id_as_subject() {
    let mut state = at_fields(false);
    set_field(&mut state, FieldId::Subject, &payments().client_id);
    state.toast = None;
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_fields_editing() {
    let mut state = at_fields(false);
    if let Some(Screen::Wizard(wizard)) = state.stack.last_mut() {
        wizard.focus = 0;
    }
    press(&mut state, "e");
    press(&mut state, "-x");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_review() {
    let mut state = at_fields(false);
    update(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_review_read_only() {
    let mut state = at_fields(true);
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, key(KeyCode::Tab));
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_failed() {
    let mut state = at_fields(false);
    let (request, _) = saving(&mut state);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Err("Graph is throttling this tenant (429 Too Many Requests) and still was after ficus' retries; nothing was created. Wait a minute, then retry.".into()),
        }),
    );
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn snapshot_done() {
    let mut state = at_fields(false);
    let (request, fic) = saving(&mut state);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Ok(Fic {
                id: Some(guid(0xf0, 1)),
                ..fic
            }),
        }),
    );
    state.toast = None;
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn the_exchange_screens_fix_opens_the_fic_with_the_corrected_value() {
    let mut state = console(false);
    let wrong = Fic {
        subject: inventory().identity.client_id,
        ..good_fic(&inventory(), "mi-id-inventory", "fic-2")
    };
    let app = app_row("inventory-sync", 4, 1, false);
    let fix = crate::nav::FicFix {
        app: crate::nav::AppChoice::from(&app),
        fic: wrong.clone(),
        field: Field::Subject,
        corrected: inventory().identity.principal_id,
    };
    let commands = update(&mut state, Msg::EditFic(Box::new(fix)));
    // The app is not on screen: its FICs are read for the rules.
    let request = match commands.as_slice() {
        [Cmd::Wizard(WizardCmd::LoadApp { request, object_id })] => {
            assert_eq!(object_id, &guid(0xa0, 4));
            *request
        }
        other => panic!("expected the app's FICs to be read, got {other:?}"),
    };
    let wizard = the_wizard(&state);
    assert!(wizard.is_edit());
    assert_eq!(wizard.step, Step::Fields);
    assert_eq!(value(&state, FieldId::Subject), inventory().principal_id);
    assert!(wizard.findings.is_empty(), "{:?}", wizard.findings);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::AppLoaded {
            request,
            result: Ok(Box::new(detail(app, vec![wrong]))),
        }),
    );
    assert_eq!(the_wizard(&state).step, Step::Fields);
    assert_eq!(value(&state, FieldId::Subject), inventory().principal_id);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
}

/// Defect (a): a FIC created in the wizard counts in the Apps list at once (the row and the
/// `fic:` facet), not only after `r`.
#[test]
fn a_created_fic_counts_in_the_apps_list_at_once() {
    let mut state = at_fields(false);
    let (request, fic) = saving(&mut state);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Ok(Fic {
                id: Some(guid(0xf0, 1)),
                ..fic
            }),
        }),
    );
    let count = |state: &State| {
        state
            .apps
            .find(|a| a.object_id == guid(0xa0, 1))
            .and_then(|a| a.fic_count)
    };
    assert_eq!(count(&state), Some(1), "the row still says 0");
    let now = state.now;
    state.apps.set_query("fic:0", now);
    assert!(
        state
            .apps
            .visible_rows(0, 10)
            .all(|a| a.object_id != guid(0xa0, 1)),
        "fic:0 still matches billing-worker"
    );
}

/// Defect (d): Esc, Esc from the review of an edit would close the wizard and drop what was
/// typed; it asks first, as `q` and Ctrl-C do.
#[test]
fn escaping_out_with_typed_values_asks_first() {
    let mut state = console(false);
    let existing = good_fic(&payments(), "mi-id-payments", "fic-1");
    on_app_detail(
        &mut state,
        detail(app_row("payments-api", 2, 1, true), vec![existing]),
    );
    press(&mut state, "c");
    set_field(&mut state, FieldId::Description, "runs the payments job");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Review);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    update(&mut state, key(KeyCode::Esc));
    assert!(
        matches!(state.stack.last(), Some(Screen::Wizard(_))),
        "the typed description was discarded without asking"
    );
    assert!(toast(&state).contains("Discard"), "{}", toast(&state));
    // Any other key stays, every value kept.
    update(&mut state, ch('n'));
    assert_eq!(value(&state, FieldId::Description), "runs the payments job");
    // y discards.
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, ch('y'));
    assert!(matches!(state.stack.last(), Some(Screen::AppDetail(_))));
    // Nothing typed: Esc leaves at once.
    press(&mut state, "c");
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(state.stack.last(), Some(Screen::AppDetail(_))));
}

/// Typed effect errors: a 409 on create says the name is taken (from the error's kind, not
/// its wording) and keeps every field.
#[test]
fn a_conflict_on_create_says_the_name_is_taken_and_keeps_the_fields() {
    let mut state = at_fields(false);
    let name = value(&state, FieldId::Name);
    let (request, _) = saving(&mut state);
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Err(crate::error::DirectoryError::new(
                crate::error::ErrorKind::Conflict,
                "Graph answered 409 Request_MultipleObjectsWithSameKeyValue",
            )),
        }),
    );
    let Step::Failed { error } = &the_wizard(&state).step else {
        panic!("failed step expected");
    };
    assert!(
        error.contains(&format!("The name {name} is taken")),
        "{error}"
    );
    assert_eq!(value(&state, FieldId::Name), name);
    // A forbidden write says who may change the app.
    let (request, _) = {
        update(&mut state, key(KeyCode::Esc));
        update(&mut state, key(KeyCode::Esc));
        saving(&mut state)
    };
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Err(crate::error::DirectoryError::new(
                crate::error::ErrorKind::Forbidden,
                "Authorization_RequestDenied",
            )),
        }),
    );
    let Step::Failed { error } = &the_wizard(&state).step else {
        panic!("failed step expected");
    };
    assert!(error.contains("Application Administrator"), "{error}");
}

/// One table for keys: a key remapped in keymap.toml shows as remapped in the wizard's footer
/// and help, and dispatches; a command that is off says why instead of running.
#[test]
fn remapped_keys_show_everywhere_and_disabled_commands_say_why() {
    let mut state = console(false);
    state.keymap = Keymap::default()
        .with_overrides("[wizard]\nedit-field = \"E\"\n")
        .expect("remaps");
    on_app_detail(&mut state, billing_detail());
    press(&mut state, "a");
    press(&mut state, "j");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(the_wizard(&state).step, Step::Fields);
    let footer = screen(&state);
    let last = footer.lines().last().unwrap_or_default().to_string();
    assert!(last.contains("E edit field"), "{last}");
    assert!(!last.contains("e edit field"), "{last}");
    // E edits the field now.
    press(&mut state, "E");
    assert!(the_wizard(&state).editing);
    update(&mut state, key(KeyCode::Esc));
    // Help lists the remapped key.
    press(&mut state, "?");
    let help = screen(&state);
    assert!(help.contains("E "), "{help}");
    update(&mut state, key(KeyCode::Esc));
    // No warning to accept: `w` is off, and says why.
    if the_wizard(&state).warnings_acknowledged() {
        press(&mut state, "w");
        assert!(toast(&state).contains("no warnings"), "{}", toast(&state));
    }
}

/// No key written by hand in the wizard's sentences: the review's action line and the failed
/// step's retry line name the keys as `keymap.toml` binds them.
#[test]
fn review_and_failure_lines_name_remapped_keys() {
    let mut state = at_fields(false);
    state.keymap = Keymap::default()
        .with_overrides("[wizard]\ncopy = \"C\"\nnext-pane = \"n\"\nopen = [\"ctrl-s\", \"enter\"]\nrefresh = \"R\"\n")
        .expect("remaps");
    update(&mut state, ctrl('s'));
    assert_eq!(the_wizard(&state).step, Step::Review);
    let review = screen(&state);
    assert!(
        review.contains("Ctrl-s creates it · C copies · n next format · Esc back"),
        "{review}"
    );
    assert!(!review.contains("y copies"), "{review}");
    assert!(!review.contains("Tab next format"), "{review}");
    let commands = update(&mut state, ctrl('s'));
    let [Cmd::Wizard(WizardCmd::Create { request, .. })] = commands.as_slice() else {
        panic!("the remapped key saves: {commands:?}");
    };
    let request = *request;
    update(
        &mut state,
        Msg::Wizard(WizardMsg::Saved {
            request,
            result: Err("Graph failed on its side (503 ServiceUnavailable).".into()),
        }),
    );
    let failed = screen(&state);
    assert!(failed.contains("R or Ctrl-s retries"), "{failed}");
    assert!(failed.contains("· C copies"), "{failed}");
    assert!(!failed.contains("r or Enter retries"), "{failed}");
}
