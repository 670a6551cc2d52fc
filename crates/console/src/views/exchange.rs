//! The live test exchange screen: the form, the timeline, the verdict, then both tokens side
//! by side (success) or the refusal explained (failure).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::keymap::{Action, Context};
use crate::screens::exchange::{
    ExchangeResult, ExchangeScreen, FormField, STEP_NAMES, Signature, SourceChoice, SourceState,
    StepOutcome, char_diff,
};
use crate::state::State;
use crate::theme::Theme;
use crate::widgets::picker::Picker;
use ficus_core::fic::{self, Field};
use ficus_core::jwt::{self, Jwt};
use ficus_core::secret::Secret;
use ficus_core::text::sanitize;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &ExchangeScreen) {
    let theme = &state.theme;
    let area = area.inner(ratatui::layout::Margin::new(1, 0));
    let form = form_lines(state, screen);
    let timeline = timeline_lines(state, screen);
    let [form_area, timeline_area, details_area] = Layout::vertical([
        Constraint::Length(form.len() as u16),
        Constraint::Length(timeline.len() as u16),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(form), form_area);
    frame.render_widget(Paragraph::new(timeline), timeline_area);
    if let Some(result) = screen.result() {
        if result.succeeded() {
            draw_tokens(frame, details_area, state, screen, result);
        } else {
            let lines = failure_lines(state, screen, result);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((screen.scroll, 0)),
                details_area,
            );
        }
    }
    if let Some(picker) = &screen.picker {
        let title = picker.field.map_or("choose", FormField::label);
        draw_picker(frame, area, theme, &state.keymap, picker, title);
    }
    if let Some(input) = &screen.file_input {
        draw_path_input(frame, area, theme, &state.keymap, input);
    }
}

fn form_lines<'a>(state: &'a State, screen: &'a ExchangeScreen) -> Vec<Line<'a>> {
    let theme = &state.theme;
    let editing = screen.result().is_none() && !screen.is_running();
    let mut lines = vec![Line::from(vec![
        Span::styled("Test exchange", theme.title),
        Span::styled(
            "  managed identity token → client_assertion → app token",
            theme.muted,
        ),
    ])];
    if !editing {
        // Once running, the form shrinks to two lines: the timeline and tokens need the room.
        let app = screen.app.as_ref().map_or("?", |a| a.name.as_str());
        let who = match (&screen.pasted, &screen.identity) {
            (Some(p), _) => p.label.clone(),
            (None, Some(i)) => i.name.clone(),
            (None, None) => "?".into(),
        };
        lines.push(Line::from(vec![
            Span::styled("  ", theme.muted),
            Span::styled(who, theme.accent),
            Span::styled(" → ", theme.muted),
            Span::styled(app.to_string(), theme.accent),
            Span::styled(format!("  scope {}", screen.scope), theme.muted),
        ]));
        let source = match (&screen.pasted, &screen.source) {
            (Some(p), _) => p.label.clone(),
            (None, SourceState::Found(info)) => info.label.clone(),
            (None, SourceState::Detecting) => "looking for a managed identity endpoint…".into(),
            (None, SourceState::Unavailable(why)) => why.clone(),
        };
        lines.push(Line::from(Span::styled(
            format!("  tenant {} · token from {source}", screen.tenant),
            theme.muted,
        )));
        return lines;
    }
    for field in FormField::ALL {
        let value = match field {
            FormField::App => screen.app.as_ref().map_or_else(
                || format!("({} to choose)", ex_key(state, Action::Open)),
                |a| format!("{}  {}", a.name, a.app_id),
            ),
            FormField::Identity => match (&screen.pasted, &screen.identity) {
                (Some(p), _) => format!("(not asked: the {} is the assertion)", p.label),
                (None, Some(i)) => format!("{}  client id {}", i.name, i.client_id),
                (None, None) => format!("({} to choose)", ex_key(state, Action::Open)),
            },
            FormField::Tenant => {
                let home = state
                    .session
                    .as_ref()
                    .is_some_and(|s| s.tenant_id == screen.tenant);
                if home {
                    format!("{}  (the app's home tenant)", screen.tenant)
                } else {
                    screen.tenant.clone()
                }
            }
            FormField::Scope => screen.scope.clone(),
        };
        let focused = editing && screen.focus == field;
        let marker = if focused { "› " } else { "  " };
        let style = if focused { theme.selection } else { theme.text };
        lines.push(Line::from(vec![
            Span::styled(marker, theme.accent),
            Span::styled(format!("{:<16}", field.label()), theme.muted),
            Span::styled(value, style),
        ]));
    }
    let source = match (&screen.pasted, &screen.source) {
        (Some(p), _) => Line::from(vec![
            Span::styled("  Token source    ", theme.muted),
            Span::styled(
                format!(
                    "{} ({} drops it)",
                    p.label,
                    ex_key(state, Action::PasteToken)
                ),
                theme.accent,
            ),
        ]),
        (None, _) if screen.source_choice == SourceChoice::PasteOrFile => Line::from(vec![
            Span::styled("  Token source    ", theme.muted),
            Span::styled("a pasted token or file: none yet", theme.warn),
        ]),
        (None, SourceState::Detecting) => Line::from(vec![
            Span::styled("  Token source    ", theme.muted),
            Span::styled("looking for a managed identity endpoint…", theme.muted),
        ]),
        (None, SourceState::Found(info)) => Line::from(vec![
            Span::styled("  Token source    ", theme.muted),
            Span::styled(info.label.clone(), theme.text),
        ]),
        (None, SourceState::Unavailable(why)) => Line::from(vec![
            Span::styled("  Token source    ", theme.muted),
            Span::styled(format!("! {why}. "), theme.warn),
            Span::styled(
                format!(
                    "{} pastes a token, {} reads one from a file",
                    ex_key(state, Action::PasteToken),
                    ex_key(state, Action::TokenFromFile)
                ),
                theme.accent,
            ),
        ]),
    };
    lines.push(source);
    // Why this source, and what `s` switches to.
    lines.push(Line::from(vec![
        Span::styled("                  ", theme.muted),
        Span::styled(screen.source_reason(&state.keymap), theme.muted),
    ]));
    lines
}

