//! Keys while an overlay is open: help, text panels, the delete confirmation, the export view
//! and the palette.

use ratatui::crossterm::event::KeyEvent;

use super::navigate::apply;
use super::palette::run_palette;
use crate::component::{Component, Outcome};
use crate::keymap::{Action, Chord, Context, Lookup};
use crate::msg::Cmd;
use crate::nav::Nav;
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
    // Help and the palette are components: the panel's keys for help, every key typed into
    // the palette.
    let help_action = overlay_action(state, Context::Panel, &key);
    let (overlay, ctx) = state.split_overlay();
    let outcome = match overlay {
        Some(Overlay::Help(help)) => Some(match help_action {
            Some(action) => help.on_action(action, &ctx),
            None => Outcome::default(),
        }),
        Some(Overlay::Palette(palette)) => Some(palette.on_key(key, &ctx).unwrap_or_default()),
        _ => None,
    };
    if let Some(mut outcome) = outcome {
        if let Some(Nav::RunPalette(run)) = outcome.nav.take_if(|n| matches!(n, Nav::RunPalette(_)))
        {
            state.overlay = None;
            let mut cmds = apply(state, outcome);
            cmds.extend(run_palette(state, &run.input, run.chosen));
            return cmds;
        }
        return apply(state, outcome);
    }
    let context = match &state.overlay {
        None | Some(Overlay::Help(_) | Overlay::Palette(_)) => return Vec::new(),
        Some(Overlay::Text(_)) => Context::Panel,
        Some(Overlay::Export(_)) => Context::ExportView,
        Some(Overlay::ConfirmDelete(_)) => Context::Question,
    };
    let action = overlay_action(state, context, &key);
    let Some(overlay) = state.overlay.as_mut() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Text(TextPanel {
            scroll,
            scroll_x,
            unwrapped,
            ..
        }) => match action {
            Some(Action::Down) => *scroll = scroll.saturating_add(1),
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            // Sideways, a quarter of a GUID at a time.
            Some(Action::NextPane) if *unwrapped => *scroll_x = scroll_x.saturating_add(8),
            Some(Action::PreviousPane) if *unwrapped => *scroll_x = scroll_x.saturating_sub(8),
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
        Overlay::Help(_) | Overlay::Palette(_) => {}
    }
    Vec::new()
}
