//! The FIC wizard's screens: the step bar, then the current step (picker, fields with their
//! provenance and live findings, review with the exact request and snippets, save result and
//! the test exchange). Meaning is carried by glyphs and words, never by colour alone.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::short_id;
use crate::keymap::{Action, Context};
use crate::model::IdentityKind;
use crate::screens::wizard::{
    FieldId, Mode, PickerRows, REVIEW_TABS, STAGES, SYSTEM_ASSIGNED_REASON, Side, Step, Wizard,
    already_trusted, picker_rows, remaining_secrets, review_snippets,
};
use crate::state::State;
use crate::theme::Theme;
use ficus_core::fic::Fic;

/// The breadcrumb of the wizard.
/// The key bound to `action` in the wizard, for its sentences.
fn wk(state: &State, action: Action) -> String {
    super::key(state, Context::Wizard, action)
}

pub fn crumb(wizard: &Wizard) -> String {
    match &wizard.mode {
        Mode::Create => "add a Managed Identity FIC".into(),
        Mode::Edit { original, .. } => format!("change {}", original.name),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard) {
    let theme = &state.theme;
    let area = area.inner(Margin::new(1, 0));
    let [title, bar, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(title_line(wizard, theme)), title);
    frame.render_widget(Paragraph::new(step_bar(wizard, theme)), bar);
    match &wizard.step {
        Step::Pick(side) => draw_picker(frame, body, state, wizard, *side),
        Step::Loading => frame.render_widget(
            Paragraph::new(Span::styled(
                "Reading the app's federated credentials (already trusted? room for one more?)…",
                theme.muted,
            )),
            body,
        ),
        Step::AlreadyTrusted { fic } => draw_already_trusted(frame, body, state, wizard, fic),
        Step::Full => draw_full(frame, body, state, wizard),
        Step::Fields => draw_fields(frame, body, state, wizard),
        Step::Review => draw_review(frame, body, state, wizard, None),
        Step::Saving { .. } => {
            let verb = if wizard.is_edit() {
                "Saving the change (PATCH, then reading it back)…"
            } else {
                "Creating the FIC (POST, then reading it back)…"
            };
            draw_review(
                frame,
                body,
                state,
                wizard,
                Some(Line::from(Span::styled(verb, theme.accent))),
            );
        }
        Step::Failed { error } => draw_failed(frame, body, state, wizard, error),
        Step::Done { stored } => draw_done(frame, body, state, wizard, stored),
    }
}

fn title_line<'a>(wizard: &Wizard, theme: &Theme) -> Line<'a> {
    let app = wizard
        .app
        .as_ref()
        .map_or("(choose an app)".to_string(), |a| a.row.name.clone());
    let identity = wizard
        .identity
        .as_ref()
        .map_or("(choose an identity)".to_string(), |i| i.name.clone());
    let heading = match &wizard.mode {
        Mode::Create => "Add a Managed Identity FIC: ",
        Mode::Edit { .. } => "Change a FIC: ",
    };
    Line::from(vec![
        Span::styled(heading, theme.title),
        Span::styled(app, theme.accent),
        Span::styled(" trusts ", theme.muted),
        Span::styled(identity, theme.accent),
    ])
}

fn step_bar<'a>(wizard: &Wizard, theme: &Theme) -> Line<'a> {
    let current = wizard.step.stage();
    let mut spans = Vec::new();
    for (index, name) in STAGES.iter().enumerate() {
        if index > 0 {
            spans.push(Span::styled(" › ", theme.muted));
        }
        let text = format!("{} {name}", index + 1);
        if index == current {
            spans.push(Span::styled(format!("[{text}]"), theme.title));
        } else if index < current {
            spans.push(Span::styled(format!("✓{text}"), theme.ok));
        } else {
            spans.push(Span::styled(text, theme.muted));
        }
    }
    Line::from(spans)
}

fn draw_picker(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard, side: Side) {
    let theme = &state.theme;
    let [prompt, filter, list] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let question = match side {
        Side::Identity => format!(
            "Which user-assigned managed identity will sign in as {}?",
            wizard
                .app
                .as_ref()
                .map_or("the app", |a| a.row.name.as_str())
        ),
        Side::App => format!(
            "Which app registration should trust {}?",
            wizard
                .identity
                .as_ref()
                .map_or("the identity", |i| i.name.as_str())
        ),
    };
    frame.render_widget(
        Paragraph::new(Span::styled(question, theme.text)).wrap(Wrap { trim: true }),
        prompt,
    );
    let mut spans = vec![Span::styled(
        format!("{} ", wk(state, Action::Filter)),
        theme.accent,
    )];
    if wizard.picker_filter.value().is_empty() && !wizard.picker_editing {
        spans.push(Span::styled(
            format!(
                "filter (name or id) · {}/{} move",
                wk(state, Action::Down),
                wk(state, Action::Up)
            ),
            theme.muted,
        ));
    } else {
        spans.push(Span::raw(wizard.picker_filter.value().to_string()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), filter);
    if wizard.picker_editing {
        let x = filter.x + 2 + wizard.picker_filter.visual_cursor() as u16;
        if x < filter.right() {
            frame.set_cursor_position((x, filter.y));
        }
    }
    let ctx = state.ctx();
    let rows = picker_rows(wizard, &ctx);
    let height = list.height as usize;
    let start = wizard
        .picker_cursor
        .saturating_sub(height.saturating_sub(1));
    let wide = list.width >= 100;
    let mut lines = Vec::new();
    match &rows {
        PickerRows::Identities(items) => {
            for (index, identity) in items.iter().enumerate().skip(start).take(height) {
                let selected = index == wizard.picker_cursor;
                let marker = if selected { "▶ " } else { "  " };
                let style = if selected {
                    theme.selection
                } else {
                    theme.text
                };
                if identity.kind == IdentityKind::SystemAssigned {
                    lines.push(Line::from(vec![
                        Span::styled(marker, style),
                        Span::styled(format!("⊘ {:<18}", identity.name), theme.muted),
                        Span::styled(format!(" {SYSTEM_ASSIGNED_REASON}"), theme.muted),
                    ]));
                } else {
                    let place = identity.resource_group.clone().unwrap_or_default();
                    let mut spans = vec![
                        Span::styled(marker, style),
                        Span::styled(format!("{:<20}", identity.name), style),
                        Span::styled(
                            format!(
                                " user-assigned  rg {place:<14} principal {}",
                                short_id(&identity.principal_id, wide)
                            ),
                            theme.muted,
                        ),
                    ];
                    if already_trusted(wizard, None, Some(identity)) {
                        spans.push(Span::styled("  ✓ already trusted by this app", theme.ok));
                    }
                    lines.push(Line::from(spans));
                }
            }
        }
        PickerRows::Apps(items) => {
            for (index, app) in items.iter().enumerate().skip(start).take(height) {
                let selected = index == wizard.picker_cursor;
                let marker = if selected { "▶ " } else { "  " };
                let style = if selected {
                    theme.selection
                } else {
                    theme.text
                };
                let fics = app.fic_count.map_or("? FICs".to_string(), |n| {
                    format!("{n} FIC{}", if n == 1 { "" } else { "s" })
                });
                let mut spans = vec![
                    Span::styled(marker, style),
                    Span::styled(format!("{:<24}", app.name), style),
                    Span::styled(
                        format!(" app id {}  {fics}", short_id(&app.app_id, wide)),
                        theme.muted,
                    ),
                ];
                if already_trusted(wizard, Some(app), None) {
                    spans.push(Span::styled("  ✓ already trusts this identity", theme.ok));
                }
                lines.push(Line::from(spans));
            }
        }
    }
    if rows.is_empty() {
        let what = match side {
            Side::Identity => "identities",
            Side::App => "apps",
        };
        lines.push(Line::from(Span::styled(
            format!(
                "No {what} match; {} edits the filter.",
                wk(state, Action::Filter)
            ),
            theme.muted,
        )));
    }
    frame.render_widget(Paragraph::new(lines), list);
}

fn draw_already_trusted(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard, fic: &Fic) {
    let theme = &state.theme;
    let app = wizard.app.as_ref().map_or("", |a| a.row.name.as_str());
    let identity = wizard.identity.as_ref().map_or("", |i| i.name.as_str());
    let lines = vec![
        Line::from(Span::styled(
            format!("✓ Already trusted: {app} has a FIC for {identity}."),
            theme.ok,
        )),
        Line::default(),
        kv("name", fic.name.clone(), theme),
        kv("issuer", fic.issuer.clone(), theme),
        kv("subject", format!("{} ({identity})", fic.subject), theme),
        kv("audience", fic.audiences.join(", "), theme),
        Line::default(),
        Line::from(Span::styled(
            format!(
                "Nothing to add. {} tests the exchange with it now · {} changes it · {} picks another identity",
                wk(state, Action::TestExchange),
                wk(state, Action::EditFic),
                wk(state, Action::Back)
            ),
            theme.text,
        )),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn draw_full(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard) {
    let theme = &state.theme;
    let app = wizard.app.as_ref().map_or("", |a| a.row.name.as_str());
    let lines = vec![
        Line::from(Span::styled(
            format!(
                "✗ {app} already has {} federated credentials, Graph's limit per app.",
                wizard.existing().len()
            ),
            theme.error,
        )),
        Line::default(),
        Line::from(Span::raw(format!(
            "Delete one it no longer needs ({} on it in the app's FIC list), or reuse one of",
            super::key(state, Context::AppDetail, Action::DeleteFic)
        ))),
        Line::from(Span::raw(
            "them: a FIC trusts one identity, and one identity can be shared by workloads.",
        )),
        Line::default(),
        Line::from(Span::styled(
            format!("{} goes back.", wk(state, Action::Back)),
            theme.muted,
        )),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn kv<'a>(label: &str, value: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("  {label:<12}"), theme.muted),
        Span::styled(value, theme.text),
    ])
}

/// `text` cut into rows of `width` characters (values are URLs and GUIDs: every character
/// must stay visible, so no word wrapping).
fn chunks(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || width == 0 {
        return vec![String::new()];
    }
    // Break after a separator (space, '/', '-', ',') in the second half of the row when there
    // is one, so URLs and sentences read naturally; every character is kept.
    let mut rows = Vec::new();
    let mut start = 0;
    while chars.len() - start > width {
        let window = &chars[start..start + width];
        let cut = window
            .iter()
            .rposition(|c| matches!(c, ' ' | '/' | '-' | ','))
            .filter(|at| *at >= width / 2)
            .map_or(width, |at| at + 1);
        rows.push(chars[start..start + cut].iter().collect());
        start += cut;
    }
    rows.push(chars[start..].iter().collect());
    rows
}

fn draw_fields(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard) {
    let theme = &state.theme;
    const LABEL: u16 = 15;
    let value_width = area.width.saturating_sub(LABEL) as usize;
    // Each field: its value (up to two rows; a longer one is cut with …), then where it came
    // from.
    let mut rows: Vec<Line> = Vec::new();
    let mut cursor = None;
    for (index, id) in FieldId::ALL.iter().enumerate() {
        let focused = wizard.focus == index;
        let editing = focused && wizard.editing;
        let field = wizard.field(*id);
        let worst = wizard
            .findings
            .iter()
            .filter(|f| f.field == id.fic_field())
            .map(|f| f.is_error())
            .max();
        let mark = match worst {
            Some(true) => Span::styled("✗", theme.error),
            Some(false) => Span::styled("!", theme.warn),
            None => Span::styled("✓", theme.ok),
        };
        let label_style = if focused {
            theme.selection
        } else {
            theme.muted
        };
        let label = vec![
            Span::styled(if focused { "▶" } else { " " }, theme.accent),
            mark,
            Span::raw(" "),
            Span::styled(format!("{:<12}", id.label()), label_style),
        ];
        let value_style = if editing { theme.selection } else { theme.text };
        let mut value_rows: Vec<Vec<Span>> = if editing {
            // One scrolling row while typing, the cursor kept in view.
            let scroll = field.input.visual_scroll(value_width.saturating_sub(1));
            let shown: String = field.input.value().chars().skip(scroll).collect();
            cursor = Some((
                area.x + LABEL + field.input.visual_cursor().saturating_sub(scroll) as u16,
                area.y + rows.len() as u16,
            ));
            vec![vec![Span::styled(shown, value_style)]]
        } else {
            let mut parts = chunks(field.input.value(), value_width);
            if parts.len() > 2 {
                parts.truncate(2);
                if let Some(last) = parts.last_mut() {
                    last.pop();
                    last.push('…');
                }
            }
            parts
                .into_iter()
                .map(|p| vec![Span::styled(p, value_style)])
                .collect()
        };
        if let Some(last) = value_rows.last_mut() {
            let used: usize = last.iter().map(|s| s.content.chars().count()).sum();
            let mut extra = String::new();
            if *id == FieldId::Subject
                && let Some(identity) = &wizard.identity
                && field.input.value().trim() == identity.principal_id
            {
                extra = format!("  ({})", identity.name);
            }
            if !wizard.editable(*id) {
                extra.push_str("  (cannot change)");
            }
            if !extra.is_empty() && used + extra.chars().count() <= value_width {
                last.push(Span::styled(extra, theme.accent));
            }
        }
        for (row, spans) in value_rows.into_iter().enumerate() {
            let mut line = if row == 0 {
                label.clone()
            } else {
                vec![Span::raw(" ".repeat(LABEL as usize))]
            };
            line.extend(spans);
            rows.push(Line::from(line));
        }
        let provenance = if editing {
            {
                use crate::component::Command;
                use crate::keymap::Action;
                // The keys as `[input]` binds them (Ctrl-U is the input's own).
                let keys = crate::component::hints_line(
                    &[
                        Command::typing(Action::Open, "keeps it").with(Action::Back),
                        Command::typing(Action::NextPane, "next field"),
                    ],
                    &state.keymap,
                    crate::keymap::Context::Input,
                );
                format!("typing: {keys} · Ctrl-U clears")
            }
        } else {
            field.provenance()
        };
        rows.push(Line::from(vec![
            Span::raw(" ".repeat(LABEL as usize)),
            Span::styled(provenance, theme.muted),
        ]));
    }
    let fields_height = rows.len() as u16;
    let [fields_area, findings_area] =
        Layout::vertical([Constraint::Length(fields_height), Constraint::Min(2)]).areas(area);
    frame.render_widget(Paragraph::new(rows), fields_area);
    if let Some((x, y)) = cursor
        && x < fields_area.right()
        && y < fields_area.bottom()
    {
        frame.set_cursor_position((x, y));
    }
    // Findings, errors first.
    let mut lines = Vec::new();
    let errors: Vec<_> = wizard.errors().collect();
    let warnings: Vec<_> = wizard.warnings().collect();
    if errors.is_empty() && warnings.is_empty() {
        let what = if wizard.is_edit() {
            "the change"
        } else {
            "the exact request"
        };
        let next = format!(
            "✓ The rules find nothing wrong. {} reviews {what}.",
            wk(state, Action::Open)
        );
        lines.push(Line::from(Span::styled(next, theme.ok)));
    }
    for finding in errors.iter().chain(warnings.iter()) {
        let (glyph, style) = if finding.is_error() {
            ("✗ error", theme.error)
        } else if wizard.acknowledged.contains(&finding.message) {
            ("! accepted", theme.muted)
        } else {
            ("! warning", theme.warn)
        };
        let mut spans = vec![
            Span::styled(format!("{glyph} "), style),
            Span::styled(format!("{}: ", finding.field.label()), theme.title),
            Span::styled(finding.message.clone(), theme.text),
        ];
        if let Some(fix) = &finding.fix {
            spans.push(Span::styled(
                format!("  [{}: {}]", wk(state, Action::ApplyFix), fix.label),
                theme.accent,
            ));
        }
        lines.push(Line::from(spans));
    }
    if !warnings.is_empty() && !wizard.warnings_acknowledged() && errors.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "Warnings need your OK: {} accepts them, or fix them.",
                wk(state, Action::AcknowledgeWarnings)
            ),
            theme.warn,
        )));
    }
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(" Checks (fic rules, live) ", theme.title));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        findings_area,
    );
}

