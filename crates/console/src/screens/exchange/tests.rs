//! The exchange screen's transitions through the root `update`.
use super::*;
use crate::error::DirectoryError;
use crate::keymap::Keymap;
use crate::model::{AppRow, Audience};
use crate::model::{IdentityKind, IdentityRow};
use crate::msg::Msg;
use crate::msg::Session;
use crate::msg::{Cmd, RequestId};
use crate::nav::{AppChoice, ExchangeEntry};
use crate::state::{Screen, State};
use crate::theme::Themes;
use crate::update::{start_console, update};
use crate::widgets::picker::{FocusedKey, PickItem, Picker, focused_key, focused_paste, scrolled};
use ficus_core::fic::{self, Fic};
use ficus_core::secret::Secret;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::OffsetDateTime;
use time::macros::datetime;
use tui_input::Input;

/// Opens the exchange screen the way other screens do (`Nav::OpenExchange`).
fn open(state: &mut State, entry: ExchangeEntry) -> Vec<Cmd> {
    update(state, Msg::OpenExchange(Box::new(entry)))
}

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn key(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

fn row(name: &str) -> AppRow {
    AppRow {
        object_id: format!("obj-{name}"),
        app_id: format!("app-{name}"),
        name: name.into(),
        fic_count: Some(1),
        fic_subjects: None,
        credentials: Vec::new(),
        audience: Audience::Single,
    }
}

fn identity(name: &str, kind: IdentityKind) -> IdentityRow {
    IdentityRow::new(ficus_core::fic::Identity {
        name: name.into(),
        kind,
        client_id: format!("client-{name}"),
        principal_id: format!("principal-{name}"),
        resource_group: None,
        subscription: None,
        arm_id: None,
        tenant_id: None,
    })
}

fn console() -> State {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "mono", NOW);
    state.session = Some(Session {
        tenant: "contoso".into(),
        tenant_id: "tenant-guid".into(),
        cloud: "sandbox".into(),
        user: "admin".into(),
        read_only: false,
        graph_base: "https://127.0.0.1:1/v1.0".into(),
        cloud_endpoints: ficus_core::cloud::Cloud::custom(
            "https://127.0.0.1:1",
            "https://127.0.0.1:1/v1.0",
        ),
        known_tenants: vec!["contoso".into()],
    });
    start_console(&mut state);
    let (apps, identities) = (state.apps.request, state.identities.request);
    update(
        &mut state,
        Msg::AppsPage {
            request: apps,
            rows: vec![row("payments-api"), row("inventory-sync")],
            page: 1,
            done: true,
        },
    );
    update(
        &mut state,
        Msg::IdentitiesPage {
            request: identities,
            rows: vec![
                identity("id-payments", IdentityKind::UserAssigned),
                identity("vm-legacy", IdentityKind::SystemAssigned),
            ],
            page: 1,
            done: true,
        },
    );
    state
}

fn screen(state: &State) -> &ExchangeScreen {
    match state.stack.last() {
        Some(Screen::Exchange(s)) => s,
        _ => panic!("exchange on top"),
    }
}

fn source_found(state: &mut State) {
    let request = screen(state).source_request;
    update(
        state,
        Msg::Exchange(ExchangeMsg::SourceDetected {
            request,
            result: Ok(SourceInfo {
                label: "IMDS (http://169.254.169.254)".into(),
                endpoint: "http://169.254.169.254/metadata/identity/oauth2/token".into(),
            }),
        }),
    );
}

fn run_request(cmds: &[Cmd]) -> (RequestId, ExchangeSpec) {
    match cmds {
        [Cmd::Exchange(ExchangeCmd::Run { request, spec })] => (*request, (**spec).clone()),
        other => panic!("expected a run, got {other:?}"),
    }
}

