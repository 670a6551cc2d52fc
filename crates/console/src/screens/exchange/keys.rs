//! The exchange screen's keys: the form, the picker and the file input, running, revealing,
//! copying, and the one-key fix (`F`) and inspection (`i`).

use tui_input::Input;

use ficus_core::fic::Remedy;
use ficus_core::secret::Secret;

use super::state::*;
use crate::component::ToastLevel;
use crate::keymap::{Action, Context};
use crate::msg::Cmd;
use crate::nav::{AddFic, AppChoice, FicFix, InspectorEntry, Nav};
use crate::token_effects::*;
use crate::widgets::picker::{
    FocusedKey, PickItem, Picker, app_items, focused_key, focused_paste, identity_items, scrolled,
};
use ficus_core::text::sanitize;

use super::run::start_run;

/// Keys of the exchange screen that the keymap dispatched. `None`: not ours, let the console
/// handle it (quit, help, palette…).
pub fn perform(here: &mut Here, action: Action) -> Option<Vec<Cmd>> {
    let screen = top(here)?;
    let has_result = screen.result().is_some();
    let cmds = match action {
        Action::Up | Action::Down if !has_result => {
            let index = FormField::ALL
                .iter()
                .position(|f| *f == screen.focus)
                .unwrap_or(0);
            let next = if action == Action::Up {
                index.saturating_sub(1)
            } else {
                (index + 1).min(FormField::ALL.len() - 1)
            };
            screen.focus = FormField::ALL[next];
            Vec::new()
        }
        Action::NextPane => {
            let index = FormField::ALL
                .iter()
                .position(|f| *f == screen.focus)
                .unwrap_or(0);
            screen.focus = FormField::ALL[(index + 1) % FormField::ALL.len()];
            Vec::new()
        }
        Action::Up | Action::Down | Action::HalfPageUp | Action::HalfPageDown | Action::Top => {
            screen.scroll = scrolled(screen.scroll, action);
            Vec::new()
        }
        Action::Open => {
            let field = screen.focus;
            open_picker(here, field);
            Vec::new()
        }
        Action::RunExchange | Action::Refresh => {
            if screen.is_running() {
                here.toast(
                    ToastLevel::Info,
                    "The exchange is running; wait for its verdict.",
                );
                Vec::new()
            } else {
                start_run(here, 1)
            }
        }
        Action::Reveal => {
            screen.reveal = !screen.reveal;
            let text = if screen.reveal {
                format!(
                    "Tokens shown in full; {} masks them again. They are never written to the log.",
                    here.key(Context::Exchange, Action::Reveal)
                )
            } else {
                "Tokens masked.".to_string()
            };
            here.toast(ToastLevel::Info, text);
            Vec::new()
        }
        Action::PasteToken => {
            if screen.pasted.take().is_some() {
                here.toast(
                    ToastLevel::Info,
                    "Pasted token dropped; the host's managed identity is used again.",
                );
                return Some(switch_source(here, SourceChoice::Session));
            } else {
                here.toast(
                    ToastLevel::Info,
                    "Paste the assertion now (the terminal's paste); it replaces the host's managed identity token.",
                );
            }
            Vec::new()
        }
        Action::TokenSource => {
            if screen.is_running() {
                here.toast(
                    ToastLevel::Info,
                    "The exchange is running; switch the token source after its verdict.",
                );
                return Some(Vec::new());
            }
            let next = screen.source_choice.next(screen.emulated_host);
            let dropped = next != SourceChoice::PasteOrFile && screen.pasted.take().is_some();
            let cmds = switch_source(here, next);
            let what = match next {
                SourceChoice::Session if screen_emulated(here) => "the sandbox's emulated host",
                SourceChoice::Session => "this machine (as detected)",
                SourceChoice::ThisMachine => "this machine's own endpoint",
                SourceChoice::PasteOrFile => &format!(
                    "a pasted token or file ({} pastes, {} reads a file)",
                    here.key(Context::Exchange, Action::PasteToken),
                    here.key(Context::Exchange, Action::TokenFromFile)
                ),
            };
            let dropped = if dropped {
                " The pasted token is dropped."
            } else {
                ""
            };
            let switch = here.key(Context::Exchange, Action::TokenSource);
            here.toast(
                ToastLevel::Info,
                format!("Token source: {what}.{dropped} {switch} switches again."),
            );
            cmds
        }
        Action::TokenFromFile => {
            screen.file_input = Some(Input::default());
            Vec::new()
        }
        Action::Copy | Action::CopyId => {
            let (token, what) = match (action, screen.result()) {
                (Action::Copy, Some(r)) => (r.app_token_raw.clone(), "app token"),
                (_, Some(r)) => (
                    r.assertion_raw.clone(),
                    "managed identity token (assertion)",
                ),
                _ => (None, "token"),
            };
            match token {
                Some(token) => {
                    here.toast(
                        ToastLevel::Info,
                        format!(
                            "{}. Treat it as a password.",
                            crate::terminal::sent_to_clipboard(format!("the {what}"))
                        ),
                    );
                    vec![Cmd::Copy(token.clone())]
                }
                None => {
                    let run = here.key(Context::Exchange, Action::RunExchange);
                    here.toast(
                        ToastLevel::Info,
                        format!("No {what} to copy yet; {run} runs the exchange."),
                    );
                    Vec::new()
                }
            }
        }
        Action::FixInWizard => fix_in_wizard(here),
        Action::WorkloadCode => {
            let succeeded = screen.result().is_some_and(|r| r.succeeded());
            let chosen = (screen.app.clone(), screen.identity.clone(), succeeded);
            let (typed_tenant, scope) = (screen.tenant.trim().to_string(), screen.scope.clone());
            let fics = screen.result().map(|r| r.fics.clone()).unwrap_or_default();
            let values = match chosen {
                (Some(app), Some(identity), true) => {
                    let tenant = match typed_tenant.as_str() {
                        "" => here
                            .session
                            .map(|s| s.tenant_id.clone())
                            .unwrap_or_default(),
                        typed => typed.to_string(),
                    };
                    let cloud = here.cloud();
                    // The FIC the exchange matched: the one that trusts the identity.
                    let trusting = fics.iter().find(|f| {
                        f.subject
                            .eq_ignore_ascii_case(&identity.identity.principal_id)
                            && f.audiences.iter().any(|a| cloud.is_exchange_audience(a))
                    });
                    Some(crate::screens::workload::values_for(
                        &cloud,
                        &app.to_row(),
                        &identity.identity,
                        &tenant,
                        Some(&scope),
                        trusting,
                    ))
                }
                _ => None,
            };
            match values {
                Some(values) => here.nav(Nav::OpenWorkload(Box::new(values))),
                None => {
                    let run = here.key(Context::Exchange, Action::RunExchange);
                    here.toast(
                        ToastLevel::Info,
                        format!(
                            "The workload's code is filled from an exchange that worked: {run} runs it first."
                        ),
                    )
                }
            }
            Vec::new()
        }
        Action::Inspect => {
            let token = screen
                .result()
                .and_then(|r| r.app_token_raw.clone().or_else(|| r.assertion_raw.clone()));
            let app = screen.app.clone();
            let fics = screen.result().map(|r| r.fics.clone()).unwrap_or_default();
            match token {
                Some(token) => {
                    here.nav(Nav::OpenInspector(Box::new(InspectorEntry {
                        token: Some(token),
                        app,
                        fics,
                    })));
                    Vec::new()
                }
                None => {
                    let run = here.key(Context::Exchange, Action::RunExchange);
                    here.toast(
                        ToastLevel::Info,
                        format!("No token yet; {run} runs the exchange."),
                    );
                    Vec::new()
                }
            }
        }
        _ => return None,
    };
    Some(cmds)
}

