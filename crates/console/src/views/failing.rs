//! Failing workloads: one row per app, presented identity and AADSTS code (most failures
//! first), and under them the selected one in words with the FIC at fault and its fix.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};

use super::{titled_pane, wrapped_lines};
use crate::component::key_named;
use crate::evidence::FailingReport;
use crate::keymap::{Action, Context};
use crate::screens::failing::FailingScreen;
use crate::state::State;
use ficus_core::text::relative_time;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &FailingScreen) {
    let theme = &state.theme;
    let window_key = key_named(&state.keymap, Context::Failing, Action::ToggleWindow);
    let title = format!(
        " Failing workloads · {} ({window_key} switches) ",
        screen.window.label()
    );
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.accent)
        .title(Span::styled(title, theme.title));
    let message = |text: String, style| {
        Paragraph::new(text)
            .style(style)
            .wrap(Wrap { trim: false })
            .block(block.clone())
    };
    let rows = match (&screen.report, &screen.error) {
        (_, Some(error)) if screen.rows().is_empty() => {
            let retry = key_named(&state.keymap, Context::Failing, Action::Refresh);
            let back = key_named(&state.keymap, Context::Failing, Action::Back);
            frame.render_widget(
                message(
                    format!("✗ Could not read the sign-in logs: {error}\n  Press {retry} to retry, {back} to go back."),
                    theme.error,
                ),
                area,
            );
            return;
        }
        (None, _) => {
            frame.render_widget(
                message(
                    format!(
                        "Reading the failed workload sign-ins of the {}…",
                        screen.window.label()
                    ),
                    theme.muted,
                ),
                area,
            );
            return;
        }
        (Some(FailingReport::Unavailable(why)), _) => {
            frame.render_widget(
                message(format!("No failing workloads to show: {why}."), theme.warn),
                area,
            );
            return;
        }
        (Some(FailingReport::Rows(rows)), _) if rows.is_empty() => {
            frame.render_widget(
                message(
                    format!(
                        "✓ No workload sign-in failed in the {}.",
                        screen.window.label()
                    ),
                    theme.ok,
                ),
                area,
            );
            return;
        }
        (Some(FailingReport::Rows(rows)), _) => rows,
    };

    let selected = rows.get(screen.cursor);
    let width = area.width.max(20) as usize;
    let detail_lines: Vec<(String, String)> = selected
        .map(|row| {
            let mut lines = vec![(String::new(), row.summary.clone())];
            if let Some(fault) = &row.fault {
                if let Some((_, value, label)) = &fault.fix {
                    let key = key_named(&state.keymap, Context::Failing, Action::FixFic);
                    lines.push((format!("{key} fixes: "), format!("{label} ({value})")));
                }
            } else if let Some(reason) = &row.reason {
                lines.push(("Entra says: ".into(), reason.clone()));
            }
            lines
        })
        .unwrap_or_default();
    let detail_height: usize = detail_lines
        .iter()
        .map(|(label, text)| wrapped_lines(&format!("{label}{text}"), width))
        .sum::<usize>()
        + 1;
    let [table_area, detail_area] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(detail_height.min(area.height as usize / 2) as u16),
    ])
    .areas(area);

    let wide = area.width >= 100;
    let table_rows = rows.iter().map(|row| {
        let mut cells = vec![
            Cell::from(Span::styled(format!("✗ {}", row.count), theme.error)),
            Cell::from(format!("AADSTS{}", row.error_code)),
            Cell::from(row.app_name.clone()),
            Cell::from(
                row.identity
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |(_, name)| name.clone()),
            ),
            Cell::from(Span::styled(
                row.last
                    .map_or_else(String::new, |at| relative_time(at, state.now)),
                theme.muted,
            )),
        ];
        if wide {
            cells.push(Cell::from(Span::styled(
                row.fault
                    .as_ref()
                    .map_or_else(|| "no FIC at fault".to_string(), |f| f.fic.name.clone()),
                theme.muted,
            )));
        }
        TableRow::new(cells)
    });
    let mut widths = vec![
        Constraint::Length(8),
        Constraint::Length(14),
        Constraint::Min(14),
        Constraint::Length(16),
        Constraint::Length(16),
    ];
    let mut titles = vec!["fails", "code", "app", "identity", "last"];
    if wide {
        widths.push(Constraint::Length(24));
        titles.push("FIC at fault");
    }
    let header = TableRow::new(
        titles
            .into_iter()
            .map(|t| Cell::from(Span::styled(t, theme.title))),
    );
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(theme.selection)
        .highlight_symbol("▶ ");
    let mut table_state = TableState::default().with_selected(Some(screen.cursor));
    frame.render_stateful_widget(table, table_area, &mut table_state);

    if let Some(row) = selected {
        let lines: Vec<Line> = detail_lines
            .into_iter()
            .map(|(label, text)| {
                Line::from(vec![Span::styled(label, theme.accent), Span::raw(text)])
            })
            .collect();
        frame.render_widget(
            titled_pane(lines, format!(" {} ", row.app_name), theme),
            detail_area,
        );
    }
}
