//! How screens open and close: applying a screen's `Outcome` and its `Nav` (the only place the
//! screen stack changes), and opening the detail screens, the wizard, the exchange and the
//! inspector from the lists and details.

use ficus_core::secret::Secret;

use super::lists::apply_listing;
use crate::component::Outcome;
use crate::filter::Load;
use crate::model::IdentityRow;
use crate::msg::Cmd;
use crate::nav::{AppChoice, FicFix, InspectorEntry, Nav};
use crate::screens::exchange::{self, RECENT_SCOPES};
use crate::screens::inspector;
use crate::screens::wizard::{self, Given, WizardApp};
use crate::state::{
    AppDetailScreen, DetailPane, HelpScreen, IdentityDetailScreen, ListKind, Overlay, Screen, State,
};

/// What a screen answered: its commands, its toast, and its navigation intent, which only
/// this function (through [`navigate`]) applies to the screen stack.
pub(super) fn apply(state: &mut State, outcome: Outcome) -> Vec<Cmd> {
    let Outcome {
        mut cmds,
        toast,
        nav,
        remember_scope,
        app_fics,
        ignored: _,
        listing,
    } = outcome;
    for change in listing {
        apply_listing(state, change);
    }
    if let Some((object_id, subjects)) = app_fics {
        set_app_fics(state, &object_id, subjects.len(), Some(subjects));
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

/// A FIC was created or deleted (or the app read again): the Apps list's row (and what its
/// `fic:` facet sees) says so at once, and so do the identities' `trusted:` counts. `None`
/// subjects: not known yet (the app is being read again).
pub(super) fn set_app_fics(
    state: &mut State,
    object_id: &str,
    count: usize,
    subjects: Option<Vec<String>>,
) {
    let now = state.now;
    let changed = state.apps.update_where(
        |a| a.object_id == object_id,
        |a| {
            a.fic_count = Some(count);
            if subjects.is_some() {
                a.fic_subjects = subjects;
            }
        },
        now,
    );
    if changed {
        recount_trust(state);
    }
}

/// The Identities list's trust counts from the FICs the Apps list brought: known once every
/// app has loaded (until then `trusted:0` would be a guess).
pub(super) fn recount_trust(state: &mut State) {
    let known = state.apps.load == Load::Done
        && state.apps.items().iter().all(|a| a.fic_subjects.is_some());
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    if known {
        for app in state.apps.items() {
            let mut subjects: Vec<&str> = app
                .fic_subjects
                .iter()
                .flatten()
                .map(String::as_str)
                .collect();
            subjects.sort_unstable();
            subjects.dedup();
            for subject in subjects {
                *counts.entry(subject).or_default() += 1;
            }
        }
    }
    let now = state.now;
    state.identities.update_each(
        |identity| {
            let trusted = known.then(|| {
                counts
                    .get(identity.principal_id.as_str())
                    .copied()
                    .unwrap_or(0)
            });
            let changed = identity.trusted_by != trusted;
            identity.trusted_by = trusted;
            changed
        },
        now,
    );
}

/// Applies a navigation intent: the only place the screen stack changes for the screens.
pub(super) fn navigate(state: &mut State, nav: Nav) -> Vec<Cmd> {
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
                wizard.prefill = add.draft;
                if let Some(identity) = add.identity {
                    wizard.preselect_identity(identity);
                }
                push(state, Screen::Wizard(Box::new(wizard)));
            }
            cmds.extend(apply(state, outcome));
            cmds
        }
        Nav::OpenApp { object_id, name } => open_app(state, &object_id, &name),
        Nav::StartWizard(given) => start_wizard(state, *given),
        Nav::EditInWizard(edit) => {
            let edit = *edit;
            let app = WizardApp {
                row: edit.app,
                fics: Some(edit.fics),
            };
            let (wizard, outcome) = wizard::edit(&state.ctx(), app, edit.original, edit.apply_fix);
            if let Some(wizard) = wizard {
                push(state, Screen::Wizard(Box::new(wizard)));
            }
            apply(state, outcome)
        }
        Nav::Overlay(overlay) => {
            state.lists.editing_filter = false;
            state.overlay = Some(*overlay);
            Vec::new()
        }
        Nav::OpenWorkload(values) => {
            push(
                state,
                Screen::Workload(Box::new(crate::screens::workload::open(*values))),
            );
            Vec::new()
        }
        Nav::OpenInspector(entry) => {
            push(state, Screen::Inspector(Box::new(inspector::open(*entry))));
            Vec::new()
        }
        Nav::Help => {
            state.overlay = Some(Overlay::Help(HelpScreen::default()));
            Vec::new()
        }
        Nav::CloseOverlay => {
            state.overlay = None;
            Vec::new()
        }
        // The palette's commands are above navigation: `update/overlays.rs` runs them.
        Nav::RunPalette(_) => Vec::new(),
        Nav::Quit => {
            state.quit = true;
            vec![Cmd::Quit]
        }
        Nav::OpenIdentity(identity) => open_identity(state, *identity),
        Nav::OpenHealth => open_health(state),
        Nav::CloseHealth => show_list(state, ListKind::Apps),
        Nav::OpenFailingAt { app } => {
            let (mut screen, cmds) =
                crate::screens::failing::open(&state.ctx(), Default::default());
            screen.focus_app = app;
            push(state, Screen::Failing(Box::new(screen)));
            cmds
        }
        Nav::OpenAppAt {
            object_id,
            name,
            fic_index,
        } => {
            let cmds = open_app(state, &object_id, &name);
            if let (Some(Screen::AppDetail(screen)), Some(index)) =
                (state.stack.last_mut(), fic_index)
            {
                // Clamped to the FICs when the detail arrives.
                screen.fic_cursor = index;
            }
            cmds
        }
    }
}