pub(super) fn fix_in_wizard(here: &mut Here) -> Vec<Cmd> {
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    let (Some(app), Some(result)) = (screen.app.clone(), screen.result()) else {
        return Vec::new();
    };
    if result.succeeded() {
        here.toast(
            ToastLevel::Info,
            "The exchange worked; there is nothing to fix.",
        );
        return Vec::new();
    }
    // AADSTS70025: the app has no FIC at all; the fix is a new one, for this identity.
    let no_fics = result.refusal.as_ref().and_then(|r| r.code) == Some(70025)
        || (result.fics.is_empty() && result.refusal.is_some());
    if no_fics {
        let identity = screen.identity.clone();
        let draft = screen.run.as_ref().and_then(|r| {
            r.remedies.iter().find_map(|remedy| match remedy {
                Remedy::AddFic { draft, .. } => Some(draft.clone()),
                _ => None,
            })
        });
        here.nav(Nav::AddFic(Box::new(AddFic {
            app,
            identity,
            draft,
        })));
        return Vec::new();
    }
    let remedies = screen
        .run
        .as_ref()
        .map(|r| r.remedies.clone())
        .unwrap_or_default();
    let fics = result.fics.clone();
    let exchanged = screen.identity.clone();
    let Some(best) = remedies.first() else {
        here.toast(
            ToastLevel::Info,
            "No FIC to correct: the app has none for this token, or every field already matches. a in the app's detail adds one.",
        );
        return Vec::new();
    };
    // The alternatives, said beside what F does.
    let others: Vec<String> = remedies.iter().skip(1).map(Remedy::sentence).collect();
    let also = if others.is_empty() {
        String::new()
    } else {
        format!(" Or: {}", others.join(" "))
    };
    match best {
        Remedy::EditField {
            fic_index, changes, ..
        } => {
            let (Some(fic), Some(change)) = (fics.get(*fic_index), changes.first()) else {
                return Vec::new();
            };
            let fix = FicFix {
                app,
                fic: fic.clone(),
                field: change.field,
                corrected: change.to.clone(),
            };
            here.nav(Nav::EditFic(Box::new(fix)));
        }
        Remedy::AddFic { draft, identity } => {
            let row = identity.as_ref().and_then(|identity| {
                here.ctx
                    .identities
                    .items()
                    .iter()
                    .find(|i| i.principal_id == identity.principal_id)
                    .cloned()
            });
            let row = row.or_else(|| exchanged.filter(|i| i.principal_id == draft.subject));
            here.nav(Nav::AddFic(Box::new(AddFic {
                app,
                identity: row,
                draft: Some(draft.clone()),
            })));
            if !also.is_empty() {
                here.toast(ToastLevel::Info, format!("{}{also}", best.sentence()));
            }
        }
        Remedy::UseTrustedIdentity { .. } => {
            here.toast(
                ToastLevel::Info,
                format!(
                    "{}{also} Or add a FIC for this token: a in the app's detail.",
                    best.sentence()
                ),
            );
        }
    }
    Vec::new()
}

