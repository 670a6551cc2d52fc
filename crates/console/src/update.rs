//! `update(&mut State, Msg) -> Vec<Cmd>`: every change to the console's state happens here,
//! without I/O and without blocking, so every transition is a unit test.

use ficus_core::secret::Secret;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use crate::component::Outcome;
use crate::domain;
use crate::error::{DirectoryError, ErrorKind};
use crate::filter::{Listing, Load, Row};
use crate::keymap::{Action, Chord, Lookup};
use crate::model::{AppRow, IdentityKind, IdentityRow, sanitize};
use crate::msg::{Cmd, Msg, RequestId, SignInEvent};
use crate::nav::{AppChoice, ExchangeEntry, FicFix, InspectorEntry, Nav};
use crate::screens::exchange::{self, RECENT_SCOPES};
use crate::screens::inspector;
use crate::screens::wizard::{self, Given, WizardApp, WizardMsg};
use crate::state::{
    AppDetailScreen, ConfirmDelete, DetailPane, ExportScreen, IdentityDetailScreen, ListKind,
    Overlay, PaletteScreen, PaletteTarget, Phase, REST_DELAY, Rest, RestStage, RestTarget, Screen,
    SignInScreen, State, Suggestion, TextPanel, ToastLevel,
};

/// How many suggestions the palette shows.
const PALETTE_SUGGESTIONS: usize = 8;

/// How many keys typed while signing in are kept for when the list arrives.
const TYPE_AHEAD_LIMIT: usize = 64;

pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    let before = rest_target(state);
    let mut cmds = transition(state, msg);
    // Wherever this message moved the cursor (keys, filter, sort, a first page, back from a
    // detail), the row it now rests on gets its one-shot delay.
    let after = rest_target(state);
    if before != after || state.rest.is_none() {
        cmds.extend(sync_rest(state, after));
    }
    cmds
}

fn transition(state: &mut State, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Release => Vec::new(),
        Msg::Key(key) => on_key(state, key),
        Msg::Paste(text) => on_paste(state, &text),
        Msg::Resize(width, height) => {
            state.size = (width, height);
            Vec::new()
        }
        Msg::Tick(now) => {
            state.now = now;
            Vec::new()
        }
        Msg::Terminate => {
            state.quit = true;
            vec![Cmd::Quit]
        }
        Msg::AppsPage {
            request,
            mut rows,
            page,
            done,
        } => {
            if request != state.apps.request {
                return Vec::new();
            }
            rows.iter_mut().for_each(AppRow::sanitize);
            state.apps.extend(rows, state.now);
            state.apps.load = if done {
                Load::Done
            } else {
                Load::Loading { pages: page }
            };
            replay_typed_ahead(state)
        }
        Msg::AppsFailed { request, error } => {
            if request != state.apps.request {
                return Vec::new();
            }
            let error = sanitize(&error).into_owned();
            state.toast(ToastLevel::Error, format!("{error} — press r to retry"));
            state.apps.load = Load::Failed(error);
            replay_typed_ahead(state)
        }
        Msg::IdentitiesPage {
            request,
            mut rows,
            page,
            done,
        } => {
            if request != state.identities.request {
                return Vec::new();
            }
            rows.iter_mut().for_each(IdentityRow::sanitize);
            state.identities.extend(rows, state.now);
            state.identities.load = if done {
                Load::Done
            } else {
                Load::Loading { pages: page }
            };
            Vec::new()
        }
        Msg::IdentitiesFailed { request, error } => {
            if request == state.identities.request {
                let error = sanitize(&error).into_owned();
                state.toast(ToastLevel::Error, format!("{error} — press r to retry"));
                state.identities.load = Load::Failed(error);
            }
            Vec::new()
        }
        Msg::AppDetailLoaded {
            request,
            mut result,
        } => {
            let for_preview = is_rest_fetch(state, request);
            let for_screen = state
                .stack
                .iter()
                .any(|s| matches!(s, Screen::AppDetail(s) if s.request == request));
            if !for_preview && !for_screen {
                return Vec::new();
            }
            if let Ok(detail) = &mut result {
                detail.sanitize();
                state.details.put_app((**detail).clone());
            }
            if for_preview {
                finish_rest_fetch(state, result.as_ref().map(|_| ()));
            }
            for screen in &mut state.stack {
                if let Screen::AppDetail(screen) = screen
                    && screen.request == request
                {
                    match result {
                        Ok(detail) => {
                            screen.fic_cursor =
                                screen.fic_cursor.min(detail.fics.len().saturating_sub(1));
                            screen.credential_cursor = screen
                                .credential_cursor
                                .min(detail.app.credentials.len().saturating_sub(1));
                            screen.detail = Some(*detail);
                            screen.error = None;
                        }
                        Err(error) => screen.error = Some(sanitize(&error.message).into_owned()),
                    }
                    break;
                }
            }
            Vec::new()
        }
        Msg::IdentityDetailLoaded {
            request,
            mut result,
        } => {
            let for_preview = is_rest_fetch(state, request);
            let for_screen = state
                .stack
                .iter()
                .any(|s| matches!(s, Screen::IdentityDetail(s) if s.request == request));
            if !for_preview && !for_screen {
                return Vec::new();
            }
            if let Ok(detail) = &mut result {
                detail.sanitize();
                state.details.put_identity((**detail).clone());
            }
            if for_preview {
                finish_rest_fetch(state, result.as_ref().map(|_| ()));
            }
            for screen in &mut state.stack {
                if let Screen::IdentityDetail(screen) = screen
                    && screen.request == request
                {
                    match result {
                        Ok(detail) => {
                            screen.cursor =
                                screen.cursor.min(detail.trusted_by.len().saturating_sub(1));
                            screen.detail = Some(*detail);
                            screen.error = None;
                        }
                        Err(error) => screen.error = Some(sanitize(&error.message).into_owned()),
                    }
                    break;
                }
            }
            Vec::new()
        }
        Msg::FicDeleted { request, result } => on_fic_deleted(state, request, result),
        Msg::SignIn(event) => on_sign_in(state, event),
        Msg::SwitchRefused(reason) => {
            if matches!(state.phase, Phase::SigningIn(_)) && state.session.is_some() {
                state.phase = Phase::Console;
            }
            // The keys typed while waiting apply to the lists that stay.
            let cmds = if matches!(state.phase, Phase::Console) {
                replay_typed_ahead(state)
            } else {
                Vec::new()
            };
            state.toast(ToastLevel::Warning, sanitize(&reason).into_owned());
            cmds
        }
        Msg::Rested { request } => on_rested(state, request),
        Msg::EffectPanicked(error) => {
            state.toast(ToastLevel::Error, sanitize(&error).into_owned());
            Vec::new()
        }
        Msg::ThemeSaved(result) => {
            let name = state.theme.name.clone();
            match result {
                Ok(path) => state.toast(
                    ToastLevel::Info,
                    format!("Theme: {name} (saved in {})", sanitize(&path)),
                ),
                Err(reason) => state.toast(
                    ToastLevel::Warning,
                    format!(
                        "Theme: {name} for this session only: {}; set theme = \"{name}\" in config.toml to keep it",
                        sanitize(&reason)
                    ),
                ),
            }
            Vec::new()
        }
        Msg::WhoisAnswered {
            request,
            guid,
            result,
        } => on_whois(state, request, &guid, result),
        Msg::Wizard(msg) => {
            if matches!(&msg, WizardMsg::Saved { result: Ok(_), .. }) {
                // A FIC was created or changed: what the previews and Enter knew is old.
                forget_details(state);
            }
            let (top, ctx) = state.split();
            let outcome = match top {
                Some(Screen::Wizard(wizard)) => wizard.on_msg(msg, &ctx),
                _ => return Vec::new(),
            };
            apply(state, outcome)
        }
        Msg::Exchange(msg) => {
            let (top, ctx) = state.split();
            let outcome = match top {
                Some(Screen::Exchange(screen)) => screen.on_msg(msg, &ctx),
                Some(Screen::Inspector(screen)) => screen.on_msg(msg, &ctx),
                _ => return Vec::new(),
            };
            apply(state, outcome)
        }
        Msg::OpenExchange(entry) => navigate(state, Nav::OpenExchange(entry)),
        Msg::EditFic(fix) => navigate(state, Nav::EditFic(fix)),
    }
}

