//! One app registration: identifiers, its FICs with the findings of `fic::rules` inline, and its
//! secrets and certificates with their expiry.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};

use super::{field, key, short_id, titled_pane, wrapped_lines};
use crate::evidence::Evidence;
use crate::evidence::SecretVerdict;
use crate::keymap::{Action, Context};
use crate::model::{ExpiryFlag, FicRow, Severity, expiry_flag};
use crate::screens::app_detail::Question;
use crate::state::{AppDetailScreen, DetailPane, State};
use ficus_core::text::relative_time;

/// Where a FIC's values start, after their label.
const VALUE_INDENT: usize = 10;

/// The selected FIC's issuer, subject (with the identity it names) and audiences, in full.
fn fic_values(
    row: &crate::model::FicRow,
    evidence: Option<&Evidence>,
    now: time::OffsetDateTime,
) -> Vec<(&'static str, String)> {
    let subject = match &row.subject_name {
        Some(name) => format!("{} ({name})", row.fic.subject),
        None => row.fic.subject.clone(),
    };
    let mut values = vec![
        ("issuer", row.fic.issuer.clone()),
        ("subject", subject),
        ("audience", row.fic.audiences.join(", ")),
    ];
    // The sign-in evidence: is the FIC in use, does it fail?
    if let (Some(evidence), Some(id)) = (evidence, row.fic.id.as_deref()) {
        values.push(("sign-ins", evidence.describe_fic(id, now)));
    }
    values
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &AppDetailScreen) {
    let theme = &state.theme;
    let Some(detail) = &screen.detail else {
        let text = match &screen.error {
            Some(error) => format!(
                "✗ Could not load {}: {error}\n  Press {} to retry, {} to go back.",
                screen.name,
                key(state, Context::AppDetail, Action::Refresh),
                key(state, Context::AppDetail, Action::Back),
            ),
            None => format!("Loading {}…", screen.name),
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.muted)
                .wrap(Wrap { trim: false }),
            area.inner(ratatui::layout::Margin::new(1, 1)),
        );
        // Undo asks on the app it changed, which may still be loading.
        if let Some(question) = &screen.migration.question {
            draw_question(frame, area, state, question);
        }
        return;
    };
    let wide = area.width >= 100;
    let app = &detail.app;
    // The sign-in evidence: a column of the credentials from 100 columns, below them (the
    // selected one's) when narrower; the selected FIC's among its values either way.
    let evidence = state.evidence.get(&app.object_id);
    let mut identity_lines = vec![
        Line::from(Span::styled(app.name.clone(), theme.title)),
        field("app id", app.app_id.clone(), theme.muted, theme.text),
        field("object id", app.object_id.clone(), theme.muted, theme.text),
        field(
            "audience",
            app.audience.label().to_string(),
            theme.muted,
            theme.text,
        ),
    ];
    if !detail.identifier_uris.is_empty() {
        identity_lines.push(field(
            "identifier URI",
            detail.identifier_uris.join(", "),
            theme.muted,
            theme.text,
        ));
    }
    let selected_fic = detail.fics.get(screen.fic_cursor);
    let findings_height = if screen.pane == DetailPane::Fics {
        // Each value and finding wraps over as many lines as its words need.
        let width = area.width.max(20) as usize;
        selected_fic.map_or(0, |f| {
            let values: usize = fic_values(f, evidence, state.now)
                .iter()
                .map(|(label, value)| {
                    wrapped_lines(&format!("{label:<VALUE_INDENT$}{value}"), width)
                })
                .sum();
            let findings: usize = f
                .findings
                .iter()
                .take(4)
                .map(|finding| {
                    let fix_note = if finding.fixable {
                        format!(
                            "  ({} fixes)",
                            key(state, Context::AppDetail, Action::FixFic)
                        )
                    } else {
                        String::new()
                    };
                    let text = format!(
                        "{} {} {}: {}{fix_note}",
                        finding.severity.glyph(),
                        finding.severity.word(),
                        finding.field,
                        finding.message
                    );
                    wrapped_lines(&text, width)
                })
                .sum();
            (values + findings.clamp(1, 8)) as u16 + 1
        })
    } else {
        0
    };
    let [top, fics_area, findings_area, credentials_area] = Layout::vertical([
        Constraint::Length(identity_lines.len() as u16),
        Constraint::Min(4),
        Constraint::Length(findings_height),
        Constraint::Length(
            (app.credentials.len() as u16 + 3).min(8)
                + u16::from(!wide && !app.credentials.is_empty()),
        ),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(identity_lines),
        top.inner(ratatui::layout::Margin::new(1, 0)),
    );

    // FICs
    let focused = |pane| {
        if screen.pane == pane {
            theme.accent
        } else {
            theme.border
        }
    };
    let fic_title = format!(
        " Federated credentials ({} of {} allowed){} ",
        detail.fics.len(),
        ficus_core::fic::rules::MAX_FICS_PER_APP,
        if screen.pane == DetailPane::Fics {
            " ◀"
        } else {
            ""
        }
    );
    let fic_block = Block::new()
        .borders(Borders::TOP)
        .border_style(focused(DetailPane::Fics))
        .title(Span::styled(fic_title, theme.title));
    if detail.fics.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::from(vec![Span::styled(
                format!(
                    "No FICs yet. {} adds one that trusts a user-assigned managed identity.",
                    key(state, Context::AppDetail, Action::AddFic)
                ),
                theme.muted,
            )]))
            .block(fic_block),
            fics_area,
        );
    } else {
        let rows = detail.fics.iter().map(|fic| fic_row(fic, theme, wide));
        // Exact widths: check and audience fixed, the rest shared by name (and issuer) and
        // subject.
        let (check, audience) = (9u16, 31u16);
        let columns = if wide { 5 } else { 4 };
        let free = fics_area
            .width
            .saturating_sub(check + audience + columns + 2)
            .max(20);
        let widths: Vec<Constraint> = if wide {
            let name = (free / 4).max(14);
            let rest = free.saturating_sub(name);
            vec![
                Constraint::Length(check),
                Constraint::Length(name),
                Constraint::Length(rest / 2),
                Constraint::Length(rest - rest / 2),
                Constraint::Length(audience),
            ]
        } else {
            vec![
                Constraint::Length(check),
                Constraint::Length(free / 2),
                Constraint::Length(free - free / 2),
                Constraint::Length(audience),
            ]
        };
        let header_titles: &[&str] = if wide {
            &["check", "name", "issuer", "subject", "audience"]
        } else {
            &["check", "name", "subject", "audience"]
        };
        let header = TableRow::new(
            header_titles
                .iter()
                .map(|t| Cell::from(Span::styled(*t, theme.title))),
        );
        let table = Table::new(rows, widths)
            .header(header)
            .block(fic_block)
            .row_highlight_style(if screen.pane == DetailPane::Fics {
                theme.selection
            } else {
                theme.text
            })
            .highlight_symbol("▶ ");
        let mut table_state = TableState::default().with_selected(Some(screen.fic_cursor));
        frame.render_stateful_widget(table, fics_area, &mut table_state);
    }

    // Findings of the selected FIC, in words.
    if let Some(fic) = selected_fic.filter(|_| findings_height > 0) {
        // The key comes from the keymap, so a remapped `f` is named right.
        let fix_note = format!(
            "  ({} fixes)",
            key(state, Context::AppDetail, Action::FixFic)
        );
        // The full values first: the table above cuts long issuers, and at 80 columns it
        // has no issuer column at all.
        let mut lines: Vec<Line> = fic_values(fic, evidence, state.now)
            .into_iter()
            .map(|(label, value)| {
                Line::from(vec![
                    Span::styled(
                        format!("{label:<width$}", width = VALUE_INDENT),
                        theme.muted,
                    ),
                    Span::styled(value, theme.code),
                ])
            })
            .collect();
        lines.extend(fic.findings.iter().take(4).map(|finding| {
            let style = match finding.severity {
                Severity::Error => theme.error,
                Severity::Warning => theme.warn,
                Severity::Info => theme.muted,
            };
            let mut spans = vec![
                Span::styled(
                    format!("{} {} ", finding.severity.glyph(), finding.severity.word()),
                    style,
                ),
                Span::styled(format!("{}: ", finding.field), theme.muted),
                Span::raw(finding.message.clone()),
            ];
            if finding.fixable {
                spans.push(Span::styled(fix_note.clone(), theme.accent));
            }
            Line::from(spans)
        }));
        if fic.findings.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("✓ no findings: ", theme.ok),
                Span::raw("issuer, subject and audience follow the rules for this identity."),
            ]));
        }
        if fic.findings.len() > 4 {
            lines.push(Line::from(Span::styled(
                format!("… and {} more", fic.findings.len() - 4),
                theme.muted,
            )));
        }
        frame.render_widget(
            titled_pane(
                lines,
                format!(" {}: values and findings ", fic.fic.name),
                theme,
            ),
            findings_area,
        );
    }

    // Credentials
    let credential_title = format!(
        " Secrets and certificates ({}){}{} ",
        app.credentials.len(),
        match evidence.and_then(Evidence::unavailable) {
            Some(why) => format!(" · {why}"),
            None => String::new(),
        },
        if screen.pane == DetailPane::Credentials {
            " ◀"
        } else {
            ""
        }
    );
    let credential_block = Block::new()
        .borders(Borders::TOP)
        .border_style(focused(DetailPane::Credentials))
        .title(Span::styled(credential_title, theme.title));
    if app.credentials.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "None: this app has no secret or certificate to leak.",
                theme.muted,
            ))
            .block(credential_block),
            credentials_area,
        );
    } else {
        // Whole key ids where the evidence column leaves room for them.
        let full_key_ids = area.width >= 150;
        let rows = app.credentials.iter().map(|credential| {
            let expiry = match credential.expires {
                Some(at) => {
                    let (glyph, style) = match expiry_flag(at, state.now) {
                        ExpiryFlag::Expired => ("✗ expired", theme.error),
                        ExpiryFlag::Soon => ("! expires", theme.warn),
                        ExpiryFlag::Fine => ("✓ expires", theme.ok),
                    };
                    Span::styled(format!("{glyph} {}", relative_time(at, state.now)), style)
                }
                None => Span::styled("no end date", theme.muted),
            };
            let mut cells = vec![
                Cell::from(credential.kind.label()),
                Cell::from(credential.name.clone()),
                Cell::from(Span::styled(
                    short_id(&credential.key_id, full_key_ids),
                    theme.muted,
                )),
                Cell::from(expiry),
            ];
            // The sign-in evidence, where there is room for it.
            if wide {
                cells.push(Cell::from(Span::styled(
                    evidence.map_or_else(
                        || "sign-ins…".to_string(),
                        |e| e.describe(&credential.key_id, state.now),
                    ),
                    theme.muted,
                )));
            }
            TableRow::new(cells)
        });
        let mut widths = vec![
            Constraint::Length(11),
            Constraint::Min(12),
            Constraint::Length(if full_key_ids { 36 } else { 9 }),
            Constraint::Length(26),
        ];
        if wide {
            widths.push(Constraint::Length(36));
        }
        let table = Table::new(rows, widths)
            .block(credential_block)
            .row_highlight_style(if screen.pane == DetailPane::Credentials {
                theme.selection
            } else {
                theme.text
            })
            .highlight_symbol("▶ ");
        let mut table_state = TableState::default().with_selected(Some(screen.credential_cursor));
        if wide {
            frame.render_stateful_widget(table, credentials_area, &mut table_state);
        } else {
            // No room for an evidence column: the selected credential's, under the table.
            let [table_area, evidence_area] =
                Layout::vertical([Constraint::Min(2), Constraint::Length(1)])
                    .areas(credentials_area);
            frame.render_stateful_widget(table, table_area, &mut table_state);
            let credential = app
                .credentials
                .get(screen.credential_cursor)
                .or(app.credentials.first());
            let text = match (evidence, credential) {
                (Some(e), _) if e.unavailable().is_some() => None,
                (Some(e), Some(c)) => {
                    let name = if c.name.is_empty() {
                        c.kind.label()
                    } else {
                        &c.name
                    };
                    Some(format!("{name}: {}", e.describe(&c.key_id, state.now)))
                }
                (None, _) => Some("…".to_string()),
                (Some(_), None) => None,
            };
            if let Some(text) = text {
                frame.render_widget(
                    Paragraph::new(Line::from(vec![
                        Span::styled(format!("  {:<VALUE_INDENT$}", "sign-ins"), theme.muted),
                        Span::styled(text, theme.text),
                    ])),
                    evidence_area,
                );
            }
        }
    }
    if let Some(question) = &screen.migration.question {
        draw_question(frame, area, state, question);
    }
}

