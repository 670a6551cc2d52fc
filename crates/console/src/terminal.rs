//! The terminal's modes: raw mode, alternate screen and bracketed paste on entry, all of them
//! (and mouse capture, in case anything turned it on) off again on quit, on panic and on
//! SIGTERM/SIGHUP. Also OSC 52 copy, plain or wrapped for tmux as the tmux it runs in needs.

use std::io::{self, Write};

use ratatui::crossterm::clipboard::CopyToClipboard;
use ratatui::crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste};
use ratatui::crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use ratatui::crossterm::{Command, cursor, execute};

/// Turns on everything the console needs.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    Ok(())
}

/// Turns every mode off again. Best effort and idempotent: it runs from a panic hook and after
/// SIGHUP, when the terminal may already be gone.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal before the previous hook prints the panic, so the message is
/// readable and the shell usable. A panic inside a background effect is different: the effect
/// catches it and the console goes on (an error toast), so the terminal is left as it is and
/// the panic goes to the log only (printing it would scribble over the screen).
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if super::effects::panicking_in_effect() {
            tracing::error!(panic = %info, "a background effect panicked");
            return;
        }
        restore();
        previous(info);
    }));
}

/// How a copy (OSC 52) gets out of the pane ficus runs in. tmux 3.3+ drops the DCS
/// passthrough wrapper unless `allow-passthrough` is on, and takes a plain OSC 52 from an
/// application only with `set-clipboard on` (`external`, the default, ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardRoute {
    /// Plain OSC 52: not inside tmux, or tmux takes it (`set-clipboard on`: a tmux buffer, and
    /// the outer terminal's clipboard when that terminal supports it).
    Plain,
    /// Wrapped for tmux's passthrough (`allow-passthrough on`, or a tmux older than 3.3).
    Passthrough,
    /// tmux drops both: only `set -g set-clipboard on` (or allow-passthrough) lets a copy out.
    Blocked,
    /// Inside tmux, but tmux did not answer (yet): both forms, each harmless where dropped.
    Unknown,
}

/// What to ask tmux: its clipboard and passthrough settings as they apply to this pane.
pub const TMUX_CLIPBOARD_FORMAT: &str = "#{set-clipboard}|#{allow-passthrough}";

/// The route, from whether ficus runs inside tmux and tmux's answer to
/// [`TMUX_CLIPBOARD_FORMAT`] (`None`: no answer).
pub fn clipboard_route(in_tmux: bool, answer: Option<&str>) -> ClipboardRoute {
    if !in_tmux {
        return ClipboardRoute::Plain;
    }
    let Some((set_clipboard, passthrough)) = answer.and_then(|a| a.trim().split_once('|')) else {
        return ClipboardRoute::Unknown;
    };
    if set_clipboard == "on" {
        return ClipboardRoute::Plain;
    }
    match passthrough {
        // Before tmux 3.3 there is no such option and passthrough always works.
        "" | "1" | "on" | "all" => ClipboardRoute::Passthrough,
        _ => ClipboardRoute::Blocked,
    }
}

/// Asks the tmux ficus runs in (through `$TMUX`) for its clipboard settings; `None` when
/// tmux cannot be run or does not answer within `timeout` (a wedged server must not hold up
/// the console). Blocking: call it off the UI thread.
pub fn ask_tmux(timeout: std::time::Duration) -> Option<String> {
    use std::process::{Command, Stdio};
    let mut command = Command::new("tmux");
    command.arg("display-message").arg("-p");
    if let Some(pane) = std::env::var_os("TMUX_PANE") {
        command.arg("-t").arg(pane);
    }
    let mut child = command
        .arg(TMUX_CLIPBOARD_FORMAT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    let output = child.wait_with_output().ok()?;
    String::from_utf8(output.stdout).ok()
}

/// Whether ficus runs inside tmux.
pub fn in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

/// The plain OSC 52 sequence that puts `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    let mut sequence = String::new();
    // Writing into a String cannot fail.
    let _ = CopyToClipboard::to_clipboard_from(text.as_bytes()).write_ansi(&mut sequence);
    sequence
}

/// `sequence` wrapped in tmux's DCS passthrough (every ESC doubled).
fn tmux_passthrough(sequence: &str) -> String {
    format!(
        "\u{1b}Ptmux;{}\u{1b}\\",
        sequence.replace('\u{1b}', "\u{1b}\u{1b}")
    )
}

/// The bytes to write for a copy of `text` along `route`.
pub fn osc52_for(text: &str, route: ClipboardRoute) -> String {
    let plain = osc52(text);
    match route {
        ClipboardRoute::Plain | ClipboardRoute::Blocked => plain,
        ClipboardRoute::Passthrough => tmux_passthrough(&plain),
        ClipboardRoute::Unknown => {
            let wrapped = tmux_passthrough(&plain);
            plain + &wrapped
        }
    }
}

/// What a copy's toast can honestly say: the sequence was sent; whether the terminal put it on
/// the clipboard, nothing tells ficus.
pub fn sent_to_clipboard(what: impl std::fmt::Display) -> String {
    format!("Sent {what} to the terminal's clipboard (OSC 52)")
}

/// Said instead when tmux is known to drop the copy.
pub fn blocked_by_tmux() -> &'static str {
    "tmux drops the copy (set-clipboard external, allow-passthrough off): run `tmux set -g set-clipboard on` and copy again"
}

pub fn copy_to_clipboard(text: &str, route: ClipboardRoute) -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(osc52_for(text, route).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_encodes_and_wraps_for_tmux_only_where_needed() {
        let plain = "\u{1b}]52;c;YWJj\u{1b}\\";
        let wrapped = "\u{1b}Ptmux;\u{1b}\u{1b}]52;c;YWJj\u{1b}\u{1b}\\\u{1b}\\";
        assert_eq!(osc52("abc"), plain);
        assert_eq!(osc52_for("abc", ClipboardRoute::Plain), plain);
        assert_eq!(osc52_for("abc", ClipboardRoute::Passthrough), wrapped);
        assert_eq!(
            osc52_for("abc", ClipboardRoute::Unknown),
            format!("{plain}{wrapped}")
        );
    }

    #[test]
    fn the_route_follows_what_tmux_answers() {
        use ClipboardRoute::*;
        assert_eq!(clipboard_route(false, None), Plain);
        // tmux 3.3+ defaults: external ignores applications, passthrough is off.
        assert_eq!(clipboard_route(true, Some("external|0\n")), Blocked);
        assert_eq!(clipboard_route(true, Some("off|0\n")), Blocked);
        assert_eq!(clipboard_route(true, Some("on|0\n")), Plain);
        assert_eq!(clipboard_route(true, Some("on|1\n")), Plain);
        assert_eq!(clipboard_route(true, Some("external|1\n")), Passthrough);
        assert_eq!(clipboard_route(true, Some("external|all\n")), Passthrough);
        // tmux before 3.3: no allow-passthrough, passthrough always allowed.
        assert_eq!(clipboard_route(true, Some("external|\n")), Passthrough);
        assert_eq!(clipboard_route(true, None), Unknown);
        assert_eq!(clipboard_route(true, Some("garbage")), Unknown);
    }
}
