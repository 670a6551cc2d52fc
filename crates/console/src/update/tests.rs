use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::palette::WHOIS_ASKING;
use super::*;
use crate::error::ErrorKind;
use crate::keymap::Keymap;
use crate::model::IdentityKind;
use crate::model::{AppDetail, Audience, Credential, CredentialKind, FicRow};
use crate::msg::{RequestId, SignInEvent};
use crate::msg::{Session, SignInFailure};
use crate::state::{REST_DELAY, SignInScreen};
use crate::state::{RestStage, RestTarget, State};
use crate::theme::Themes;
use ficus_core::fic::Fic;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn char_key(c: char) -> Msg {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers))
}

fn typed(state: &mut State, text: &str) -> Vec<Cmd> {
    text.chars()
        .flat_map(|c| update(state, char_key(c)))
        .collect()
}

fn app(name: &str, fics: usize) -> AppRow {
    AppRow {
        object_id: format!("obj-{name}"),
        app_id: format!("app-{name}"),
        name: name.into(),
        fic_count: Some(fics),
        fic_subjects: None,
        credentials: vec![Credential {
            kind: CredentialKind::Secret,
            name: "ci".into(),
            key_id: format!("key-{name}"),
            expires: Some(NOW + Duration::days(10)),
        }],
        audience: Audience::Single,
    }
}

fn identity(name: &str, kind: IdentityKind) -> IdentityRow {
    IdentityRow::new(ficus_core::fic::Identity {
        name: name.into(),
        kind,
        client_id: format!("client-{name}"),
        principal_id: format!("principal-{name}"),
        resource_group: Some("rg".into()),
        subscription: Some("sub".into()),
        arm_id: None,
        tenant_id: None,
    })
}

fn session(read_only: bool) -> Session {
    Session {
        tenant: "contoso".into(),
        tenant_id: "11111111-1111-1111-1111-111111111111".into(),
        cloud: "sandbox".into(),
        user: "admin@contoso.onmicrosoft.com".into(),
        read_only,
        graph_base: "https://127.0.0.1:8443/v1.0".into(),
        cloud_endpoints: ficus_core::cloud::Cloud::custom(
            "https://127.0.0.1:8443",
            "https://127.0.0.1:8443/v1.0",
        ),
        known_tenants: vec!["contoso".into(), "fabrikam".into()],
    }
}

/// A signed-in console with both lists loaded.
fn console(read_only: bool) -> State {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.session = Some(session(read_only));
    let commands = start_console(&mut state);
    assert_eq!(commands.len(), 2);
    let (apps, identities) = (state.apps.request, state.identities.request);
    update(
        &mut state,
        Msg::AppsPage {
            request: apps,
            rows: vec![app("payments-api", 1), app("inventory-sync", 1)],
            page: 1,
            done: false,
        },
    );
    update(
        &mut state,
        Msg::AppsPage {
            request: apps,
            rows: vec![app("billing-worker", 0)],
            page: 2,
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

fn detail_for(name: &str) -> AppDetail {
    AppDetail {
        app: app(name, 1),
        fics: vec![FicRow {
            fic: Fic {
                id: Some("fic-1".into()),
                name: "mi-id-payments".into(),
                issuer: "https://login.microsoftonline.com/t/v2.0".into(),
                subject: "principal-id-payments".into(),
                audiences: vec!["api://AzureADTokenExchange".into()],
                description: None,
            },
            raw: None,
            subject_name: Some("id-payments".into()),
            findings: Vec::new(),
        }],
        identifier_uris: Vec::new(),
    }
}

fn open_payments(state: &mut State) -> u64 {
    assert!(state.apps.select_where(|a| a.name == "payments-api"));
    let commands = update(state, key(KeyCode::Enter));
    match commands.as_slice() {
        [Cmd::LoadAppDetail { request, object_id }] => {
            assert_eq!(object_id, "obj-payments-api");
            *request
        }
        other => panic!("expected one detail load, got {other:?}"),
    }
}

#[test]
fn starting_loads_both_lists_and_pages_stream_in() {
    let state = console(false);
    assert_eq!(state.apps.len(), 3);
    assert_eq!(state.apps.load, Load::Done);
    assert_eq!(state.identities.len(), 2);
}

#[test]
fn stale_pages_are_dropped() {
    let mut state = console(false);
    let stale = state.apps.request;
    update(&mut state, char_key('r'));
    assert_ne!(state.apps.request, stale);
    assert_eq!(state.apps.len(), 0);
    update(
        &mut state,
        Msg::AppsPage {
            request: stale,
            rows: vec![app("ghost", 0)],
            page: 1,
            done: true,
        },
    );
    assert_eq!(
        state.apps.len(),
        0,
        "an answer to an old request must not land"
    );
}

#[test]
fn filter_as_you_type_and_escape_layers() {
    let mut state = console(false);
    update(&mut state, char_key('/'));
    assert!(state.lists.editing_filter);
    typed(&mut state, "pay");
    assert_eq!(state.apps.visible_len(), 1);
    assert_eq!(
        state.apps.selected().map(|a| a.name.as_str()),
        Some("payments-api")
    );
    // `q` while typing is text, not quit.
    typed(&mut state, "q");
    assert!(!state.quit);
    update(&mut state, key(KeyCode::Backspace));
    assert_eq!(state.lists.apps_filter.value(), "pay");
    // Esc closes the input but keeps the filter; a second Esc clears it.
    update(&mut state, key(KeyCode::Esc));
    assert!(!state.lists.editing_filter);
    assert_eq!(state.apps.visible_len(), 1);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.apps.visible_len(), 3);
    assert_eq!(state.lists.apps_filter.value(), "");
}

#[test]
fn facets_in_the_filter() {
    let mut state = console(false);
    update(&mut state, char_key('/'));
    typed(&mut state, "fic:0");
    assert_eq!(state.apps.visible_len(), 1);
    assert_eq!(
        state.apps.selected().map(|a| a.name.as_str()),
        Some("billing-worker")
    );
}

#[test]
fn trusted_facet_counts_the_apps_whose_fics_name_an_identity() {
    let mut state = console(false);
    let with_subjects = |name: &str, subjects: &[&str]| AppRow {
        fic_count: Some(subjects.len()),
        fic_subjects: Some(subjects.iter().map(|s| s.to_string()).collect()),
        ..app(name, 0)
    };
    state.apps.clear();
    let request = state.apps.request;
    update(
        &mut state,
        Msg::AppsPage {
            request,
            rows: vec![
                with_subjects("payments-api", &["principal-id-payments"]),
                // Two FICs for the same identity are still one app trusting it.
                with_subjects(
                    "payments-worker",
                    &["principal-id-payments", "principal-id-payments"],
                ),
                with_subjects("billing-worker", &[]),
            ],
            page: 1,
            done: true,
        },
    );
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.lists.list, ListKind::Identities);
    update(&mut state, char_key('/'));
    typed(&mut state, "trusted:0");
    let names: Vec<&str> = state
        .identities
        .visible_rows(0, 10)
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["vm-legacy"]);
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char_key('/'));
    typed(&mut state, "trusted:2");
    assert_eq!(
        state.identities.selected().map(|i| i.name.as_str()),
        Some("id-payments")
    );
    // The apps' facet is not the identities'.
    assert!(
        crate::filter::parse_query_for::<AppRow>("trusted:0").problems[0]
            .contains("does not apply to apps")
    );
}