fn timeline_lines<'a>(state: &State, screen: &'a ExchangeScreen) -> Vec<Line<'a>> {
    let theme = &state.theme;
    let Some(run) = &screen.run else {
        return vec![Line::from(Span::styled(
            format!(
                "  {} runs the exchange; {} changes the selected field.",
                ex_key(state, Action::RunExchange),
                ex_key(state, Action::Open)
            ),
            theme.muted,
        ))];
    };
    let mut lines = Vec::new();
    let running = run.result.is_none();
    for (index, name) in STEP_NAMES.iter().enumerate() {
        match run.steps.iter().find(|s| s.name == *name) {
            Some(step) => {
                let (glyph, style, detail) = match &step.outcome {
                    StepOutcome::Ok(d) => ("✓", theme.ok, d.as_str()),
                    StepOutcome::Failed(d) => ("✗", theme.error, d.as_str()),
                    StepOutcome::Skipped(d) => ("–", theme.muted, d.as_str()),
                };
                let where_ = if step.endpoint.is_empty() {
                    detail.to_string()
                } else {
                    step.endpoint.clone()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {glyph} "), style),
                    Span::styled(format!("{name:<27}"), theme.text),
                    Span::styled(format!("{:>6} ms  ", step.duration_ms), theme.muted),
                    Span::styled(where_, theme.muted),
                ]));
            }
            None => {
                let done_before = run.steps.len();
                let failed_earlier = run
                    .steps
                    .iter()
                    .any(|s| matches!(s.outcome, StepOutcome::Failed(_)))
                    && !running;
                let (glyph, text) = if failed_earlier || (!running && index >= done_before) {
                    ("–", "not run")
                } else if index == done_before {
                    ("…", "running")
                } else {
                    ("·", "waiting")
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {glyph} "), theme.muted),
                    Span::styled(format!("{name:<27}"), theme.muted),
                    Span::styled(format!("{:>9}  {text}", ""), theme.muted),
                ]));
            }
        }
    }
    lines.push(verdict(theme, screen));
    lines
}