/// The first commands of a signed-in console: load both lists.
pub fn start_console(state: &mut State) -> Vec<Cmd> {
    state.phase = Phase::Console;
    forget_details(state);
    let apps = state.new_request();
    state.apps.request = apps;
    state.apps.clear();
    state.apps.load = Load::Loading { pages: 0 };
    let identities = state.new_request();
    state.identities.request = identities;
    state.identities.clear();
    state.identities.load = Load::Loading { pages: 0 };
    vec![
        Cmd::LoadApps { request: apps },
        Cmd::LoadIdentities {
            request: identities,
        },
    ]
}

fn on_sign_in(state: &mut State, event: SignInEvent) -> Vec<Cmd> {
    match event {
        SignInEvent::Code {
            verification_uri,
            user_code,
            expires_at,
        } => {
            if let Phase::SigningIn(screen) = &mut state.phase {
                screen.verification_uri = Some(sanitize(&verification_uri).into_owned());
                screen.user_code = Some(sanitize(&user_code).into_owned());
                screen.expires_at = Some(expires_at);
                screen.failure = None;
            }
            Vec::new()
        }
        SignInEvent::Done(mut session) => {
            for field in [
                &mut session.tenant,
                &mut session.tenant_id,
                &mut session.user,
                &mut session.cloud,
            ] {
                *field = sanitize(field).into_owned();
            }
            // The header names the user; the footer keeps its hints for a first look.
            state.session = Some(*session);
            start_console(state)
        }
        SignInEvent::Failed(failure) => {
            if let Phase::SigningIn(screen) = &mut state.phase {
                screen.failure = Some(failure);
            }
            // The failure needs reading first; keys typed before it would act on nothing.
            state.typed_ahead.clear();
            Vec::new()
        }
    }
}

fn on_fic_deleted(state: &mut State, request: u64, result: Result<(), DirectoryError>) -> Vec<Cmd> {
    let Some(Screen::AppDetail(screen)) = state.stack.last_mut() else {
        return Vec::new();
    };
    if screen.request != request {
        return Vec::new();
    }
    match result {
        Ok(()) => {
            let counted = screen
                .detail
                .as_ref()
                .map(|d| (d.app.object_id.clone(), d.fics.len().saturating_sub(1)));
            if let Some((object_id, count)) = counted {
                set_fic_count(state, &object_id, count);
            }
            forget_details(state);
            let reload = state.new_request();
            let Some(Screen::AppDetail(screen)) = state.stack.last_mut() else {
                return Vec::new();
            };
            screen.request = reload;
            let object_id = screen.object_id.clone();
            state.toast(
                ToastLevel::Success,
                "FIC deleted. A workload still using it now fails with AADSTS70021; give it another FIC (a) first.",
            );
            vec![Cmd::LoadAppDetail {
                request: reload,
                object_id,
            }]
        }
        // Already gone (deleted elsewhere): what the screen shows is old; read it again.
        Err(error) if error.kind == ErrorKind::NotFound => {
            state.toast(
                ToastLevel::Info,
                "This FIC was already gone (deleted elsewhere); reading the app again.",
            );
            reload_top(state)
        }
        Err(error) => {
            state.toast(
                ToastLevel::Error,
                format!(
                    "Delete failed: {} — nothing changed; press D to try again",
                    sanitize(&error.message)
                ),
            );
            Vec::new()
        }
    }
}

/// The one key dispatch: overlays, typing ahead and the filter first; then the screen on
/// top gets keys for its focused input; then the keymap of the screen's context turns the key
/// into an action for the screen (or the console, when the screen ignores it).
fn on_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    state.toast = None;
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    // The wizard asks before Ctrl-C loses typed values.
    let asks_first =
        state.overlay.is_none() && matches!(state.stack.last(), Some(Screen::Wizard(_)));
    if ctrl_c && !asks_first {
        state.quit = true;
        return vec![Cmd::Quit];
    }
    if state.overlay.is_some() {
        return on_overlay_key(state, key);
    }
    if type_ahead(state, &key) {
        return Vec::new();
    }
    if state.editing_filter {
        return on_filter_key(state, key);
    }
    let (top, ctx) = state.split();
    if let Some(component) = top.and_then(Screen::component)
        && let Some(outcome) = component.on_key(key, &ctx)
    {
        state.pending.clear();
        return apply(state, outcome);
    }
    let chord = Chord::from_event(&key);
    let context = state.context();
    let pending = std::mem::take(&mut state.pending);
    match state.keymap.lookup(context, &pending, chord) {
        Lookup::Action(action) => perform(state, action),
        Lookup::Pending => {
            state.pending = pending;
            state.pending.push(chord);
            Vec::new()
        }
        Lookup::Unbound if !pending.is_empty() => {
            // A broken sequence: try the key on its own.
            on_key(state, key)
        }
        Lookup::Unbound => {
            let (top, ctx) = state.split();
            match top.and_then(Screen::component) {
                Some(component) => {
                    let outcome = component.on_unbound(key, &ctx);
                    apply(state, outcome)
                }
                None => Vec::new(),
            }
        }
    }
}

/// What a screen answered: its commands, its toast, and its navigation intent, which only
/// this function (through [`navigate`]) applies to the screen stack.
fn apply(state: &mut State, outcome: Outcome) -> Vec<Cmd> {
    let Outcome {
        mut cmds,
        toast,
        nav,
        remember_scope,
        fic_count,
        ignored: _,
    } = outcome;
    if let Some((object_id, count)) = fic_count {
        set_fic_count(state, &object_id, count);
    }
    if let Some(toast) = toast {
        state.toast = Some(toast);
    }
    if let Some(scope) = remember_scope {
        let memory = &mut state.exchange_memory.recent_scopes;
        memory.retain(|s| *s != scope);
        memory.insert(0, scope);
        memory.truncate(RECENT_SCOPES);
    }
    if let Some(nav) = nav {
        cmds.extend(navigate(state, nav));
    }
    cmds
}