/// A refusal with AADSTS70021 for a token that the app's FIC matches.
fn replication_refusal() -> ExchangeResult {
    let issuer = "https://login.microsoftonline.com/t/v2.0";
    let claims = serde_json::json!({
        "iss": issuer, "sub": "principal-id-payments",
        "aud": ficus_core::cloud::TOKEN_EXCHANGE_APP_ID,
    });
    let token = format!(
        "{}.{}.{}",
        ficus_core::jwt::b64url(br#"{"alg":"RS256"}"#),
        ficus_core::jwt::b64url(claims.to_string().as_bytes()),
        ficus_core::jwt::b64url(b"s")
    );
    let assertion = ficus_core::jwt::decode(&token).expect("decodes");
    let fics = vec![Fic {
        id: Some("1".into()),
        name: "mi-id-payments".into(),
        issuer: issuer.into(),
        subject: "principal-id-payments".into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    }];
    let comparison = fic::diagnose(&assertion, &fics, &ficus_core::cloud::Cloud::global());
    ExchangeResult {
        source: "IMDS".into(),
        token_endpoint: "https://login/t/oauth2/v2.0/token".into(),
        steps: Vec::new(),
        assertion: Some(assertion),
        assertion_raw: Some(Secret::new(token)),
        app_token: None,
        app_token_raw: None,
        refusal: Some(Refusal {
            code: Some(70021),
            error: "invalid_client".into(),
            message: "No matching federated identity record found".into(),
            trace_id: None,
            correlation_id: None,
        }),
        failure: None,
        explanation: None,
        fics,
        comparison: Some(comparison),
        assertion_signature: Signature::NotChecked(String::new()),
        app_token_signature: Signature::NotChecked(String::new()),
    }
}

#[test]
fn opens_prefilled_detects_the_source_and_runs() {
    let mut state = console();
    let cmds = update(
        &mut state,
        Msg::OpenExchange(Box::new(ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
            ..ExchangeEntry::default()
        })),
    );
    assert!(matches!(
        cmds.as_slice(),
        [Cmd::Exchange(ExchangeCmd::DetectSource { .. })]
    ));
    assert_eq!(screen(&state).tenant, "tenant-guid");
    assert_eq!(screen(&state).scope, "https://graph.microsoft.com/.default");
    assert_eq!(screen(&state).focus, FormField::Scope);
    source_found(&mut state);
    let (request, spec) = run_request(&update(&mut state, key(KeyCode::Char('x'))));
    assert_eq!(spec.app_id, "app-payments-api");
    assert_eq!(
        spec.identity_client_id.as_deref(),
        Some("client-id-payments")
    );
    assert!(spec.pasted.is_none());
    assert!(screen(&state).is_running());
    // Steps fill in; a stale answer is dropped.
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Step {
            request: request + 100,
            step: StepView {
                name: STEP_NAMES[0].into(),
                endpoint: String::new(),
                duration_ms: 1,
                outcome: StepOutcome::Ok("x".into()),
            },
        }),
    );
    assert!(screen(&state).run.as_ref().expect("run").steps.is_empty());
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Step {
            request,
            step: StepView {
                name: STEP_NAMES[0].into(),
                endpoint: "http://x\u{1b}[2J".into(),
                duration_ms: 1,
                outcome: StepOutcome::Ok("token".into()),
            },
        }),
    );
    let steps = &screen(&state).run.as_ref().expect("run").steps;
    assert_eq!(steps.len(), 1);
    assert!(!steps[0].endpoint.contains('\u{1b}'), "sanitized");
    // Another x while running does not start a second run.
    assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
}