#[test]
fn trusted_counts_wait_for_every_app() {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.session = Some(session(false));
    start_console(&mut state);
    let identities = state.identities.request;
    update(
        &mut state,
        Msg::IdentitiesPage {
            request: identities,
            rows: vec![identity("id-payments", IdentityKind::UserAssigned)],
            page: 1,
            done: true,
        },
    );
    // The apps are still loading: nobody can say yet that no app trusts it.
    assert_eq!(state.identities.items()[0].trusted_by, None);
    state.lists.list = ListKind::Identities;
    state.identities.set_query("trusted:0", NOW);
    assert_eq!(state.identities.visible_len(), 0);
}

#[test]
fn paste_goes_into_the_filter_as_text() {
    let mut state = console(false);
    update(&mut state, char_key('/'));
    update(&mut state, Msg::paste("inv\u{1b}[31m\n"));
    assert_eq!(state.lists.apps_filter.value(), "inv");
    assert_eq!(state.apps.visible_len(), 1);
}

#[test]
fn pasting_a_guid_outside_inputs_opens_whois() {
    let mut state = console(false);
    update(
        &mut state,
        Msg::paste(format!(" {} ", ficus_core::cloud::TOKEN_EXCHANGE_APP_ID)),
    );
    let Some(Overlay::Palette(palette)) = &state.overlay else {
        panic!("palette should open");
    };
    assert!(palette.input.value().starts_with("whois fb60f99c"));
    update(&mut state, key(KeyCode::Enter));
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("whois answers in a panel");
    };
    assert!(panel.lines.iter().any(|l| l.contains("Token Exchange")));
}

#[test]
fn whois_asks_the_directory_and_falls_back_to_loaded_data() {
    let guid = "11111111-2222-3333-4444-555555555555";
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, &format!("whois {guid}"));
    let commands = update(&mut state, key(KeyCode::Enter));
    let Some(Cmd::Whois {
        request,
        guid: asked,
    }) = commands.first().cloned()
    else {
        panic!("whois should ask the directory: {commands:?}");
    };
    assert_eq!(asked, guid);
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("whois answers in a panel at once");
    };
    assert_eq!(panel.lines.first().map(String::as_str), Some(WHOIS_ASKING));

    // A stale answer is ignored.
    update(
        &mut state,
        Msg::WhoisAnswered {
            request: request + 100,
            guid: guid.into(),
            result: Ok(vec!["stale".into()]),
        },
    );
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("panel stays");
    };
    assert!(!panel.lines.iter().any(|l| l.contains("stale")));

    update(
        &mut state,
        Msg::WhoisAnswered {
            request,
            guid: guid.into(),
            result: Ok(vec!["object id of user Ada\u{1b}[31m".into()]),
        },
    );
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("panel stays");
    };
    assert_eq!(panel.lines[0], "In the directory:");
    assert!(panel.lines[1].contains("object id of user Ada"));
    assert!(!panel.lines.iter().any(|l| l.contains('\u{1b}')));
    assert!(!panel.lines.iter().any(|l| l == WHOIS_ASKING));

    // When the directory cannot be asked, the loaded data answers, with the reason.
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char_key(':'));
    typed(&mut state, "whois fb60f99c-7a34-4190-8149-302f77469936");
    let commands = update(&mut state, key(KeyCode::Enter));
    let Some(Cmd::Whois { request, guid }) = commands.first().cloned() else {
        panic!("whois should ask the directory");
    };
    update(
        &mut state,
        Msg::WhoisAnswered {
            request,
            guid,
            result: Err("not signed in yet".into()),
        },
    );
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("panel stays");
    };
    assert!(panel.lines[0].contains("could not be asked: not signed in yet"));
    assert!(panel.lines.iter().any(|l| l.contains("Token Exchange")));
}

#[test]
fn palette_suggests_the_tenants_the_session_knows() {
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, "tenant ");
    let labels = |state: &State| -> Vec<(String, String)> {
        match &state.overlay {
            Some(Overlay::Palette(p)) => p
                .suggestions
                .iter()
                .map(|s| (s.label.clone(), s.detail.clone()))
                .collect(),
            _ => panic!("the palette is open"),
        }
    };
    assert_eq!(
        labels(&state),
        vec![
            ("tenant contoso".to_string(), "current".to_string()),
            ("tenant fabrikam".to_string(), String::new()),
        ]
    );
    typed(&mut state, "fa");
    assert_eq!(
        labels(&state),
        vec![("tenant fabrikam".to_string(), String::new())]
    );
    // Enter takes the suggestion, so a prefix is enough.
    let commands = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Cmd::SwitchTenant {
            tenant: "fabrikam".into()
        }]
    );
}

