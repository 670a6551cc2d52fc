//! The device-code sign-in: the URL, the code large and copyable, a QR code of the URL for a
//! phone, a countdown, and what to do when it fails.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use crate::tui::msg::SignInFailure;
use crate::tui::state::{SignInScreen, State};

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

pub fn draw(frame: &mut Frame, area: Rect, state: &State, screen: &SignInScreen) {
    let theme = &state.theme;
    let mut lines = vec![
        Line::from(Span::styled("Sign in to Microsoft Entra ID", theme.title)),
        Line::raw(""),
    ];
    if let Some(failure) = &screen.failure {
        let (headline, advice): (&str, String) = match failure {
            SignInFailure::Declined => (
                "✗ The sign-in was declined on the Microsoft page.",
                "Press Enter for a new code if that was a mistake, or q to quit.".into(),
            ),
            SignInFailure::Expired => (
                "✗ The code expired before it was entered.",
                "Press Enter for a new code; it lasts about 15 minutes.".into(),
            ),
            SignInFailure::ConditionalAccess { detail } => (
                "✗ A Conditional Access policy blocked device-code sign-in.",
                format!(
                    "{detail}\nSign in with the Azure CLI instead (az login, on a device your policies trust), then start ficus --use-az-cli."
                ),
            ),
            SignInFailure::Other { detail } => (
                "✗ The sign-in did not complete.",
                format!(
                    "{detail}\nPress Enter to try again, or start ficus --use-az-cli to reuse an Azure CLI sign-in."
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
        lines.push(Line::from(Span::styled(
            "Asking Entra for a sign-in code…",
            theme.muted,
        )));
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
    lines.push(Line::raw("2. Enter this code (y copies it):"));
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
    let [intro, code_box, rest] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(3),
        Constraint::Min(1),
    ])
    .areas(text_area);
    frame.render_widget(Paragraph::new(lines), intro);
    let box_width = (spaced.chars().count() as u16 + 6).min(code_box.width);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            spaced.trim_end().to_string(),
            theme.accent.add_modifier(Modifier::BOLD),
        )))
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
        "Blocked by Conditional Access? Quit (q), run az login, then ficus --use-az-cli.",
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
