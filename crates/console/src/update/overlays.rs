//! Keys while an overlay is open: help, text panels, the delete confirmation, the export view
//! and the palette.

use super::prelude::*;

pub(super) fn on_overlay_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
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