#[test]
fn palette_tenant_switches_and_a_refusal_keeps_the_session() {
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, "tenant fabrikam");
    let commands = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Cmd::SwitchTenant {
            tenant: "fabrikam".into()
        }]
    );
    let Phase::SigningIn(screen) = &state.phase else {
        panic!("switching shows the sign-in screen");
    };
    assert_eq!(screen.status.as_deref(), Some("Signing in to fabrikam…"));
    // The directory cannot switch: back to the lists, which are still there, with the reason.
    update(
        &mut state,
        Msg::SwitchRefused("quit and start ficus --tenant fabrikam".into()),
    );
    assert!(matches!(state.phase, Phase::Console));
    assert_eq!(state.apps.items().len(), 3);
    let toast = state.toast.as_ref().expect("a toast says why");
    assert!(
        toast.text.contains("ficus --tenant fabrikam"),
        "{}",
        toast.text
    );

    // A switch that signs in reloads the lists for the new tenant.
    update(&mut state, char_key(':'));
    typed(&mut state, "tenant fabrikam");
    update(&mut state, key(KeyCode::Enter));
    let mut fabrikam = session(false);
    fabrikam.tenant = "fabrikam".into();
    let commands = update(
        &mut state,
        Msg::SignIn(SignInEvent::Done(Box::new(fabrikam))),
    );
    assert!(matches!(state.phase, Phase::Console));
    assert_eq!(
        state.session.as_ref().map(|s| s.tenant.as_str()),
        Some("fabrikam")
    );
    assert!(commands.iter().any(|c| matches!(c, Cmd::LoadApps { .. })));
    assert_eq!(state.apps.items().len(), 0);

    // No name: say what to type, change nothing.
    update(&mut state, char_key(':'));
    typed(&mut state, "tenant ");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(matches!(state.phase, Phase::Console));
}

#[test]
fn navigation_keys_and_gg() {
    let mut state = console(false);
    update(&mut state, char_key('G'));
    assert_eq!(state.apps.cursor(), 2);
    update(&mut state, char_key('g'));
    assert_eq!(state.pending.len(), 1);
    update(&mut state, char_key('g'));
    assert_eq!(state.apps.cursor(), 0);
    assert!(state.pending.is_empty());
    update(&mut state, char_key('j'));
    assert_eq!(state.apps.cursor(), 1);
    update(&mut state, key(KeyCode::Up));
    assert_eq!(state.apps.cursor(), 0);
}

#[test]
fn open_app_detail_and_drop_stale_answers() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request: request + 100,
            result: Ok(Box::new(detail_for("wrong"))),
        },
    );
    let Some(Screen::AppDetail(screen)) = state.stack.last() else {
        panic!("detail open");
    };
    assert!(screen.detail.is_none());
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    let Some(Screen::AppDetail(screen)) = state.stack.last() else {
        panic!("detail open");
    };
    assert_eq!(screen.detail.as_ref().map(|d| d.fics.len()), Some(1));
    update(&mut state, key(KeyCode::Esc));
    assert!(state.stack.is_empty());
}

#[test]
fn delete_asks_first_shows_the_request_and_reloads() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    // lower-case d does nothing: destructive actions are on capitals.
    assert!(update(&mut state, char_key('d')).is_empty());
    assert!(update(&mut state, char_key('D')).is_empty());
    let Some(Overlay::ConfirmDelete(confirm)) = &state.overlay else {
        panic!("confirmation expected");
    };
    assert_eq!(
        confirm.request_line,
        "DELETE https://127.0.0.1:8443/v1.0/applications/obj-payments-api/federatedIdentityCredentials/fic-1"
    );
    // Anything but y keeps it.
    assert!(update(&mut state, char_key('n')).is_empty());
    assert!(state.overlay.is_none());
    update(&mut state, char_key('D'));
    let commands = update(&mut state, char_key('y'));
    let [
        Cmd::DeleteFic {
            request,
            app_object_id,
            fic_id,
        },
    ] = commands.as_slice()
    else {
        panic!("delete expected, got {commands:?}");
    };
    assert_eq!(
        (app_object_id.as_str(), fic_id.as_str()),
        ("obj-payments-api", "fic-1")
    );
    let commands = update(
        &mut state,
        Msg::FicDeleted {
            request: *request,
            result: Ok(()),
        },
    );
    assert!(matches!(commands.as_slice(), [Cmd::LoadAppDetail { .. }]));
    assert_eq!(
        state.toast.as_ref().map(|t| t.level),
        Some(ToastLevel::Success)
    );
}

#[test]
fn read_only_refuses_delete_with_the_way_out() {
    let mut state = console(true);
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    update(&mut state, char_key('D'));
    assert!(state.overlay.is_none());
    let toast = state.toast.as_ref().expect("a toast explains");
    assert!(toast.text.contains("--read-only"));
}

#[test]
fn wizard_and_exchange_entry_points_name_their_issue() {
    let mut state = console(false);
    open_payments(&mut state);
    // The wizard (#6) opens once the app has loaded (tested in tui::wizard).
    update(&mut state, char_key('a'));
    assert!(
        state
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("still loading"))
    );
    // x opens the live test exchange (#7) for this app and detects the token source.
    let commands = update(&mut state, char_key('x'));
    assert!(matches!(
        state.stack.last(),
        Some(Screen::Exchange(screen)) if screen.app.as_ref().is_some_and(|a| a.name == "payments-api")
    ));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::Exchange(
            crate::exchange::ExchangeCmd::DetectSource { .. }
        )]
    ));
}

#[test]
fn tab_switches_lists_and_identity_detail_loads() {
    let mut state = console(false);
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.lists.list, ListKind::Identities);
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::LoadIdentityDetail { identity, .. }] if identity.name == "id-payments"
    ));
}

#[test]
fn copy_uses_osc52_command() {
    let mut state = console(false);
    assert!(state.apps.select_where(|a| a.name == "payments-api"));
    assert_eq!(
        update(&mut state, char_key('Y')),
        vec![Cmd::copy("app-payments-api")]
    );
    assert_eq!(
        update(&mut state, char_key('y')),
        vec![Cmd::copy("payments-api")]
    );
}

