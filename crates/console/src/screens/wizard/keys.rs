//! The wizard's keys and actions: moving between steps (Enter on, Esc back with every input
//! kept), editing a field, applying a fix, saving, and leaving (which asks when work would be
//! lost).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::InputRequest;
use tui_input::backend::crossterm::to_input_request;

use super::effect::WizardCmd;
use super::open::{apply, fill_from};
use super::picker::{PickerRows, picker_rows};
use super::review::{REVIEW_TABS, review_snippets};
use super::state::{
    FieldId, Here, Mode, SYSTEM_ASSIGNED_WHY, Side, Step, WizardApp, after_both_chosen, wizard,
    wizard_mut,
};
use crate::component::ToastLevel;
use crate::keymap::{Action, Context};
use crate::model::IdentityKind;
use crate::msg::Cmd;
use crate::nav::{AppChoice, ExchangeEntry, Nav};
use ficus_core::fic;
use ficus_core::text::sanitize;

// ---------------------------------------------------------------------------------------------
// Keys

/// The key bound to `action` in the wizard, for its sentences.
fn wk(here: &Here, action: Action) -> String {
    here.key(Context::Wizard, action)
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Yes to the question on screen: the keymap's `confirm` (`y`), or `Y` typed with Shift.
fn is_yes(here: &Here, key: &KeyEvent) -> bool {
    let chord = crate::keymap::Chord::from_event(key);
    here.keymap
        .lookup(crate::keymap::Context::Question, &[], chord)
        == crate::keymap::Lookup::Action(Action::Confirm)
        || key.code == KeyCode::Char('Y')
}

/// Keys before the keymap: a pending "quit?", Ctrl-C (which asks), and the field or the
/// picker's filter being typed into. `None`: the keymap decides.
pub(super) fn on_focused_key(here: &mut Here, key: KeyEvent) -> Option<Vec<Cmd>> {
    let yes = is_yes(here, &key);
    let wizard = wizard_mut(here)?;
    if wizard.confirm_quit {
        wizard.confirm_quit = false;
        if yes || is_ctrl_c(&key) {
            here.nav(Nav::Quit);
            return Some(Vec::new());
        }
        here.toast(ToastLevel::Info, "Staying; nothing was lost.");
        return Some(Vec::new());
    }
    if wizard.confirm_discard {
        wizard.confirm_discard = false;
        if yes {
            here.nav(Nav::Pop);
            return Some(Vec::new());
        }
        here.toast(ToastLevel::Info, "Staying; nothing was lost.");
        return Some(Vec::new());
    }
    if is_ctrl_c(&key) {
        return Some(ask_quit(here));
    }
    if wizard.editing {
        return Some(on_field_key(here, key));
    }
    if wizard.picker_editing {
        return Some(on_picker_filter_key(here, key));
    }
    None
}

/// A key no binding claims: a printable one on an editable field starts typing into it.
pub(super) fn on_unbound(here: &mut Here, key: KeyEvent) -> Vec<Cmd> {
    if !starts_typing(here, &key) {
        return Vec::new();
    }
    if let Some(wizard) = wizard_mut(here) {
        wizard.editing = true;
    }
    on_field_key(here, key)
}

/// A printable character that no binding claims, on a selected editable field, starts editing
/// it (no need to press `e` first).
fn starts_typing(here: &Here, key: &KeyEvent) -> bool {
    let printable = matches!(key.code, KeyCode::Char(c) if !c.is_control())
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    printable && wizard(here).is_some_and(|w| w.step == Step::Fields && w.editable(w.focused()))
}

fn ask_quit(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    // After a save nothing is in flight; anywhere else, ask (even a choice is work).
    if matches!(wizard.step, Step::Done { .. }) {
        here.nav(Nav::Quit);
        return Vec::new();
    }
    wizard.confirm_quit = true;
    wizard.editing = false;
    let yes = here.key(Context::Question, Action::Confirm);
    here.toast(
        ToastLevel::Warning,
        format!("Quit ficus? This FIC is not saved yet. {yes} quits · any other key stays"),
    );
    Vec::new()
}

pub(super) fn perform(here: &mut Here, action: Action) -> Vec<Cmd> {
    match action {
        Action::Quit => ask_quit(here),
        Action::Help => {
            here.nav(Nav::Help);
            Vec::new()
        }
        Action::Back => back(here),
        Action::Up => move_cursor(here, -1),
        Action::Down => move_cursor(here, 1),
        Action::Top => move_cursor(here, isize::MIN / 2),
        Action::Bottom => move_cursor(here, isize::MAX / 2),
        Action::HalfPageUp => move_cursor(here, -10),
        Action::HalfPageDown => move_cursor(here, 10),
        Action::Open => next(here),
        Action::Filter => {
            if let Some(wizard) = wizard_mut(here)
                && matches!(wizard.step, Step::Pick(_))
            {
                wizard.picker_editing = true;
            }
            Vec::new()
        }
        Action::EditField => edit(here),
        Action::ApplyFix => fix(here),
        Action::AcknowledgeWarnings => acknowledge(here),
        Action::NextPane => {
            if let Some(wizard) = wizard_mut(here) {
                if matches!(wizard.step, Step::Review | Step::Failed { .. }) {
                    wizard.review_tab = (wizard.review_tab + 1) % REVIEW_TABS.len();
                    wizard.review_scroll = 0;
                } else if wizard.step == Step::Fields {
                    wizard.focus = (wizard.focus + 1) % FieldId::ALL.len();
                }
            }
            Vec::new()
        }
        Action::Copy => copy(here),
        Action::TestExchange => test_exchange(here),
        Action::WorkloadCode => workload_code(here),
        Action::Refresh => retry(here),
        Action::EditFic => {
            // From "already trusted": change that FIC instead.
            edit_existing(here)
        }
        Action::Palette | Action::ShowApps | Action::ShowIdentities => {
            let back = wk(here, Action::Back);
            here.toast(
                ToastLevel::Info,
                format!(
                    "Finish or leave the wizard first ({back} goes back one step, nothing is lost)."
                ),
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Esc: one step back, every input kept; out of the first step closes the wizard.
fn back(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    let other = |side: Side| match side {
        Side::App => Side::Identity,
        Side::Identity => Side::App,
    };
    let chooser = Step::Pick(other(wizard.start));
    let previous = match &wizard.step {
        Step::Pick(_) => None,
        Step::Loading | Step::AlreadyTrusted { .. } => Some(chooser),
        Step::Full => (wizard.start == Side::Identity).then_some(chooser),
        Step::Fields => match wizard.mode {
            Mode::Create => Some(chooser),
            Mode::Edit { .. } => None,
        },
        Step::Review => Some(Step::Fields),
        Step::Failed { .. } => Some(Step::Review),
        Step::Saving { .. } => {
            here.toast(
                ToastLevel::Info,
                "The request is on its way; wait for its answer (nothing is lost).",
            );
            return Vec::new();
        }
        Step::Done { .. } => None,
    };
    match previous {
        Some(step) => {
            if wizard.step == Step::Loading {
                wizard.load_request = None;
            }
            wizard.step = step;
            Vec::new()
        }
        None if wizard.has_typed_values() => {
            wizard.confirm_discard = true;
            wizard.editing = false;
            let yes = here.key(Context::Question, Action::Confirm);
            here.toast(
                ToastLevel::Warning,
                format!(
                    "Discard the values typed in this FIC? {yes} discards · any other key stays"
                ),
            );
            Vec::new()
        }
        None => close(here),
    }
}

/// Leaves the wizard; after a save the screen below is reloaded.
fn close(here: &mut Here) -> Vec<Cmd> {
    let saved = matches!(wizard(here).map(|w| &w.step), Some(Step::Done { .. }));
    here.nav(if saved { Nav::PopAndReload } else { Nav::Pop });
    Vec::new()
}

fn move_cursor(here: &mut Here, delta: isize) -> Vec<Cmd> {
    let rows = picker_rows(here.screen, here.ctx).len();
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    match wizard.step {
        Step::Pick(_) => {
            wizard.picker_cursor = wizard
                .picker_cursor
                .saturating_add_signed(delta)
                .min(rows.saturating_sub(1));
        }
        Step::Fields => {
            wizard.focus = wizard
                .focus
                .saturating_add_signed(delta)
                .min(FieldId::ALL.len() - 1);
        }
        Step::Review => {
            wizard.review_scroll = (wizard.review_scroll as isize + delta).clamp(0, 200) as u16;
        }
        _ => {}
    }
    Vec::new()
}

/// Enter: the next step.
fn next(here: &mut Here) -> Vec<Cmd> {
    let Some(step) = wizard(here).map(|w| w.step.clone()) else {
        return Vec::new();
    };
    match step {
        Step::Pick(side) => choose(here, side),
        Step::Loading => {
            here.toast(ToastLevel::Info, "Reading the app's credentials…");
            Vec::new()
        }
        Step::AlreadyTrusted { .. } => {
            let (test, change, back) = (
                wk(here, Action::TestExchange),
                wk(here, Action::EditFic),
                wk(here, Action::Back),
            );
            here.toast(
                ToastLevel::Info,
                format!(
                    "Nothing to add: {test} tests the existing FIC, {change} changes it, {back} picks another."
                ),
            );
            Vec::new()
        }
        Step::Full => {
            here.toast(
                ToastLevel::Warning,
                "The app has 20 FICs; delete one (D in its FIC list) before adding another.",
            );
            Vec::new()
        }
        Step::Fields => to_review(here),
        Step::Review => save(here),
        Step::Failed { .. } => save(here),
        Step::Saving { .. } => Vec::new(),
        Step::Done { .. } => close(here),
    }
}

fn choose(here: &mut Here, side: Side) -> Vec<Cmd> {
    let cursor = wizard(here).map_or(0, |w| w.picker_cursor);
    match side {
        Side::Identity => {
            let picked = match picker_rows(here.screen, here.ctx) {
                PickerRows::Identities(rows) => rows.get(cursor).map(|r| (*r).clone()),
                PickerRows::Apps(_) => None,
            };
            let Some(identity) = picked else {
                return Vec::new();
            };
            if identity.kind == IdentityKind::SystemAssigned {
                here.toast(
                    ToastLevel::Warning,
                    format!(
                        "{} is {SYSTEM_ASSIGNED_WHY}. Choose a user-assigned one.",
                        identity.name
                    ),
                );
                return Vec::new();
            }
            let request = here.new_request();
            let Some(wizard) = wizard_mut(here) else {
                return Vec::new();
            };
            wizard.identity = Some(identity);
            wizard.picker_editing = false;
            // The app's FICs are not known and no read is under way (it failed): read again.
            if let Some(app) = &wizard.app
                && app.fics.is_none()
                && wizard.load_request.is_none()
            {
                let object_id = app.row.object_id.clone();
                wizard.load_request = Some(request);
                wizard.step = Step::Loading;
                return vec![Cmd::Wizard(WizardCmd::LoadApp { request, object_id })];
            }
            after_both_chosen(wizard);
            Vec::new()
        }
        Side::App => {
            let picked = match picker_rows(here.screen, here.ctx) {
                PickerRows::Apps(rows) => rows.get(cursor).map(|r| (*r).clone()),
                PickerRows::Identities(_) => None,
            };
            let Some(row) = picked else {
                return Vec::new();
            };
            let request = here.new_request();
            let Some(wizard) = wizard_mut(here) else {
                return Vec::new();
            };
            let object_id = row.object_id.clone();
            let same_app = wizard
                .app
                .as_ref()
                .is_some_and(|a| a.row.object_id == object_id && a.fics.is_some());
            wizard.picker_editing = false;
            if same_app {
                after_both_chosen(wizard);
                return Vec::new();
            }
            wizard.app = Some(WizardApp { row, fics: None });
            wizard.load_request = Some(request);
            wizard.step = Step::Loading;
            vec![Cmd::Wizard(WizardCmd::LoadApp { request, object_id })]
        }
    }
}

fn to_review(here: &mut Here) -> Vec<Cmd> {
    let fix_key = wk(here, Action::ApplyFix);
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    wizard.revalidate();
    let errors = wizard.errors().count();
    let blocking = wizard.errors().next().map(|first| {
        format!(
            "✗ {errors} error{} block saving. First, {}: {}{}",
            if errors == 1 { "" } else { "s" },
            first.field.label(),
            first.message,
            if first.fix.is_some() {
                format!(" ({fix_key} fixes it)")
            } else {
                String::new()
            }
        )
    });
    if let Some(text) = blocking {
        here.toast(ToastLevel::Error, text);
        return Vec::new();
    }
    if !wizard.warnings_acknowledged() {
        let (accept, fix, edit) = (
            wk(here, Action::AcknowledgeWarnings),
            wk(here, Action::ApplyFix),
            wk(here, Action::EditField),
        );
        here.toast(
            ToastLevel::Warning,
            format!("Read the warnings: {accept} accepts them and goes on, or fix them ({fix} / {edit})."),
        );
        return Vec::new();
    }
    if super::review::update_of(wizard).is_some_and(|u| u.is_ok_and(|(u, _)| u.is_empty())) {
        let (edit, fix) = (wk(here, Action::EditField), wk(here, Action::ApplyFix));
        here.toast(
            ToastLevel::Info,
            format!("Nothing changed yet: {edit} edits the selected field, {fix} applies a fix."),
        );
        return Vec::new();
    }
    wizard.step = Step::Review;
    Vec::new()
}

fn save(here: &mut Here) -> Vec<Cmd> {
    if here.read_only() {
        let copy = wk(here, Action::Copy);
        here.toast(
            ToastLevel::Warning,
            format!("Saving is off (--read-only): {copy} copies a snippet to run elsewhere."),
        );
        return Vec::new();
    }
    let request = here.new_request();
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    wizard.revalidate();
    if fic::has_errors(&wizard.findings) || !wizard.warnings_acknowledged() {
        wizard.step = Step::Fields;
        return to_review(here);
    }
    let Some(app) = &wizard.app else {
        return Vec::new();
    };
    let app_object_id = app.row.object_id.clone();
    let fic = wizard.draft();
    let cmd = match &wizard.mode {
        Mode::Create => WizardCmd::Create {
            request,
            app_object_id,
            fic,
        },
        Mode::Edit { .. } => match super::review::update_of(wizard) {
            Some(Ok((update, _))) => WizardCmd::Update {
                request,
                app_object_id,
                update,
            },
            Some(Err(error)) => {
                here.toast(ToastLevel::Error, error.to_string());
                return Vec::new();
            }
            None => return Vec::new(),
        },
    };
    wizard.step = Step::Saving { request };
    vec![Cmd::Wizard(cmd)]
}

fn retry(here: &mut Here) -> Vec<Cmd> {
    match wizard(here).map(|w| &w.step) {
        Some(Step::Failed { .. }) => save(here),
        _ => Vec::new(),
    }
}

/// `e`: type into the focused field.
fn edit(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    if wizard.step != Step::Fields {
        if wizard.step == Step::Review {
            wizard.step = Step::Fields;
        } else {
            return Vec::new();
        }
    }
    let focused = wizard.focused();
    if !wizard.editable(focused) {
        here.toast(
            ToastLevel::Info,
            "A FIC's name cannot change (Graph keys it by name). To rename, add a new FIC and delete this one.",
        );
        return Vec::new();
    }
    wizard.editing = true;
    Vec::new()
}

fn fix(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    if wizard.step != Step::Fields {
        return Vec::new();
    }
    match wizard.next_fix().cloned() {
        Some(fix) => {
            apply(wizard, &fix);
            if let Some(id) = FieldId::from_fic_field(fix.field) {
                wizard.focus = id as usize;
            }
            here.toast(ToastLevel::Success, format!("Fixed: {}.", fix.label));
        }
        None => here.toast(ToastLevel::Info, "No finding has a fix to apply."),
    }
    Vec::new()
}

fn acknowledge(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    if wizard.step != Step::Fields {
        return Vec::new();
    }
    let warnings: Vec<String> = wizard.warnings().map(|w| w.message.clone()).collect();
    if warnings.is_empty() {
        here.toast(ToastLevel::Info, "There are no warnings to accept.");
        return Vec::new();
    }
    wizard.acknowledged = warnings;
    let review = wk(here, Action::Open);
    here.toast(
        ToastLevel::Info,
        format!("Warnings accepted; {review} reviews the request."),
    );
    Vec::new()
}

fn edit_existing(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    let Step::AlreadyTrusted { fic } = &wizard.step else {
        return Vec::new();
    };
    let Some(fic_id) = fic.id.clone() else {
        return Vec::new();
    };
    let original = fic.clone();
    wizard.mode = Mode::Edit {
        fic_id,
        original: original.clone(),
    };
    fill_from(wizard, &original);
    wizard.step = Step::Fields;
    wizard.focus = 1;
    wizard.revalidate();
    Vec::new()
}

fn on_field_key(here: &mut Here, key: KeyEvent) -> Vec<Cmd> {
    let action = here.keymap.input_action(&key);
    let Some(wizard) = wizard_mut(here) else {
        return Vec::new();
    };
    match action {
        // Both keep what was typed: the draft follows every keystroke.
        Some(Action::Back | Action::Open) => wizard.editing = false,
        Some(Action::NextPane | Action::Down) => {
            wizard.focus = (wizard.focus + 1).min(FieldId::ALL.len() - 1);
            wizard.editing = wizard.editable(wizard.focused());
        }
        Some(Action::PreviousPane | Action::Up) => {
            wizard.focus = wizard.focus.saturating_sub(1);
            wizard.editing = wizard.editable(wizard.focused());
        }
        _ => {
            let event = ratatui::crossterm::event::Event::Key(key);
            if let Some(request) = to_input_request(&event) {
                let focused = wizard.focused();
                let field = wizard.field_mut(focused);
                if field.input.handle(request).is_some() {
                    field.fixed = None;
                    wizard.revalidate();
                }
            }
        }
    }
    Vec::new()
}

fn on_picker_filter_key(here: &mut Here, key: KeyEvent) -> Vec<Cmd> {
    match here.keymap.input_action(&key) {
        Some(Action::Back) => {
            if let Some(wizard) = wizard_mut(here) {
                wizard.picker_editing = false;
            }
            Vec::new()
        }
        Some(Action::Open) => {
            let side = match wizard(here).map(|w| &w.step) {
                Some(Step::Pick(side)) => *side,
                _ => return Vec::new(),
            };
            choose(here, side)
        }
        Some(Action::Down) => move_cursor(here, 1),
        Some(Action::Up) => move_cursor(here, -1),
        _ => {
            let event = ratatui::crossterm::event::Event::Key(key);
            if let Some(wizard) = wizard_mut(here)
                && let Some(request) = to_input_request(&event)
                && wizard.picker_filter.handle(request).is_some()
            {
                wizard.picker_cursor = 0;
            }
            Vec::new()
        }
    }
}

/// Bracketed paste: into the field or the filter being typed.
pub(super) fn on_paste(here: &mut Here, text: &str) -> Option<Vec<Cmd>> {
    let wizard = wizard_mut(here)?;
    // Pasted values are one line; trailing newlines from a copy are dropped, inner
    // whitespace kept so the rules can point at it.
    let clean = sanitize(text.trim_end_matches(['\n', '\r'])).into_owned();
    if wizard.editing {
        let focused = wizard.focused();
        let field = wizard.field_mut(focused);
        for c in clean.chars() {
            field.input.handle(InputRequest::InsertChar(c));
        }
        field.fixed = None;
        wizard.revalidate();
    } else if wizard.picker_editing || matches!(wizard.step, Step::Pick(_)) {
        wizard.picker_editing = true;
        for c in clean.trim().chars() {
            wizard.picker_filter.handle(InputRequest::InsertChar(c));
        }
        wizard.picker_cursor = 0;
    } else {
        let edit = wk(here, Action::EditField);
        here.toast(
            ToastLevel::Info,
            format!("To paste into a field, select it and press {edit} first."),
        );
    }
    Some(Vec::new())
}
fn copy(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard(here) else {
        return Vec::new();
    };
    let picked = match &wizard.step {
        Step::Review | Step::Failed { .. } => review_snippets(wizard)
            .get(wizard.review_tab)
            .map(|(label, text)| (format!("the {label}"), text.clone())),
        Step::Fields => {
            let focused = wizard.focused();
            Some((
                format!("the {}", focused.label()),
                wizard.field(focused).input.value().to_string(),
            ))
        }
        Step::Done { stored } => stored.id.clone().map(|id| ("the FIC's id".to_string(), id)),
        _ => None,
    };
    match picked {
        Some((what, text)) => {
            here.toast(ToastLevel::Info, crate::terminal::sent_to_clipboard(&what));
            vec![Cmd::copy(text)]
        }
        None => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Use it in your workload (#16)

/// The saved FIC's code per SDK: the app, the identity, the tenant the wizard worked in.
fn workload_code(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard(here) else {
        return Vec::new();
    };
    let values = match (&wizard.step, &wizard.app, &wizard.identity) {
        (Step::Done { stored: fic } | Step::AlreadyTrusted { fic }, Some(app), Some(identity)) => {
            crate::screens::workload::values_for(
                &wizard.cloud,
                &app.row,
                identity,
                &wizard.tenant_id,
                None,
                Some(fic),
            )
        }
        _ => {
            here.toast(
                ToastLevel::Info,
                "The workload's code is ready once the FIC is saved.",
            );
            return Vec::new();
        }
    };
    here.nav(Nav::OpenWorkload(Box::new(values)));
    Vec::new()
}

// ---------------------------------------------------------------------------------------------
// Test exchange

fn test_exchange(here: &mut Here) -> Vec<Cmd> {
    let Some(wizard) = wizard(here) else {
        return Vec::new();
    };
    let just_created = match &wizard.step {
        Step::Done { .. } => !wizard.is_edit(),
        Step::AlreadyTrusted { .. } => false,
        _ => {
            here.toast(
                ToastLevel::Info,
                "The test exchange runs once the FIC is saved (or from an existing one).",
            );
            return Vec::new();
        }
    };
    let (Some(app), Some(identity)) = (&wizard.app, &wizard.identity) else {
        here.toast(
            ToastLevel::Info,
            "The FIC's subject is not an identity ficus knows; the exchange needs one.",
        );
        return Vec::new();
    };
    // The exchange screen (#7) opens above the wizard; Esc there comes back here.
    let entry = ExchangeEntry {
        app: Some(AppChoice::from(&app.row)),
        identity: Some(identity.clone()),
        just_created,
        run: true,
        ..ExchangeEntry::default()
    };
    here.nav(Nav::OpenExchange(Box::new(entry)));
    Vec::new()
}
