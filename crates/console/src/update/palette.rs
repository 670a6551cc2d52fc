//! The command palette: suggestions as you type (commands, apps and identities by fuzzy
//! name), running a command, and `whois` with the directory's answer.

use ficus_core::text::sanitize;

use super::navigate::{navigate, open_app, open_identity, open_inspector, show_list};
use crate::domain;
use crate::error::{DirectoryError, ErrorKind};
use crate::model::IdentityKind;
use crate::msg::{Cmd, RequestId};
use crate::nav::Nav;
use crate::screens::exchange;
use crate::screens::palette;
use crate::state::{
    HelpScreen, ListKind, Overlay, PaletteTarget, Phase, SignInScreen, State, Suggestion,
    TextPanel, ToastLevel,
};
use ficus_core::fic::guid::GuidKind;

pub(super) fn open_palette(state: &mut State, prefill: &str) {
    state.lists.editing_filter = false;
    let palette = palette::open(&state.ctx(), prefill);
    state.overlay = Some(Overlay::Palette(palette));
}

pub(super) fn run_palette(state: &mut State, input: &str, chosen: Option<Suggestion>) -> Vec<Cmd> {
    // A selected suggestion that completes a typed argument (`tenant fa` → `tenant fabrikam`,
    // `theme li` → `theme light`) runs whole, so a prefix is enough; a bare `tenant ` still
    // asks for a name.
    let typed_argument = input
        .trim()
        .split_once(char::is_whitespace)
        .is_some_and(|(_, argument)| !argument.trim().is_empty());
    if typed_argument
        && let Some(Suggestion {
            target: PaletteTarget::Command(full),
            ..
        }) = &chosen
        && !full.ends_with(' ')
        && full.len() > input.trim().len()
        && full
            .to_ascii_lowercase()
            .starts_with(&input.trim().to_ascii_lowercase())
    {
        let full = full.clone();
        return run_palette(state, &full, None);
    }
    let (command, argument) = match input.split_once(char::is_whitespace) {
        Some((command, argument)) => (command.to_ascii_lowercase(), argument.trim().to_string()),
        None => (input.to_ascii_lowercase(), String::new()),
    };
    match command.as_str() {
        "apps" | "app" if argument.is_empty() => show_list(state, ListKind::Apps),
        "identities" | "identity" | "ids" if argument.is_empty() => {
            show_list(state, ListKind::Identities)
        }
        "help" => {
            state.overlay = Some(Overlay::Help(HelpScreen::default()));
            Vec::new()
        }
        "failing" if argument.is_empty() => super::navigate::open_failing(state),
        "undo" if argument.is_empty() => vec![Cmd::PlanUndo {
            request: state.new_request(),
            app_object_id: None,
        }],
        "theme" => {
            match state.themes.get(&argument).cloned() {
                Some(theme) => {
                    state.toast(ToastLevel::Info, format!("Theme: {}", theme.name));
                    let name = theme.name.clone();
                    state.theme = theme;
                    return vec![Cmd::SaveTheme(name)];
                }
                None => state.toast(
                    ToastLevel::Warning,
                    format!(
                        "No theme `{argument}`; try one of: {}",
                        state.themes.names().join(", ")
                    ),
                ),
            }
            Vec::new()
        }
        "whois" => {
            let mut lines = whois(state, &argument);
            let Ok(uuid) = uuid::Uuid::parse_str(argument.trim()) else {
                show_panel(state, format!("whois {argument}"), lines);
                return Vec::new();
            };
            // What is loaded shows at once; the directory's answer replaces it when it comes.
            let guid = uuid.hyphenated().to_string();
            lines.insert(0, WHOIS_ASKING.into());
            show_panel(state, format!("whois {guid}"), lines);
            let request = state.new_request();
            state.whois_request = Some((request, guid.clone()));
            vec![Cmd::Whois { request, guid }]
        }
        "tenant" | "switch" => {
            let tenant = argument.trim().to_string();
            if tenant.is_empty() {
                state.toast(
                    ToastLevel::Warning,
                    "Name the tenant: `tenant contoso.onmicrosoft.com` (a domain or a tenant id)",
                );
                return Vec::new();
            }
            // The lists stay until the new sign-in is done (`start_console` reloads them);
            // a refusal returns to them.
            state.stack.clear();
            // Another tenant's findings are not this one's.
            state.parked_health = None;
            state.overlay = None;
            state.phase = Phase::SigningIn(SignInScreen {
                status: Some(format!("Signing in to {}…", sanitize(&tenant))),
                verification_uri: None,
                user_code: None,
                expires_at: None,
                failure: None,
            });
            vec![Cmd::SwitchTenant { tenant }]
        }
        "explain" => {
            let lines = domain::explain(&argument);
            show_panel(state, format!("explain {argument}"), lines);
            Vec::new()
        }
        "decode" | "inspect" => open_inspector(state, &argument),
        "exchange" | "test" => {
            let entry = exchange::entry_from_palette(&state.ctx(), &argument);
            navigate(state, Nav::OpenExchange(Box::new(entry)))
        }
        _ => match chosen {
            Some(Suggestion {
                target: PaletteTarget::App(object_id),
                label,
                ..
            }) => {
                show_list(state, ListKind::Apps);
                state.apps.select_where(|a| a.object_id == object_id);
                open_app(state, &object_id, &label)
            }
            Some(Suggestion {
                target: PaletteTarget::Identity(principal_id),
                ..
            }) => {
                let identity = state
                    .identities
                    .find(|i| i.principal_id == principal_id)
                    .cloned();
                show_list(state, ListKind::Identities);
                state
                    .identities
                    .select_where(|i| i.principal_id == principal_id);
                match identity {
                    Some(identity) => open_identity(state, identity),
                    None => Vec::new(),
                }
            }
            Some(Suggestion {
                target: PaletteTarget::Command(command),
                ..
            }) if !command.ends_with(' ') => run_palette(state, &command, None),
            Some(Suggestion {
                target: PaletteTarget::Command(command),
                ..
            }) => {
                open_palette(state, &command);
                Vec::new()
            }
            None if input.is_empty() => Vec::new(),
            None => {
                state.toast(
                    ToastLevel::Warning,
                    format!(
                        "Nothing named `{input}` is loaded, and it is not a command; try apps, identities, tenant, whois, explain, decode, theme"
                    ),
                );
                Vec::new()
            }
        },
    }
}

