//! The terminal's modes: raw mode, alternate screen and bracketed paste on entry, all of them
//! (and mouse capture, in case anything turned it on) off again on quit, on panic and on
//! SIGTERM/SIGHUP. Also OSC 52 copy, wrapped for tmux when running inside it.

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

/// The OSC 52 sequence that puts `text` on the clipboard; inside tmux it is wrapped in a DCS
/// passthrough (every ESC doubled) so it reaches the outer terminal.
pub fn osc52(text: &str, in_tmux: bool) -> String {
    let mut sequence = String::new();
    // Writing into a String cannot fail.
    let _ = CopyToClipboard::to_clipboard_from(text.as_bytes()).write_ansi(&mut sequence);
    if in_tmux {
        format!(
            "\u{1b}Ptmux;{}\u{1b}\\",
            sequence.replace('\u{1b}', "\u{1b}\u{1b}")
        )
    } else {
        sequence
    }
}

pub fn copy_to_clipboard(text: &str) -> io::Result<()> {
    let in_tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
    let mut out = io::stdout();
    out.write_all(osc52(text, in_tmux).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_encodes_and_wraps_for_tmux() {
        let plain = osc52("abc", false);
        assert_eq!(plain, "\u{1b}]52;c;YWJj\u{1b}\\");
        let wrapped = osc52("abc", true);
        assert_eq!(
            wrapped,
            "\u{1b}Ptmux;\u{1b}\u{1b}]52;c;YWJj\u{1b}\u{1b}\\\u{1b}\\"
        );
    }
}