#[test]
fn palette_jumps_to_an_app_by_name() {
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, "billing");
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::LoadAppDetail { object_id, .. }] if object_id == "obj-billing-worker"
    ));
}

#[test]
fn palette_switches_theme_and_views() {
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, "theme mono");
    let commands = update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.theme.name, "mono");
    // Remembered for the next start: the loop writes it to config.toml and says where.
    assert!(matches!(commands.as_slice(), [Cmd::SaveTheme(name)] if name == "mono"));
    update(
        &mut state,
        Msg::ThemeSaved(Ok("/home/admin/.config/ficus/config.toml".into())),
    );
    assert_eq!(
        state.toast.as_ref().map(|t| t.text.as_str()),
        Some("Theme: mono (saved in /home/admin/.config/ficus/config.toml)")
    );
    update(
        &mut state,
        Msg::ThemeSaved(Err("could not write /ro/config.toml (read-only)".into())),
    );
    let toast = state
        .toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(toast.contains("for this session only"), "{toast}");
    assert!(toast.contains("theme = \"mono\" in config.toml"), "{toast}");
    update(&mut state, char_key(':'));
    typed(&mut state, "identities");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.lists.list, ListKind::Identities);
    update(&mut state, char_key(':'));
    typed(&mut state, "decode not-a-token");
    update(&mut state, key(KeyCode::Enter));
    // decode opens the token inspector (#7), which says what is wrong with the paste.
    let Some(Screen::Inspector(inspector)) = state.stack.last() else {
        panic!("decode opens the inspector");
    };
    assert!(
        inspector
            .token
            .as_ref()
            .is_err_and(|e| e.contains("Cannot read this as a token"))
    );
}

#[test]
fn export_offers_every_format_and_copies_the_current_one() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    update(&mut state, char_key('e'));
    let Some(Overlay::Export(export)) = &state.overlay else {
        panic!("export overlay expected");
    };
    let labels: Vec<&str> = export.snippets.iter().map(|(l, _)| l.as_str()).collect();
    assert!(
        labels.contains(&"Azure CLI") && labels.contains(&"Bicep") && labels.contains(&"Terraform")
    );
    assert!(export.snippets[0].1.contains("mi-id-payments"));
    update(&mut state, key(KeyCode::Tab));
    let commands = update(&mut state, char_key('y'));
    let [Cmd::Copy(text)] = commands.as_slice() else {
        panic!("copy expected");
    };
    assert!(text.expose().contains("mi-id-payments"));
}

/// Issue 12: the export carries the FIC as stored (control and invisible characters escaped
/// for each language, never silently cleaned away), the view warns about them, and the
/// screen itself still shows the cleaned value.
#[test]
fn export_carries_what_is_stored_escaped_and_warns() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    let mut detail = detail_for("payments-api");
    detail.fics[0].fic.description = Some("pay\u{1b}[31mments \u{202e}job".into());
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail)),
        },
    );
    update(&mut state, char_key('e'));
    let Some(Overlay::Export(export)) = &state.overlay else {
        panic!("export overlay expected");
    };
    let az = &export.snippets[0].1;
    assert!(
        az.contains("U+001B")
            || az.contains("\\u001b")
            || az.contains("\\x1b")
            || az.contains("\\e"),
        "the ESC is exported, escaped: {az}"
    );
    assert!(!az.contains('\u{1b}'), "never raw: {az}");
    let graph = &export.snippets[4].1;
    assert!(graph.contains("pay\\u001b[31mments \\u202ejob"), "{graph}");
    assert!(
        export
            .warnings
            .iter()
            .any(|w| w.contains("description") && w.contains("U+001B") && w.contains("U+202E")),
        "{:?}",
        export.warnings
    );
}

#[test]
fn explain_uses_the_catalogue() {
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, "explain AADSTS700213");
    update(&mut state, key(KeyCode::Enter));
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("explain answers in a panel");
    };
    assert!(panel.lines[0].starts_with("AADSTS700213"));
    assert!(panel.lines.iter().any(|l| l.contains("subject")));
}

#[test]
fn help_opens_and_closes() {
    let mut state = console(false);
    update(&mut state, char_key('?'));
    assert!(matches!(state.overlay, Some(Overlay::Help(_))));
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
    update(&mut state, char_key('q'));
    assert!(state.quit);
}

#[test]
fn tenant_strings_are_sanitized_on_arrival() {
    let mut state = console(false);
    let request = state.new_request();
    state.apps.request = request;
    update(
        &mut state,
        Msg::AppsPage {
            request,
            rows: vec![app("evil\u{1b}]52;c;AAAA\u{7}-app", 0)],
            page: 1,
            done: true,
        },
    );
    assert!(state.apps.items().iter().any(|a| a.name == "evil-app"));
}

#[test]
fn detail_strings_and_findings_are_sanitized_on_arrival() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    let mut detail = detail_for("payments-api");
    detail.fics[0].fic.name = "mi\u{1b}[2Jx".into();
    detail.fics[0].findings.push(crate::model::Finding {
        severity: crate::model::Severity::Error,
        field: "subject".into(),
        message: "client id of evil\u{1b}]0;pwned\u{7}-id".into(),
        fixable: false,
    });
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail)),
        },
    );
    let Some(Screen::AppDetail(screen)) = state.stack.last() else {
        panic!("detail open");
    };
    let fic = &screen.detail.as_ref().expect("loaded").fics[0];
    assert_eq!(fic.findings[0].message, "client id of evil-id");
    assert!(!fic.fic.name.contains('\u{1b}'));
}