#[test]
fn refuses_to_run_without_what_it_needs_and_says_what_to_do() {
    let mut state = console();
    open(&mut state, ExchangeEntry::default());
    assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
    assert!(
        state
            .toast
            .as_ref()
            .expect("toast")
            .text
            .contains("Pick the app")
    );
    assert_eq!(screen(&state).focus, FormField::App);
    // Enter opens the app picker; typing filters; Enter chooses.
    update(&mut state, key(KeyCode::Enter));
    for c in "inventory".chars() {
        update(&mut state, key(KeyCode::Char(c)));
    }
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        screen(&state).app.as_ref().map(|a| a.name.as_str()),
        Some("inventory-sync")
    );
    assert_eq!(screen(&state).focus, FormField::Identity);
    assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
    assert!(
        state
            .toast
            .as_ref()
            .expect("toast")
            .text
            .contains("managed identity")
    );
    // A system-assigned identity is shown disabled with the reason.
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, key(KeyCode::Down));
    update(&mut state, key(KeyCode::Enter));
    assert!(screen(&state).identity.is_none());
    assert!(
        state
            .toast
            .as_ref()
            .expect("toast")
            .text
            .contains("system-assigned")
    );
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        screen(&state).identity.as_ref().map(|i| i.name.as_str()),
        Some("id-payments")
    );
    // Not an Azure host: said plainly, and paste / file offered.
    let request = screen(&state).source_request;
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::SourceDetected {
            request,
            result: Err("This machine is not an Azure host".into()),
        }),
    );
    assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
    let toast = &state.toast.as_ref().expect("toast").text;
    assert!(
        toast.contains("not an Azure host") && toast.contains("paste"),
        "{toast}"
    );
    // A pasted token is the assertion instead.
    update(&mut state, Msg::paste("not a token"));
    assert!(screen(&state).pasted.is_none());
    let token = format!(
        "{}.{}.{}",
        ficus_core::jwt::b64url(br#"{"alg":"RS256"}"#),
        ficus_core::jwt::b64url(br#"{"iss":"x","sub":"y"}"#),
        ficus_core::jwt::b64url(b"s")
    );
    // Issue 12 (6): a pasted token stays in `Secret` to the paste handler.
    let pasted = Msg::paste(token.clone());
    let shown = format!("{pasted:?}");
    assert_eq!(shown, "Paste([redacted])");
    assert!(!shown.contains(&token[..10]));
    update(&mut state, pasted);
    let (_, spec) = run_request(&update(&mut state, key(KeyCode::Char('x'))));
    assert_eq!(
        spec.pasted.as_ref().map(|p| p.token.expose().clone()),
        Some(token)
    );
}

#[test]
fn scrolling_stays_within_bounds() {
    assert_eq!(scrolled(0, Action::Up), 0);
    assert_eq!(scrolled(3, Action::Down), 4);
    assert_eq!(scrolled(4, Action::HalfPageUp), 0);
    assert_eq!(scrolled(u16::MAX - 2, Action::HalfPageDown), u16::MAX);
    assert_eq!(scrolled(40, Action::Top), 0);
    assert_eq!(scrolled(7, Action::Reveal), 7, "not a scrolling action");
}

/// The keys the exchange screen and the inspector share: a file path input, then a
/// picker's movement, typing (which goes back to the first match) and choice.
#[test]
fn focused_keys_read_a_file_move_filter_and_choose() {
    let press = |code| KeyEvent::new(code, KeyModifiers::NONE);
    let mut file_input = Some(Input::default());
    let mut picker = None;
    for c in "/tmp/t.jwt".chars() {
        focused_key(
            &Keymap::default(),
            &mut file_input,
            &mut picker,
            press(KeyCode::Char(c)),
        );
    }
    assert!(matches!(
        focused_key(&Keymap::default(), &mut file_input, &mut picker, press(KeyCode::Enter)),
        FocusedKey::ReadFile(path) if path == "/tmp/t.jwt"
    ));
    assert!(file_input.is_none(), "the input closes once read");
    file_input = Some(Input::default());
    assert!(matches!(
        focused_key(
            &Keymap::default(),
            &mut file_input,
            &mut picker,
            press(KeyCode::Enter)
        ),
        FocusedKey::Done
    ));
    assert!(file_input.is_none(), "an empty path closes without reading");

    let item = |label: &str| PickItem {
        label: label.into(),
        detail: String::new(),
        disabled: None,
        value: label.into(),
    };
    picker = Some(Picker {
        items: vec![item("alpha"), item("beta"), item("gamma")],
        ..Picker::default()
    });
    let selected = |picker: &Option<Picker<()>>| picker.as_ref().map(|p| p.selected);
    focused_key(
        &Keymap::default(),
        &mut file_input,
        &mut picker,
        press(KeyCode::Down),
    );
    focused_key(
        &Keymap::default(),
        &mut file_input,
        &mut picker,
        press(KeyCode::Down),
    );
    focused_key(
        &Keymap::default(),
        &mut file_input,
        &mut picker,
        press(KeyCode::Down),
    );
    assert_eq!(selected(&picker), Some(2), "stops at the last item");
    focused_key(
        &Keymap::default(),
        &mut file_input,
        &mut picker,
        press(KeyCode::Char('a')),
    );
    assert_eq!(
        selected(&picker),
        Some(0),
        "typing goes back to the first match"
    );
    assert_eq!(
        picker.as_ref().map(|p| p.visible().len()),
        Some(3),
        "every label holds an a"
    );
    focused_key(
        &Keymap::default(),
        &mut file_input,
        &mut picker,
        press(KeyCode::Char('m')),
    );
    let visible: Vec<String> = picker
        .as_ref()
        .map(|p| p.visible().iter().map(|i| i.label.clone()).collect())
        .unwrap_or_default();
    assert_eq!(visible, ["gamma"]);
    assert!(matches!(
        focused_key(
            &Keymap::default(),
            &mut file_input,
            &mut picker,
            press(KeyCode::Enter)
        ),
        FocusedKey::Choose
    ));
    assert!(
        picker.is_some(),
        "the screen chooses; the picker is still open"
    );
    focused_key(
        &Keymap::default(),
        &mut file_input,
        &mut picker,
        press(KeyCode::Esc),
    );
    assert!(picker.is_none());

    // Pastes go to what is open, cleaned of control characters; nothing open: not taken.
    assert!(!focused_paste(&mut file_input, &mut picker, "x"));
    file_input = Some(Input::default());
    assert!(focused_paste(
        &mut file_input,
        &mut picker,
        " /tmp/a\u{1b}[31m.jwt\n"
    ));
    let pasted = file_input.as_ref().map(|i| i.value().to_string());
    assert!(
        pasted
            .as_deref()
            .is_some_and(|v| v.starts_with("/tmp/a") && !v.contains('\u{1b}'))
    );
}

#[test]
fn scope_picker_offers_recent_and_common_and_takes_typed_text() {
    let mut state = console();
    open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            ..ExchangeEntry::default()
        },
    );
    state.exchange_memory.recent_scopes = vec!["api://custom/.default".into()];
    if let Some(Screen::Exchange(s)) = state.stack.last_mut() {
        s.focus = FormField::Scope;
    }
    update(&mut state, key(KeyCode::Enter));
    let picker = screen(&state).picker.as_ref().expect("picker");
    let labels: Vec<&str> = picker.items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels[0], "api://custom/.default");
    assert!(labels.contains(&"https://management.azure.com/.default"));
    assert!(labels.contains(&"api://app-payments-api/.default"));
    for c in "https://x.example/.default".chars() {
        update(&mut state, key(KeyCode::Char(c)));
    }
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(screen(&state).scope, "https://x.example/.default");
}

