//! The token inspector: decoded token, kind, signature, and which FIC of the chosen app it
//! would satisfy.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::exchange::{draw_path_input, draw_picker, token_lines};
use crate::keymap::{Action, Context};
use crate::screens::exchange::Signature;
use crate::screens::inspector::{InspectorScreen, VerifyState};
use crate::state::State;
use ficus_core::text::sanitize;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &InspectorScreen) {
    let theme = &state.theme;
    let area = area.inner(ratatui::layout::Margin::new(1, 0));
    let mut lines = vec![Line::from(vec![
        Span::styled("Token inspector", theme.title),
        Span::styled(
            format!(
                "  paste a token · {} reads a file · {} checks the signature · {} matches an app's FICs",
                super::key(state, Context::Inspector, Action::TokenFromFile),
                super::key(state, Context::Inspector, Action::VerifySignature),
                super::key(state, Context::Inspector, Action::PickApp)
            ),
            theme.muted,
        ),
    ])];
    match &screen.token {
        Err(message) => {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                format!("✗ {}", sanitize(message)),
                theme.error,
            )));
            lines.push(Line::from(Span::styled(
                "Nothing that is not a token is kept or shown. Paste the token alone (three base64url parts separated by dots).",
                theme.muted,
            )));
        }
        Ok(decoded) => {
            let signature = match &screen.verify {
                VerifyState::NotAsked if decoded.jwt.has_graph_nonce() => {
                    Signature::NotForYou(ficus_core::jwt::GRAPH_TOKEN_NOT_VERIFIABLE.into())
                }
                VerifyState::NotForYou => {
                    Signature::NotForYou(ficus_core::jwt::GRAPH_TOKEN_NOT_VERIFIABLE.into())
                }
                VerifyState::NotAsked => Signature::NotChecked(format!(
                    "{} fetches {}/.well-known/openid-configuration and its keys",
                    super::key(state, Context::Inspector, Action::VerifySignature),
                    decoded
                        .jwt
                        .str_claim("iss")
                        .unwrap_or("(no issuer)")
                        .trim_end_matches('/')
                )),
                VerifyState::Checking(_) => {
                    Signature::NotChecked("fetching the issuer's keys…".into())
                }
                VerifyState::Verified(kid) => Signature::Verified(kid.clone()),
                VerifyState::Failed(why) => Signature::Failed(why.clone()),
            };
            lines.extend(app_lines(state, screen));
            lines.push(Line::default());
            lines.extend(token_lines(
                theme,
                "The token",
                Some(&decoded.jwt),
                Some(&decoded.raw),
                &signature,
                &[],
                super::exchange::masked_unless(state, Context::Inspector, screen.reveal).as_deref(),
                state.now.unix_timestamp(),
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((screen.scroll, 0)),
        area,
    );
    if let Some(picker) = &screen.picker {
        draw_picker(
            frame,
            area,
            theme,
            &state.keymap,
            picker,
            "match against the FICs of",
        );
    }
    if let Some(input) = &screen.file_input {
        draw_path_input(frame, area, theme, &state.keymap, input);
    }
}

/// Which of the chosen app's FICs the token satisfies, and for the others, why not.
fn app_lines<'a>(state: &'a State, screen: &'a InspectorScreen) -> Vec<Line<'a>> {
    let theme = &state.theme;
    let Some(app) = &screen.app else {
        return vec![Line::from(Span::styled(
            format!(
                "No app chosen: {} picks one, to see which of its FICs this token would satisfy.",
                super::key(state, Context::Inspector, Action::PickApp)
            ),
            theme.muted,
        ))];
    };
    let mut lines = Vec::new();
    if let Some(error) = &screen.fics_error {
        lines.push(Line::from(Span::styled(
            format!("{}: cannot read its FICs: {error}", app.name),
            theme.error,
        )));
        return lines;
    }
    let cloud = state
        .session
        .as_ref()
        .map(|s| s.cloud_endpoints.clone())
        .unwrap_or_else(ficus_core::cloud::Cloud::global);
    let Some(diagnosis) = screen.diagnosis(&cloud) else {
        return lines;
    };
    match diagnosis.matched_fic(&screen.fics) {
        Some(fic) => lines.push(Line::from(vec![
            Span::styled("✓ ", theme.ok),
            Span::styled(
                format!(
                    "{} would accept this token through FIC '{}'",
                    app.name,
                    sanitize(&fic.name)
                ),
                theme.ok.add_modifier(Modifier::BOLD),
            ),
        ])),
        None => lines.push(Line::from(vec![
            Span::styled("✗ ", theme.error),
            Span::styled(
                format!(
                    "{}: no FIC matches this token{}",
                    app.name,
                    diagnosis
                        .expected_error_code()
                        .map_or(String::new(), |c| format!(
                            " (Entra would answer AADSTS{c})"
                        ))
                ),
                theme.error.add_modifier(Modifier::BOLD),
            ),
        ])),
    }
    for comparison in &diagnosis.comparisons {
        let glyph = if comparison.is_match() { "✓" } else { "✗" };
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {glyph} "),
                if comparison.is_match() {
                    theme.ok
                } else {
                    theme.error
                },
            ),
            Span::styled(sanitize(&comparison.name).into_owned(), theme.accent),
        ]));
        for field in comparison.mismatches() {
            lines.push(Line::from(Span::styled(
                format!(
                    "      {}: {}",
                    field.field.label(),
                    sanitize(&field.explanation)
                ),
                theme.warn,
            )));
        }
    }
    lines
}
