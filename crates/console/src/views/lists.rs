//! The Apps and Identities lists. Only the rows on screen are turned into widgets, so a
//! 100 000-row list draws as fast as a 20-row one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table, TableState};

use super::short_id;
use crate::filter::{Listing, Load, Row};
use crate::model::{AppRow, ExpiryFlag, Finding, IdentityKind, IdentityRow, Severity, expiry_flag};
use crate::state::{PREVIEW_HEIGHT, RestStage, RestTarget, State};
use crate::theme::Theme;
use ficus_core::text::relative_time;

/// Wide enough to show GUIDs whole.
const WIDE: u16 = 120;

pub fn draw_apps(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let (area, preview) = split_preview(area);
    if let (Some(preview), Some(app)) = (preview, state.apps.selected()) {
        draw_preview(frame, preview, state, &app.name, app_preview(state, app));
    }
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
    let (area, preview) = split_preview(area);
    if let (Some(preview), Some(identity)) = (preview, state.identities.selected()) {
        draw_preview(
            frame,
            preview,
            state,
            &identity.name,
            identity_preview(state, identity),
        );
    }
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
        // Keys as the keymap binds them on the lists.
        let key = |action| {
            crate::component::key_named(&state.keymap, crate::keymap::Context::List, action)
        };
        let message = match (&listing.load, listing.len()) {
            (Load::Idle | Load::Loading { .. }, 0) => format!("Loading {noun}…"),
            (Load::Failed(error), 0) => {
                format!(
                    "✗ Could not load {noun}: {error}\n  Press {} to retry.",
                    key(crate::keymap::Action::Refresh)
                )
            }
            (Load::Done, 0) => format!("No {noun} in this tenant."),
            _ => format!(
                "No {noun} match the filter. {} clears it; filters here: {}",
                key(crate::keymap::Action::Back),
                T::FACETS
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
            Some((column, false)) if column == i => "▲",
            Some((column, true)) if column == i => "▼",
            _ => return Cell::from(Span::styled(title.to_string(), theme.title)),
        };
        let width = match widths.get(i) {
            Some(Constraint::Length(width)) => Some(*width as usize),
            _ => None,
        };
        Cell::from(Span::styled(
            sorted_title(title, marker, width),
            theme.title,
        ))
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

/// A sorted column's title with its ▲/▼, which must stay visible in a narrow column: the
/// title gives up its space, then its last letters, never the marker.
fn sorted_title(title: &str, marker: &str, width: Option<usize>) -> String {
    let length = title.chars().count();
    match width {
        Some(width) if length + 2 > width && length < width => format!("{title}{marker}"),
        Some(width) if length + 2 > width => {
            let kept: String = title.chars().take(width.saturating_sub(1)).collect();
            format!("{kept}{marker}")
        }
        _ => format!("{title} {marker}"),
    }
}

/// The list above, the preview of the resting row below (when there is room for both).
fn split_preview(area: Rect) -> (Rect, Option<Rect>) {
    if area.height < PREVIEW_HEIGHT + 6 {
        return (area, None);
    }
    let [list, preview] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(PREVIEW_HEIGHT)]).areas(area);
    (list, Some(preview))
}

fn draw_preview(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    name: &str,
    lines: [Line<'static>; 2],
) {
    let theme = &state.theme;
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = lines.into_iter().map(|line| fit(line, width)).collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.border)
                .title(Span::styled(format!(" {name} "), theme.title)),
        ),
        area.inner(ratatui::layout::Margin::new(1, 0)),
    );
}

/// Cuts a line to `width` columns, ending it with `…` when something was left out.
fn fit(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let mut content = String::new();
        for c in span.content.chars() {
            let w = Span::raw(&*c.encode_utf8(&mut [0; 4])).width();
            if w > left {
                left = 0;
                break;
            }
            left -= w;
            content.push(c);
        }
        spans.push(Span::styled(content, span.style));
    }
    spans.push(Span::raw("…"));
    Line::from(spans)
}

/// While the details are not known: what is happening, from the rest's stage.
fn pending_preview(state: &State, target: RestTarget, what: &str) -> [Line<'static>; 2] {
    let theme = &state.theme;
    let stage = state
        .lists
        .rest
        .as_ref()
        .filter(|rest| rest.target == target)
        .map(|rest| &rest.stage);
    let first = match stage {
        Some(RestStage::Fetching) => {
            Line::from(Span::styled(format!("loading {what}…"), theme.muted))
        }
        Some(RestStage::Failed(error)) => Line::from(vec![
            Span::styled("✗ ", theme.error),
            Span::raw(format!(
                "could not load {what}: {error} ({} reloads)",
                super::key(
                    state,
                    crate::keymap::Context::List,
                    crate::keymap::Action::Refresh
                )
            )),
        ]),
        _ => Line::from(Span::styled("…", theme.muted)),
    };
    [first, Line::default()]
}

fn severity_span(severity: Option<Severity>, theme: &Theme) -> Span<'static> {
    match severity {
        Some(Severity::Error) => Span::styled("✗", theme.error),
        Some(Severity::Warning) => Span::styled("!", theme.warn),
        _ => Span::styled("✓", theme.ok),
    }
}