#[test]
fn replication_delay_retries_with_backoff_then_stops() {
    let mut state = console();
    let cmds = open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
            just_created: true,
            run: true,
            ..ExchangeEntry::default()
        },
    );
    let (mut request, _) = run_request(&cmds[1..]);
    for (attempt, seconds) in RETRY_BACKOFF.iter().enumerate() {
        let cmds = update(
            &mut state,
            Msg::Exchange(ExchangeMsg::Finished {
                request,
                result: Ok(Box::new(replication_refusal())),
            }),
        );
        assert_eq!(
            cmds,
            vec![Cmd::Exchange(ExchangeCmd::RetryAfter {
                request,
                seconds: *seconds as u64
            })]
        );
        let retry = screen(&state).run.as_ref().and_then(|r| r.retry.clone());
        assert_eq!(retry.map(|r| r.attempt), Some(attempt + 2));
        assert!(state.needs_tick(), "the retry countdown ticks");
        let cmds = update(&mut state, Msg::Exchange(ExchangeMsg::RetryDue { request }));
        let (next, _) = run_request(&cmds);
        assert_ne!(next, request);
        // The old timer firing again does nothing.
        assert!(update(&mut state, Msg::Exchange(ExchangeMsg::RetryDue { request })).is_empty());
        request = next;
    }
    // After the last backoff: no more retries.
    let cmds = update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Finished {
            request,
            result: Ok(Box::new(replication_refusal())),
        }),
    );
    assert!(cmds.is_empty());
    assert!(!state.needs_tick());
}