#[test]
fn sign_in_failures_and_retry() {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.phase = Phase::SigningIn(Default::default());
    update(
        &mut state,
        Msg::SignIn(SignInEvent::Code {
            verification_uri: "https://microsoft.com/devicelogin".into(),
            user_code: "ABCD-EFGH".into(),
            expires_at: NOW + Duration::minutes(15),
        }),
    );
    assert!(state.needs_tick());
    assert_eq!(
        update(&mut state, char_key('y')),
        vec![Cmd::copy("ABCD-EFGH")]
    );
    update(
        &mut state,
        Msg::SignIn(SignInEvent::Failed(SignInFailure::Expired)),
    );
    assert!(!state.needs_tick(), "no ticking once nothing counts down");
    assert_eq!(
        update(&mut state, key(KeyCode::Enter)),
        vec![Cmd::StartSignIn]
    );
    let commands = update(
        &mut state,
        Msg::SignIn(SignInEvent::Done(Box::new(session(false)))),
    );
    assert_eq!(commands.len(), 2);
    assert!(matches!(state.phase, Phase::Console));
}

#[test]
fn terminate_quits() {
    let mut state = console(false);
    assert_eq!(update(&mut state, Msg::Terminate), vec![Cmd::Quit]);
    assert!(state.quit);
}

fn rest_request(commands: &[Cmd]) -> Option<RequestId> {
    commands.iter().find_map(|c| match c {
        Cmd::Rest { request, after } => {
            assert_eq!(*after, REST_DELAY);
            Some(*request)
        }
        _ => None,
    })
}

fn fetches(commands: &[Cmd]) -> usize {
    commands
        .iter()
        .filter(|c| {
            matches!(
                c,
                Cmd::LoadAppDetail { .. } | Cmd::LoadIdentityDetail { .. }
            )
        })
        .count()
}

/// Rests the cursor where it is (the delay runs out) and answers the fetch with `detail`.
fn rest_and_answer(state: &mut State, detail: AppDetail) {
    let request = state.lists.rest.as_ref().expect("a rest").request;
    let commands = update(state, Msg::Rested { request });
    let [Cmd::LoadAppDetail { request, object_id }] = commands.as_slice() else {
        panic!("one fetch expected, got {commands:?}");
    };
    assert_eq!(object_id, &detail.app.object_id);
    update(
        state,
        Msg::AppDetailLoaded {
            request: *request,
            result: Ok(Box::new(detail)),
        },
    );
}

#[test]
fn a_resting_cursor_fetches_once_and_a_move_before_the_delay_fetches_nothing() {
    let mut state = console(false);
    // Rows by name: billing-worker, inventory-sync, payments-api.
    let first = rest_request(&update(&mut state, char_key('j'))).expect("a delay starts");
    let second = rest_request(&update(&mut state, char_key('G'))).expect("a new delay");
    assert_ne!(first, second);
    assert_eq!(
        state.apps.selected().map(|a| a.name.as_str()),
        Some("payments-api")
    );
    // Moved again before the first delay ran out: it fetches nothing.
    assert!(update(&mut state, Msg::Rested { request: first }).is_empty());
    // Rested: one fetch, for the row under the cursor.
    let commands = update(&mut state, Msg::Rested { request: second });
    let [Cmd::LoadAppDetail { request, object_id }] = commands.as_slice() else {
        panic!("one fetch expected, got {commands:?}");
    };
    assert_eq!(object_id, "obj-payments-api");
    // The same delay answering twice does not fetch twice.
    assert!(update(&mut state, Msg::Rested { request: second }).is_empty());
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request: *request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    assert!(state.lists.details.apps.contains_key("obj-payments-api"));
    assert_eq!(
        state.lists.rest.as_ref().map(|r| &r.stage),
        Some(&RestStage::Done)
    );
    // Cached: Enter opens at once, without asking the directory again.
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(commands.is_empty(), "{commands:?}");
    let Some(Screen::AppDetail(screen)) = state.stack.last() else {
        panic!("detail open");
    };
    assert_eq!(screen.detail.as_ref().map(|d| d.fics.len()), Some(1));
    // Back on the list the row is known: no new delay, no fetch.
    let commands = update(&mut state, key(KeyCode::Esc));
    assert!(commands.is_empty(), "{commands:?}");
    assert_eq!(
        state.lists.rest.as_ref().map(|r| &r.stage),
        Some(&RestStage::Done)
    );
}

#[test]
fn a_stale_preview_answer_for_another_row_is_ignored() {
    let mut state = console(false);
    update(&mut state, char_key('G'));
    let request = state.lists.rest.as_ref().expect("rest").request;
    let commands = update(&mut state, Msg::Rested { request });
    let [Cmd::LoadAppDetail { request: fetch, .. }] = commands.as_slice() else {
        panic!("fetch expected: {commands:?}");
    };
    let fetch = *fetch;
    // The cursor moves on before the answer comes.
    update(&mut state, char_key('k'));
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request: fetch,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    assert!(
        state.lists.details.apps.is_empty(),
        "a stale answer is not kept"
    );
    let rest = state.lists.rest.clone().expect("rest on the new row");
    assert_eq!(rest.target, RestTarget::App("obj-inventory-sync".into()));
    assert_eq!(rest.stage, RestStage::Waiting);
    // A failed fetch is shown as such on its row, and Enter still loads.
    let commands = update(
        &mut state,
        Msg::Rested {
            request: rest.request,
        },
    );
    let [Cmd::LoadAppDetail { request, .. }] = commands.as_slice() else {
        panic!("fetch expected: {commands:?}");
    };
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request: *request,
            result: Err("Graph said no".into()),
        },
    );
    assert_eq!(
        state.lists.rest.as_ref().map(|r| &r.stage),
        Some(&RestStage::Failed("Graph said no".into()))
    );
    assert_eq!(fetches(&update(&mut state, key(KeyCode::Enter))), 1);
}

