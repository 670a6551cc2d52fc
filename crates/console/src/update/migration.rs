//! The migration's end and the troubleshooting around it (#15): the Failing workloads view's
//! report, a secret removed from App detail, and undoing the last change from the journal
//! (the plan, asked on the app's detail, then the restore).

use ficus_core::text::sanitize;

use super::lists::forget_details;
use super::navigate::{open_app, reload_top};
use crate::error::DirectoryError;
use crate::evidence::FailingReport;
use crate::msg::{Cmd, RequestId, UndoPlan};
use crate::screens::app_detail::Question;
use crate::state::{Screen, State, ToastLevel};

/// The Failing workloads view's report, to the view that asked.
pub(super) fn on_failing_loaded(
    state: &mut State,
    request: RequestId,
    result: Result<FailingReport, DirectoryError>,
) -> Vec<Cmd> {
    let mut result = Some(result);
    let mut missed = None;
    for screen in state.stack.iter_mut().rev() {
        if let Screen::Failing(view) = screen
            && view.request == request
            && let Some(result) = result.take()
        {
            view.loaded(request, result);
            // Opened at a Health finding's app that does not fail: said, not left to guess.
            missed = view.focus_missed.take();
        }
    }
    if let Some(text) = missed {
        state.toast(crate::component::ToastLevel::Info, text);
    }
    Vec::new()
}

/// An app's evidence arrived: its detail screens judge a secret's removal by it.
pub(super) fn share_evidence(state: &mut State, app_object_id: &str) {
    let Some(evidence) = state.evidence.get(app_object_id) else {
        return;
    };
    for screen in &mut state.stack {
        if let Screen::AppDetail(detail) = screen
            && detail.object_id == app_object_id
        {
            detail.migration.evidence = Some(evidence.clone());
        }
    }
}

pub(super) fn on_secret_removed(
    state: &mut State,
    request: RequestId,
    name: &str,
    result: Result<(), DirectoryError>,
) -> Vec<Cmd> {
    let asked = matches!(state.stack.last(), Some(Screen::AppDetail(s)) if s.request == request);
    if !asked {
        return Vec::new();
    }
    let name = sanitize(name).into_owned();
    match result {
        Ok(()) => {
            forget_details(state);
            let cmds = reload_top(state);
            state.toast(
                ToastLevel::Success,
                format!(
                    "Secret {name} removed. It cannot come back; `ficus history` keeps the record."
                ),
            );
            cmds
        }
        Err(error) => {
            state.toast(
                ToastLevel::Error,
                format!(
                    "Not removed: {} — nothing changed",
                    sanitize(&error.message)
                ),
            );
            Vec::new()
        }
    }
}

/// What undoing the last change would do: asked on the detail of the app it changed (opened
/// when it is not the one on screen), where the result shows once it is done.
pub(super) fn on_undo_planned(
    state: &mut State,
    result: Result<Option<UndoPlan>, DirectoryError>,
) -> Vec<Cmd> {
    let plan = match result {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            state.toast(
                ToastLevel::Info,
                "Nothing to undo: the history holds no such change ficus made in this tenant.",
            );
            return Vec::new();
        }
        Err(error) => {
            state.toast(
                ToastLevel::Warning,
                format!("Cannot undo: {}", sanitize(&error.message)),
            );
            return Vec::new();
        }
    };
    if state.read_only() {
        state.toast(
            ToastLevel::Warning,
            "Read-only session: nothing can be undone. Start ficus without --read-only to make changes.",
        );
        return Vec::new();
    }
    let on_screen = matches!(
        state.stack.last(),
        Some(Screen::AppDetail(s)) if s.object_id == plan.app_object_id
    );
    let mut cmds = Vec::new();
    if !on_screen {
        state.overlay = None;
        cmds = open_app(state, &plan.app_object_id, &plan.app_name);
    }
    if let Some(Screen::AppDetail(screen)) = state.stack.last_mut() {
        screen.migration.question = Some(Question::Undo(sanitized(plan)));
    }
    cmds
}

fn sanitized(mut plan: UndoPlan) -> UndoPlan {
    plan.app_name = sanitize(&plan.app_name).into_owned();
    plan.change = sanitize(&plan.change).into_owned();
    plan.description = sanitize(&plan.description).into_owned();
    plan
}

pub(super) fn on_undone(
    state: &mut State,
    app_object_id: &str,
    result: Result<String, DirectoryError>,
) -> Vec<Cmd> {
    match result {
        Ok(done) => {
            forget_details(state);
            let cmds = match state.stack.last() {
                Some(Screen::AppDetail(s)) if s.object_id == app_object_id => reload_top(state),
                _ => Vec::new(),
            };
            state.toast(ToastLevel::Success, format!("Undone: {}", sanitize(&done)));
            cmds
        }
        Err(error) => {
            state.toast(
                ToastLevel::Error,
                format!(
                    "Undo failed: {} — nothing changed",
                    sanitize(&error.message)
                ),
            );
            Vec::new()
        }
    }
}