fn tabs_line<'a>(wizard: &Wizard, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (index, label) in REVIEW_TABS.iter().enumerate() {
        if index == wizard.review_tab {
            spans.push(Span::styled(format!("[{label}]"), theme.title));
        } else {
            spans.push(Span::styled(format!(" {label} "), theme.muted));
        }
    }
    Line::from(spans)
}

fn draw_review(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    wizard: &Wizard,
    status: Option<Line<'static>>,
) {
    let theme = &state.theme;
    let [tabs, body, action] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(tabs_line(wizard, theme)), tabs);
    let snippets = review_snippets(wizard);
    let text = snippets
        .get(wizard.review_tab)
        .map(|(_, text)| text.clone())
        .unwrap_or_default();
    // Cut at the width, not at words: the text is meant to be copied exactly.
    let width = body.width.max(1) as usize;
    let lines: Vec<Line> = text
        .lines()
        .flat_map(|l| chunks(l, width))
        .map(|l| Line::from(Span::styled(l, theme.text)))
        .collect();
    let wrapped = lines.len() as u16;
    let visible = body.height.saturating_sub(1);
    let scroll = wizard.review_scroll.min(wrapped.saturating_sub(visible));
    let more = if wrapped > visible + scroll {
        format!(
            " ↓ more: {} scrolls ({}/{wrapped}) ",
            wk(state, Action::Down),
            scroll + visible
        )
    } else {
        String::new()
    };
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.border)
                .title(Span::styled(more, theme.muted)),
        ),
        body,
    );
    let action_line = match status {
        Some(line) => line,
        None if state.read_only() => Line::from(vec![
            Span::styled("⊘ Saving is off: --read-only. ", theme.warn),
            Span::styled(
                format!(
                    "{} copies this to run elsewhere · {} next format",
                    wk(state, Action::Copy),
                    wk(state, Action::NextPane)
                ),
                theme.muted,
            ),
        ]),
        None => {
            let verb = if wizard.is_edit() {
                "saves the change"
            } else {
                "creates it"
            };
            Line::from(vec![
                Span::styled(format!("{} {verb}", wk(state, Action::Open)), theme.accent),
                Span::styled(
                    format!(
                        " · {} copies · {} next format · {} back",
                        wk(state, Action::Copy),
                        wk(state, Action::NextPane),
                        wk(state, Action::Back)
                    ),
                    theme.muted,
                ),
            ])
        }
    };
    frame.render_widget(Paragraph::new(vec![Line::default(), action_line]), action);
}