fn verdict<'a>(theme: &Theme, screen: &'a ExchangeScreen) -> Line<'a> {
    let Some(run) = &screen.run else {
        return Line::default();
    };
    let attempt = if run.attempt > 1 {
        format!(" (attempt {})", run.attempt)
    } else {
        String::new()
    };
    let Some(result) = run.result.as_deref() else {
        return Line::from(Span::styled(
            format!("  … exchanging{attempt}"),
            theme.accent,
        ));
    };
    if result.succeeded() {
        let fic = result
            .comparison
            .as_ref()
            .and_then(|c| c.matched_fic(&result.fics))
            .map(|f| format!(" through FIC '{}'", f.name))
            .unwrap_or_default();
        let app = screen.app.as_ref().map_or("the app", |a| a.name.as_str());
        return Line::from(vec![
            Span::styled("  ✓ WORKS ", theme.ok.add_modifier(Modifier::BOLD)),
            Span::styled(
                format!("{app} got a token for {}{fic}{attempt}", screen.scope),
                theme.ok,
            ),
        ]);
    }
    let what = match &result.refusal {
        Some(r) => match r.code {
            Some(code) => format!("Entra refused: AADSTS{code} ({})", r.error),
            None => format!("Entra refused: {}", r.error),
        },
        None => "no managed identity token: the exchange was not attempted".to_string(),
    };
    Line::from(vec![
        Span::styled("  ✗ FAILS ", theme.error.add_modifier(Modifier::BOLD)),
        Span::styled(format!("{what}{attempt}"), theme.error),
    ])
}

/// Both tokens side by side (stacked when the terminal is narrow).
fn draw_tokens(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    screen: &ExchangeScreen,
    result: &ExchangeResult,
) {
    let theme = &state.theme;
    let matched = result
        .comparison
        .as_ref()
        .and_then(|c| c.matched_fic(&result.fics));
    let assertion_links: Vec<(&str, String)> = match matched {
        Some(f) => vec![
            ("iss", format!("= issuer of FIC '{}'", f.name)),
            ("sub", format!("= subject of FIC '{}'", f.name)),
            (
                "aud",
                format!("↔ audience {} of FIC '{}'", f.audiences.join(","), f.name),
            ),
        ],
        None => vec![],
    };
    let app_links: Vec<(&str, String)> = vec![
        ("appid", "= the app's client id".to_string()),
        ("azp", "= the app's client id".to_string()),
        ("tid", "= the resource tenant".to_string()),
        ("roles", "app roles granted to the app".to_string()),
    ];
    let now = state.now.unix_timestamp();
    let left = token_lines(
        theme,
        "Managed identity token (the assertion)",
        result.assertion.as_ref(),
        result.assertion_raw.as_ref(),
        &result.assertion_signature,
        &assertion_links,
        masked_unless(state, Context::Exchange, screen.reveal).as_deref(),
        now,
    );
    let right = token_lines(
        theme,
        "App token",
        result.app_token.as_ref(),
        result.app_token_raw.as_ref(),
        &result.app_token_signature,
        &app_links,
        masked_unless(state, Context::Exchange, screen.reveal).as_deref(),
        now,
    );
    if area.width >= 90 {
        let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .spacing(1)
            .areas(area);
        frame.render_widget(
            Paragraph::new(left)
                .wrap(Wrap { trim: false })
                .scroll((screen.scroll, 0))
                .block(
                    Block::new()
                        .borders(Borders::RIGHT)
                        .border_style(theme.border),
                ),
            l,
        );
        frame.render_widget(
            Paragraph::new(right)
                .wrap(Wrap { trim: false })
                .scroll((screen.scroll, 0)),
            r,
        );
    } else {
        let mut lines = left;
        lines.push(Line::default());
        lines.extend(right);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((screen.scroll, 0)),
            area,
        );
    }
}

