//! One managed identity: its ids and ARM id, and the apps that trust it (a reverse lookup over
//! the apps' FICs), each with whether the trust is set up correctly.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};

use super::{field, titled_pane, wrapped_lines};
use crate::keymap::{Action, Context};
use crate::model::{IdentityKind, Severity};
use crate::state::{IdentityDetailScreen, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &IdentityDetailScreen) {
    let theme = &state.theme;
    let identity = screen
        .detail
        .as_ref()
        .map_or(&screen.identity, |d| &d.identity);
    let none = || "—".to_string();
    let kind = match identity.kind {
        IdentityKind::UserAssigned => Span::styled("user-assigned", theme.ok),
        IdentityKind::SystemAssigned => Span::styled(
            "system-assigned ✗ not usable for FICs (Entra accepts only user-assigned identities)",
            theme.warn,
        ),
    };
    let lines = vec![
        Line::from(Span::styled(identity.name.clone(), theme.title)),
        Line::from(vec![
            Span::styled(format!("{:<16}", "kind"), theme.muted),
            kind,
        ]),
        field(
            "client id",
            identity.client_id.clone(),
            theme.muted,
            theme.text,
        ),
        field(
            "principal id",
            format!("{}  (a FIC's subject)", identity.principal_id),
            theme.muted,
            theme.text,
        ),
        field(
            "resource group",
            identity.resource_group.clone().unwrap_or_else(none),
            theme.muted,
            theme.text,
        ),
        field(
            "subscription",
            identity.subscription.clone().unwrap_or_else(none),
            theme.muted,
            theme.text,
        ),
        field(
            "ARM id",
            identity.arm_id.clone().unwrap_or_else(none),
            theme.muted,
            theme.text,
        ),
    ];
    // The ARM id is long and wraps; give it the lines it needs.
    let width = area.width.saturating_sub(2).max(20) as usize;
    let arm_lines = identity
        .arm_id
        .as_ref()
        .map_or(1, |arm| (arm.chars().count() + 16).div_ceil(width));
    let [top, bottom] = Layout::vertical([
        Constraint::Length(lines.len() as u16 + arm_lines as u16),
        Constraint::Min(3),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        top.inner(ratatui::layout::Margin::new(1, 0)),
    );
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.accent)
        .title(Span::styled(" Apps that trust this identity ", theme.title));
    let Some(detail) = &screen.detail else {
        let text = match &screen.error {
            Some(error) => format!(
                "✗ Could not look up trusting apps: {error}. Press {} to retry.",
                super::key(state, Context::IdentityDetail, Action::Refresh)
            ),
            None => "Looking up apps whose FICs name this identity…".to_string(),
        };
        frame.render_widget(Paragraph::new(text).style(theme.muted).block(block), bottom);
        return;
    };
    // Graph's query index behind the lookup lags behind writes: say so when it matters.
    let lag_note = detail.lag_note.as_ref().map(|note| format!("i {note}"));
    if detail.trusted_by.is_empty() {
        let mut lines = vec![Line::from(format!(
            "No app trusts this identity yet. Press {} to let an app trust it (FIC wizard).",
            super::key(state, Context::IdentityDetail, Action::AddFic)
        ))];
        if let Some(note) = lag_note {
            lines.push(Line::from(note));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .style(theme.muted)
                .wrap(Wrap { trim: false })
                .block(block),
            bottom,
        );
        return;
    }
    let bottom = match &lag_note {
        Some(note) => {
            let height = wrapped_lines(note, area.width.max(20) as usize) as u16;
            let [note_area, rest] =
                Layout::vertical([Constraint::Length(height), Constraint::Min(3)]).areas(bottom);
            frame.render_widget(
                Paragraph::new(note.as_str())
                    .style(theme.muted)
                    .wrap(Wrap { trim: false }),
                note_area,
            );
            rest
        }
        None => bottom,
    };
    // The selected trust's findings in full under the table (its column cuts them short).
    let selected = detail.trusted_by.get(screen.cursor);
    let finding_texts: Vec<(Severity, String)> = selected
        .map(|trust| {
            trust
                .findings
                .iter()
                .filter(|f| f.severity != Severity::Info)
                .take(4)
                .map(|f| {
                    (
                        f.severity,
                        format!(
                            "{} {} {}: {}",
                            f.severity.glyph(),
                            f.severity.word(),
                            f.field,
                            f.message
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let findings_height = if finding_texts.is_empty() {
        0
    } else {
        let width = area.width.max(20) as usize;
        let lines: usize = finding_texts
            .iter()
            .map(|(_, text)| wrapped_lines(text, width))
            .sum();
        lines.min(10) as u16 + 1
    };
    let [table_area, findings_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(findings_height)]).areas(bottom);
    let rows = detail.trusted_by.iter().map(|trust| {
        let verdict = if trust.is_correct() {
            Line::from(Span::styled("✓ correct", theme.ok))
        } else {
            let first = trust
                .findings
                .iter()
                .min_by_key(|f| f.severity)
                .map(|f| format!("{} {}: {}", f.severity.glyph(), f.field, f.message))
                .unwrap_or_default();
            Line::from(Span::styled(first, theme.error))
        };
        TableRow::new(vec![
            Cell::from(trust.app_name.clone()),
            Cell::from(trust.fic_name.clone()),
            Cell::from(verdict),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(20),
            Constraint::Min(20),
        ],
    )
    .header(TableRow::new(
        ["app", "FIC", "trust"].map(|t| Cell::from(Span::styled(t, theme.title))),
    ))
    .block(block)
    .row_highlight_style(theme.selection)
    .highlight_symbol("▶ ");
    let mut table_state = TableState::default().with_selected(Some(screen.cursor));
    frame.render_stateful_widget(table, table_area, &mut table_state);
    if let Some(trust) = selected.filter(|_| findings_height > 0) {
        let lines: Vec<Line> = finding_texts
            .into_iter()
            .map(|(severity, text)| {
                let style = match severity {
                    Severity::Error => theme.error,
                    _ => theme.warn,
                };
                Line::from(Span::styled(text, style))
            })
            .collect();
        frame.render_widget(
            titled_pane(
                lines,
                format!(" {} · {} ", trust.app_name, trust.fic_name),
                theme,
            ),
            findings_area,
        );
    }
}