#[test]
fn a_70021_that_no_fic_matches_is_not_called_replication() {
    let mut result = replication_refusal();
    assert!(is_replication_delay(&result, false));
    result.comparison = result.comparison.map(|mut c| {
        c.matched = None;
        c
    });
    assert!(!is_replication_delay(&result, false));
    assert!(is_replication_delay(&result, true));
    result.refusal = result.refusal.map(|mut r| {
        r.code = Some(700213);
        r
    });
    assert!(!is_replication_delay(&result, true));
}

#[test]
fn reveal_copy_and_leaving_stop_the_tick() {
    let mut state = console();
    let cmds = open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
            run: true,
            ..ExchangeEntry::default()
        },
    );
    let (request, _) = run_request(&cmds[1..]);
    let mut result = replication_refusal();
    result.refusal = None;
    result.app_token = result.assertion.clone();
    result.app_token_raw = Some(Secret::new("app.token.raw".into()));
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Finished {
            request,
            result: Ok(Box::new(result)),
        }),
    );
    assert!(state.needs_tick(), "the expiry countdown is on screen");
    assert!(!screen(&state).reveal);
    update(&mut state, key(KeyCode::Char('v')));
    assert!(screen(&state).reveal);
    let copied = update(&mut state, key(KeyCode::Char('y')));
    assert_eq!(copied, vec![Cmd::copy("app.token.raw")]);
    // Issue 12 (6): the token stays in `Secret` to the terminal write.
    assert_eq!(format!("{copied:?}"), "[Copy([redacted])]");
    update(&mut state, key(KeyCode::Esc));
    assert!(!matches!(state.stack.last(), Some(Screen::Exchange(_))));
    assert!(!state.needs_tick());
}

#[test]
fn fix_sends_the_corrected_value() {
    let mut state = console();
    // The app's tenant and cloud are the token's (`replication_refusal`'s issuer).
    if let Some(session) = state.session.as_mut() {
        session.tenant_id = "t".into();
        session.cloud_endpoints = ficus_core::cloud::Cloud::global();
    }
    let cmds = open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
            run: true,
            ..ExchangeEntry::default()
        },
    );
    let (request, _) = run_request(&cmds[1..]);
    let mut result = replication_refusal();
    result.fics[0].subject = "client-id-payments".into();
    let assertion = result.assertion.clone().expect("assertion");
    result.comparison = Some(fic::diagnose(
        &assertion,
        &result.fics,
        &ficus_core::cloud::Cloud::global(),
    ));
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Finished {
            request,
            result: Ok(Box::new(result)),
        }),
    );
    update(&mut state, key(KeyCode::Char('F')));
    let toast = &state.toast.as_ref().expect("toast").text;
    assert!(
        toast.contains("subject") && toast.contains("principal-id-payments"),
        "{toast}"
    );
}

#[test]
fn char_diff_marks_only_what_differs() {
    let (left, right) = char_diff("https://x/v2.0/", "https://x/v2.0");
    assert_eq!(
        left,
        vec![
            ("https://x/v2.0".to_string(), false),
            ("/".to_string(), true)
        ]
    );
    assert_eq!(right, vec![("https://x/v2.0".to_string(), false)]);
    let (left, right) = char_diff("abc", "aXc");
    assert_eq!(
        left,
        vec![
            ("a".to_string(), false),
            ("b".to_string(), true),
            ("c".to_string(), false)
        ]
    );
    assert_eq!(right[1], ("X".to_string(), true));
}