pub(super) fn show_panel(state: &mut State, title: String, lines: Vec<String>) {
    state.overlay = Some(Overlay::Text(TextPanel {
        title: sanitize(&title).into_owned(),
        lines,
        ..TextPanel::default()
    }));
}

pub(super) const WHOIS_ASKING: &str = "Asking the directory…";

/// The directory's answer to `whois`: its matches first, then what is loaded and well known
/// (the fallback when the directory cannot be asked).
pub(super) fn on_whois(
    state: &mut State,
    request: RequestId,
    guid: &str,
    result: Result<Vec<String>, DirectoryError>,
) -> Vec<Cmd> {
    if state.whois_request.as_ref().map(|(r, _)| *r) != Some(request) {
        return Vec::new();
    }
    state.whois_request = None;
    let title = format!("whois {guid}");
    let Some(Overlay::Text(panel)) = &state.overlay else {
        return Vec::new();
    };
    if panel.title != title {
        return Vec::new();
    }
    let local = whois(state, guid);
    let mut lines = Vec::new();
    match result {
        Ok(found) if !found.is_empty() => {
            lines.push("In the directory:".to_string());
            lines.extend(found.iter().map(|line| format!("  {}", sanitize(line))));
            let extra: Vec<String> = local
                .into_iter()
                .filter(|line| {
                    !line.starts_with("Not an app") && !line.starts_with("If it belongs")
                })
                .collect();
            if !extra.is_empty() {
                lines.push("Also:".to_string());
                lines.extend(extra.into_iter().map(|line| format!("  {line}")));
            }
        }
        Ok(_) => {
            lines.push("The directory has no object with this id.".to_string());
            lines.extend(local);
        }
        Err(error) if error.kind == ErrorKind::Unsupported => {
            lines.push(format!("{}.", sanitize(&error.message)));
            lines.extend(local);
        }
        Err(error) => {
            lines.push(format!(
                "The directory could not be asked: {}",
                sanitize(&error.message)
            ));
            lines.extend(local);
        }
    }
    show_panel(state, title, lines);
    Vec::new()
}

/// What a GUID is, from what is loaded and what ficus knows by heart.
pub(super) fn whois(state: &State, text: &str) -> Vec<String> {
    let Ok(uuid) = uuid::Uuid::parse_str(text.trim()) else {
        return vec![
            format!("`{}` is not a GUID.", sanitize(text)),
            "Paste one like 00000000-0000-0000-0000-000000000000.".into(),
        ];
    };
    let guid = uuid.hyphenated().to_string();
    let same = |value: &str| value.eq_ignore_ascii_case(&guid);
    let mut lines = Vec::new();
    // The same wording as the directory's answer (`GuidKind`), from what is loaded.
    let mut found = |kind: GuidKind, name: &str, extra: String| {
        lines.push(format!(
            "{} {name}{extra}{}",
            kind.label(),
            kind.subject_hint()
        ));
    };
    for app in state.apps.items() {
        if same(&app.app_id) {
            found(GuidKind::AppId, &app.name, String::new());
        }
        if same(&app.object_id) {
            found(GuidKind::AppObjectId, &app.name, String::new());
        }
    }
    for identity in state.identities.items() {
        let assignment = match identity.kind {
            IdentityKind::UserAssigned => " (user-assigned)",
            IdentityKind::SystemAssigned => " (system-assigned)",
        };
        if same(&identity.client_id) {
            found(
                GuidKind::IdentityClientId,
                &identity.name,
                format!(
                    "{assignment}; its principal id is {}",
                    identity.principal_id
                ),
            );
        }
        if same(&identity.principal_id) {
            found(
                GuidKind::IdentityPrincipalId,
                &identity.name,
                assignment.to_string(),
            );
        }
    }
    if let Some(session) = &state.session
        && same(&session.tenant_id)
    {
        found(GuidKind::TenantId, &session.tenant, " (signed in)".into());
    }
    lines.extend(ficus_core::fic::guid::well_known_guid(&guid));
    if lines.is_empty() {
        lines.push(
            "Not an app, identity or tenant loaded in this session, and not a well-known id."
                .into(),
        );
        lines.push("If it belongs to another tenant, sign in there; if the list is still loading, try again shortly.".into());
    }
    lines
}