/// The question on App detail (remove this secret, undo the last change), over its panes.
fn draw_question(frame: &mut Frame, area: Rect, state: &State, question: &Question) {
    use ratatui::widgets::{BorderType, Clear};
    let theme = &state.theme;
    let yes = crate::component::key_named(
        &state.keymap,
        crate::keymap::Context::Question,
        crate::keymap::Action::Confirm,
    );
    let (title, lines) = match question {
        Question::RemoveSecret {
            name,
            request_line,
            verdict,
            insisted,
            ..
        } => {
            let mut lines = vec![
                Line::from(vec![
                    Span::styled("Remove the secret ", theme.warn),
                    Span::styled(name.clone(), theme.title),
                    Span::styled("?", theme.warn),
                ]),
                Line::raw(""),
                Line::from(Span::styled("This request will be sent:", theme.muted)),
                Line::from(Span::styled(request_line.clone(), theme.code)),
                Line::raw(""),
            ];
            let quiet = crate::evidence::QUIET_DAYS;
            match verdict {
                SecretVerdict::InUse { last_used } => lines.push(Line::from(Span::styled(
                    format!(
                        "✗ Refused: it was used {} ({}), within the quiet period of {quiet} days. The workload still signs in with it and would stop getting tokens: move it to its FIC first.",
                        relative_time(*last_used, state.now),
                        last_used
                            .format(&time::macros::format_description!(
                                "[year]-[month]-[day] [hour]:[minute] UTC"
                            ))
                            .unwrap_or_default()
                    ),
                    theme.error,
                ))),
                SecretVerdict::Unknown(why) => lines.push(Line::from(Span::styled(
                    format!("✗ Refused: {why}, so ficus cannot tell whether it is still in use."),
                    theme.error,
                ))),
                SecretVerdict::Quiet { last_used } => lines.push(Line::from(Span::styled(
                    match last_used {
                        Some(at) => format!(
                            "✓ Quiet: last used {}, not within the last {quiet} days.",
                            relative_time(*at, state.now)
                        ),
                        None => format!(
                            "✓ Quiet: not used in the last {} days.",
                            crate::evidence::WINDOW_DAYS
                        ),
                    },
                    theme.ok,
                ))),
            }
            lines.push(Line::raw(
                "A removed secret cannot come back: Entra never returns its value.",
            ));
            let action = if *insisted {
                "remove it anyway (second confirmation)"
            } else if matches!(verdict, SecretVerdict::Quiet { .. }) {
                "remove it"
            } else {
                "insist (asks once more)"
            };
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(yes.clone(), theme.error),
                Span::raw(format!(" {action}   ")),
                Span::styled("any other key", theme.accent),
                Span::raw(" keep it"),
            ]));
            let title = if *insisted {
                "! Remove a secret still in use?"
            } else {
                "! Remove secret"
            };
            (title, lines)
        }
        Question::Undo(plan) => (
            "! Undo the last change",
            vec![
                Line::from(vec![
                    Span::styled(format!("Change {}: ", plan.number), theme.muted),
                    Span::styled(plan.change.clone(), theme.title),
                    Span::styled(format!(" on {}", plan.app_name), theme.muted),
                ]),
                Line::raw(""),
                Line::raw(format!("Undo it: {}.", plan.description)),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(yes.clone(), theme.error),
                    Span::raw(" undo   "),
                    Span::styled("any other key", theme.accent),
                    Span::raw(" keep it"),
                ]),
            ],
        ),
    };
    let width = area.width.min(96);
    let inner = width.saturating_sub(2) as usize;
    let height: usize = lines
        .iter()
        .map(|l| wrapped_lines(&l.to_string(), inner))
        .sum::<usize>()
        + 2;
    let height = (height as u16).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::new()
                .borders(Borders::ALL)
                .border_type(BorderType::Rounded)
                .border_style(theme.warn)
                .title(Span::styled(format!(" {title} "), theme.title))
                .style(theme.text),
        ),
        rect,
    );
}

fn fic_row(fic: &FicRow, theme: &crate::theme::Theme, wide: bool) -> TableRow<'static> {
    let errors = fic
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = fic
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let check = if errors > 0 {
        Span::styled(format!("✗ {errors} err"), theme.error)
    } else if warnings > 0 {
        Span::styled(format!("! {warnings} warn"), theme.warn)
    } else {
        Span::styled("✓ ok", theme.ok)
    };
    let subject = match &fic.subject_name {
        Some(name) if wide => format!("{name} ({})", short_id(&fic.fic.subject, false)),
        Some(name) => name.clone(),
        None => fic.fic.subject.clone(),
    };
    let audience = fic.fic.audiences.join(", ");
    let mut cells = vec![Cell::from(check), Cell::from(fic.fic.name.clone())];
    if wide {
        cells.push(Cell::from(Span::styled(
            fic.fic.issuer.clone(),
            theme.muted,
        )));
    }
    cells.push(Cell::from(subject));
    cells.push(Cell::from(Span::styled(audience, theme.muted)));
    TableRow::new(cells)
}