/// `None` when the tokens are revealed, else the key that reveals them on `context`'s screen.
pub(crate) fn masked_unless(state: &State, context: Context, revealed: bool) -> Option<String> {
    (!revealed).then(|| super::key(state, context, Action::Reveal))
}

/// One token decoded: kind, signature, the token itself (`masked`: hidden, and the key that
/// shows it), header and
/// claims with their meaning and times in words; `links` highlight the claims that tie it to
/// the FIC or the app.
#[allow(clippy::too_many_arguments)]
pub(crate) fn token_lines<'a>(
    theme: &Theme,
    title: &'a str,
    jwt: Option<&Jwt>,
    raw: Option<&Secret<String>>,
    signature: &Signature,
    links: &[(&str, String)],
    masked: Option<&str>,
    now: i64,
) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled(title, theme.title))];
    let Some(jwt) = jwt else {
        lines.push(Line::from(Span::styled(
            "  (not decodable: it was sent as is)",
            theme.muted,
        )));
        return lines;
    };
    lines.push(Line::from(vec![
        Span::styled("kind       ", theme.muted),
        Span::raw(jwt::classify(jwt).label()),
    ]));
    lines.push(signature_line(theme, signature, Some(jwt)));
    if let Some(raw) = raw {
        let shown = match masked {
            None => sanitize(raw.expose()).into_owned(),
            Some(reveal) => format!(
                "{} ({reveal} reveals)",
                ficus_core::secret::mask(raw.expose())
            ),
        };
        lines.push(Line::from(vec![
            Span::styled("token      ", theme.muted),
            Span::styled(shown, theme.code),
        ]));
    }
    lines.push(Line::from(Span::styled("header", theme.accent)));
    for (name, value) in &jwt.header {
        let value = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {name:<9}"), theme.muted),
            Span::raw(sanitize(&value).into_owned()),
        ]));
    }
    lines.push(Line::from(Span::styled("claims", theme.accent)));
    for claim in jwt::claim_lines(jwt, now) {
        let link = links.iter().find(|(n, _)| *n == claim.name);
        let (marker, name_style) = match link {
            Some(_) => ("◆ ", theme.accent.add_modifier(Modifier::BOLD)),
            None => ("  ", theme.muted),
        };
        lines.push(Line::from(vec![
            Span::styled(marker, theme.accent),
            Span::styled(format!("{:<10}", claim.name), name_style),
            Span::styled(
                sanitize(&claim.value).into_owned(),
                if link.is_some() {
                    theme.text.add_modifier(Modifier::BOLD)
                } else {
                    theme.text
                },
            ),
        ]));
        if let Some((_, why)) = link {
            lines.push(Line::from(Span::styled(
                format!("            {why}"),
                theme.accent,
            )));
        }
        if let Some(when) = &claim.when {
            let mut text = format!("            {when}");
            if claim.name == "exp"
                && let Some(exp) = jwt.time_claim("exp")
            {
                text.push_str(&format!("  ({})", countdown(exp - now)));
            }
            lines.push(Line::from(Span::styled(text, theme.warn)));
        }
        if let Some(meaning) = claim.meaning {
            lines.push(Line::from(Span::styled(
                format!("            {meaning}"),
                theme.muted,
            )));
        }
    }
    lines
}

/// `mm:ss left`, `h:mm:ss left`, or `expired`.
pub(crate) fn countdown(seconds: i64) -> String {
    if seconds <= 0 {
        return "expired".into();
    }
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02} left")
    } else {
        format!("{m:02}:{s:02} left")
    }
}

