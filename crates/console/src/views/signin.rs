//! The device-code sign-in: the URL, the code large and copyable, a QR code of the URL for a
//! phone, a countdown, and what to do when it fails.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use crate::keymap::{Action, Context};
use crate::msg::SignInFailure;
use crate::state::{SignInScreen, State};

/// The QR code of `url` as lines of half-block characters, or `None` if it cannot be encoded.
pub fn qr_lines(url: &str) -> Option<Vec<String>> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    let image = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Dark)
        .light_color(Dense1x2::Light)
        .quiet_zone(true)
        .build();
    Some(image.lines().map(str::to_string).collect())
}

/// Whether a sign-in failure means Entra could not be reached at all (no network, DNS, a
/// proxy): entra's network errors say `network error talking to …`; lower layers' wording for
/// the same is matched too, since the failure arrives as text.
fn is_offline(detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    [
        "network error talking to",
        "dns error",
        "failed to lookup address",
        "error trying to connect",
        "connection refused",
        "network is unreachable",
    ]
    .iter()
    .any(|phrase| detail.contains(phrase))
}

/// Glyphs 3 pixels wide and 5 high, one row per byte (bit 2 is the left pixel), for the
/// characters Entra puts in user codes. `O` is round and `0` square so they stay apart.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b001, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        'A' => [0b010, 0b101, 0b111, 0b101, 0b101],
        'B' => [0b110, 0b101, 0b110, 0b101, 0b110],
        'C' => [0b011, 0b100, 0b100, 0b100, 0b011],
        'D' => [0b110, 0b101, 0b101, 0b101, 0b110],
        'E' => [0b111, 0b100, 0b110, 0b100, 0b111],
        'F' => [0b111, 0b100, 0b110, 0b100, 0b100],
        'G' => [0b011, 0b100, 0b101, 0b101, 0b011],
        'H' => [0b101, 0b101, 0b111, 0b101, 0b101],
        'I' => [0b111, 0b010, 0b010, 0b010, 0b111],
        'J' => [0b001, 0b001, 0b001, 0b101, 0b010],
        'K' => [0b101, 0b101, 0b110, 0b101, 0b101],
        'L' => [0b100, 0b100, 0b100, 0b100, 0b111],
        'M' => [0b101, 0b111, 0b111, 0b101, 0b101],
        'N' => [0b110, 0b101, 0b101, 0b101, 0b101],
        'O' => [0b010, 0b101, 0b101, 0b101, 0b010],
        'P' => [0b110, 0b101, 0b110, 0b100, 0b100],
        'Q' => [0b010, 0b101, 0b101, 0b110, 0b011],
        'R' => [0b110, 0b101, 0b110, 0b101, 0b101],
        'S' => [0b011, 0b100, 0b010, 0b001, 0b110],
        'T' => [0b111, 0b010, 0b010, 0b010, 0b010],
        'U' => [0b101, 0b101, 0b101, 0b101, 0b111],
        'V' => [0b101, 0b101, 0b101, 0b101, 0b010],
        'W' => [0b101, 0b101, 0b111, 0b111, 0b101],
        'X' => [0b101, 0b101, 0b010, 0b101, 0b101],
        'Y' => [0b101, 0b101, 0b010, 0b010, 0b010],
        'Z' => [0b111, 0b001, 0b010, 0b100, 0b111],
        _ => return None,
    })
}

