//! The Health tab (#14): the totals, the counts by kind (worst first), the findings (grouped
//! under their kind's title when sorted by severity) and the selected one's rule and action.
//! Only the rows on screen become lines; nothing is sorted here.

use ficus_core::audit::Severity;
use ficus_core::text::{relative_time, sanitize};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::titled_pane;
use crate::filter::{Load, Row};
use crate::screens::health::{FindingRow, HealthScreen, field_word};
use crate::state::State;
use crate::theme::Theme;

fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "✗",
        Severity::Warning => "!",
        Severity::Info => "i",
    }
}

fn style(severity: Severity, theme: &Theme) -> Style {
    match severity {
        Severity::Error => theme.error,
        Severity::Warning => theme.warn,
        Severity::Info => theme.accent,
    }
}

/// Lines under the findings for the selected one.
const DETAIL_HEIGHT: u16 = 4;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &HealthScreen) {
    let theme = &state.theme;
    let counts = screen.counts();
    // Counts take at most a quarter of the screen; the rest say "+N more kinds".
    let count_lines = counts.len().min((area.height / 4).max(1) as usize) as u16;
    let [summary, counts_area, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(count_lines),
        Constraint::Min(1),
        Constraint::Length(DETAIL_HEIGHT),
    ])
    .areas(area);

    let (errors, warnings, infos) = screen.totals();
    let mut spans = vec![
        Span::styled(format!(" ✗ {errors} errors"), theme.error),
        Span::raw("  "),
        Span::styled(format!("! {warnings} warnings"), theme.warn),
        Span::raw("  "),
        Span::styled(format!("i {infos} info"), theme.accent),
        Span::styled(
            format!(
                " · {} apps, {} identities checked",
                screen.apps_scanned, screen.identities
            ),
            theme.muted,
        ),
    ];
    if screen.reaudit.is_some() {
        spans.push(Span::styled(" · auditing the app again…", theme.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), summary);

    let mut lines: Vec<Line> = counts
        .iter()
        .take(count_lines as usize)
        .map(|(kind, severity, n)| {
            Line::from(vec![
                Span::styled(
                    format!(" {} {n:>4}  ", mark(*severity)),
                    style(*severity, theme),
                ),
                Span::raw(kind.title()),
                Span::styled(format!("  {}", kind.code()), theme.muted),
            ])
        })
        .collect();
    if counts.len() > count_lines as usize && count_lines > 0 {
        let more = counts.len() - count_lines as usize + 1;
        lines.pop();
        lines.push(Line::styled(
            format!(" … and {more} more kinds (sort and filter below)"),
            theme.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines), counts_area);

    draw_findings(frame, list, state, screen);

    let selected = screen.findings.selected();
    let (title, body) = match selected {
        Some(row) => (
            format!(" {} ", row.finding.kind.title()),
            detail_lines(row, state),
        ),
        None => (" finding ".to_string(), Vec::new()),
    };
    frame.render_widget(titled_pane(body, title, theme), detail);
}

fn detail_lines<'a>(row: &FindingRow, state: &State) -> Vec<Line<'a>> {
    let theme = &state.theme;
    let finding = &row.finding;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} ", mark(finding.severity)),
            style(finding.severity, theme),
        ),
        Span::raw(sanitize(&finding.message).into_owned()),
    ])];
    let action = match &finding.fix {
        Some(fix) if finding.fic.is_some() && finding.app.is_some() => format!(
            "{} fix: {} → {}",
            state.key(crate::keymap::Action::FixFic),
            field_word(fix.field),
            sanitize(&fix.value)
        ),
        _ if !finding.action.is_empty() => sanitize(&finding.action).into_owned(),
        _ => finding.kind.rule().to_string(),
    };
    lines.push(Line::styled(action, theme.accent));
    lines
}

fn group_line<'a>(row: &FindingRow, theme: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(
        format!(" {} ", row.finding.kind.title()),
        theme.title,
    )])
}