/// A FIC was created or deleted: the Apps list's row (and what its `fic:` facet sees) says
/// so at once.
fn set_fic_count(state: &mut State, object_id: &str, count: usize) {
    let now = state.now;
    state.apps.update_where(
        |a| a.object_id == object_id,
        |a| a.fic_count = Some(count),
        now,
    );
}

/// Applies a navigation intent: the only place the screen stack changes for the screens.
fn navigate(state: &mut State, nav: Nav) -> Vec<Cmd> {
    match nav {
        Nav::Pop => {
            state.stack.pop();
            Vec::new()
        }
        Nav::PopAndReload => {
            state.stack.pop();
            reload_top(state)
        }
        Nav::OpenExchange(entry) => {
            let (screen, outcome) = exchange::open(&state.ctx(), *entry);
            push(state, Screen::Exchange(Box::new(screen)));
            apply(state, outcome)
        }
        Nav::EditFic(fix) => open_correction(state, *fix),
        Nav::AddFic(add) => {
            let row = state
                .apps
                .find(|a| a.object_id == add.app.object_id)
                .cloned()
                .unwrap_or_else(|| add.app.to_row());
            let given = Given::App(row, None);
            let (wizard, outcome) = wizard::start(&state.ctx(), given);
            let mut cmds = Vec::new();
            if let Some(mut wizard) = wizard {
                if let Some(identity) = add.identity {
                    wizard.preselect_identity(identity);
                }
                push(state, Screen::Wizard(Box::new(wizard)));
            }
            cmds.extend(apply(state, outcome));
            cmds
        }
        Nav::OpenInspector(entry) => {
            push(state, Screen::Inspector(Box::new(inspector::open(*entry))));
            Vec::new()
        }
        Nav::Help => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Nav::Quit => {
            state.quit = true;
            vec![Cmd::Quit]
        }
    }
}

fn push(state: &mut State, screen: Screen) {
    state.overlay = None;
    state.editing_filter = false;
    state.stack.push(screen);
}

/// After a FIC was written from a screen above: the detail now on top reads its data again.
fn reload_top(state: &mut State) -> Vec<Cmd> {
    let request = state.new_request();
    match state.stack.last_mut() {
        Some(Screen::AppDetail(screen)) => {
            screen.request = request;
            vec![Cmd::LoadAppDetail {
                request,
                object_id: screen.object_id.clone(),
            }]
        }
        Some(Screen::IdentityDetail(screen)) => {
            screen.request = request;
            vec![Cmd::LoadIdentityDetail {
                request,
                identity: Box::new(screen.identity.clone()),
            }]
        }
        _ => Vec::new(),
    }
}

/// A FIC in the wizard with one field corrected (the exchange's `F`).
fn open_correction(state: &mut State, fix: FicFix) -> Vec<Cmd> {
    let known = state.stack.iter().rev().find_map(|screen| match screen {
        Screen::AppDetail(s) if s.object_id == fix.app.object_id => {
            s.detail.as_ref().map(|d| WizardApp {
                row: d.app.clone(),
                fics: Some(d.fics.iter().map(|f| f.fic.clone()).collect()),
            })
        }
        _ => None,
    });
    let (wizard, outcome) = wizard::open_correction(&state.ctx(), fix, known);
    if let Some(wizard) = wizard {
        push(state, Screen::Wizard(Box::new(wizard)));
    }
    apply(state, outcome)
}

/// `a` on an app or an identity (list or detail): the wizard with that side chosen.
fn add_fic(state: &mut State) -> Vec<Cmd> {
    let given = match state.stack.last() {
        Some(Screen::AppDetail(screen)) => match &screen.detail {
            Some(detail) => Given::App(
                detail.app.clone(),
                Some(detail.fics.iter().map(|f| f.fic.clone()).collect()),
            ),
            None => {
                state.toast(
                    ToastLevel::Info,
                    "The app is still loading; press a again in a moment.",
                );
                return Vec::new();
            }
        },
        Some(Screen::IdentityDetail(screen)) => Given::Identity(screen.identity.clone()),
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => return Vec::new(),
        None => match state.list {
            ListKind::Apps => match state.apps.selected() {
                Some(app) => Given::App(app.clone(), None),
                None => return Vec::new(),
            },
            ListKind::Identities => match state.identities.selected() {
                Some(identity) => Given::Identity(identity.clone()),
                None => return Vec::new(),
            },
        },
    };
    let (wizard, outcome) = wizard::start(&state.ctx(), given);
    if let Some(wizard) = wizard {
        push(state, Screen::Wizard(Box::new(wizard)));
    }
    apply(state, outcome)
}

/// `c` (or `f`, `apply_fix`) on a FIC in App detail: that FIC in the wizard.
fn edit_selected_fic(state: &mut State, apply_fix: bool) -> Vec<Cmd> {
    let Some(Screen::AppDetail(screen)) = state.stack.last() else {
        return Vec::new();
    };
    let Some(detail) = &screen.detail else {
        state.toast(
            ToastLevel::Info,
            "The app is still loading; try again in a moment.",
        );
        return Vec::new();
    };
    let Some(row) = detail.fics.get(screen.fic_cursor) else {
        state.toast(
            ToastLevel::Info,
            "This app has no FIC to change; a adds one.",
        );
        return Vec::new();
    };
    let original = row.fic.clone();
    let app = WizardApp {
        row: detail.app.clone(),
        fics: Some(detail.fics.iter().map(|f| f.fic.clone()).collect()),
    };
    let (wizard, outcome) = wizard::edit(&state.ctx(), app, original, apply_fix);
    if let Some(wizard) = wizard {
        push(state, Screen::Wizard(Box::new(wizard)));
    }
    apply(state, outcome)
}

/// The inspector on `text`, matched against the app of the detail below when there is one.
fn open_inspector(state: &mut State, text: &str) -> Vec<Cmd> {
    let (app, fics) = match state.stack.last() {
        Some(Screen::AppDetail(screen)) => match &screen.detail {
            Some(detail) => (
                Some(AppChoice::from(&detail.app)),
                detail.fics.iter().map(|f| f.fic.clone()).collect(),
            ),
            None => (None, Vec::new()),
        },
        _ => (None, Vec::new()),
    };
    let token = (!text.trim().is_empty()).then(|| Secret::new(text.to_string()));
    navigate(
        state,
        Nav::OpenInspector(Box::new(InspectorEntry { token, app, fics })),
    )
}