#[test]
fn holding_j_over_thousands_of_rows_fetches_nothing_until_the_cursor_rests() {
    let mut state = console(false);
    let request = state.new_request();
    state.apps.request = request;
    state.apps.clear();
    let rows: Vec<AppRow> = (0..5000).map(|i| app(&format!("app-{i:05}"), 0)).collect();
    update(
        &mut state,
        Msg::AppsPage {
            request,
            rows,
            page: 1,
            done: true,
        },
    );
    let mut delays = Vec::new();
    for _ in 0..3000 {
        let commands = update(&mut state, char_key('j'));
        assert_eq!(fetches(&commands), 0);
        delays.extend(rest_request(&commands));
    }
    assert_eq!(delays.len(), 3000, "one timer per move, no request");
    // Every delay but the last is stale; only the last fetches.
    let mut fetched = 0;
    for request in &delays {
        fetched += fetches(&update(&mut state, Msg::Rested { request: *request }));
    }
    assert_eq!(fetched, 1);
    // Pages streaming in do not move the cursor, so they start no delay.
    let more = state.new_request();
    state.apps.request = more;
    let commands = update(
        &mut state,
        Msg::AppsPage {
            request: more,
            rows: vec![app("zz-late", 0)],
            page: 2,
            done: false,
        },
    );
    assert!(rest_request(&commands).is_none());
}

#[test]
fn details_are_forgotten_on_refresh_after_fic_writes_and_on_a_tenant_switch() {
    let mut state = console(false);
    assert!(state.apps.select_where(|a| a.name == "payments-api"));
    update(&mut state, char_key('k'));
    update(&mut state, char_key('j'));
    rest_and_answer(&mut state, detail_for("payments-api"));
    assert_eq!(state.lists.details.apps.len(), 1);
    // r on the list reloads: the details go too.
    update(&mut state, char_key('r'));
    assert!(state.lists.details.apps.is_empty());

    // A FIC deleted: the details are old.
    let mut state = console(false);
    assert!(state.apps.select_where(|a| a.name == "payments-api"));
    update(&mut state, char_key('k'));
    update(&mut state, char_key('j'));
    rest_and_answer(&mut state, detail_for("payments-api"));
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, char_key('D'));
    let commands = update(&mut state, char_key('y'));
    let [Cmd::DeleteFic { request, .. }] = commands.as_slice() else {
        panic!("delete expected: {commands:?}");
    };
    let commands = update(
        &mut state,
        Msg::FicDeleted {
            request: *request,
            result: Ok(()),
        },
    );
    assert!(state.lists.details.apps.is_empty());
    assert_eq!(fetches(&commands), 1, "the open detail reloads");

    // A FIC created or changed by the wizard.
    state.lists.details.put_app(detail_for("inventory-sync"));
    update(
        &mut state,
        Msg::Wizard(crate::wizard::WizardMsg::Saved {
            request: 999,
            result: Ok(detail_for("x").fics[0].fic.clone()),
        }),
    );
    assert!(state.lists.details.apps.is_empty());

    // Another tenant.
    state.lists.details.put_app(detail_for("inventory-sync"));
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char_key(':'));
    typed(&mut state, "tenant fabrikam");
    update(&mut state, key(KeyCode::Enter));
    let mut fabrikam = session(false);
    fabrikam.tenant = "fabrikam (fabrikam.onmicrosoft.com)".into();
    fabrikam.user = "admin@fabrikam.onmicrosoft.com".into();
    let commands = update(
        &mut state,
        Msg::SignIn(SignInEvent::Done(Box::new(fabrikam))),
    );
    assert!(state.lists.details.apps.is_empty() && state.lists.rest.is_none());
    assert!(commands.iter().any(|c| matches!(c, Cmd::LoadApps { .. })));
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Cmd::LoadIdentities { .. }))
    );
    let session = state.session.as_ref().expect("signed in");
    assert_eq!(session.user, "admin@fabrikam.onmicrosoft.com");
    assert_eq!(session.tenant, "fabrikam (fabrikam.onmicrosoft.com)");
}

#[test]
fn identity_rows_rest_and_open_from_the_cache() {
    let mut state = console(false);
    update(&mut state, key(KeyCode::Tab));
    let request = state
        .lists
        .rest
        .as_ref()
        .expect("rest on the first identity")
        .request;
    let commands = update(&mut state, Msg::Rested { request });
    let [Cmd::LoadIdentityDetail { request, identity }] = commands.as_slice() else {
        panic!("identity fetch expected: {commands:?}");
    };
    assert_eq!(identity.name, "id-payments");
    update(
        &mut state,
        Msg::IdentityDetailLoaded {
            request: *request,
            result: Ok(Box::new(crate::model::IdentityDetail {
                identity: (**identity).clone(),
                trusted_by: Vec::new(),
                lag_note: None,
            })),
        },
    );
    assert!(
        state
            .lists
            .details
            .identities
            .contains_key("principal-id-payments")
    );
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(matches!(
        state.stack.last(),
        Some(Screen::IdentityDetail(screen)) if screen.detail.is_some()
    ));
}

fn signing_in() -> State {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.phase = Phase::SigningIn(SignInScreen {
        status: Some("Starting the embedded sandbox…".into()),
        ..SignInScreen::default()
    });
    state
}

fn first_page(state: &mut State, commands: &[Cmd]) -> Vec<Cmd> {
    let request = commands
        .iter()
        .find_map(|c| match c {
            Cmd::LoadApps { request } => Some(*request),
            _ => None,
        })
        .expect("apps load");
    update(
        state,
        Msg::AppsPage {
            request,
            rows: vec![app("billing-worker", 0), app("payments-api", 1)],
            page: 1,
            done: false,
        },
    )
}

#[test]
fn a_filter_typed_while_signing_in_applies_when_the_list_arrives() {
    let mut state = signing_in();
    // `/pay` then `q`: after the `/` everything is text, so q does not quit.
    assert!(typed(&mut state, "/paq").is_empty());
    update(&mut state, key(KeyCode::Backspace));
    assert!(!state.quit);
    assert!(
        state
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("Typed ahead: /paq⌫")),
        "{:?}",
        state.toast
    );
    let commands = update(
        &mut state,
        Msg::SignIn(SignInEvent::Done(Box::new(session(false)))),
    );
    // Signed in, but the list is not there yet: still kept, and so is what comes next, in
    // order (a `y` now must not copy; it is part of the filter).
    assert!(typed(&mut state, "y").is_empty());
    assert_eq!(state.typed_ahead.len(), 6);
    first_page(&mut state, &commands);
    assert!(state.typed_ahead.is_empty());
    assert!(state.lists.editing_filter);
    assert_eq!(state.lists.apps_filter.value(), "pay");
    assert_eq!(
        state.apps.selected().map(|a| a.name.as_str()),
        Some("payments-api")
    );
    assert!(state.toast.is_none(), "the typed-ahead note goes");
}