fn draw_findings(frame: &mut Frame, area: Rect, state: &State, screen: &HealthScreen) {
    let theme = &state.theme;
    let findings = &screen.findings;
    if findings.visible_len() == 0 {
        let text = match &findings.load {
            Load::Loading { .. } | Load::Idle => "Auditing the tenant…".to_string(),
            Load::Failed(error) => format!("✗ {error}"),
            Load::Done if findings.is_empty() => "✓ Nothing to fix: every check passed".into(),
            Load::Done => "No finding matches the filter".into(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {text}"), theme.muted)),
            area,
        );
        return;
    }
    let height = area.height as usize;
    // Grouped under their kind's title while sorted worst first (kinds are then adjacent).
    // On a short screen the counts above already name the kinds: no titles between rows.
    let grouped =
        matches!(findings.sort(), Some((0, _))) && findings.raw_query().is_empty() && height >= 16;
    let offset = findings.scroll_for(height);
    let cursor = findings.cursor();
    let wide = area.width >= 120;
    let name_width = if wide { 24 } else { 18 };
    let what_width = if wide { 28 } else { 20 };
    let mut lines: Vec<Line> = Vec::with_capacity(height * 2);
    let mut cursor_line = 0;
    let mut previous_kind = None;
    if offset > 0 && grouped {
        previous_kind = findings
            .visible_rows(offset - 1, 1)
            .next()
            .map(|r| r.finding.kind);
    }
    for (i, row) in findings.visible_rows(offset, height).enumerate() {
        if grouped && previous_kind != Some(row.finding.kind) {
            lines.push(group_line(row, theme));
        }
        previous_kind = Some(row.finding.kind);
        let selected = offset + i == cursor;
        if selected {
            cursor_line = lines.len();
        }
        let finding = &row.finding;
        let mut spans = vec![
            Span::styled(
                format!(" {} ", mark(finding.severity)),
                style(finding.severity, theme),
            ),
            Span::raw(fit(&sanitize(finding.object_name()), name_width)),
            Span::styled(fit(&sanitize(&row.what()), what_width), theme.muted),
        ];
        let used = 3 + name_width + what_width;
        let rest = (area.width as usize).saturating_sub(used);
        spans.push(Span::raw(fit(&sanitize(&finding.message), rest)));
        let line = Line::from(spans);
        lines.push(if selected {
            line.style(theme.selection)
        } else {
            line
        });
    }
    // Group titles take lines too: keep the cursor's row on screen.
    let skip = (cursor_line + 1).saturating_sub(height);
    let lines: Vec<Line> = lines.into_iter().skip(skip).take(height).collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// `text` in exactly `width` columns: cut with `…`, or padded.
fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count < width {
        format!("{text:<width$}")
    } else if width == 0 {
        String::new()
    } else {
        let head: String = text.chars().take(width.saturating_sub(2)).collect();
        format!("{head}… ")
    }
}

/// The line above the footer: the filter and the audit's progress.
/// How old the findings are (the tab keeps them while other tabs are shown) and the key that
/// renews them.
fn age(state: &State, screen: &HealthScreen) -> String {
    let Some(at) = screen.audited_at else {
        return String::new();
    };
    let when = if state.now - at < time::Duration::MINUTE {
        "just now".to_string()
    } else {
        relative_time(at, state.now)
    };
    format!(
        " · audited {when} ({} audits again)",
        super::key(
            state,
            crate::keymap::Context::Health,
            crate::keymap::Action::Refresh
        )
    )
}

pub fn draw_status(frame: &mut Frame, area: Rect, state: &State, screen: &HealthScreen) {
    let theme = &state.theme;
    let mut spans = Vec::new();
    if screen.editing_filter || !screen.filter.value().is_empty() {
        spans.push(Span::styled(" / ", theme.accent));
        spans.push(Span::raw(screen.filter.value().to_string()));
        if screen.editing_filter {
            let x = area.x + 3 + screen.filter.visual_cursor() as u16;
            if x < area.right() {
                frame.set_cursor_position((x, area.y));
            }
        }
        spans.push(Span::raw("  "));
    } else {
        spans.push(Span::styled(
            format!(
                " {} to filter  ",
                super::key(
                    state,
                    crate::keymap::Context::Health,
                    crate::keymap::Action::Filter
                )
            ),
            theme.muted,
        ));
    }
    let findings = &screen.findings;
    let (shown, total) = (findings.visible_len(), findings.len());
    let sort = findings
        .sort()
        .map(|(column, descending)| {
            format!(
                " · by {}{}",
                <FindingRow as Row>::columns()[column],
                if descending { " ▼" } else { " ▲" }
            )
        })
        .unwrap_or_default();
    let progress = match &findings.load {
        Load::Idle => String::new(),
        Load::Loading { pages } => {
            format!("{shown} of {total} findings · auditing page {}…", pages + 1)
        }
        Load::Done if shown == total => format!("{total} findings{sort}{}", age(state, screen)),
        Load::Done => format!("{shown} of {total} findings{sort}{}", age(state, screen)),
        Load::Failed(_) => format!(
            "{shown} of {total} findings · ✗ the audit stopped, {} audits again",
            state.key(crate::keymap::Action::Refresh)
        ),
    };
    spans.push(Span::styled(progress, theme.muted));
    if let Some(problem) = findings.query().problems.first() {
        spans.push(Span::styled(format!("  ! {problem}"), theme.warn));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