fn perform(state: &mut State, action: Action) -> Vec<Cmd> {
    // The screen on top answers first; what it ignores is the console's.
    let (top, ctx) = state.split();
    if let Some(component) = top.and_then(Screen::component) {
        let outcome = component.on_action(action, &ctx);
        if !outcome.ignored {
            return apply(state, outcome);
        }
    }
    let half_page = (state.list_height() / 2).max(1) as isize;
    match action {
        Action::Quit => {
            state.quit = true;
            vec![Cmd::Quit]
        }
        Action::Help => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Action::Palette => {
            open_palette(state, "");
            Vec::new()
        }
        Action::Back => go_back(state),
        Action::ShowApps => show_list(state, ListKind::Apps),
        Action::ShowIdentities => show_list(state, ListKind::Identities),
        Action::CycleTheme => {
            if let Some(next) = state.themes.next_after(&state.theme.name).cloned() {
                state.toast(
                    ToastLevel::Info,
                    format!("Theme: {} (t for the next one)", next.name),
                );
                state.theme = next;
            }
            Vec::new()
        }
        Action::Up => move_cursor(state, -1),
        Action::Down => move_cursor(state, 1),
        Action::HalfPageUp => move_cursor(state, -half_page),
        Action::HalfPageDown => move_cursor(state, half_page),
        Action::Top => move_cursor(state, isize::MIN / 2),
        Action::Bottom => move_cursor(state, isize::MAX / 2),
        Action::Filter => {
            // `/` starts a new filter, as a new search in less or vim.
            if matches!(state.phase, Phase::Console) && state.stack.is_empty() {
                set_filter(state, String::new());
                state.editing_filter = true;
            }
            Vec::new()
        }
        Action::NextPane => match state.stack.last_mut() {
            None => {
                let other = match state.list {
                    ListKind::Apps => ListKind::Identities,
                    ListKind::Identities => ListKind::Apps,
                };
                show_list(state, other)
            }
            Some(Screen::AppDetail(screen)) => {
                screen.pane = match screen.pane {
                    DetailPane::Fics => DetailPane::Credentials,
                    DetailPane::Credentials => DetailPane::Fics,
                };
                Vec::new()
            }
            Some(
                Screen::IdentityDetail(_)
                | Screen::Wizard(_)
                | Screen::Exchange(_)
                | Screen::Inspector(_),
            ) => Vec::new(),
        },
        Action::Sort => {
            let now = state.now;
            match state.list {
                ListKind::Apps => cycle_sort(&mut state.apps, now),
                ListKind::Identities => cycle_sort(&mut state.identities, now),
            }
            let (listing_sort, columns) = match state.list {
                ListKind::Apps => (state.apps.sort(), AppRow::columns()),
                ListKind::Identities => (state.identities.sort(), IdentityRow::columns()),
            };
            if let Some((column, descending)) = listing_sort {
                let direction = if descending {
                    "descending"
                } else {
                    "ascending"
                };
                state.toast(
                    ToastLevel::Info,
                    format!(
                        "Sorted by {} ({direction}); s again for the next column",
                        columns[column]
                    ),
                );
            }
            Vec::new()
        }
        Action::Open => open_selected(state),
        Action::Refresh => refresh(state),
        Action::Copy => copy(state, false),
        Action::CopyId => copy(state, true),
        Action::DeleteFic => ask_delete(state),
        Action::Export => export(state),
        Action::AddFic => add_fic(state),
        Action::EditFic => edit_selected_fic(state, false),
        Action::FixFic => edit_selected_fic(state, true),
        // The wizard dispatches its own keys (wizard::on_key).
        Action::EditField | Action::ApplyFix | Action::AcknowledgeWarnings => Vec::new(),
        Action::TestExchange => test_exchange(state),
        // Bound only on the exchange and inspector screens, which handled them above.
        Action::RunExchange
        | Action::Reveal
        | Action::PasteToken
        | Action::TokenFromFile
        | Action::FixInWizard
        | Action::Inspect
        | Action::VerifySignature
        | Action::PickApp => Vec::new(),
    }
}

/// `x`: the live test exchange for what is selected — an app (with the selected FIC's
/// identity), an identity (with the selected trusting app), or the list's row.
fn test_exchange(state: &mut State) -> Vec<Cmd> {
    let mut entry = ExchangeEntry::default();
    match state.stack.last() {
        None => match state.list {
            ListKind::Apps => entry.app = state.apps.selected().map(AppChoice::from),
            ListKind::Identities => entry.identity = state.identities.selected().cloned(),
        },
        Some(Screen::AppDetail(screen)) => {
            if let Some(detail) = &screen.detail {
                entry.app = Some(AppChoice::from(&detail.app));
                let subject = detail
                    .fics
                    .get(screen.fic_cursor)
                    .map(|f| f.fic.subject.clone());
                entry.identity =
                    subject.and_then(|s| exchange::identity_for_subject(&state.ctx(), &s));
            } else {
                // The detail is still loading: the list's row knows the app id.
                entry.app = state
                    .apps
                    .find(|a| a.object_id == screen.object_id)
                    .map(AppChoice::from);
            }
        }
        Some(Screen::IdentityDetail(screen)) => {
            entry.identity = Some(screen.identity.clone());
            let trust = screen
                .detail
                .as_ref()
                .and_then(|d| d.trusted_by.get(screen.cursor));
            entry.app = trust.map(|t| AppChoice {
                object_id: t.app_object_id.clone(),
                app_id: t.app_id.clone(),
                name: t.app_name.clone(),
            });
        }
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => return Vec::new(),
    }
    navigate(state, Nav::OpenExchange(Box::new(entry)))
}

fn cycle_sort<T: Row>(listing: &mut Listing<T>, now: time::OffsetDateTime) {
    // s: next column ascending; on the last column's second press, back to the first.
    let columns = T::columns().len();
    let column = match listing.sort() {
        None => 0,
        Some((column, false)) => column,
        Some((column, true)) => (column + 1) % columns,
    };
    listing.sort_by(column, now);
}

fn show_list(state: &mut State, list: ListKind) -> Vec<Cmd> {
    state.stack.clear();
    state.list = list;
    state.editing_filter = false;
    Vec::new()
}

fn go_back(state: &mut State) -> Vec<Cmd> {
    if state.stack.pop().is_some() {
        return Vec::new();
    }
    let has_filter = match state.list {
        ListKind::Apps => !state.apps_filter.value().is_empty(),
        ListKind::Identities => !state.identities_filter.value().is_empty(),
    };
    if has_filter {
        set_filter(state, String::new());
    }
    Vec::new()
}

