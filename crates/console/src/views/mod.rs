//! Drawing: a pure function of `State` into a ratatui `Frame`. Lists draw only the rows on
//! screen. Nothing here decides anything; it only shows what `update` left.

mod app_detail;
mod exchange;
mod failing;
mod health;
mod identity_detail;
mod inspector;
mod lists;
mod overlays;
mod signin;
pub mod wizard;
mod workload;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::filter::Load;
use super::keymap::{Action, Context};
use super::state::{ListKind, Phase, Screen, State, ToastLevel};

pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    let theme = &state.theme;
    frame.render_widget(Block::new().style(theme.text), area);
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, state);
    match &state.phase {
        Phase::SigningIn(screen) => signin::draw(frame, body, state, screen),
        Phase::Console => match state.stack.last() {
            None => match state.lists.list {
                ListKind::Apps => lists::draw_apps(frame, body, state),
                ListKind::Identities => lists::draw_identities(frame, body, state),
            },
            Some(Screen::AppDetail(screen)) => app_detail::draw(frame, body, state, screen),
            Some(Screen::IdentityDetail(screen)) => {
                identity_detail::draw(frame, body, state, screen)
            }
            Some(Screen::Wizard(wizard)) => wizard::draw(frame, body, state, wizard),
            Some(Screen::Exchange(screen)) => exchange::draw(frame, body, state, screen),
            Some(Screen::Inspector(screen)) => inspector::draw(frame, body, state, screen),
            Some(Screen::Workload(screen)) => workload::draw(frame, body, state, screen),
            Some(Screen::Failing(screen)) => failing::draw(frame, body, state, screen),
            Some(Screen::Health(screen)) => health::draw(frame, body, state, screen),
        },
    }
    draw_status(frame, status, state);
    draw_footer(frame, footer, state);
    if let Some(overlay) = &state.overlay {
        overlays::draw(frame, body, state, overlay);
    }
}

fn draw_header(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    // Most important first; what does not fit is left out (user, then domain), never cut.
    let mut spans = vec![Span::styled(" ficus ", theme.header), Span::raw(" ")];
    match &state.session {
        Some(session) => {
            if session.read_only {
                spans.push(Span::styled(" READ-ONLY ", theme.badge));
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(session.tenant.clone(), theme.accent));
            spans.push(Span::styled(
                format!(" · {} · ", session.cloud),
                theme.muted,
            ));
            spans.push(Span::raw(session.user.clone()));
        }
        None => spans.push(Span::styled("not signed in", theme.muted)),
    }
    // The tabs, measured before anything else is left out for them; their counts (also on
    // the status line) go before the user's name does.
    let left_width: u16 = spans.iter().map(|s| s.width() as u16).sum();
    let right = matches!(state.phase, Phase::Console).then(|| {
        let full = tabs(state, true);
        let short = tabs(state, false);
        // Without counts only when that keeps the name; else the counts stay.
        // Strictly narrower: one column stays between the name and the tabs.
        let fits = |tabs: &Line| left_width + (tabs.width() as u16) < area.width;
        if !fits(&full) && fits(&short) {
            short
        } else {
            full
        }
    });
    let tabs_width = right.as_ref().map_or(0, |r| r.width() as u16 + 1);
    let fits = |spans: &Vec<Span>| {
        spans.iter().map(|s| s.width() as u16).sum::<u16>() + tabs_width <= area.width
    };
    if !fits(&spans) && state.session.is_some() {
        spans.pop();
        if let Some(last) = spans.last_mut() {
            *last = Span::styled(
                last.content.trim_end_matches(" · ").to_string(),
                theme.muted,
            );
        }
    }
    if !fits(&spans)
        && let Some(session) = &state.session
        && let Some(tenant) = spans
            .iter_mut()
            .find(|s| s.content == session.tenant.as_str())
    {
        let short = session
            .tenant
            .split(" (")
            .next()
            .unwrap_or_default()
            .to_string();
        *tenant = Span::styled(short, theme.accent);
    }
    if let Some(right) = right {
        let width = right.width() as u16;
        let [left_area, right_area] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(width)]).areas(area);
        frame.render_widget(Paragraph::new(Line::from(spans)), left_area);
        frame.render_widget(Paragraph::new(right), right_area);
    } else {
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

/// `[1 Apps 49] 2 Identities 5  3 Health`: the active tab bracketed, the others padded.
/// Measured, not reserved: the header keeps the user's name whenever it fits.
fn tabs(state: &State, counts: bool) -> Line<'static> {
    let theme = &state.theme;
    let tab = |label: String, active: bool| {
        let label = if counts {
            label
        } else {
            label
                .trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ')
                .to_string()
        };
        if active {
            Span::styled(format!("[{label}]"), theme.title)
        } else {
            Span::styled(format!(" {label} "), theme.muted)
        }
    };
    let health = match state.stack.first() {
        Some(Screen::Health(screen)) => Some(screen),
        _ => None,
    };
    let mut spans = vec![
        tab(
            format!("1 Apps {}", state.apps.len()),
            health.is_none() && state.lists.list == ListKind::Apps,
        ),
        tab(
            format!("2 Identities {}", state.identities.len()),
            health.is_none() && state.lists.list == ListKind::Identities,
        ),
        tab(
            match health {
                Some(screen) => format!("3 Health {}", screen.findings.len()),
                None => "3 Health".to_string(),
            },
            health.is_some(),
        ),
    ];
    // An inactive last tab's padding would only push the bar off the right edge.
    if let Some(last) = spans.last_mut() {
        last.content = last.content.trim_end().to_string().into();
    }
    Line::from(spans)
}