/// The picker for a field, filled from what is loaded.
pub(super) fn open_picker(here: &mut Here, field: FormField) {
    let items: Vec<PickItem> = match field {
        FormField::App => app_items(
            here.apps.items(),
            here.screen.identity.as_ref().map(|i| &i.identity),
        ),
        FormField::Identity => {
            let app = here.screen.app.as_ref().and_then(|chosen| {
                here.apps
                    .items()
                    .iter()
                    .find(|a| a.object_id == chosen.object_id)
            });
            identity_items(here.identities.items(), app)
        }
        FormField::Tenant => {
            let app = here.screen.app.as_ref().and_then(|chosen| {
                here.apps
                    .items()
                    .iter()
                    .find(|a| a.object_id == chosen.object_id)
            });
            tenant_items(here.session, app)
        }
        FormField::Scope => {
            let mut values: Vec<(String, &str)> = here
                .recent_scopes
                .iter()
                .map(|s| (s.clone(), "recent"))
                .collect();
            let default = here.cloud().exchange_default_scope();
            for scope in std::iter::once(default.as_str()).chain(COMMON_SCOPES) {
                if !values.iter().any(|(v, _)| v == scope) {
                    values.push((scope.to_string(), "common"));
                }
            }
            if let Some(app) = &here.screen.app {
                let own = format!("api://{}/.default", app.app_id);
                if !values.iter().any(|(v, _)| *v == own) {
                    values.push((own, "the app's own API"));
                }
            }
            values
                .into_iter()
                .map(|(value, detail)| PickItem {
                    label: value.clone(),
                    detail: detail.to_string(),
                    disabled: None,
                    value,
                })
                .collect()
        }
    };
    let free_text = matches!(field, FormField::Tenant | FormField::Scope);
    if let Some(screen) = top(here) {
        screen.picker = Some(Picker {
            field: Some(field),
            input: Input::default(),
            items,
            selected: 0,
            free_text,
        });
    }
}

/// The resource tenants to choose from: the app's home tenant (the signed-in one), then the
/// other tenants this session knows, which a multitenant app (`signInAudience`
/// `AzureADMultipleOrgs`) can reach once provisioned there; a single-tenant app cannot, and
/// the picker says why instead of leaving them out.
pub fn tenant_items(
    session: Option<&crate::msg::Session>,
    app: Option<&crate::model::AppRow>,
) -> Vec<PickItem> {
    let Some(session) = session else {
        return Vec::new();
    };
    let mut items = vec![PickItem {
        label: session.tenant_id.clone(),
        detail: format!("{} (the app's home tenant)", session.tenant),
        disabled: None,
        value: session.tenant_id.clone(),
    }];
    // The signed-in tenant as the session names it ("contoso (contoso.onmicrosoft.com)").
    let home_name = session.tenant.split(" (").next().unwrap_or_default();
    let is_home = |name: &str| {
        name.eq_ignore_ascii_case(home_name)
            || name.eq_ignore_ascii_case(&session.tenant)
            || name.eq_ignore_ascii_case(&session.tenant_id)
    };
    for tenant in session.known_tenants.iter().filter(|t| !is_home(t)) {
        let (detail, disabled) = match app.map(|a| &a.audience) {
            Some(audience) if audience.is_multitenant() => (
                format!(
                    "another tenant ({}: the app can be provisioned there)",
                    audience.label()
                ),
                None,
            ),
            Some(audience) => (
                "another tenant".to_string(),
                Some(format!(
                    "the app is {}: only its home tenant issues tokens for it",
                    audience.label()
                )),
            ),
            None => ("another tenant this session knows".to_string(), None),
        };
        items.push(PickItem {
            label: tenant.clone(),
            detail,
            disabled,
            value: tenant.clone(),
        });
    }
    items
}