fn move_cursor(state: &mut State, delta: isize) -> Vec<Cmd> {
    match state.stack.last_mut() {
        None => match state.list {
            ListKind::Apps => state.apps.move_cursor(delta),
            ListKind::Identities => state.identities.move_cursor(delta),
        },
        Some(Screen::AppDetail(screen)) => {
            let Some(detail) = &screen.detail else {
                return Vec::new();
            };
            let (cursor, len) = match screen.pane {
                DetailPane::Fics => (&mut screen.fic_cursor, detail.fics.len()),
                DetailPane::Credentials => {
                    (&mut screen.credential_cursor, detail.app.credentials.len())
                }
            };
            *cursor = cursor
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
        Some(Screen::IdentityDetail(screen)) => {
            let len = screen.detail.as_ref().map_or(0, |d| d.trusted_by.len());
            screen.cursor = screen
                .cursor
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => {}
    }
    Vec::new()
}

fn open_selected(state: &mut State) -> Vec<Cmd> {
    if let Phase::SigningIn(screen) = &mut state.phase {
        if screen.failure.is_some() {
            *screen = SignInScreen {
                status: Some("Signing in again…".into()),
                ..SignInScreen::default()
            };
            return vec![Cmd::StartSignIn];
        }
        return Vec::new();
    }
    match state.stack.last() {
        None => match state.list {
            ListKind::Apps => match state.apps.selected().cloned() {
                Some(app) => open_app(state, &app.object_id, &app.name),
                None => Vec::new(),
            },
            ListKind::Identities => match state.identities.selected().cloned() {
                Some(identity) => open_identity(state, identity),
                None => Vec::new(),
            },
        },
        Some(Screen::IdentityDetail(screen)) => {
            let trust = screen
                .detail
                .as_ref()
                .and_then(|d| d.trusted_by.get(screen.cursor))
                .map(|t| (t.app_object_id.clone(), t.app_name.clone()));
            match trust {
                Some((object_id, name)) => open_app(state, &object_id, &name),
                None => Vec::new(),
            }
        }
        Some(
            Screen::AppDetail(_) | Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_),
        ) => Vec::new(),
    }
}

/// Opens an app's detail: at once from the details fetched while the cursor rested on it,
/// else loading.
pub fn open_app(state: &mut State, object_id: &str, name: &str) -> Vec<Cmd> {
    let request = state.new_request();
    state.editing_filter = false;
    let cached = state.details.apps.get(object_id).cloned();
    let load = cached.is_none();
    state
        .stack
        .push(Screen::AppDetail(Box::new(AppDetailScreen {
            object_id: object_id.to_string(),
            name: name.to_string(),
            request,
            detail: cached,
            error: None,
            pane: DetailPane::Fics,
            fic_cursor: 0,
            credential_cursor: 0,
        })));
    if !load {
        return Vec::new();
    }
    vec![Cmd::LoadAppDetail {
        request,
        object_id: object_id.to_string(),
    }]
}

pub fn open_identity(state: &mut State, identity: IdentityRow) -> Vec<Cmd> {
    let request = state.new_request();
    state.editing_filter = false;
    let cached = state
        .details
        .identities
        .get(&identity.principal_id)
        .cloned();
    let load = cached.is_none();
    state
        .stack
        .push(Screen::IdentityDetail(Box::new(IdentityDetailScreen {
            identity: identity.clone(),
            request,
            detail: cached,
            error: None,
            cursor: 0,
        })));
    if !load {
        return Vec::new();
    }
    vec![Cmd::LoadIdentityDetail {
        request,
        identity: Box::new(identity),
    }]
}

/// The list row the cursor is on, when a list is what the admin sees.
fn rest_target(state: &State) -> Option<RestTarget> {
    if !matches!(state.phase, Phase::Console) || !state.stack.is_empty() {
        return None;
    }
    match state.list {
        ListKind::Apps => state
            .apps
            .selected()
            .map(|app| RestTarget::App(app.object_id.clone())),
        ListKind::Identities => state
            .identities
            .selected()
            .map(|identity| RestTarget::Identity(identity.principal_id.clone())),
    }
}

fn is_cached(state: &State, target: &RestTarget) -> bool {
    match target {
        RestTarget::App(object_id) => state.details.apps.contains_key(object_id),
        RestTarget::Identity(principal_id) => state.details.identities.contains_key(principal_id),
    }
}

/// When the cursor is on another row than the one resting, start that row's one-shot delay
/// (unless its details are known). Pages streaming in do not move it.
fn sync_rest(state: &mut State, target: Option<RestTarget>) -> Option<Cmd> {
    let Some(target) = target else {
        state.rest = None;
        return None;
    };
    if state
        .rest
        .as_ref()
        .is_some_and(|rest| rest.target == target)
    {
        return None;
    }
    let request = state.new_request();
    let cached = is_cached(state, &target);
    state.rest = Some(Rest {
        target,
        request,
        stage: if cached {
            RestStage::Done
        } else {
            RestStage::Waiting
        },
    });
    (!cached).then_some(Cmd::Rest {
        request,
        after: REST_DELAY,
    })
}

/// The delay ran out: if it is still the current one (the cursor did not move since), fetch
/// the row's details.
fn on_rested(state: &mut State, request: RequestId) -> Vec<Cmd> {
    let target = match &state.rest {
        Some(rest) if rest.request == request && rest.stage == RestStage::Waiting => {
            rest.target.clone()
        }
        _ => return Vec::new(),
    };
    let fetch = state.new_request();
    let cmd = match &target {
        RestTarget::App(object_id) => Cmd::LoadAppDetail {
            request: fetch,
            object_id: object_id.clone(),
        },
        RestTarget::Identity(principal_id) => {
            match state.identities.find(|i| &i.principal_id == principal_id) {
                Some(identity) => Cmd::LoadIdentityDetail {
                    request: fetch,
                    identity: Box::new(identity.clone()),
                },
                None => return Vec::new(),
            }
        }
    };
    if let Some(rest) = &mut state.rest {
        rest.request = fetch;
        rest.stage = RestStage::Fetching;
    }
    vec![cmd]
}

fn is_rest_fetch(state: &State, request: RequestId) -> bool {
    state
        .rest
        .as_ref()
        .is_some_and(|rest| rest.request == request && rest.stage == RestStage::Fetching)
}

fn finish_rest_fetch(state: &mut State, result: Result<(), &DirectoryError>) {
    if let Some(rest) = &mut state.rest {
        rest.stage = match result {
            Ok(()) => RestStage::Done,
            Err(error) => RestStage::Failed(sanitize(&error.message).into_owned()),
        };
    }
}

/// Drops every fetched detail (a refresh, a FIC written, another tenant); the row the cursor
/// rests on is fetched again after its delay.
fn forget_details(state: &mut State) {
    state.details.clear();
    state.rest = None;
}

/// While signing in, keys the sign-in screen does not use (and everything after the first of
/// them, so `/pay` stays text) are kept for the list; so is every key after them until they
/// are applied, so the order holds. True when the key was kept.
fn type_ahead(state: &mut State, key: &KeyEvent) -> bool {
    if state.typed_ahead.is_empty() {
        if !matches!(state.phase, Phase::SigningIn(_)) {
            return false;
        }
        let chord = Chord::from_event(key);
        let unbound = state.pending.is_empty()
            && matches!(
                state.keymap.lookup(state.context(), &[], chord),
                Lookup::Unbound
            );
        if !unbound {
            return false;
        }
    }
    if state.typed_ahead.len() < TYPE_AHEAD_LIMIT {
        state.typed_ahead.push(Msg::Key(*key));
    }
    toast_typed_ahead(state);
    true
}

fn toast_typed_ahead(state: &mut State) {
    let mut shown = String::new();
    for msg in &state.typed_ahead {
        match msg {
            Msg::Key(key) => match key.code {
                KeyCode::Char(c) => shown.push(c),
                KeyCode::Enter => shown.push('⏎'),
                KeyCode::Backspace => shown.push('⌫'),
                KeyCode::Esc => shown.push('⎋'),
                KeyCode::Tab => shown.push('⇥'),
                _ => shown.push('·'),
            },
            Msg::Paste(text) => shown.push_str(&sanitize(text)),
            _ => {}
        }
    }
    let tail: String = {
        let chars: Vec<char> = shown.chars().collect();
        let start = chars.len().saturating_sub(32);
        chars[start..].iter().collect()
    };
    state.toast(
        ToastLevel::Info,
        format!("Typed ahead: {tail} (applied when the list arrives)"),
    );
}

/// Applies what was typed while signing in, now that the list exists.
fn replay_typed_ahead(state: &mut State) -> Vec<Cmd> {
    if state.typed_ahead.is_empty() || !matches!(state.phase, Phase::Console) {
        return Vec::new();
    }
    let typed = std::mem::take(&mut state.typed_ahead);
    state.toast = None;
    let mut cmds = Vec::new();
    for msg in typed {
        cmds.extend(transition(state, msg));
    }
    cmds
}

fn refresh(state: &mut State) -> Vec<Cmd> {
    match state.stack.last() {
        None => {
            forget_details(state);
            let request = state.new_request();
            let listing_load = Load::Loading { pages: 0 };
            state.toast(ToastLevel::Info, "Reloading from the directory…");
            match state.list {
                ListKind::Apps => {
                    state.apps.request = request;
                    state.apps.clear();
                    state.apps.load = listing_load;
                    vec![Cmd::LoadApps { request }]
                }
                ListKind::Identities => {
                    state.identities.request = request;
                    state.identities.clear();
                    state.identities.load = listing_load;
                    vec![Cmd::LoadIdentities { request }]
                }
            }
        }
        Some(Screen::AppDetail(_)) => {
            let request = state.new_request();
            let Some(Screen::AppDetail(screen)) = state.stack.last_mut() else {
                return Vec::new();
            };
            screen.request = request;
            screen.error = None;
            vec![Cmd::LoadAppDetail {
                request,
                object_id: screen.object_id.clone(),
            }]
        }
        Some(Screen::IdentityDetail(_)) => {
            let request = state.new_request();
            let Some(Screen::IdentityDetail(screen)) = state.stack.last_mut() else {
                return Vec::new();
            };
            screen.request = request;
            screen.error = None;
            vec![Cmd::LoadIdentityDetail {
                request,
                identity: Box::new(screen.identity.clone()),
            }]
        }
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => Vec::new(),
    }
}

fn copy(state: &mut State, id: bool) -> Vec<Cmd> {
    let picked: Option<(&'static str, String)> = match (&state.phase, state.stack.last()) {
        (Phase::SigningIn(screen), _) => screen.user_code.clone().map(|code| ("the code", code)),
        (_, None) => match state.list {
            ListKind::Apps => state.apps.selected().map(|app| {
                if id {
                    ("the app id", app.app_id.clone())
                } else {
                    ("the name", app.name.clone())
                }
            }),
            ListKind::Identities => state.identities.selected().map(|identity| {
                if id {
                    ("the client id", identity.client_id.clone())
                } else {
                    ("the name", identity.name.clone())
                }
            }),
        },
        (_, Some(Screen::AppDetail(screen))) => match (&screen.detail, id) {
            (Some(detail), true) => Some(("the app id", detail.app.app_id.clone())),
            (Some(detail), false) => match screen.pane {
                DetailPane::Fics => detail
                    .fics
                    .get(screen.fic_cursor)
                    .map(|f| ("the FIC's subject", f.fic.subject.clone())),
                DetailPane::Credentials => detail
                    .app
                    .credentials
                    .get(screen.credential_cursor)
                    .map(|c| ("the credential's key id", c.key_id.clone())),
            },
            (None, _) => None,
        },
        (_, Some(Screen::IdentityDetail(screen))) => Some(if id {
            ("the client id", screen.identity.client_id.clone())
        } else {
            ("the principal id", screen.identity.principal_id.clone())
        }),
        (_, Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_))) => None,
    };
    match picked {
        Some((what, text)) => {
            state.toast(
                ToastLevel::Success,
                format!("Copied {what} (OSC 52: if nothing arrives, enable clipboard access in your terminal)"),
            );
            vec![Cmd::Copy(text)]
        }
        None => Vec::new(),
    }
}