/// Defect (b): a token loaded from a file starts a new exchange; the previous run's steps do
/// not stay on screen under the new header.
#[test]
fn loading_a_token_file_clears_the_previous_run() {
    let mut state = console();
    let cmds = open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
            run: true,
            ..ExchangeEntry::default()
        },
    );
    let (request, _) = run_request(&cmds[1..]);
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Finished {
            request,
            result: Ok(Box::new(replication_refusal())),
        }),
    );
    assert!(screen(&state).run.is_some());
    update(&mut state, key(KeyCode::Char('f')));
    for c in "/tmp/token".chars() {
        update(&mut state, key(KeyCode::Char(c)));
    }
    let cmds = update(&mut state, key(KeyCode::Enter));
    let [Cmd::Exchange(ExchangeCmd::ReadTokenFile { request, .. })] = cmds.as_slice() else {
        panic!("a file read expected, got {cmds:?}");
    };
    let token = replication_refusal().assertion_raw.expect("token");
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::TokenFileRead {
            request: *request,
            label: "token file /tmp/token".into(),
            result: Ok(token),
        }),
    );
    assert!(screen(&state).pasted.is_some());
    assert!(
        screen(&state).run.is_none(),
        "the previous run's steps stay under the new token"
    );
}

/// Defect (f): `F` on AADSTS70025 (the app has no FIC at all) opens the wizard for that app
/// and identity instead of only explaining.
#[test]
fn fix_on_an_app_without_fics_opens_the_wizard_prefilled() {
    let mut state = console();
    let cmds = open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
            run: true,
            ..ExchangeEntry::default()
        },
    );
    let (request, _) = run_request(&cmds[1..]);
    let mut result = replication_refusal();
    result.fics.clear();
    let assertion = result.assertion.clone().expect("assertion");
    result.comparison = Some(fic::diagnose(
        &assertion,
        &result.fics,
        &ficus_core::cloud::Cloud::global(),
    ));
    if let Some(refusal) = &mut result.refusal {
        refusal.code = Some(70025);
        refusal.message = "The client has no configured federated identity credentials.".into();
    }
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Finished {
            request,
            result: Ok(Box::new(result)),
        }),
    );
    update(&mut state, key(KeyCode::Char('F')));
    let Some(Screen::Wizard(wizard)) = state.stack.last() else {
        panic!(
            "the wizard should open; toast: {:?}",
            state.toast.as_ref().map(|t| &t.text)
        );
    };
    assert_eq!(
        wizard.app.as_ref().map(|a| a.row.object_id.as_str()),
        Some("obj-payments-api")
    );
    assert_eq!(
        wizard.identity.as_ref().map(|i| i.name.as_str()),
        Some("id-payments")
    );
}

#[test]
fn the_resource_tenant_choice_lists_the_tenants_a_multitenant_app_can_reach() {
    let mut session = console().session.expect("a session");
    session.tenant = "contoso (contoso.onmicrosoft.com)".into();
    session.known_tenants = vec!["contoso".into(), "fabrikam".into()];
    let mut multi = row("partner-sync");
    multi.audience = Audience::Multi;
    let items = super::keys::tenant_items(Some(&session), Some(&multi));
    let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
    // The home tenant once (by id), then the other tenant the session knows.
    assert_eq!(labels, ["tenant-guid", "fabrikam"]);
    assert!(items[1].disabled.is_none());
    assert!(
        items[1].detail.contains("multitenant"),
        "{}",
        items[1].detail
    );

    // A single-tenant app cannot reach it: still listed, with the reason.
    let single = row("payments-api");
    let items = super::keys::tenant_items(Some(&session), Some(&single));
    assert_eq!(
        items[1].disabled.as_deref(),
        Some("the app is single tenant: only its home tenant issues tokens for it")
    );
}