#[test]
fn q_while_signing_in_quits_and_a_failure_forgets_typed_keys() {
    let mut state = signing_in();
    assert_eq!(update(&mut state, char_key('q')), vec![Cmd::Quit]);
    assert!(state.quit);

    let mut state = signing_in();
    typed(&mut state, "jj");
    update(
        &mut state,
        Msg::SignIn(SignInEvent::Failed(SignInFailure::Expired)),
    );
    assert!(state.typed_ahead.is_empty());
    // Enter is the sign-in screen's own key again: ask for a new code.
    assert_eq!(
        update(&mut state, key(KeyCode::Enter)),
        vec![Cmd::StartSignIn]
    );
}

#[test]
fn keys_typed_during_a_refused_tenant_switch_apply_to_the_lists_that_stay() {
    let mut state = console(false);
    update(&mut state, char_key(':'));
    typed(&mut state, "tenant nowhere");
    update(&mut state, key(KeyCode::Enter));
    assert!(matches!(state.phase, Phase::SigningIn(_)));
    typed(&mut state, "/inv");
    update(
        &mut state,
        Msg::SwitchRefused("the sandbox has no tenant `nowhere`; it has contoso".into()),
    );
    assert!(matches!(state.phase, Phase::Console));
    assert_eq!(state.lists.apps_filter.value(), "inv");
    assert_eq!(state.apps.visible_len(), 1);
    assert!(
        state
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("no tenant `nowhere`"))
    );
}

#[test]
fn a_panicked_effect_is_an_error_toast() {
    let mut state = console(false);
    update(
        &mut state,
        Msg::EffectPanicked(crate::effects::internal_error("index out of bounds")),
    );
    let toast = state.toast.as_ref().expect("toast");
    assert_eq!(toast.level, ToastLevel::Error);
    assert!(toast.text.contains("index out of bounds"));
    assert!(toast.text.contains("Try again"));
    assert!(!state.quit);
}

fn render(state: &State) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("terminal");
    terminal
        .draw(|frame| crate::views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}

fn delete_the_fic(state: &mut State) -> Vec<Cmd> {
    let request = open_payments(state);
    update(
        state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    update(state, char_key('D'));
    let commands = update(state, char_key('y'));
    let [Cmd::DeleteFic { request, .. }] = commands.as_slice() else {
        panic!("delete expected, got {commands:?}");
    };
    update(
        state,
        Msg::FicDeleted {
            request: *request,
            result: Ok(()),
        },
    )
}

/// Defect (a): a FIC deleted in App detail no longer counts in the Apps list (the row and the
/// `fic:` facet), without waiting for `r`.
#[test]
fn a_deleted_fic_no_longer_counts_in_the_apps_list() {
    let mut state = console(false);
    delete_the_fic(&mut state);
    let row = state
        .apps
        .find(|a| a.object_id == "obj-payments-api")
        .cloned()
        .expect("row");
    assert_eq!(row.fic_count, Some(0), "the row still says 1");
    update(&mut state, key(KeyCode::Esc));
    typed(&mut state, "/fic:0");
    let names: Vec<String> = state
        .apps
        .visible_rows(0, 10)
        .map(|a| a.name.clone())
        .collect();
    assert!(names.contains(&"payments-api".to_string()), "{names:?}");
}

/// Defect (e): exporting a FIC with error findings warns in the export view.
#[test]
fn export_warns_about_error_findings() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    let mut detail = detail_for("payments-api");
    detail.fics[0].fic.issuer = "https://login.microsoftonline.com/t/v2.0/".into();
    detail.fics[0].findings.push(crate::model::Finding {
        severity: crate::model::Severity::Error,
        field: "issuer".into(),
        message: "the issuer ends with a slash; Entra compares it exactly".into(),
        fixable: true,
    });
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail)),
        },
    );
    update(&mut state, char_key('e'));
    assert!(matches!(state.overlay, Some(Overlay::Export(_))));
    let screen = render(&state);
    assert!(
        screen.contains("ends with a slash"),
        "no warning in the export view:\n{screen}"
    );
}

/// Defect (g): the FIC count of App detail reads as a limit, not as paging.
#[test]
fn the_fic_count_reads_as_a_limit() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    let screen = render(&state);
    assert!(screen.contains("1 of 20 allowed"), "{screen}");
    assert!(!screen.contains("(1/20)"), "{screen}");
}

/// Typed effect errors: a delete of a FIC that is already gone (404) reads the app again
/// instead of offering to retry.
#[test]
fn deleting_a_fic_already_gone_reloads_the_app() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    update(&mut state, char_key('D'));
    let commands = update(&mut state, char_key('y'));
    let [Cmd::DeleteFic { request, .. }] = commands.as_slice() else {
        panic!("delete expected, got {commands:?}");
    };
    let commands = update(
        &mut state,
        Msg::FicDeleted {
            request: *request,
            result: Err(crate::error::DirectoryError::new(
                ErrorKind::NotFound,
                "Graph answered 404",
            )),
        },
    );
    assert!(matches!(commands.as_slice(), [Cmd::LoadAppDetail { .. }]));
    assert!(
        state
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("already gone"))
    );
}

/// Overlays read the keymap too: a remapped key in the export view shows as remapped in its
/// key line and is the one that copies.
#[test]
fn overlay_keys_come_from_the_keymap() {
    let mut state = console(false);
    state.keymap = Keymap::default()
        .with_overrides("[export]\ncopy = \"c\"\n")
        .expect("remaps");
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail_for("payments-api"))),
        },
    );
    update(&mut state, char_key('e'));
    let screen = render(&state);
    assert!(screen.contains("c copy"), "{screen}");
    assert!(!screen.contains("y copy"), "{screen}");
    assert!(update(&mut state, char_key('y')).is_empty());
    let commands = update(&mut state, char_key('c'));
    assert!(
        matches!(commands.as_slice(), [Cmd::Copy(_)]),
        "{commands:?}"
    );
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
}