fn draw_failed(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard, error: &str) {
    let theme = &state.theme;
    let verb = if wizard.is_edit() { "change" } else { "create" };
    let lines = vec![
        Line::from(Span::styled(
            format!("✗ Could not {verb} the FIC."),
            theme.error,
        )),
        Line::from(Span::styled(error.to_string(), theme.text)),
        Line::default(),
        Line::from(vec![
            Span::styled("Every field is kept. ", theme.ok),
            Span::styled(
                format!(
                    "{} or {} retries · {} back to the review · {} copies the request",
                    wk(state, Action::Refresh),
                    wk(state, Action::Open),
                    wk(state, Action::Back),
                    wk(state, Action::Copy)
                ),
                theme.muted,
            ),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn draw_done(frame: &mut Frame, area: Rect, state: &State, wizard: &Wizard, stored: &Fic) {
    let theme = &state.theme;
    let identity = wizard.identity.as_ref().map(|i| i.name.clone());
    let verb = if wizard.is_edit() { "Saved" } else { "Created" };
    let headline = if wizard.replicated || wizard.is_edit() {
        format!("✓ {verb} and read back from the directory:")
    } else {
        format!("✓ {}:", crate::screens::wizard::state::NOT_REPLICATED)
    };
    let mut lines = vec![
        Line::from(Span::styled(headline, theme.ok)),
        kv("name", stored.name.clone(), theme),
        kv("id", stored.id.clone().unwrap_or_default(), theme),
        kv("issuer", stored.issuer.clone(), theme),
        kv(
            "subject",
            match &identity {
                Some(name) => format!("{} ({name})", stored.subject),
                None => stored.subject.clone(),
            },
            theme,
        ),
        kv("audience", stored.audiences.join(", "), theme),
        Line::from(Span::styled(
            "i Entra takes a few minutes to replicate a new FIC: until then an exchange may fail with AADSTS70021 (no matching federated identity record); the test exchange retries by itself.",
            theme.muted,
        )),
    ];
    if let Some(app) = &wizard.app {
        let (secrets, certificates) = remaining_secrets(&app.row);
        if secrets > 0 {
            lines.push(Line::from(Span::styled(
                format!(
                    "i {} still has {secrets} client secret{}{}. Once the exchange works from the workload, remove {} ({} to Credentials in the app).",
                    app.row.name,
                    if secrets == 1 { "" } else { "s" },
                    if certificates > 0 { " (and certificates)" } else { "" },
                    if secrets == 1 { "it" } else { "them" },
                    super::key(state, Context::AppDetail, Action::NextPane)
                ),
                theme.warn,
            )));
        }
    }
    lines.push(Line::from(vec![
        Span::styled(
            format!("{} ", wk(state, Action::TestExchange)),
            theme.accent,
        ),
        Span::styled("runs the live test exchange now · ", theme.muted),
        Span::styled(format!("{} ", wk(state, Action::Open)), theme.accent),
        Span::styled(
            format!(
                "back to the app · {} copies the id",
                wk(state, Action::Copy)
            ),
            theme.muted,
        ),
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