pub(crate) fn signature_line<'a>(
    theme: &Theme,
    signature: &Signature,
    jwt: Option<&Jwt>,
) -> Line<'a> {
    // Entra's keys sign every tenant's tokens: a good signature says which tenant issued the
    // token only through `iss`/`tid` (checked before `Verified`).
    let issued_by = jwt
        .and_then(|j| j.str_claim("iss"))
        .and_then(jwt::issuer_tenant)
        .map(|tenant| format!("; issued by tenant {tenant}"))
        .unwrap_or_default();
    let (glyph, text, style) = match signature {
        Signature::Verified(kid) => (
            "✓",
            format!(
                "verified with the issuer's published key {}{issued_by}",
                crate::views::short_id(kid, false)
            ),
            theme.ok,
        ),
        Signature::NotForYou(why) => ("○", format!("not for you: {why}"), theme.muted),
        Signature::Failed(why) => ("✗", format!("NOT verified: {why}"), theme.error),
        Signature::NotChecked(why) if why.is_empty() => {
            ("·", "not checked".to_string(), theme.muted)
        }
        Signature::NotChecked(why) => ("·", format!("not checked: {why}"), theme.muted),
    };
    Line::from(vec![
        Span::styled("signature  ", theme.muted),
        Span::styled(format!("{glyph} {}", sanitize(&text)), style),
    ])
}

fn failure_lines<'a>(
    state: &'a State,
    screen: &'a ExchangeScreen,
    result: &'a ExchangeResult,
) -> Vec<Line<'a>> {
    let theme = &state.theme;
    let mut lines = Vec::new();
    if let Some(refusal) = &result.refusal {
        let code = refusal
            .code
            .map_or(String::new(), |c| format!("AADSTS{c} "));
        lines.push(Line::from(vec![
            Span::styled(format!("{code}{}", refusal.error), theme.error),
            Span::styled(format!("  at {}", result.token_endpoint), theme.muted),
        ]));
        lines.push(Line::from(vec![
            Span::styled("Entra said  ", theme.muted),
            Span::raw(refusal.message.clone()),
        ]));
        if let Some(trace) = &refusal.trace_id {
            lines.push(Line::from(Span::styled(
                format!(
                    "            trace id {trace} · correlation id {}",
                    refusal.correlation_id.as_deref().unwrap_or("-")
                ),
                theme.muted,
            )));
        }
    } else if let Some(failure) = &result.failure {
        lines.push(Line::from(vec![
            Span::styled("Why         ", theme.muted),
            Span::styled(failure.clone(), theme.error),
        ]));
        if let Some(identity) = &screen.identity
            && failure.contains("managed identity")
        {
            lines.push(Line::from(Span::styled(
                format!(
                    "            Is {} attached to this host? Attach it (VM / App Service → Identity → User assigned), run ficus where it is attached, or paste its token with {}.",
                    identity.name,
                    ex_key(state, Action::PasteToken)
                ),
                theme.warn,
            )));
        }
    }
    if let Some(run) = &screen.run
        && let Some(retry) = &run.retry
    {
        let left = (retry.due - state.now).whole_seconds().max(0);
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            "⟳ Replication delay: the FIC matches this token, but Entra's token service has not seen it yet — a new FIC can take a few minutes to reach every region.",
            theme.warn,
        )));
        lines.push(Line::from(Span::styled(
            format!(
                "  Retrying by itself in {left} s (attempt {} of {}); {} retries now, {} stops.",
                retry.attempt,
                crate::screens::exchange::RETRY_BACKOFF.len() + 1,
                ex_key(state, Action::RunExchange),
                ex_key(state, Action::Back)
            ),
            theme.accent,
        )));
    }
    if let Some(explanation) = &result.explanation {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("Diagnosis   ", theme.muted),
            Span::styled(explanation.summary.clone(), theme.text),
        ]));
        if let Some(field) = &explanation.field {
            lines.push(Line::from(vec![
                Span::styled("At fault    ", theme.muted),
                Span::styled(
                    format!("✗ the {field}"),
                    theme.error.add_modifier(Modifier::BOLD),
                ),
            ]));
        }
    }
    if let Some((fic, comparison)) = result.nearest()
        && !comparison.is_match()
    {
        lines.push(Line::from(vec![
            Span::styled("Nearest FIC ", theme.muted),
            Span::styled(fic.name.clone(), theme.accent),
        ]));
        for field in &comparison.fields {
            lines.extend(diff_lines(theme, field));
        }
    }
    // What to do: core's remedies when a FIC was compared (a FIC that is another workload's
    // working trust is never offered for editing), else the explanation's fix.
    let remedies = screen
        .run
        .as_ref()
        .map(|r| r.remedies.as_slice())
        .unwrap_or_default();
    match remedies.split_first() {
        Some((best, others)) => {
            // A misspelled FIC: the explanation says the fix in the words of the refusal.
            let fix = match (
                best,
                result.explanation.as_ref().and_then(|e| e.fix.clone()),
            ) {
                (fic::Remedy::EditField { .. }, Some(fix)) => fix,
                _ => best.sentence(),
            };
            lines.push(Line::from(vec![
                Span::styled("Fix         ", theme.muted),
                Span::styled(sanitize(&fix).into_owned(), theme.ok),
            ]));
            for other in others {
                lines.push(Line::from(vec![
                    Span::styled("Or          ", theme.muted),
                    Span::styled(sanitize(&other.sentence()).into_owned(), theme.text),
                ]));
            }
            lines.push(Line::from(vec![
                Span::styled("            F ", theme.accent.add_modifier(Modifier::BOLD)),
                Span::styled(
                    sanitize(&crate::screens::exchange::remedy::hint(best)).into_owned(),
                    theme.accent,
                ),
            ]));
        }
        None => {
            if let Some(fix) = result.explanation.as_ref().and_then(|e| e.fix.clone()) {
                lines.push(Line::from(vec![
                    Span::styled("Fix         ", theme.muted),
                    Span::styled(fix, theme.ok),
                ]));
            }
        }
    }
    if let Some(assertion) = &result.assertion {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            "The assertion that was presented",
            theme.title,
        )));
        for name in ["iss", "sub", "aud", "azp", "appid", "xms_mirid"] {
            if let Some(value) = assertion.claim(name) {
                let value = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {name:<10}"), theme.muted),
                    Span::raw(sanitize(&value).into_owned()),
                ]));
            }
        }
        lines.push(signature_line(
            theme,
            &result.assertion_signature,
            Some(assertion),
        ));
    }
    lines
}