/// Keys while the picker or the file path input has focus.
pub fn on_raw_key(here: &mut Here, key: ratatui::crossterm::event::KeyEvent) -> Vec<Cmd> {
    let request = here.new_request();
    let keymap = here.ctx.keymap;
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    match focused_key(keymap, &mut screen.file_input, &mut screen.picker, key) {
        FocusedKey::Done => Vec::new(),
        FocusedKey::ReadFile(path) => {
            screen.file_request = request;
            vec![Cmd::Exchange(ExchangeCmd::ReadTokenFile { request, path })]
        }
        FocusedKey::Choose => {
            let Some(picker) = &screen.picker else {
                return Vec::new();
            };
            let typed = picker.input.value().trim().to_string();
            let chosen = picker.visible().get(picker.selected).map(|i| (*i).clone());
            let (field, free_text) = (picker.field, picker.free_text);
            let value = match chosen {
                Some(item) if item.disabled.is_some() => {
                    let why = item.disabled.unwrap_or_default();
                    here.toast(ToastLevel::Warning, format!("{}: {why}", item.label));
                    return Vec::new();
                }
                Some(item) => item.value,
                None if free_text && !typed.is_empty() => typed,
                _ => return Vec::new(),
            };
            screen.picker = None;
            choose(here, field, value);
            Vec::new()
        }
    }
}

pub(super) fn choose(here: &mut Here, field: Option<FormField>, value: String) {
    let value = sanitize(&value).into_owned();
    let app = here
        .apps
        .find(|a| a.object_id == value)
        .map(AppChoice::from);
    let identity = here.identities.find(|i| i.principal_id == value).cloned();
    let Some(screen) = top(here) else {
        return;
    };
    match field {
        Some(FormField::App) if app.is_some() => {
            screen.app = app;
            screen.focus = FormField::Identity;
        }
        Some(FormField::Identity) if identity.is_some() => {
            screen.identity = identity;
            screen.focus = FormField::Scope;
        }
        Some(FormField::Tenant) => screen.tenant = value,
        Some(FormField::Scope) => screen.scope = value,
        _ => {}
    }
}

fn screen_emulated(here: &mut Here) -> bool {
    top(here).is_some_and(|s| s.emulated_host)
}

/// Makes `choice` the token source: a host choice is detected afresh (its answer replaces
/// the last one, which may be another host's); a previous run's result, from another source,
/// is cleared.
pub(super) fn switch_source(here: &mut Here, choice: SourceChoice) -> Vec<Cmd> {
    let request = here.new_request();
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    screen.source_choice = choice;
    screen.run = None;
    screen.scroll = 0;
    if choice == SourceChoice::PasteOrFile {
        return Vec::new();
    }
    screen.source_request = request;
    screen.source = SourceState::Detecting;
    vec![Cmd::Exchange(ExchangeCmd::DetectSource {
        request,
        choice: choice.msi(),
    })]
}

/// Pasted text on the exchange screen: into the open input, else it becomes the assertion.
pub fn on_paste(here: &mut Here, text: &str) -> Vec<Cmd> {
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    if focused_paste(&mut screen.file_input, &mut screen.picker, text) {
        return Vec::new();
    }
    match ficus_core::jwt::decode(text) {
        Ok(_) => {
            screen.pasted = Some(PastedToken {
                label: "pasted token".into(),
                token: Secret::new(text.trim().to_string()),
            });
            screen.source_choice = SourceChoice::PasteOrFile;
            screen.run = None;
            screen.scroll = 0;
            let (run, paste) = (
                here.key(Context::Exchange, Action::RunExchange),
                here.key(Context::Exchange, Action::PasteToken),
            );
            here.toast(
                ToastLevel::Success,
                format!(
                    "Token pasted; {run} runs the exchange with it as the assertion ({paste} drops it)."
                ),
            );
        }
        Err(error) => here.toast(
            ToastLevel::Error,
            format!("That paste is not a usable token: {error}. Nothing was kept."),
        ),
    }
    Vec::new()
}