/// Sentences that name a key take it from the keymap: a remapped key shows as remapped.
#[test]
fn toasts_name_remapped_keys() {
    let mut state = console(false);
    state.keymap = Keymap::default()
        .with_overrides("[list]\nrefresh = \"R\"\nsort = \"o\"\n")
        .expect("remaps");
    let request = state.apps.request;
    update(
        &mut state,
        Msg::AppsFailed {
            request,
            error: "Graph did not answer".into(),
        },
    );
    let toast = state.toast.as_ref().expect("a toast");
    assert!(toast.text.ends_with("press R to retry"), "{}", toast.text);
    update(&mut state, char_key('o'));
    let toast = state.toast.as_ref().expect("a toast");
    assert!(
        toast.text.contains("; o again for the next column"),
        "{}",
        toast.text
    );
}

#[test]
fn the_palette_takes_its_keys_from_the_input_table() {
    let keymap = Keymap::default()
        .with_overrides("[input]\nback = \"ctrl-g\"\n")
        .expect("a valid keymap");
    let mut state = console(false);
    state.keymap = keymap;
    update(&mut state, char_key(':'));
    assert!(matches!(state.overlay, Some(Overlay::Palette(_))));
    // Esc is no longer the input's: the palette stays.
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(state.overlay, Some(Overlay::Palette(_))));
    let (overlay, ctx) = state.split_overlay();
    let Some(Overlay::Palette(palette)) = overlay else {
        panic!("the palette is open");
    };
    let hints =
        crate::component::footer_hints(&palette.commands(&ctx), ctx.keymap, palette.context());
    assert!(
        hints.contains(&("Ctrl-g".to_string(), "close")),
        "{hints:?}"
    );
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL)),
    );
    assert!(state.overlay.is_none(), "Ctrl-g closed the palette");
}

#[test]
fn v_shows_the_selected_fics_values_each_on_one_unwrapped_line() {
    let mut state = console(false);
    let request = open_payments(&mut state);
    let mut detail = detail_for("payments-api");
    let long_issuer = format!("https://issuer.example.com/{}", "x".repeat(150));
    detail.fics[0].fic.issuer = long_issuer.clone();
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Ok(Box::new(detail)),
        },
    );
    update(&mut state, char_key('V'));
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("expected the one-line view");
    };
    assert!(panel.unwrapped);
    // The value alone on its line, whole, under its label.
    let at = panel
        .lines
        .iter()
        .position(|l| *l == long_issuer)
        .expect("the issuer whole on one line");
    assert_eq!(panel.lines[at - 1], "issuer:");
    assert!(panel.lines.contains(&"principal-id-payments".to_string()));
    // Sideways, since it is wider than the terminal.
    update(&mut state, key(KeyCode::Right));
    update(&mut state, char_key('l'));
    let Some(Overlay::Text(panel)) = &state.overlay else {
        panic!("still open");
    };
    assert_eq!(panel.scroll_x, 16);
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
}

#[test]
fn offline_whois_words_a_guid_as_the_directory_does() {
    use ficus_core::fic::guid::GuidKind;
    let mut state = console(false);
    let client_id = "0a1b2c3d-0000-4000-8000-000000000001";
    let principal_id = "0a1b2c3d-0000-4000-8000-000000000002";
    let mut row = identity("id-orders", IdentityKind::UserAssigned);
    row.identity.client_id = client_id.into();
    row.identity.principal_id = principal_id.into();
    let now = state.now;
    state.identities.extend(vec![row], now);
    // One kind for the offline and the directory answers: entra's is core's.
    let from_entra: GuidKind = ficus_entra::graph::GuidKind::IdentityClientId;
    let lines = palette::whois(&state, client_id);
    assert_eq!(
        lines[0],
        format!(
            "{} id-orders (user-assigned); its principal id is {principal_id}{}",
            from_entra.label(),
            from_entra.subject_hint()
        )
    );
    let lines = palette::whois(&state, principal_id);
    assert_eq!(
        lines[0],
        "principal (object) id of the managed identity id-orders (user-assigned): the value a FIC's subject takes"
    );
}

/// No key written by hand into a screen's sentences: the app detail's "Press r to retry", its
/// findings' "(f fixes)" and the exchange's "x runs the exchange" name the keys as
/// `keymap.toml` binds them, and never the default ones they replaced.
#[test]
fn sentences_on_screen_name_remapped_keys() {
    let mut state = console(false);
    state.keymap = Keymap::default()
        .with_overrides(
            "back = \"ctrl-b\"\n[list]\nfilter = \"ctrl-f\"\n[app-detail]\nrefresh = \"R\"\n[exchange]\nrun-exchange = \"X\"\nopen = \"ctrl-o\"\n",
        )
        .expect("remaps");
    // The lists' status line names the filter key.
    let lists = render(&state);
    assert!(lists.contains("Ctrl-f to filter"), "{lists}");
    assert!(!lists.contains("/ to filter"), "{lists}");
    let request = open_payments(&mut state);
    update(
        &mut state,
        Msg::AppDetailLoaded {
            request,
            result: Err("Graph said no".into()),
        },
    );
    let failed = render(&state);
    assert!(
        failed.contains("Press R to retry, Ctrl-b to go back."),
        "{failed}"
    );
    assert!(!failed.contains("Press r to retry"), "{failed}");
    // The exchange, before its first run.
    update(&mut state, char_key('x'));
    assert!(matches!(state.stack.last(), Some(Screen::Exchange(_))));
    let exchange = render(&state);
    assert!(
        exchange.contains("X runs the exchange; Ctrl-o changes the selected field."),
        "{exchange}"
    );
    assert!(!exchange.contains("x runs the exchange"), "{exchange}");
}