/// One field of the nearest FIC against the token, with the differing characters marked
/// (reverse video and a caret line, so it reads without colour).
fn diff_lines<'a>(theme: &Theme, field: &fic::FieldComparison) -> Vec<Line<'a>> {
    let label = match field.field {
        Field::Issuer => "issuer",
        Field::Subject => "subject",
        Field::Audiences => "audience",
        _ => "field",
    };
    let claim = match field.field {
        Field::Issuer => "iss",
        Field::Subject => "sub",
        Field::Audiences => "aud",
        _ => "",
    };
    if field.matches() {
        return vec![Line::from(vec![
            Span::styled(format!("  ✓ {label:<9}"), theme.ok),
            Span::styled(sanitize(&field.fic_value).into_owned(), theme.muted),
        ])];
    }
    let fic_value = sanitize(&field.fic_value).into_owned();
    let token_value = sanitize(&field.token_value).into_owned();
    let (left, right) = char_diff(&fic_value, &token_value);
    let marked = Style::default()
        .add_modifier(Modifier::REVERSED | Modifier::BOLD)
        .patch(theme.error);
    let spans = |runs: Vec<(String, bool)>| -> (Vec<Span<'a>>, String) {
        let mut carets = String::new();
        let spans = runs
            .into_iter()
            .map(|(text, differs)| {
                let width = text.chars().count();
                carets.push_str(&if differs { "^" } else { " " }.repeat(width));
                Span::styled(text, if differs { marked } else { theme.text })
            })
            .collect();
        (spans, carets)
    };
    let (fic_spans, fic_carets) = spans(left);
    let (token_spans, token_carets) = spans(right);
    let mut first = vec![Span::styled(format!("  ✗ {label:<9}FIC   "), theme.error)];
    first.extend(fic_spans);
    let mut second = vec![Span::styled(
        format!("    {:<9}token ", format!("({claim})")),
        theme.muted,
    )];
    second.extend(token_spans);
    let mut lines = vec![Line::from(first)];
    if fic_carets.contains('^') {
        lines.push(Line::from(Span::styled(
            format!("{:19}{}", "", fic_carets.trim_end()),
            theme.error,
        )));
    }
    lines.push(Line::from(second));
    if token_carets.contains('^') && !fic_carets.contains('^') {
        lines.push(Line::from(Span::styled(
            format!("{:19}{}", "", token_carets.trim_end()),
            theme.error,
        )));
    }
    lines.push(Line::from(Span::styled(
        format!("               {}", sanitize(&field.explanation)),
        theme.warn,
    )));
    lines
}

