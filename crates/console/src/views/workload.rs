//! "Use it in your workload": the tabs (one per SDK), what was filled in, and the snippet.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::screens::workload::WorkloadScreen;
use crate::state::State;
use ficus_core::text::{display_width, sanitize};
use ficus_core::workload::Shape;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &WorkloadScreen) {
    let theme = &state.theme;
    let area = area.inner(ratatui::layout::Margin::new(1, 0));
    let values = &screen.values;
    let mut tabs: Vec<Span> = Vec::new();
    for (index, shape) in Shape::ALL.iter().enumerate() {
        if index > 0 {
            tabs.push(Span::styled(" │ ", theme.muted));
        }
        let style = if index == screen.tab {
            theme.selection
        } else {
            theme.text
        };
        tabs.push(Span::styled(shape.label(), style));
    }
    let head = vec![
        Line::from(vec![
            Span::styled("Use it in your workload", theme.title),
            Span::styled(
                format!(
                    "  {} trusts {} · tenant {} · {}",
                    sanitize(&values.app_name),
                    sanitize(&values.identity_name),
                    sanitize(&values.resource_tenant),
                    sanitize(&values.scope)
                ),
                theme.muted,
            ),
        ]),
        Line::from(tabs),
        Line::from(Span::styled(
            format!(
                "The SDK selects the identity by its client id {}; the FIC's subject is its principal id {}.",
                sanitize(&values.identity_client_id),
                sanitize(&values.identity_principal_id)
            ),
            theme.muted,
        )),
    ];
    // Each head line wraps to ceil(width / area width) rows; the code keeps the rest.
    let width = usize::from(area.width.max(1));
    let head_rows: usize = head
        .iter()
        .map(|line| {
            let chars: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            display_width(&chars).div_ceil(width).max(1)
        })
        .sum();
    let head_height = head_rows.min(usize::from(area.height / 2)) as u16;
    let [head_area, code_area] =
        Layout::vertical([Constraint::Length(head_height), Constraint::Min(1)]).areas(area);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_area);

    let shape = screen.shape();
    let code: Vec<Line> = screen
        .snippet()
        .lines()
        // Tabs (Go) as four spaces: a terminal cell cannot show a tab.
        .map(|line| Line::from(Span::styled(line.replace('\t', "    "), theme.code)))
        .collect();
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" {} · {} ", shape.label(), shape.file_name()),
            theme.accent,
        ));
    frame.render_widget(
        Paragraph::new(code).block(block).scroll((screen.scroll, 0)),
        code_area,
    );
}
