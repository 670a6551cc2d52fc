//! The Apps and Identities lists. Only the rows on screen are turned into widgets, so a
//! 100 000-row list draws as fast as a 20-row one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table, TableState};

use super::short_id;
use crate::tui::filter::{Listing, Load, Row};
use crate::tui::model::{
    AppRow, ExpiryFlag, IdentityKind, IdentityRow, expiry_flag, relative_time,
};
use crate::tui::state::State;
use crate::tui::theme::Theme;

/// Wide enough to show GUIDs whole.
const WIDE: u16 = 120;

pub fn draw_apps(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let wide = area.width >= WIDE;
    let id_width = if wide { 36 } else { 9 };
    let fixed = [
        id_width,
        4,
        if wide { 30 } else { 25 },
        if wide { 16 } else { 13 },
    ];
    let widths = with_name_column(area.width, &fixed);
    draw_listing(
        frame,
        area,
        state,
        &state.apps,
        &widths,
        "apps",
        |app: &AppRow| {
            let credentials = credentials_cell(app, state.now, theme);
            TableRow::new(vec![
                Cell::from(app.name.clone()),
                Cell::from(Span::styled(short_id(&app.app_id, wide), theme.muted)),
                Cell::from(match app.fic_count {
                    Some(n) => Span::raw(format!("{n:>3}")),
                    None => Span::styled("  …", theme.muted),
                }),
                Cell::from(credentials),
                Cell::from(Span::raw(app.audience.label().to_string())),
            ])
        },
    );
}

/// "2 · ! in 10 days": how many credentials, and the nearest expiry with its flag in a glyph
/// and words, coloured as well.
fn credentials_cell(app: &AppRow, now: time::OffsetDateTime, theme: &Theme) -> Line<'static> {
    if app.credentials.is_empty() {
        return Line::from(Span::styled("none", theme.muted));
    }
    let count = app.credentials.len();
    let Some(expires) = app.nearest_expiry().and_then(|c| c.expires) else {
        return Line::from(format!("{count} · no end date"));
    };
    let (glyph, style) = match expiry_flag(expires, now) {
        ExpiryFlag::Expired => ("✗ expired", theme.error),
        ExpiryFlag::Soon => ("!", theme.warn),
        ExpiryFlag::Fine => ("✓", theme.ok),
    };
    Line::from(vec![
        Span::raw(format!("{count} · ")),
        Span::styled(format!("{glyph} {}", relative_time(expires, now)), style),
    ])
}

pub fn draw_identities(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let wide = area.width >= WIDE;
    let fixed = [
        if wide { 36 } else { 9 },
        if wide { 36 } else { 9 },
        if wide { 16 } else { 14 },
        if wide { 12 } else { 9 },
    ];
    let widths = with_name_column(area.width, &fixed);
    draw_listing(
        frame,
        area,
        state,
        &state.identities,
        &widths,
        "identities",
        |identity: &IdentityRow| {
            let name = match identity.kind {
                IdentityKind::UserAssigned => Line::from(identity.name.clone()),
                IdentityKind::SystemAssigned => Line::from(vec![
                    Span::styled(identity.name.clone(), theme.muted),
                    Span::styled(
                        if wide {
                            " (system-assigned: not usable for FICs)"
                        } else {
                            " ✗ system-assigned"
                        },
                        theme.muted,
                    ),
                ]),
            };
            let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".into());
            TableRow::new(vec![
                Cell::from(name),
                Cell::from(Span::styled(
                    short_id(&identity.client_id, wide),
                    theme.muted,
                )),
                Cell::from(Span::styled(
                    short_id(&identity.principal_id, wide),
                    theme.muted,
                )),
                Cell::from(optional(&identity.resource_group)),
                Cell::from(Span::styled(
                    identity
                        .subscription
                        .as_deref()
                        .map(|s| short_id(s, false))
                        .unwrap_or_else(|| "—".into()),
                    theme.muted,
                )),
            ])
        },
    );
}

/// Exact widths: the name takes what the fixed columns, the gaps and the cursor mark leave.
fn with_name_column(total: u16, fixed: &[u16]) -> Vec<Constraint> {
    let used: u16 = fixed.iter().sum::<u16>() + fixed.len() as u16 + 2;
    std::iter::once(Constraint::Length(total.saturating_sub(used).max(10)))
        .chain(fixed.iter().map(|w| Constraint::Length(*w)))
        .collect()
}

fn draw_listing<T: Row>(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    listing: &Listing<T>,
    widths: &[Constraint],
    noun: &str,
    to_row: impl Fn(&T) -> TableRow<'static>,
) {
    let theme = &state.theme;
    if listing.visible_len() == 0 {
        let message = match (&listing.load, listing.len()) {
            (Load::Idle | Load::Loading { .. }, 0) => format!("Loading {noun}…"),
            (Load::Failed(error), 0) => {
                format!("✗ Could not load {noun}: {error}\n  Press r to retry.")
            }
            (Load::Done, 0) => format!("No {noun} in this tenant."),
            _ => format!(
                "No {noun} match the filter. Esc clears it; {}",
                crate::tui::filter::FACET_HELP
            ),
        };
        frame.render_widget(
            Paragraph::new(message)
                .style(theme.muted)
                .wrap(ratatui::widgets::Wrap { trim: false }),
            area.inner(ratatui::layout::Margin::new(1, 1)),
        );
        return;
    }
    let height = area.height.saturating_sub(1) as usize;
    let offset = listing.scroll_for(height);
    let rows: Vec<TableRow> = listing.visible_rows(offset, height).map(to_row).collect();
    let sort = listing.sort();
    let header = TableRow::new(T::columns().iter().enumerate().map(|(i, title)| {
        let marker = match sort {
            Some((column, false)) if column == i => " ▲",
            Some((column, true)) if column == i => " ▼",
            _ => "",
        };
        Cell::from(Span::styled(format!("{title}{marker}"), theme.title))
    }));
    let table = Table::new(rows, widths.to_vec())
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selection)
        .highlight_symbol("▶ ")
        .style(Style::default());
    let mut table_state = TableState::default().with_selected(Some(listing.cursor() - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}