/// The line above the footer: the filter and the list's progress, or the screen's breadcrumb.
fn draw_status(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    if let (Phase::Console, [Screen::Health(screen)]) = (&state.phase, state.stack.as_slice()) {
        health::draw_status(frame, area, state, screen);
        return;
    }
    if !matches!(state.phase, Phase::Console) || !state.stack.is_empty() {
        let under_health = matches!(state.stack.first(), Some(Screen::Health(_)));
        let crumbs: Vec<String> = (!under_health)
            .then(|| match state.lists.list {
                ListKind::Apps => "Apps".to_string(),
                ListKind::Identities => "Identities".to_string(),
            })
            .into_iter()
            .chain(state.stack.iter().map(|screen| {
                match screen {
                    Screen::AppDetail(s) => s
                        .detail
                        .as_ref()
                        .map_or(s.name.clone(), |d| d.app.name.clone()),
                    Screen::IdentityDetail(s) => s.identity.name.clone(),
                    Screen::Wizard(w) => wizard::crumb(w),
                    Screen::Exchange(_) => "test exchange".to_string(),
                    Screen::Inspector(_) => "token inspector".to_string(),
                    Screen::Workload(_) => "workload code".to_string(),
                    Screen::Failing(_) => "failing workloads".to_string(),
                    Screen::Health(_) => "Health".to_string(),
                }
            }))
            .collect();
        if matches!(state.phase, Phase::Console) {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    format!(" {}", crumbs.join(" › ")),
                    theme.muted,
                )),
                area,
            );
        }
        return;
    }
    let (input, listing_load, shown, total, noun, problems) = match state.lists.list {
        ListKind::Apps => (
            &state.lists.apps_filter,
            &state.apps.load,
            state.apps.visible_len(),
            state.apps.len(),
            ("app", "apps"),
            &state.apps.query().problems,
        ),
        ListKind::Identities => (
            &state.lists.identities_filter,
            &state.identities.load,
            state.identities.visible_len(),
            state.identities.len(),
            ("identity", "identities"),
            &state.identities.query().problems,
        ),
    };
    let mut spans = Vec::new();
    if state.lists.editing_filter || !input.value().is_empty() {
        spans.push(Span::styled(" / ", theme.accent));
        spans.push(Span::raw(input.value().to_string()));
        if state.lists.editing_filter {
            let cursor_x = area.x + 3 + input.visual_cursor() as u16;
            if cursor_x < area.right() {
                frame.set_cursor_position((cursor_x, area.y));
            }
        }
        spans.push(Span::raw("  "));
    } else {
        spans.push(Span::styled(
            format!(" {} to filter  ", key(state, Context::List, Action::Filter)),
            theme.muted,
        ));
    }
    let noun = if total == 1 { noun.0 } else { noun.1 };
    let progress = match listing_load {
        Load::Idle => String::new(),
        Load::Loading { pages } => {
            format!("{shown} of {total} {noun} · loading page {}…", pages + 1)
        }
        Load::Done if shown == total => format!("{total} {noun}"),
        Load::Done => format!("{shown} of {total} {noun}"),
        Load::Failed(_) => format!(
            "{shown} of {total} {noun} · ✗ loading stopped, {} retries",
            state.key(super::keymap::Action::Refresh)
        ),
    };
    spans.push(Span::styled(progress, theme.muted));
    if state.lists.list == ListKind::Apps
        && let Some(marker) = &state.lists.apps_cache
    {
        spans.push(cache_marker(state, marker));
    }
    if let Some(problem) = problems.first() {
        spans.push(Span::styled(format!("  ! {problem}"), theme.warn));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The warm start's marker beside the count (#17): "cached 12 minutes ago · refreshing…",
/// then "updated", or stale with why and the key that retries.
fn cache_marker(state: &State, marker: &crate::screens::lists::CacheMarker) -> Span<'static> {
    use crate::screens::lists::CacheMarker;
    let theme = &state.theme;
    // A cache saved this very second (or by a clock a little ahead) is "just now", not "in
    // less than a minute".
    let age = |saved_at: time::OffsetDateTime| {
        let saved_at = saved_at.min(state.now - time::Duration::seconds(1));
        ficus_core::text::relative_time(saved_at, state.now)
    };
    match marker {
        CacheMarker::Refreshing { saved_at } => Span::styled(
            format!(" · cached {} · refreshing…", age(*saved_at)),
            theme.muted,
        ),
        CacheMarker::Updated { .. } => Span::styled(" · updated".to_string(), theme.muted),
        CacheMarker::Stale { saved_at, error } => Span::styled(
            // The key before the reason: a long reason is cut at the screen's edge.
            format!(
                " · ! stale, cached {} · {} retries · {error}",
                age(*saved_at),
                state.key(super::keymap::Action::Refresh)
            ),
            theme.warn,
        ),
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    if let Some(toast) = &state.toast {
        let (glyph, style) = match toast.level {
            ToastLevel::Info => ("i", theme.accent),
            ToastLevel::Success => ("✓", theme.ok),
            ToastLevel::Warning => ("!", theme.warn),
            ToastLevel::Error => ("✗", theme.error),
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!(" {glyph} "), style),
                Span::styled(toast.text.clone(), style),
            ])),
            area,
        );
        return;
    }
    let mut spans = vec![Span::raw(" ")];
    let top = state.stack.last().and_then(Screen::component_ref);
    let hints = if let Phase::SigningIn(screen) = &state.phase {
        // `y copy code` only while there is a code on screen to copy.
        let has_code = screen.user_code.is_some() && screen.failure.is_none();
        state.keymap.hints_where(state.context(), |action| {
            action != super::keymap::Action::Copy || has_code
        })
    } else {
        // The screen's own table of commands (the lists' when no screen is above them), keys
        // as the keymap binds them.
        use crate::component::Component;
        let component: &dyn Component = top.unwrap_or(&state.lists);
        crate::component::footer_hints(
            &component.commands(&state.ctx()),
            &state.keymap,
            component.context(),
        )
    };
    let mut width = 1usize;
    for (key, description) in hints {
        let piece = key.chars().count() + description.chars().count() + 3;
        if width + piece > area.width as usize {
            break;
        }
        width += piece;
        spans.push(Span::styled(key, theme.accent));
        spans.push(Span::styled(format!(" {description}  "), theme.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The key bound to `action` on `context`'s screen, for a sentence on screen ("press r to
/// retry"): a remapped key shows remapped, never a key written by hand.
pub(crate) fn key(state: &State, context: Context, action: Action) -> String {
    crate::component::key_named(&state.keymap, context, action)
}

/// A `label  value` line for detail screens.
pub(crate) fn field<'a>(
    label: &'a str,
    value: String,
    label_style: Style,
    value_style: Style,
) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<16}"), label_style),
        Span::styled(value, value_style),
    ])
}

