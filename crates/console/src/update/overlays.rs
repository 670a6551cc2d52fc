//! Keys while an overlay is open: help, text panels, the delete confirmation, the export view
//! and the palette.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::backend::crossterm::to_input_request;

use super::palette::{refresh_suggestions, run_palette};
use crate::keymap::{Action, Chord, Context, Lookup};
use crate::msg::Cmd;
use crate::state::{Overlay, Screen, State, TextPanel, ToastLevel};

/// The overlay's action for `key`, from the keymap (its own bindings only: the console's
/// global keys do nothing under an overlay).
fn overlay_action(state: &State, context: Context, key: &KeyEvent) -> Option<Action> {
    match state.keymap.lookup(context, &[], Chord::from_event(key)) {
        Lookup::Action(action)
            if state
                .keymap
                .bindings()
                .iter()
                .any(|b| b.context == context && b.action == action) =>
        {
            Some(action)
        }
        _ => None,
    }
}

pub(super) fn on_overlay_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    let context = match &state.overlay {
        None => return Vec::new(),
        Some(Overlay::Help { .. } | Overlay::Text(_)) => Context::Panel,
        Some(Overlay::Export(_)) => Context::ExportView,
        Some(Overlay::ConfirmDelete(_)) => Context::Question,
        // The palette is an input: its keys are typed into it.
        Some(Overlay::Palette(_)) => Context::Global,
    };
    let action = overlay_action(state, context, &key);
    let Some(overlay) = state.overlay.as_mut() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Help { scroll } | Overlay::Text(TextPanel { scroll, .. }) => match action {
            Some(Action::Down) => *scroll = scroll.saturating_add(1),
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            Some(Action::Copy) => {
                if let Overlay::Text(panel) = overlay {
                    let text = panel.lines.join("\n");
                    state.toast(
                        ToastLevel::Info,
                        crate::terminal::sent_to_clipboard("the panel's text"),
                    );
                    return vec![Cmd::copy(text)];
                }
            }
            Some(Action::Back) => state.overlay = None,
            _ => {}
        },
        Overlay::ConfirmDelete(confirm) => match action {
            Some(Action::Confirm) => {
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
        Overlay::Export(export) => match action {
            Some(Action::NextPane) => {
                export.tab = (export.tab + 1) % export.snippets.len().max(1);
            }
            Some(Action::PreviousPane) => {
                let len = export.snippets.len().max(1);
                export.tab = (export.tab + len - 1) % len;
            }
            Some(Action::Copy) => {
                if let Some((label, text)) = export.snippets.get(export.tab) {
                    let (label, text) = (label.clone(), text.clone());
                    state.toast(
                        ToastLevel::Info,
                        crate::terminal::sent_to_clipboard(format!("the {label} snippet")),
                    );
                    return vec![Cmd::copy(text)];
                }
            }
            Some(Action::Back) => state.overlay = None,
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