#[test]
fn the_tenant_picker_on_screen_offers_the_known_tenants() {
    let mut state = console();
    if let Some(session) = &mut state.session {
        session.known_tenants = vec!["contoso".into(), "fabrikam".into()];
    }
    open(
        &mut state,
        ExchangeEntry {
            app: Some(AppChoice::from(&row("payments-api"))),
            ..ExchangeEntry::default()
        },
    );
    while screen(&state).focus != FormField::Tenant {
        update(&mut state, key(KeyCode::Char('j')));
    }
    update(&mut state, key(KeyCode::Enter));
    let picker = screen(&state).picker.as_ref().expect("the tenant picker");
    let labels: Vec<&str> = picker.items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["tenant-guid", "fabrikam"]);
}

// ---------------------------------------------------------------------------------------------
// The token source switch (#13): `s`

/// A managed identity token as pasted: unsigned, minted here (only its claims are read).
fn pasted_jwt() -> String {
    use ficus_core::jwt::b64url;
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = b64url(
        serde_json::json!({
            "aud": "api://AzureADTokenExchange",
            "iss": "https://login.microsoftonline.com/tenant-guid/v2.0",
            "sub": "principal-id-payments",
            "exp": 1_780_000_000,
        })
        .to_string()
        .as_bytes(),
    );
    format!("{header}.{claims}.{}", b64url(b"sig"))
}

fn payments_entry() -> ExchangeEntry {
    ExchangeEntry {
        app: Some(AppChoice::from(&row("payments-api"))),
        identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
        ..ExchangeEntry::default()
    }
}

/// The one `DetectSource` of `cmds`: its request and choice.
fn detect_request(cmds: &[Cmd]) -> (RequestId, MsiChoice) {
    match cmds {
        [Cmd::Exchange(ExchangeCmd::DetectSource { request, choice })] => (*request, *choice),
        other => panic!("expected one source detection, got {other:?}"),
    }
}

fn detected(state: &mut State, request: RequestId, result: Result<SourceInfo, DirectoryError>) {
    update(
        state,
        Msg::Exchange(ExchangeMsg::SourceDetected { request, result }),
    );
}