/// Shortens a GUID-like value to fit narrow screens: `1a2b3c4d…`.
pub(crate) fn short_id(id: &str, full: bool) -> String {
    if full || id.chars().count() <= 9 {
        id.to_string()
    } else {
        let head: String = id.chars().take(8).collect();
        format!("{head}…")
    }
}

/// Wrapped lines under a rule titled `title`: the detail screens' lower panes.
pub fn titled_pane<'a>(
    lines: Vec<Line<'a>>,
    title: String,
    theme: &crate::theme::Theme,
) -> Paragraph<'a> {
    Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: true })
        .block(
            Block::new()
                .borders(ratatui::widgets::Borders::TOP)
                .border_style(theme.border)
                .title(Span::styled(title, theme.title)),
        )
}

/// How many lines `text` takes when wrapped at word boundaries into `width` columns (as a
/// `Paragraph` with `Wrap` does; a word longer than the width is broken).
pub fn wrapped_lines(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let mut lines = 1;
    let mut used = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        let needed = if used == 0 { len } else { used + 1 + len };
        if needed <= width {
            used = needed;
        } else if len <= width {
            lines += 1;
            used = len;
        } else {
            // A word wider than the line starts a new one and is broken across full lines.
            if used > 0 {
                lines += 1;
            }
            lines += (len - 1) / width;
            used = len - (len - 1) / width * width;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrapped_lines;

    #[test]
    fn wrapped_lines_counts_word_wrapped_lines() {
        assert_eq!(wrapped_lines("", 10), 1);
        assert_eq!(wrapped_lines("one two", 7), 1);
        assert_eq!(wrapped_lines("one two", 6), 2);
        assert_eq!(wrapped_lines("one two three", 9), 2);
        // A word wider than the line: a new line, broken into full lines.
        assert_eq!(wrapped_lines("a 0123456789abcdef", 8), 3);
        assert_eq!(wrapped_lines("0123456789abcdef x", 8), 3);
    }
}
