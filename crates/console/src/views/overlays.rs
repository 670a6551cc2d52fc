//! Layers drawn over the screen: help, the command palette, delete confirmation, export, and
//! text panels (whois, explain, decode).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::component::{Command, footer_hints, keymap_commands, keys_for};
use crate::filter::FACET_HELP;
use crate::keymap::keys_label;
use crate::keymap::{Action, Context};
use crate::state::{HelpScreen, Overlay, State};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn panel<'a>(state: &State, title: String) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(state.theme.accent)
        .title(Span::styled(format!(" {title} "), state.theme.title))
        .style(state.theme.text)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overlay: &Overlay) {
    let theme = &state.theme;
    match overlay {
        Overlay::Help(HelpScreen { scroll }) => {
            let context = state.context();
            let mut lines = vec![Line::from(Span::styled(
                format!("Keys on this screen ({})", context.title()),
                theme.muted,
            ))];
            // The screen's table says what is off right now, and why.
            let commands = state
                .stack
                .last()
                .and_then(crate::state::Screen::component_ref)
                .map(|c| c.commands(&state.ctx()))
                .unwrap_or_default();
            for binding in state.keymap.for_context(context) {
                let keys: Vec<String> = binding.keys.iter().map(|k| keys_label(k)).collect();
                let mut spans = vec![
                    Span::styled(format!("{:<16}", keys.join(", ")), theme.accent),
                    Span::raw(binding.description),
                ];
                if let Some(why) = commands
                    .iter()
                    .find(|c| c.action == binding.action)
                    .and_then(|c| c.disabled.as_ref())
                {
                    spans.push(Span::styled(format!(" — not now: {why}"), theme.muted));
                }
                lines.push(Line::from(spans));
            }
            // The keys of a text input with focus (`[input]` in keymap.toml).
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled(
                format!("While {}", Context::Input.title()),
                theme.muted,
            )));
            for binding in state
                .keymap
                .bindings()
                .iter()
                .filter(|b| b.context == Context::Input)
            {
                let keys: Vec<String> = binding.keys.iter().map(|k| keys_label(k)).collect();
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<16}", keys.join(", ")), theme.accent),
                    Span::raw(binding.description),
                ]));
            }
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled(
                format!("Filter: fuzzy name; {FACET_HELP}"),
                theme.muted,
            )));
            lines.push(Line::from(Span::styled(
                format!(
                    "Palette ({}): app or identity name, apps, identities, tenant NAME, whois GUID, explain AADSTS…, decode TOKEN, theme NAME",
                    super::key(state, context, crate::keymap::Action::Palette)
                ),
                theme.muted,
            )));
            lines.push(Line::from(Span::styled(
                format!(
                    "Rebind keys in keymap.toml in the config directory (e.g. quit = [\"q\", \"ctrl-q\"]; README.md shows more). {}",
                    keys_line(state, Context::Panel, false)
                ),
                theme.muted,
            )));
            let rect = centered(area, 90, area.height);
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((*scroll, 0))
                    .block(panel(state, "Help".into())),
                rect,
            );
        }
        Overlay::Palette(palette) => {
            let height = (palette.suggestions.len() as u16 + 4).min(area.height);
            let rect = Rect {
                height,
                ..centered(area, 72, height)
            };
            let rect = Rect {
                y: area.y + 1,
                ..rect
            };
            frame.render_widget(Clear, rect);
            let block = panel(state, "Command palette".into());
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let [input_area, _, list_area] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Min(0),
            ])
            .areas(inner);
            let width = input_area.width.saturating_sub(2) as usize;
            let scroll = palette.input.visual_scroll(width);
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(": ", theme.accent),
                    Span::raw(palette.input.value().to_string()),
                ]))
                .scroll((0, scroll as u16)),
                input_area,
            );
            let cursor =
                input_area.x + 2 + (palette.input.visual_cursor().saturating_sub(scroll)) as u16;
            frame.set_cursor_position((
                cursor.min(input_area.right().saturating_sub(1)),
                input_area.y,
            ));
            let lines: Vec<Line> = palette
                .suggestions
                .iter()
                .enumerate()
                .map(|(i, suggestion)| {
                    let style = if i == palette.selected {
                        theme.selection
                    } else {
                        theme.text
                    };
                    Line::from(vec![
                        Span::styled(if i == palette.selected { "▶ " } else { "  " }, style),
                        Span::styled(suggestion.label.clone(), style),
                        Span::styled(format!("  {}", suggestion.detail), theme.muted),
                    ])
                })
                .collect();
            frame.render_widget(Paragraph::new(lines), list_area);
        }
        Overlay::ConfirmDelete(confirm) => {
            let lines = vec![
                Line::from(vec![
                    Span::styled("Delete FIC ", theme.warn),
                    Span::styled(confirm.fic_name.clone(), theme.title),
                    Span::styled(" from ", theme.warn),
                    Span::styled(confirm.app_name.clone(), theme.title),
                    Span::styled("?", theme.warn),
                ]),
                Line::raw(""),
                Line::from(Span::styled("This request will be sent:", theme.muted)),
                Line::from(Span::styled(confirm.request_line.clone(), theme.code)),
                Line::raw(""),
                Line::raw(
                    "Workloads that use it will fail their next token exchange (AADSTS70021).",
                ),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(
                        keys_for(&state.keymap, Context::Question, Action::Confirm)
                            .unwrap_or_default(),
                        theme.error,
                    ),
                    Span::raw(" delete   "),
                    Span::styled("any other key", theme.accent),
                    Span::raw(" keep it"),
                ]),
            ];
            let rect = centered(area, 96, 12);
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(panel(state, "! Confirm delete".into())),
                rect,
            );
        }
        Overlay::Export(export) => {
            let mut tabs = vec![Span::raw(" ")];
            for (i, (label, _)) in export.snippets.iter().enumerate() {
                let style = if i == export.tab {
                    theme.selection
                } else {
                    theme.muted
                };
                tabs.push(Span::styled(format!(" {label} "), style));
                tabs.push(Span::raw(" "));
            }
            let mut lines = vec![Line::from(tabs), Line::raw("")];
            if !export.warnings.is_empty() {
                lines.push(Line::from(Span::styled(
                    "✗ This FIC has errors: as exported it will not work (f in App detail fixes it).",
                    theme.error,
                )));
                for warning in &export.warnings {
                    lines.push(Line::from(Span::styled(
                        format!("  ✗ {warning}"),
                        theme.error,
                    )));
                }
                lines.push(Line::raw(""));
            }
            if let Some((_, text)) = export.snippets.get(export.tab) {
                lines.extend(
                    text.lines()
                        .map(|l| Line::from(Span::styled(l.to_string(), theme.code))),
                );
            } else {
                lines.push(Line::raw("Nothing to export for this FIC."));
            }
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled(
                keys_line(state, Context::ExportView, true),
                theme.muted,
            )));
            let rect = centered(area, 100, area.height);
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(panel(state, format!("Export {}", export.fic_name))),
                rect,
            );
        }
        Overlay::Text(text) if text.unwrapped => {
            // The whole width, no side borders: a value's line holds the value alone, so a
            // triple-click or a drag copies it whole.
            let mut lines: Vec<Line> = text
                .lines
                .iter()
                .map(|l| {
                    if l.ends_with(':') {
                        Line::from(Span::styled(l.clone(), theme.muted))
                    } else {
                        Line::raw(l.clone())
                    }
                })
                .collect();
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled(
                format!(
                    "one line each, not wrapped · {} · {}",
                    crate::component::hints_line(
                        &[Command::new(Action::PreviousPane, "sideways").with(Action::NextPane)],
                        &state.keymap,
                        Context::Panel,
                    ),
                    keys_line(state, Context::Panel, true)
                ),
                theme.muted,
            )));
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(lines)
                    .scroll((text.scroll, text.scroll_x))
                    .block(
                        Block::new()
                            .borders(ratatui::widgets::Borders::TOP)
                            .border_style(state.theme.accent)
                            .title(Span::styled(format!(" {} ", text.title), theme.title))
                            .style(theme.text),
                    ),
                area,
            );
        }
        Overlay::Text(text) => {
            let mut lines: Vec<Line> = text.lines.iter().map(|l| Line::raw(l.clone())).collect();
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled(
                keys_line(state, Context::Panel, true),
                theme.muted,
            )));
            let height = (lines.len() as u16 + 2).min(area.height);
            let rect = centered(area, 100, height);
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((text.scroll, 0))
                    .block(panel(state, text.title.clone())),
                rect,
            );
        }
    }
}

/// An overlay's keys as the keymap binds them (`j/k scroll · y copy · Esc close`); `copy`
/// only where there is something to copy.
fn keys_line(state: &State, context: Context, copy: bool) -> String {
    let mut commands = Vec::new();
    if context == Context::Panel {
        commands.push(Command::new(Action::Down, "scroll").with(Action::Up));
    }
    commands.extend(
        keymap_commands(&state.keymap, context)
            .into_iter()
            // The overlay's own keys: the console's global ones do nothing under it.
            .filter(|c| {
                state
                    .keymap
                    .bindings()
                    .iter()
                    .any(|b| b.context == context && b.action == c.action)
            })
            .filter(|c| copy || c.action != Action::Copy),
    );
    footer_hints(&commands, &state.keymap, context)
        .into_iter()
        .map(|(keys, label)| format!("{keys} {label}"))
        .collect::<Vec<_>>()
        .join(" · ")
}