fn toast_text(state: &State) -> String {
    state
        .toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

#[test]
fn s_cycles_the_token_source_from_the_sandbox_s_host_to_this_machine_to_a_pasted_token() {
    let mut state = console();
    let (first, choice) = detect_request(&open(&mut state, payments_entry()));
    assert_eq!(choice, MsiChoice::Session);
    assert!(screen(&state).emulated_host, "a sandbox session has one");
    detected(
        &mut state,
        first,
        Ok(SourceInfo {
            label: "the sandbox's emulated host — IMDS (http://127.0.0.1:9)".into(),
            endpoint: "http://127.0.0.1:9/metadata/identity/oauth2/token".into(),
        }),
    );
    let reason = screen(&state).source_reason(&Keymap::default());
    assert!(
        reason.contains("a sandbox session asks its emulated host")
            && reason.contains("s: this machine"),
        "{reason}"
    );

    // s: this machine's own endpoint, detected afresh.
    let (second, choice) = detect_request(&update(&mut state, key(KeyCode::Char('s'))));
    assert_eq!(choice, MsiChoice::ThisMachine);
    assert_ne!(second, first);
    assert_eq!(screen(&state).source, SourceState::Detecting);
    assert!(toast_text(&state).contains("this machine's own endpoint"));
    // A late answer for the sandbox's host does not pass for this machine's.
    detected(
        &mut state,
        first,
        Ok(SourceInfo {
            label: "late".into(),
            endpoint: "late".into(),
        }),
    );
    assert_eq!(screen(&state).source, SourceState::Detecting);
    detected(
        &mut state,
        second,
        Err(DirectoryError::new(
            crate::error::ErrorKind::Unsupported,
            "This machine is not an Azure VM: no App Service endpoint (IDENTITY_ENDPOINT), no workload identity token file (AZURE_FEDERATED_TOKEN_FILE), so the real IMDS was not asked",
        )),
    );
    assert!(
        matches!(&screen(&state).source, SourceState::Unavailable(why) if why.contains("not an Azure VM"))
    );
    assert!(
        screen(&state)
            .source_reason(&Keymap::default())
            .contains("chosen: this machine's own endpoint · s: a pasted token")
    );
    // Running says what to do instead of sending anything.
    let cmds = update(&mut state, key(KeyCode::Char('x')));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        toast_text(&state).contains("s switches the source"),
        "{}",
        toast_text(&state)
    );

    // s: a pasted token or file; none yet, so x asks for one.
    let cmds = update(&mut state, key(KeyCode::Char('s')));
    assert!(cmds.is_empty(), "nothing to detect: {cmds:?}");
    assert_eq!(screen(&state).source_choice, SourceChoice::PasteOrFile);
    let cmds = update(&mut state, key(KeyCode::Char('x')));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        toast_text(&state).contains("p pastes one"),
        "{}",
        toast_text(&state)
    );
    update(&mut state, Msg::Paste(Secret::new(pasted_jwt())));
    let (_, spec) = run_request(&update(&mut state, key(KeyCode::Char('x'))));
    assert_eq!(
        spec.pasted.as_ref().map(|p| p.token.expose().as_str()),
        Some(pasted_jwt().as_str())
    );

    // The verdict comes; s goes back to the sandbox's host, dropping the pasted token.
    let running = screen(&state)
        .run
        .as_ref()
        .map(|r| r.request)
        .expect("a run");
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::Finished {
            request: running,
            result: Err(DirectoryError::new(
                crate::error::ErrorKind::Network,
                "offline",
            )),
        }),
    );
    let (third, choice) = detect_request(&update(&mut state, key(KeyCode::Char('s'))));
    assert_eq!(choice, MsiChoice::Session);
    assert!(screen(&state).pasted.is_none());
    assert!(
        toast_text(&state).contains("pasted token is dropped"),
        "{}",
        toast_text(&state)
    );
    detected(
        &mut state,
        third,
        Ok(SourceInfo {
            label: "the sandbox's emulated host — IMDS (http://127.0.0.1:9)".into(),
            endpoint: "http://127.0.0.1:9/metadata/identity/oauth2/token".into(),
        }),
    );
    let (_, spec) = run_request(&update(&mut state, key(KeyCode::Char('x'))));
    assert_eq!(spec.pasted, None);
    assert_eq!(spec.msi, MsiChoice::Session);
}

#[test]
fn without_an_emulated_host_s_goes_between_this_machine_and_a_pasted_token() {
    let mut state = console();
    if let Some(session) = state.session.as_mut() {
        session.cloud_endpoints = ficus_core::cloud::Cloud::global();
    }
    let (first, _) = detect_request(&open(&mut state, payments_entry()));
    assert!(!screen(&state).emulated_host);
    assert!(
        screen(&state)
            .source_reason(&Keymap::default())
            .contains("found on this machine")
    );
    // This machine is the session's source: s skips the duplicate and goes to a pasted token.
    let cmds = update(&mut state, key(KeyCode::Char('s')));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(screen(&state).source_choice, SourceChoice::PasteOrFile);
    let (second, choice) = detect_request(&update(&mut state, key(KeyCode::Char('s'))));
    assert_eq!(choice, MsiChoice::Session);
    assert_ne!(second, first);
    // Pasting switches to the pasted token by itself; p drops it and detects again.
    update(&mut state, Msg::Paste(Secret::new(pasted_jwt())));
    assert_eq!(screen(&state).source_choice, SourceChoice::PasteOrFile);
    let (_, choice) = detect_request(&update(&mut state, key(KeyCode::Char('p'))));
    assert_eq!(choice, MsiChoice::Session);
    assert_eq!(screen(&state).source_choice, SourceChoice::Session);
}