fn selected_fic(state: &State) -> Option<(&AppDetailScreen, &crate::model::FicRow)> {
    match state.stack.last() {
        Some(Screen::AppDetail(screen)) if screen.pane == DetailPane::Fics => {
            let detail = screen.detail.as_ref()?;
            detail
                .fics
                .get(screen.fic_cursor)
                .map(|fic| (&**screen, fic))
        }
        _ => None,
    }
}

fn ask_delete(state: &mut State) -> Vec<Cmd> {
    if state.read_only() {
        state.toast(
            ToastLevel::Warning,
            "Read-only session: nothing can be deleted. Start ficus without --read-only to make changes.",
        );
        return Vec::new();
    }
    let graph = state
        .session
        .as_ref()
        .map(|s| s.graph_base.clone())
        .unwrap_or_default();
    let confirm = match selected_fic(state) {
        Some((screen, fic)) => match &fic.fic.id {
            Some(fic_id) => ConfirmDelete {
                app_object_id: screen.object_id.clone(),
                app_name: screen
                    .detail
                    .as_ref()
                    .map_or(screen.name.clone(), |d| d.app.name.clone()),
                fic_id: fic_id.clone(),
                fic_name: fic.fic.name.clone(),
                request_line: format!(
                    "DELETE {graph}/applications/{}/federatedIdentityCredentials/{fic_id}",
                    screen.object_id
                ),
            },
            None => return Vec::new(),
        },
        None => {
            state.toast(
                ToastLevel::Info,
                "Select a FIC first (Tab to the FIC list, j/k to pick one), then D.",
            );
            return Vec::new();
        }
    };
    state.overlay = Some(Overlay::ConfirmDelete(confirm));
    Vec::new()
}

fn export(state: &mut State) -> Vec<Cmd> {
    let cloud = state
        .session
        .as_ref()
        .map_or_else(ficus_core::cloud::Cloud::global, |s| {
            s.cloud_endpoints.clone()
        });
    let snippets = match selected_fic(state) {
        Some((screen, fic)) => screen.detail.as_ref().map(|detail| {
            let warnings = fic
                .findings
                .iter()
                .filter(|f| f.severity == crate::model::Severity::Error)
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            (
                fic.fic.name.clone(),
                domain::export_snippets(&detail.app, &fic.fic, &cloud),
                warnings,
            )
        }),
        None => None,
    };
    match snippets {
        Some((fic_name, snippets, warnings)) => {
            state.overlay = Some(Overlay::Export(ExportScreen {
                fic_name,
                snippets,
                tab: 0,
                warnings,
            }));
        }
        None => state.toast(
            ToastLevel::Info,
            "Select a FIC first (Tab to the FIC list, j/k to pick one), then e.",
        ),
    }
    Vec::new()
}

