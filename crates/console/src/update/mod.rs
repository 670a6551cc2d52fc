//! `update(&mut State, Msg) -> Vec<Cmd>`: every change to the console's state happens here,
//! without I/O and without blocking, so every transition is a unit test.

use ficus_core::text::sanitize;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::component::Component;
use crate::filter::Load;
use crate::keymap::{Action, Chord, Lookup};
use crate::model::{AppRow, IdentityRow};
use crate::msg::{Cmd, Msg};
use crate::nav::Nav;
use crate::screens::wizard::WizardMsg;
use crate::state::{HelpScreen, ListKind, Overlay, Phase, Screen, State, ToastLevel};

mod details;
mod fic_actions;
mod lists;
mod migration;
mod navigate;
mod overlays;
mod palette;
mod sign_in;

use details::on_detail_loaded;
use fic_actions::on_fic_deleted;
use lists::{forget_details, on_rested, rest_target, sync_rest};
use navigate::{apply, navigate, open_inspector, recount_trust, show_list};
use overlays::on_overlay_key;
use palette::{on_whois, open_palette};
use sign_in::{
    TYPE_AHEAD_LIMIT, copy_code, on_sign_in, retry_sign_in, toast_typed_ahead, type_ahead,
};

pub use crate::screens::palette::PALETTE_COMMANDS;
pub use navigate::{open_app, open_identity};
pub use sign_in::start_console;

pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    crate::effects::apps::settle_wait(state, &msg);
    let before = rest_target(state);
    let mut cmds = transition(state, msg);
    // Wherever this message moved the cursor (keys, filter, sort, a first page, back from a
    // detail), the row it now rests on gets its one-shot delay.
    let after = rest_target(state);
    if before != after || state.lists.rest.is_none() {
        cmds.extend(sync_rest(state, after));
    }
    cmds
}