/// `code` in large letters: three lines of half blocks (two pixel rows per line), a column of
/// space between letters. `None` when a character has no glyph (the plain code is shown).
pub fn large_code(code: &str) -> Option<[String; 3]> {
    let glyphs: Vec<[u8; 5]> = code
        .chars()
        .map(|c| glyph(c.to_ascii_uppercase()))
        .collect::<Option<_>>()?;
    let mut lines: [String; 3] = Default::default();
    for (line_index, line) in lines.iter_mut().enumerate() {
        for (n, rows) in glyphs.iter().enumerate() {
            if n > 0 {
                line.push(' ');
            }
            let top = rows[line_index * 2];
            let bottom = rows.get(line_index * 2 + 1).copied().unwrap_or(0);
            for bit in [0b100, 0b010, 0b001] {
                line.push(match (top & bit != 0, bottom & bit != 0) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
        }
    }
    Some(lines)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &SignInScreen) {
    let theme = &state.theme;
    let mut lines = vec![
        Line::from(Span::styled("Sign in to Microsoft Entra ID", theme.title)),
        Line::raw(""),
    ];
    // Keys as the keymap binds them on the sign-in screen.
    let again = super::key(state, Context::SignIn, Action::Open);
    if let Some(failure) = &screen.failure {
        let (headline, advice): (&str, String) = match failure {
            SignInFailure::Declined => (
                "✗ The sign-in was declined on the Microsoft page.",
                format!(
                    "Press {again} for a new code if that was a mistake, or {} to quit.",
                    super::key(state, Context::SignIn, Action::Quit)
                ),
            ),
            SignInFailure::Expired => (
                "✗ The code expired before it was entered.",
                format!("Press {again} for a new code; it lasts about 15 minutes."),
            ),
            SignInFailure::ConditionalAccess { detail } => (
                "✗ A Conditional Access policy blocked device-code sign-in.",
                format!(
                    "{detail}\nSign in with the Azure CLI instead (az login, on a device your policies trust), then start ficus --use-az-cli."
                ),
            ),
            SignInFailure::Other { detail } if is_offline(detail) => (
                "✗ ficus could not reach Microsoft Entra ID.",
                format!(
                    "{detail}\nPress {again} to try again once the network is back.\nNo network or no tenant at hand? ficus --sandbox tries everything against a local emulated tenant."
                ),
            ),
            SignInFailure::Other { detail } => (
                "✗ The sign-in did not complete.",
                format!(
                    "{detail}\nPress {again} to try again, or start ficus --use-az-cli to reuse an Azure CLI sign-in."
                ),
            ),
        };
        lines.push(Line::from(Span::styled(headline, theme.error)));
        lines.extend(advice.lines().map(|l| Line::raw(l.to_string())));
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }),
            area.inner(ratatui::layout::Margin::new(2, 1)),
        );
        return;
    }
    let (Some(url), Some(code)) = (&screen.verification_uri, &screen.user_code) else {
        let status = screen
            .status
            .as_deref()
            .unwrap_or("Asking Entra for a sign-in code…");
        lines.push(Line::from(Span::styled(status.to_string(), theme.muted)));
        frame.render_widget(
            Paragraph::new(lines),
            area.inner(ratatui::layout::Margin::new(2, 1)),
        );
        return;
    };
    lines.push(Line::raw("1. On any device, open"));
    lines.push(Line::from(Span::styled(
        format!("   {url}"),
        theme.accent.add_modifier(Modifier::UNDERLINED),
    )));
    lines.push(Line::raw(format!(
        "2. Enter this code ({} copies it):",
        super::key(state, Context::SignIn, Action::Copy)
    )));
    let spaced: String = code.chars().flat_map(|c| [c, ' ']).collect();
    let countdown = screen.expires_at.map(|at| {
        let left = (at - state.now).whole_seconds().max(0);
        if left == 0 {
            "the code has expired; a new one is on its way".to_string()
        } else {
            format!("expires in {}:{:02}", left / 60, left % 60)
        }
    });
    let qr = qr_lines(url).unwrap_or_default();
    let qr_width = qr.first().map_or(0, |l| l.chars().count() as u16);
    let show_qr = area.width >= 40 + qr_width + 4 && area.height >= qr.len() as u16 + 2;
    let [text_area, qr_area] = Layout::horizontal([
        Constraint::Min(38),
        Constraint::Length(if show_qr { qr_width + 2 } else { 0 }),
    ])
    .areas(area.inner(ratatui::layout::Margin::new(2, 1)));
    let plain = Line::from(Span::styled(
        spaced.trim_end().to_string(),
        theme.accent.add_modifier(Modifier::BOLD),
    ));
    // Large letters above the plain code when they fit (read from across a desk, or by a
    // colleague on a call); the plain line stays, and `y` copies the code as text.
    let large = large_code(code).filter(|large| {
        let width = large[0].chars().count() as u16 + 4;
        width <= text_area.width && area.height >= 20
    });
    let mut code_lines = Vec::new();
    if let Some(large) = &large {
        code_lines.extend(
            large
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), theme.accent))),
        );
    }
    code_lines.push(plain);
    let [intro, code_box, rest] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(code_lines.len() as u16 + 2),
        Constraint::Min(1),
    ])
    .areas(text_area);
    frame.render_widget(Paragraph::new(lines), intro);
    let code_width = large
        .as_ref()
        .map_or(0, |large| large[0].chars().count())
        .max(spaced.chars().count()) as u16;
    let box_width = (code_width + 6).min(code_box.width);
    frame.render_widget(
        Paragraph::new(code_lines)
            .alignment(Alignment::Center)
            .block(
                Block::new()
                    .borders(Borders::ALL)
                    .border_type(BorderType::Double)
                    .border_style(theme.accent),
            ),
        Rect {
            width: box_width,
            ..code_box
        },
    );
    let mut after = vec![Line::raw(
        "3. Sign in with your admin account; ficus continues by itself.",
    )];
    if let Some(countdown) = countdown {
        after.push(Line::from(Span::styled(countdown, theme.muted)));
    }
    if show_qr {
        after.push(Line::from(Span::styled(
            "Or scan the QR code with a phone →",
            theme.muted,
        )));
    }
    after.push(Line::raw(""));
    after.push(Line::from(Span::styled(
        format!(
            "Blocked by Conditional Access? Quit ({}), run az login, then ficus --use-az-cli.",
            super::key(state, Context::SignIn, Action::Quit)
        ),
        theme.muted,
    )));
    frame.render_widget(Paragraph::new(after).wrap(Wrap { trim: false }), rest);
    if show_qr {
        // Dark modules on light ground whatever the terminal's colours, so phones can read it;
        // without colour, the terminal's own ground is used.
        let style = if theme.name == "mono" {
            Style::default()
        } else {
            Style::default().fg(Color::Black).bg(Color::White)
        };
        let qr_lines: Vec<Line> = qr.into_iter().map(|l| Line::styled(l, style)).collect();
        frame.render_widget(Paragraph::new(qr_lines), qr_area);
    }
}

#[cfg(test)]
mod tests {
    use super::large_code;

    #[test]
    fn large_code_draws_every_user_code_character_and_keeps_zero_and_o_apart() {
        let all = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let lines = large_code(all).expect("every user-code character has a glyph");
        let width = all.len() * 4 - 1;
        assert!(lines.iter().all(|l| l.chars().count() == width));
        // The letter O (round) and the digit 0 (square) differ in their top row.
        let o = large_code("O").expect("O");
        let zero = large_code("0").expect("0");
        assert_eq!(o[0], "▄▀▄");
        assert_eq!(zero[0], "█▀█");
        assert_ne!(o, zero);
        // Lower case is drawn as upper case; a character without a glyph falls back to text.
        assert_eq!(large_code("ab"), large_code("AB"));
        assert_eq!(large_code("AB-12"), None);
    }
}