fn on_overlay_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    let Some(overlay) = state.overlay.as_mut() else {
        return Vec::new();
    };
    let close = key.code == KeyCode::Esc;
    match overlay {
        Overlay::Help { scroll } | Overlay::Text(TextPanel { scroll, .. }) => match key.code {
            KeyCode::Char('j') | KeyCode::Down => *scroll = scroll.saturating_add(1),
            KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
            KeyCode::Char('y') => {
                if let Overlay::Text(panel) = overlay {
                    let text = panel.lines.join("\n");
                    state.toast(ToastLevel::Success, "Copied the panel's text (OSC 52).");
                    return vec![Cmd::Copy(text)];
                }
            }
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {
                state.overlay = None;
            }
            _ => {}
        },
        Overlay::ConfirmDelete(confirm) => match key.code {
            KeyCode::Char('y') => {
                let confirm = confirm.clone();
                state.overlay = None;
                let request = state.new_request();
                if let Some(Screen::AppDetail(screen)) = state.stack.last_mut() {
                    screen.request = request;
                }
                state.toast(
                    ToastLevel::Info,
                    format!("Deleting FIC {}…", confirm.fic_name),
                );
                return vec![Cmd::DeleteFic {
                    request,
                    app_object_id: confirm.app_object_id,
                    fic_id: confirm.fic_id,
                }];
            }
            _ => {
                state.overlay = None;
                state.toast(ToastLevel::Info, "Not deleted.");
            }
        },
        Overlay::Export(export) => match key.code {
            KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
                export.tab = (export.tab + 1) % export.snippets.len().max(1);
            }
            KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
                let len = export.snippets.len().max(1);
                export.tab = (export.tab + len - 1) % len;
            }
            KeyCode::Char('y') => {
                if let Some((label, text)) = export.snippets.get(export.tab) {
                    let (label, text) = (label.clone(), text.clone());
                    state.toast(
                        ToastLevel::Success,
                        format!("Copied the {label} snippet (OSC 52)."),
                    );
                    return vec![Cmd::Copy(text)];
                }
            }
            _ if close || key.code == KeyCode::Char('q') => state.overlay = None,
            _ => {}
        },
        Overlay::Palette(palette) => match key.code {
            KeyCode::Esc => state.overlay = None,
            KeyCode::Down | KeyCode::Tab => {
                palette.selected =
                    (palette.selected + 1).min(palette.suggestions.len().saturating_sub(1));
            }
            KeyCode::Up | KeyCode::BackTab => palette.selected = palette.selected.saturating_sub(1),
            KeyCode::Enter => {
                let input = palette.input.value().trim().to_string();
                let chosen = palette.suggestions.get(palette.selected).cloned();
                state.overlay = None;
                return run_palette(state, &input, chosen);
            }
            _ => {
                let event = ratatui::crossterm::event::Event::Key(key);
                if let Some(request) = to_input_request(&event) {
                    palette.input.handle(request);
                    palette.selected = 0;
                    let value = palette.input.value().to_string();
                    refresh_suggestions(state, &value);
                }
            }
        },
    }
    Vec::new()
}

fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    match key.code {
        // Esc and Enter close the input and keep the filter; Esc again clears it.
        KeyCode::Esc | KeyCode::Enter => {
            state.editing_filter = false;
            Vec::new()
        }
        KeyCode::Down => move_cursor(state, 1),
        KeyCode::Up => move_cursor(state, -1),
        _ => {
            let event = ratatui::crossterm::event::Event::Key(key);
            if let Some(request) = to_input_request(&event) {
                let input = filter_input(state);
                input.handle(request);
                let value = input.value().to_string();
                set_filter(state, value);
            }
            Vec::new()
        }
    }
}

fn filter_input(state: &mut State) -> &mut Input {
    match state.list {
        ListKind::Apps => &mut state.apps_filter,
        ListKind::Identities => &mut state.identities_filter,
    }
}

fn set_filter(state: &mut State, value: String) {
    let now = state.now;
    match state.list {
        ListKind::Apps => {
            if state.apps_filter.value() != value {
                state.apps_filter = Input::new(value.clone());
            }
            state.apps.set_query(&value, now);
        }
        ListKind::Identities => {
            if state.identities_filter.value() != value {
                state.identities_filter = Input::new(value.clone());
            }
            state.identities.set_query(&value, now);
        }
    }
}

/// Pasted text: into the input that has focus, else the palette opens with it (a GUID becomes
/// `whois`, a token `decode`).
fn on_paste(state: &mut State, text: &str) -> Vec<Cmd> {
    // The screen on top takes pastes into its inputs (tokens go to the exchange screen or
    // the inspector as pasted, #7); an enormous paste never goes through the palette's input
    // (one character at a time).
    if state.overlay.is_none() {
        let (top, ctx) = state.split();
        if let Some(component) = top.and_then(Screen::component)
            && let Some(outcome) = component.on_paste(text, &ctx)
        {
            return apply(state, outcome);
        }
        if text.len() > ficus_core::jwt::MAX_TOKEN_LEN && matches!(state.phase, Phase::Console) {
            return open_inspector(state, text);
        }
    }
    if matches!(state.phase, Phase::SigningIn(_)) && state.overlay.is_none() {
        if state.typed_ahead.len() < TYPE_AHEAD_LIMIT {
            state.typed_ahead.push(Msg::Paste(text.to_string()));
        }
        toast_typed_ahead(state);
        return Vec::new();
    }
    let clean = sanitize(text.trim()).into_owned();
    if let Some(Overlay::Palette(palette)) = &mut state.overlay {
        for c in clean.chars() {
            palette.input.handle(InputRequest::InsertChar(c));
        }
        let value = palette.input.value().to_string();
        refresh_suggestions(state, &value);
        return Vec::new();
    }
    if state.overlay.is_some() || !matches!(state.phase, Phase::Console) {
        return Vec::new();
    }
    if state.editing_filter {
        let input = filter_input(state);
        for c in clean.chars() {
            input.handle(InputRequest::InsertChar(c));
        }
        let value = input.value().to_string();
        set_filter(state, value);
        return Vec::new();
    }
    let prefill = if uuid::Uuid::parse_str(&clean).is_ok() {
        format!("whois {clean}")
    } else if clean.matches('.').count() >= 2 && !clean.contains(' ') {
        format!("decode {clean}")
    } else {
        clean
    };
    open_palette(state, &prefill);
    Vec::new()
}

fn open_palette(state: &mut State, prefill: &str) {
    state.editing_filter = false;
    state.overlay = Some(Overlay::Palette(PaletteScreen {
        input: Input::new(prefill.to_string()),
        suggestions: Vec::new(),
        selected: 0,
    }));
    refresh_suggestions(state, prefill);
}