/// The Health tab (#14): at the bottom of the stack, auditing the tenant as it opens.
/// Coming back to it shows the findings kept when it was left, without auditing again.
pub(super) fn open_health(state: &mut State) -> Vec<Cmd> {
    if matches!(state.stack.first(), Some(Screen::Health(_))) {
        state.stack.truncate(1);
        return Vec::new();
    }
    let (screen, cmds) = match state.parked_health.take() {
        Some(screen) => (screen, Vec::new()),
        None => {
            let (screen, cmd) = crate::screens::health::HealthScreen::open(&state.ctx());
            (Box::new(screen), vec![cmd])
        }
    };
    state.stack.clear();
    state.overlay = None;
    state.lists.editing_filter = false;
    state.stack.push(Screen::Health(screen));
    cmds
}

/// Leaving the Health tab keeps it (its findings, filter, sort and cursor) for the way back.
fn park_health(state: &mut State) {
    if matches!(state.stack.first(), Some(Screen::Health(_)))
        && let Screen::Health(screen) = state.stack.remove(0)
    {
        state.parked_health = Some(screen);
    }
}

/// The wizard on top saved a FIC: the Health tab under it (if open) audits that app again,
/// whichever screen the wizard was opened from.
pub(super) fn reaudit_saved_app(state: &mut State, saved: crate::msg::RequestId) -> Option<Cmd> {
    let object_id = match state.stack.last() {
        Some(Screen::Wizard(wizard))
            if wizard.step == (crate::screens::wizard::Step::Saving { request: saved }) =>
        {
            wizard.app.as_ref()?.row.object_id.clone()
        }
        _ => return None,
    };
    let request = state.new_request();
    let on_stack = state.stack.iter_mut().find_map(|screen| match screen {
        Screen::Health(health) => Some(health),
        _ => None,
    });
    // A kept Health tab follows too, so its findings are not stale when it comes back.
    on_stack
        .or(state.parked_health.as_mut())
        .map(|health| health.reaudit_app(object_id, request))
}

/// An answer to the Health tab's audit, wherever the tab is in the stack.
pub(super) fn on_health_msg(state: &mut State, msg: crate::screens::health::HealthMsg) -> Vec<Cmd> {
    let Some(index) = state
        .stack
        .iter()
        .position(|s| matches!(s, Screen::Health(_)))
    else {
        // A kept tab still takes its audit's pages; what it would say waits for its return.
        if let Some(mut screen) = state.parked_health.take() {
            let outcome = screen.on_msg(msg, &state.ctx());
            state.parked_health = Some(screen);
            return outcome.cmds;
        }
        return Vec::new();
    };
    let Screen::Health(mut screen) = state.stack.remove(index) else {
        return Vec::new();
    };
    let outcome = screen.on_msg(msg, &state.ctx());
    state.stack.insert(index, Screen::Health(screen));
    apply(state, outcome)
}

pub(super) fn push(state: &mut State, screen: Screen) {
    state.overlay = None;
    state.lists.editing_filter = false;
    state.stack.push(screen);
}

/// After a FIC was written from a screen above: the detail now on top reads its data again.
pub(super) fn reload_top(state: &mut State) -> Vec<Cmd> {
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
        // A fix saved from the Health tab: that app is audited again.
        Some(Screen::Health(screen)) => screen.after_fix(request).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// A FIC in the wizard with one field corrected (the exchange's `F`).
pub(super) fn open_correction(state: &mut State, fix: FicFix) -> Vec<Cmd> {
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

/// The wizard from an app or an identity, pushed when it can start.
pub(super) fn start_wizard(state: &mut State, given: Given) -> Vec<Cmd> {
    let (wizard, outcome) = wizard::start(&state.ctx(), given);
    if let Some(wizard) = wizard {
        push(state, Screen::Wizard(Box::new(wizard)));
    }
    apply(state, outcome)
}

/// The inspector on `text`, matched against the app of the detail below when there is one.
pub(super) fn open_inspector(state: &mut State, text: &str) -> Vec<Cmd> {
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

/// Opens an app's detail: at once from the details fetched while the cursor rested on it,
/// else loading.
pub fn open_app(state: &mut State, object_id: &str, name: &str) -> Vec<Cmd> {
    let request = state.new_request();
    state.lists.editing_filter = false;
    let cached = state.lists.details.apps.get(object_id).cloned();
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
            migration: crate::screens::app_detail::Migration {
                evidence: state.evidence.get(object_id).cloned(),
                question: None,
            },
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
    state.lists.editing_filter = false;
    let cached = state
        .lists
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

/// Failing workloads (#15) on top of the lists (or of the screen it was asked from).
pub(super) fn open_failing(state: &mut State) -> Vec<Cmd> {
    let (screen, cmds) = crate::screens::failing::open(&state.ctx(), Default::default());
    push(state, Screen::Failing(Box::new(screen)));
    cmds
}

pub(super) fn show_list(state: &mut State, list: ListKind) -> Vec<Cmd> {
    park_health(state);
    state.stack.clear();
    state.lists.show(list);
    Vec::new()
}