/// The key bound to `action` on the exchange screen, for its sentences.
fn ex_key(state: &State, action: Action) -> String {
    super::key(state, Context::Exchange, action)
}

/// A filterable choice list over the screen.
pub(crate) fn draw_picker<F>(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    keymap: &crate::keymap::Keymap,
    picker: &Picker<F>,
    title: &str,
) {
    let visible = picker.visible();
    let height = (visible.len() as u16 + 4).min(area.height).max(5);
    let width = area.width.min(76);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(format!(" {title} "))
        .border_style(theme.border);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", theme.accent),
        Span::raw(picker.input.value().to_string()),
    ])];
    let rows = inner.height.saturating_sub(2) as usize;
    let start = picker.selected.saturating_sub(rows.saturating_sub(1));
    for (index, item) in visible.iter().enumerate().skip(start).take(rows) {
        let style = if item.disabled.is_some() {
            theme.muted
        } else if index == picker.selected {
            theme.selection
        } else {
            theme.text
        };
        let marker = if index == picker.selected {
            "› "
        } else {
            "  "
        };
        let detail = item
            .disabled
            .as_ref()
            .map_or(item.detail.clone(), |why| format!("✗ {why}"));
        lines.push(Line::from(vec![
            Span::styled(marker, theme.accent),
            Span::styled(item.label.clone(), style),
            Span::styled(format!("  {detail}"), theme.muted),
        ]));
    }
    if visible.is_empty() {
        let hint = if picker.free_text {
            format!(
                "{} uses what you typed",
                crate::component::key_named(keymap, Context::Input, Action::Open)
            )
        } else {
            "nothing matches".to_string()
        };
        lines.push(Line::from(Span::styled(hint, theme.muted)));
    }
    let keys = crate::component::hints_line(
        &crate::widgets::picker::picker_commands(),
        keymap,
        crate::keymap::Context::Input,
    );
    lines.push(Line::from(Span::styled(
        format!("type to filter · {keys}"),
        theme.muted,
    )));
    frame.render_widget(Paragraph::new(lines), inner);
    let cursor_x = inner.x + 2 + picker.input.visual_cursor() as u16;
    if cursor_x < inner.right() {
        frame.set_cursor_position((cursor_x, inner.y));
    }
}

pub(crate) fn draw_path_input(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    keymap: &crate::keymap::Keymap,
    input: &tui_input::Input,
) {
    let width = area.width.min(76);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + area.height.saturating_sub(4) / 2,
        width,
        height: 4.min(area.height),
    };
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" token file ")
        .border_style(theme.border);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled("> ", theme.accent),
                Span::raw(input.value().to_string()),
            ]),
            Line::from(Span::styled(
                format!(
                    "path to a file holding the token · {}",
                    crate::component::hints_line(
                        &crate::widgets::picker::path_input_commands(),
                        keymap,
                        crate::keymap::Context::Input,
                    )
                ),
                theme.muted,
            )),
        ]),
        inner,
    );
    let cursor_x = inner.x + 2 + input.visual_cursor() as u16;
    if cursor_x < inner.right() {
        frame.set_cursor_position((cursor_x, inner.y));
    }
}