fn transition(state: &mut State, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Release => Vec::new(),
        Msg::Key(key) => on_key(state, key),
        Msg::Paste(text) => on_paste(state, text.expose()),
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
            if done {
                recount_trust(state);
            }
            replay_typed_ahead(state)
        }
        Msg::AppsFailed { request, error } => {
            if request != state.apps.request {
                return Vec::new();
            }
            let error = sanitize(&error).into_owned();
            let retry = state.key(Action::Refresh);
            state.toast(
                ToastLevel::Error,
                format!("{error} — press {retry} to retry"),
            );
            state.apps.load = Load::Failed(error);
            replay_typed_ahead(state)
        }
        Msg::CertificatesLoaded {
            request,
            by_app,
            error,
        } => crate::effects::apps::on_certificates(state, request, by_app, error),
        Msg::AppsCached {
            request,
            rows,
            saved_at,
        } => {
            if request != state.apps.request {
                return Vec::new();
            }
            lists::on_apps_cached(state, rows, saved_at);
            recount_trust(state);
            replay_typed_ahead(state)
        }
        Msg::AppsRefreshed { request, refresh } => {
            if request == state.apps.request {
                lists::on_apps_refreshed(state, refresh);
                recount_trust(state);
            }
            Vec::new()
        }
        Msg::IdentitiesRefreshed { request, rows } => {
            if request == state.apps.request && state.identities.load == Load::Done {
                lists::on_identities_refreshed(state, rows);
                recount_trust(state);
            }
            Vec::new()
        }
        Msg::AppsRefreshFailed { request, error } => {
            if request == state.apps.request {
                lists::on_apps_refresh_failed(state, error);
            }
            Vec::new()
        }
        Msg::GraphWaiting(text) => crate::effects::apps::on_graph_waiting(state, &text),
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
            recount_trust(state);
            Vec::new()
        }
        Msg::IdentitiesFailed { request, error } => {
            if request == state.identities.request {
                let error = sanitize(&error).into_owned();
                let retry = state.key(Action::Refresh);
                state.toast(
                    ToastLevel::Error,
                    format!("{error} — press {retry} to retry"),
                );
                state.identities.load = Load::Failed(error);
            }
            Vec::new()
        }
        Msg::AppDetailLoaded { request, result } => on_detail_loaded(state, request, result),
        Msg::IdentityDetailLoaded { request, result } => on_detail_loaded(state, request, result),
        Msg::EvidenceLoaded {
            app_object_id,
            result,
        } => {
            let evidence = result.unwrap_or_else(|error| {
                crate::evidence::Evidence::Unavailable(sanitize(&error.message).into_owned())
            });
            state.evidence.insert(app_object_id.clone(), evidence);
            migration::share_evidence(state, &app_object_id);
            Vec::new()
        }
        Msg::FailingLoaded { request, result } => {
            migration::on_failing_loaded(state, request, result)
        }
        Msg::SecretRemoved {
            request,
            name,
            result,
        } => migration::on_secret_removed(state, request, &name, result),
        Msg::UndoPlanned { request: _, result } => migration::on_undo_planned(state, result),
        Msg::Undone {
            request: _,
            app_object_id,
            result,
        } => migration::on_undone(state, &app_object_id, result),
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
            state.toast(ToastLevel::Warning, sanitize(&reason.message).into_owned());
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
            let mut cmds = Vec::new();
            if matches!(&msg, WizardMsg::Saved { result: Ok(_), .. }) {
                // A FIC was created or changed: what the previews and Enter knew is old.
                forget_details(state);
                // The Health tab under it audits that app again (#14).
                if let WizardMsg::Saved { request, .. } = &msg {
                    cmds.extend(navigate::reaudit_saved_app(state, *request));
                }
            }
            let (top, ctx) = state.split();
            let outcome = match top {
                Some(Screen::Wizard(wizard)) => wizard.on_msg(msg, &ctx),
                _ => return Vec::new(),
            };
            cmds.extend(apply(state, outcome));
            cmds
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
        Msg::Health(msg) => {
            // The Health tab may be under a detail or the wizard: its answers still arrive.
            navigate::on_health_msg(state, msg)
        }
        Msg::OpenExchange(entry) => navigate(state, Nav::OpenExchange(entry)),
        Msg::EditFic(fix) => navigate(state, Nav::EditFic(fix)),
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
    if state.lists.editing_filter {
        let (lists, ctx) = state.split_lists();
        if let Some(outcome) = lists.on_key(key, &ctx) {
            return apply(state, outcome);
        }
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

fn perform(state: &mut State, action: Action) -> Vec<Cmd> {
    // The screen on top answers first; what it ignores is the console's. A command the
    // screen lists as disabled says why instead of running.
    let (top, ctx) = state.split();
    if let Some(component) = top.and_then(Screen::component) {
        let refusal = component
            .commands(&ctx)
            .into_iter()
            .find(|c| c.action == action && c.is_screen_key())
            .and_then(|c| c.disabled);
        if let Some(why) = refusal {
            state.toast(ToastLevel::Warning, why);
            return Vec::new();
        }
        let outcome = component.on_action(action, &ctx);
        if !outcome.ignored {
            return apply(state, outcome);
        }
    }
    // With no screen above them, the lists answer next.
    if state.stack.is_empty() && matches!(state.phase, Phase::Console) {
        let (lists, ctx) = state.split_lists();
        let outcome = lists.on_action(action, &ctx);
        if !outcome.ignored {
            return apply(state, outcome);
        }
    }
    match action {
        Action::Quit => {
            state.quit = true;
            vec![Cmd::Quit]
        }
        Action::Help => {
            state.overlay = Some(Overlay::Help(HelpScreen::default()));
            Vec::new()
        }
        Action::Palette => {
            open_palette(state, "");
            Vec::new()
        }
        Action::Back => {
            if state.stack.pop().is_none() {
                // Signing in again over the lists: Esc still clears their filter.
                let (lists, ctx) = state.split_lists();
                let outcome = lists.on_action(Action::Back, &ctx);
                return apply(state, outcome);
            }
            Vec::new()
        }
        Action::ShowApps => show_list(state, ListKind::Apps),
        Action::ShowIdentities => show_list(state, ListKind::Identities),
        Action::ShowHealth => navigate(state, Nav::OpenHealth),
        Action::CycleTheme => {
            if let Some(next) = state.themes.next_after(&state.theme.name).cloned() {
                let again = state.key(Action::CycleTheme);
                state.toast(
                    ToastLevel::Info,
                    format!("Theme: {} ({again} for the next one)", next.name),
                );
                state.theme = next;
            }
            Vec::new()
        }
        // The sign-in screen's: a new code after a failure, copy the code.
        Action::Open => retry_sign_in(state),
        Action::Copy => copy_code(state),
        // The lists' and the screens' own (their components answered them above).
        Action::Up
        | Action::Down
        | Action::HalfPageUp
        | Action::HalfPageDown
        | Action::Top
        | Action::Bottom
        | Action::Filter
        | Action::NextPane
        | Action::Sort
        | Action::SortBy(_)
        | Action::ReverseSort
        | Action::OneLine
        | Action::Refresh
        | Action::CopyId
        | Action::AddFic
        | Action::TestExchange => Vec::new(),
        // App detail's own (its component answered them).
        Action::DeleteFic | Action::Export | Action::EditFic | Action::FixFic => Vec::new(),
        // The wizard dispatches its own keys (wizard::on_key).
        Action::EditField | Action::ApplyFix | Action::AcknowledgeWarnings => Vec::new(),
        // Bound only on the exchange and inspector screens, which handled them above.
        Action::RunExchange
        | Action::Reveal
        | Action::PasteToken
        | Action::TokenFromFile
        | Action::FixInWizard
        | Action::Inspect
        | Action::VerifySignature
        | Action::PickApp => Vec::new(),
        // Bound only under overlays (update/overlays.rs).
        Action::PreviousPane | Action::Confirm => Vec::new(),
        // Answered by the screens that offer it (app detail, exchange, wizard).
        Action::WorkloadCode => Vec::new(),
        // The exchange screen's own.
        Action::TokenSource => Vec::new(),
        // Failing workloads (#15), from the lists.
        Action::ShowFailing => navigate::open_failing(state),
        // The failing view's and App detail's own (their components answered them).
        Action::ToggleWindow | Action::RemoveSecret | Action::Undo => Vec::new(),
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
            state.typed_ahead.push(Msg::paste(text.to_string()));
        }
        toast_typed_ahead(state);
        return Vec::new();
    }
    let clean = sanitize(text.trim()).into_owned();
    let (overlay, ctx) = state.split_overlay();
    if let Some(Overlay::Palette(palette)) = overlay
        && let Some(outcome) = palette.on_paste(text, &ctx)
    {
        return apply(state, outcome);
    }
    if state.overlay.is_some() || !matches!(state.phase, Phase::Console) {
        return Vec::new();
    }
    let (lists, ctx) = state.split_lists();
    if let Some(outcome) = lists.on_paste(&clean, &ctx) {
        return apply(state, outcome);
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

#[cfg(test)]
mod tests;