/// The worst finding in words: `✗ error legacy-ci · subject: …`.
fn worst_line<'a>(
    worst: Option<(&'a str, &'a Finding)>,
    all_good: &str,
    theme: &Theme,
) -> Line<'static> {
    match worst {
        Some((owner, finding)) if finding.severity != Severity::Info => {
            let style = if finding.severity == Severity::Error {
                theme.error
            } else {
                theme.warn
            };
            Line::from(vec![
                Span::styled(
                    format!("{} {} ", finding.severity.glyph(), finding.severity.word()),
                    style,
                ),
                Span::styled(format!("{owner} · {}: ", finding.field), theme.muted),
                Span::raw(finding.message.clone()),
            ])
        }
        _ => Line::from(Span::styled(format!("✓ {all_good}"), theme.ok)),
    }
}

/// An app's FICs as `✓ name → identity`, and its worst finding in words.
fn app_preview(state: &State, app: &AppRow) -> [Line<'static>; 2] {
    let theme = &state.theme;
    let Some(detail) = state.lists.details.apps.get(&app.object_id) else {
        return pending_preview(state, RestTarget::App(app.object_id.clone()), "its FICs");
    };
    if detail.fics.is_empty() {
        return [
            Line::from(vec![
                Span::styled("no FICs", theme.muted),
                Span::styled(
                    format!(
                        " · {} adds one that trusts a user-assigned managed identity",
                        super::key(
                            state,
                            crate::keymap::Context::List,
                            crate::keymap::Action::AddFic
                        )
                    ),
                    theme.muted,
                ),
            ]),
            Line::default(),
        ];
    }
    let mut spans = Vec::new();
    for (i, fic) in detail.fics.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("  ", theme.muted));
        }
        spans.push(severity_span(fic.worst(), theme));
        // A GUID nobody named is shortened; other subjects (repo:org/app:…) are words.
        let subject = fic.subject_name.clone().unwrap_or_else(|| {
            if uuid::Uuid::parse_str(&fic.fic.subject).is_ok() {
                short_id(&fic.fic.subject, false)
            } else {
                fic.fic.subject.clone()
            }
        });
        spans.push(Span::raw(format!(" {} ", fic.fic.name)));
        spans.push(Span::styled("→ ", theme.muted));
        spans.push(Span::raw(subject));
    }
    let worst = detail
        .fics
        .iter()
        .flat_map(|fic| fic.findings.iter().map(move |f| (fic.fic.name.as_str(), f)))
        .min_by_key(|(_, f)| f.severity);
    let count = detail.fics.len();
    let plural = if count == 1 { "" } else { "s" };
    [
        Line::from(spans),
        worst_line(
            worst,
            &format!(
                "{count} FIC{plural}, no findings ({} opens)",
                super::key(
                    state,
                    crate::keymap::Context::List,
                    crate::keymap::Action::Open
                )
            ),
            theme,
        ),
    ]
}

/// The apps that trust an identity, each with whether the trust is right.
fn identity_preview(state: &State, identity: &IdentityRow) -> [Line<'static>; 2] {
    let theme = &state.theme;
    let Some(detail) = state.lists.details.identities.get(&identity.principal_id) else {
        return pending_preview(
            state,
            RestTarget::Identity(identity.principal_id.clone()),
            "which apps trust it",
        );
    };
    if detail.trusted_by.is_empty() {
        let hint = if identity.usable_for_fic() {
            format!(
                " · {} lets an app trust it (FIC wizard)",
                super::key(
                    state,
                    crate::keymap::Context::List,
                    crate::keymap::Action::AddFic
                )
            )
        } else {
            " · system-assigned: not usable for FICs".to_string()
        };
        return [
            Line::from(vec![
                Span::styled("no app trusts it", theme.muted),
                Span::styled(hint, theme.muted),
            ]),
            Line::default(),
        ];
    }
    let mut spans = vec![Span::styled("trusted by ", theme.muted)];
    for (i, trust) in detail.trusted_by.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("  ", theme.muted));
        }
        let worst = trust.findings.iter().map(|f| f.severity).min();
        spans.push(severity_span(worst, theme));
        spans.push(Span::raw(format!(" {} ", trust.app_name)));
        spans.push(Span::styled(format!("({})", trust.fic_name), theme.muted));
    }
    let worst = detail
        .trusted_by
        .iter()
        .flat_map(|t| t.findings.iter().map(move |f| (t.app_name.as_str(), f)))
        .min_by_key(|(_, f)| f.severity);
    let count = detail.trusted_by.len();
    let plural = if count == 1 { "" } else { "s" };
    [
        Line::from(spans),
        worst_line(
            worst,
            &format!(
                "{count} trust{plural}, all correct ({} opens)",
                super::key(
                    state,
                    crate::keymap::Context::List,
                    crate::keymap::Action::Open
                )
            ),
            theme,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::sorted_title;

    #[test]
    fn a_sort_marker_stays_visible_in_a_narrow_column() {
        assert_eq!(sorted_title("name", "▲", None), "name ▲");
        assert_eq!(sorted_title("app id", "▼", Some(9)), "app id ▼");
        assert_eq!(sorted_title("FICs", "▲", Some(4)), "FIC▲");
        assert_eq!(sorted_title("client id", "▼", Some(10)), "client id▼");
        assert_eq!(sorted_title("principal id", "▲", Some(9)), "principa▲");
    }
}