/// The palette's commands, with what each does.
pub const PALETTE_COMMANDS: &[(&str, &str)] = &[
    ("apps", "show app registrations"),
    ("identities", "show managed identities"),
    (
        "tenant ",
        "switch tenant: sign in to another tenant (domain or id)",
    ),
    (
        "whois ",
        "what a GUID is: app, identity, tenant, well-known id",
    ),
    ("explain ", "what an AADSTS error means and how to fix it"),
    (
        "decode ",
        "token inspector: decode, verify, match against an app's FICs",
    ),
    ("exchange ", "test the exchange: exchange [app] [identity]"),
    ("theme ", "switch colour theme"),
    ("help", "every key of this screen"),
];

fn refresh_suggestions(state: &mut State, input: &str) {
    let suggestions = suggestions_for(state, input);
    if let Some(Overlay::Palette(palette)) = &mut state.overlay {
        palette.suggestions = suggestions;
        palette.selected = palette
            .selected
            .min(palette.suggestions.len().saturating_sub(1));
    }
}

fn suggestions_for(state: &State, input: &str) -> Vec<Suggestion> {
    let input = input.trim_start();
    let lower = input.to_ascii_lowercase();
    let mut suggestions = Vec::new();
    if let Some(rest) = lower.strip_prefix("theme") {
        let wanted = rest.trim();
        for name in state.themes.names() {
            if name.starts_with(wanted) {
                suggestions.push(Suggestion {
                    label: format!("theme {name}"),
                    detail: if name == state.theme.name {
                        "current".into()
                    } else {
                        String::new()
                    },
                    target: PaletteTarget::Command(format!("theme {name}")),
                });
            }
        }
        return suggestions;
    }
    for (command, description) in PALETTE_COMMANDS {
        if !lower.is_empty() && command.trim_end().starts_with(lower.trim_end()) {
            suggestions.push(Suggestion {
                label: command.trim_end().to_string(),
                detail: description.to_string(),
                target: PaletteTarget::Command(command.to_string()),
            });
        }
    }
    let is_command = PALETTE_COMMANDS
        .iter()
        .any(|(command, _)| command.ends_with(' ') && lower.starts_with(command));
    if lower.is_empty() {
        for (command, description) in PALETTE_COMMANDS {
            suggestions.push(Suggestion {
                label: command.trim_end().to_string(),
                detail: description.to_string(),
                target: PaletteTarget::Command(command.to_string()),
            });
        }
        return suggestions;
    }
    if is_command {
        return suggestions;
    }
    let pattern = nucleo_matcher::pattern::Pattern::parse(
        input,
        nucleo_matcher::pattern::CaseMatching::Ignore,
        nucleo_matcher::pattern::Normalization::Smart,
    );
    let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
    // Score everything, but build suggestions only for the few shown.
    let apps = state.apps.items();
    let identities = state.identities.items();
    let mut scored: Vec<(u32, bool, usize)> = state
        .apps
        .fuzzy_scores(&pattern, &mut matcher)
        .into_iter()
        .map(|(score, i)| (score, true, i))
        .chain(
            state
                .identities
                .fuzzy_scores(&pattern, &mut matcher)
                .into_iter()
                .map(|(score, i)| (score, false, i)),
        )
        .collect();
    let name_len = |&(_, is_app, i): &(u32, bool, usize)| {
        if is_app {
            apps[i].name.len()
        } else {
            identities[i].name.len()
        }
    };
    // Best score first; ties by shorter name, which is usually the exact one. Only the first
    // few are ordered: there may be 100 000 matches.
    let order = |a: &(u32, bool, usize), b: &(u32, bool, usize)| {
        b.0.cmp(&a.0).then(name_len(a).cmp(&name_len(b)))
    };
    if scored.len() > PALETTE_SUGGESTIONS {
        scored.select_nth_unstable_by(PALETTE_SUGGESTIONS, order);
        scored.truncate(PALETTE_SUGGESTIONS);
    }
    scored.sort_unstable_by(order);
    suggestions.extend(
        scored
            .into_iter()
            .take(PALETTE_SUGGESTIONS)
            .map(|(_, is_app, i)| {
                if is_app {
                    Suggestion {
                        label: apps[i].name.clone(),
                        detail: "app".into(),
                        target: PaletteTarget::App(apps[i].object_id.clone()),
                    }
                } else {
                    Suggestion {
                        label: identities[i].name.clone(),
                        detail: "identity".into(),
                        target: PaletteTarget::Identity(identities[i].principal_id.clone()),
                    }
                }
            }),
    );
    suggestions
}

fn run_palette(state: &mut State, input: &str, chosen: Option<Suggestion>) -> Vec<Cmd> {
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
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
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

fn show_panel(state: &mut State, title: String, lines: Vec<String>) {
    state.overlay = Some(Overlay::Text(TextPanel {
        title: sanitize(&title).into_owned(),
        lines,
        scroll: 0,
    }));
}

const WHOIS_ASKING: &str = "Asking the directory…";

/// The directory's answer to `whois`: its matches first, then what is loaded and well known
/// (the fallback when the directory cannot be asked).
fn on_whois(
    state: &mut State,
    request: RequestId,
    guid: &str,
    result: Result<Vec<String>, String>,
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
        Err(error) => {
            lines.push(format!(
                "The directory could not be asked: {}",
                sanitize(&error)
            ));
            lines.extend(local);
        }
    }
    show_panel(state, title, lines);
    Vec::new()
}

/// What a GUID is, from what is loaded and what ficus knows by heart.
fn whois(state: &State, text: &str) -> Vec<String> {
    let Ok(uuid) = uuid::Uuid::parse_str(text.trim()) else {
        return vec![
            format!("`{}` is not a GUID.", sanitize(text)),
            "Paste one like 00000000-0000-0000-0000-000000000000.".into(),
        ];
    };
    let guid = uuid.hyphenated().to_string();
    let same = |value: &str| value.eq_ignore_ascii_case(&guid);
    let mut lines = Vec::new();
    for app in state.apps.items() {
        if same(&app.app_id) {
            lines.push(format!(
                "app id (client id) of app registration {}",
                app.name
            ));
        }
        if same(&app.object_id) {
            lines.push(format!("object id of app registration {}", app.name));
        }
    }
    for identity in state.identities.items() {
        let kind = match identity.kind {
            IdentityKind::UserAssigned => "user-assigned identity",
            IdentityKind::SystemAssigned => "system-assigned identity",
        };
        if same(&identity.client_id) {
            lines.push(format!(
                "client id of {kind} {} (a FIC's subject must be its principal id {}, not this)",
                identity.name, identity.principal_id
            ));
        }
        if same(&identity.principal_id) {
            lines.push(format!(
                "principal (object) id of {kind} {}: the value a FIC's subject takes",
                identity.name
            ));
        }
    }
    if let Some(session) = &state.session
        && same(&session.tenant_id)
    {
        lines.push(format!("the signed-in tenant {}", session.tenant));
    }
    lines.extend(domain::well_known_guid(&guid));
    if lines.is_empty() {
        lines.push(
            "Not an app, identity or tenant loaded in this session, and not a well-known id."
                .into(),
        );
        lines.push("If it belongs to another tenant, sign in there; if the list is still loading, try again shortly.".into());
    }
    lines
}

#[cfg(test)]
mod tests;
