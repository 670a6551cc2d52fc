//! The real binary in a real pseudo-terminal (tmux, 120×60 so the whole demo list fits):
//! `ficus --sandbox` shows `payments-api`,
//! filters, opens it, quits, and leaves the terminal as it found it (normal screen, cooked
//! mode, no bracketed paste, no mouse reporting, cursor shown).

use std::process::Command;

use crate::tmux_support;
use tmux_support::Tmux;

#[test]
fn sandbox_console_filters_opens_and_restores_the_terminal() {
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    let script = format!(
        "env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache {binary} --sandbox; echo ficus-exit=$?; exec cat -v",
        d = dirs.path().display()
    );
    let tmux = Tmux::new(format!("ficus-e2e-{}", std::process::id()), "e2e");
    tmux.start(120, 60, &script);

    tmux.wait_for("payments-api");
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "e2e", "#{alternate_on}"])
            .trim(),
        "1"
    );

    tmux.keys(&["/", "payments"]);
    let screen = tmux.wait_for("/ payments");
    let first_row = screen.lines().nth(2).unwrap_or_default();
    assert!(
        first_row.contains("payments-api"),
        "best match first:\n{screen}"
    );

    tmux.keys(&["Enter", "Enter"]);
    let screen = tmux.wait_for("mi-id-payments");
    assert!(screen.contains("Federated credentials"), "{screen}");
    assert!(screen.contains("✓ ok"), "{screen}");

    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
    let modes = tmux.run(&[
        "display",
        "-p",
        "-t",
        "e2e",
        "#{alternate_on} #{mouse_any_flag} #{cursor_flag}",
    ]);
    assert_eq!(
        modes.trim(),
        "0 0 1",
        "alternate screen, mouse, cursor after quit"
    );

    // Bracketed paste off and cooked mode back: a paste arrives as plain text, echoed by the
    // terminal and printed again by `cat -v` without ESC [200~ markers.
    tmux.run(&["set-buffer", "-b", "probe", "pasted-probe"]);
    tmux.run(&["paste-buffer", "-p", "-b", "probe", "-t", "e2e"]);
    tmux.keys(&["Enter"]);
    // The terminal's echo and cat's copy (raw mode left on would echo nothing: this waits out
    // its timeout and fails below).
    let screen = tmux.wait_for_count("pasted-probe", 2);
    let screen_after = screen.clone();
    assert!(
        !screen_after.contains("[200~"),
        "bracketed paste left on:\n{screen_after}"
    );
    assert_eq!(
        screen_after.matches("pasted-probe").count(),
        2,
        "echo (cooked mode) and cat's copy expected:\n{screen}"
    );
}

/// Every catchable terminating signal (issue 12, 13): the console leaves at once, restores
/// every mode (alternate screen, raw mode, bracketed paste, cursor) and exits with 128 + n.
#[test]
fn signals_restore_the_terminal() {
    // Each signal in its own tmux server and console, all at once: they mostly wait.
    std::thread::scope(|scope| {
        for (signal, number) in [
            ("TERM", 15),
            ("HUP", 1),
            ("INT", 2),
            ("QUIT", 3),
            ("USR1", 10),
            ("ALRM", 14),
        ] {
            scope.spawn(move || {
            let dirs = tempfile::tempdir().expect("tempdir");
                let binary = env!("CARGO_BIN_EXE_ficus");
                let pid_file = dirs.path().join("pid");
                let script = format!(
                    "sh -c 'echo $$ > {pid}; exec env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config {binary} --sandbox'; echo ficus-exit=$?; exec cat -v",
                    pid = pid_file.display(),
                    d = dirs.path().display()
                );
                let tmux = Tmux::new(format!("ficus-e2e-{signal}-{}", std::process::id()), "e2e");
                tmux.start(120, 60, &script);
                tmux.wait_for("payments-api");
                let pid = std::fs::read_to_string(&pid_file).expect("pid written");
                let status = Command::new("kill")
                    .args([format!("-{signal}"), pid.trim().to_string()])
                    .status()
                    .expect("kill runs");
                assert!(status.success());
                tmux.wait_for(&format!("ficus-exit={}", 128 + number));
                let modes = tmux.run(&[
                    "display",
                    "-p",
                    "-t",
                    "e2e",
                    "#{alternate_on} #{mouse_any_flag} #{cursor_flag}",
                ]);
                assert_eq!(modes.trim(), "0 0 1", "after SIG{signal}");
                tmux.run(&["set-buffer", "-b", "probe", "after-signal"]);
                tmux.run(&["paste-buffer", "-p", "-b", "probe", "-t", "e2e"]);
                tmux.keys(&["Enter"]);
                // The terminal's echo and cat's copy (raw mode left on would echo nothing: this waits
                // out its timeout).
                let screen = tmux.wait_for_count("after-signal", 2);
                assert!(
                    !screen.contains("[200~"),
                    "bracketed paste left on after SIG{signal}:\n{screen}"
                );
                assert_eq!(
                    screen.matches("after-signal").count(),
                    2,
                    "cooked mode after SIG{signal}:\n{screen}"
                );
            });
        }
    });
}

/// Starts `ficus --sandbox` in a fresh tmux after running `tmux_setup` inside it (so ficus's
/// start-up probe sees those settings), filters to payments-api and presses `y` (copy the
/// name); returns the tmux and the screen once the toast shows.
fn copy_name_in_tmux(label: &str, tmux_setup: &str, toast: &str) -> (Tmux, String) {
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    let script = format!(
        "{tmux_setup} env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache {binary} --sandbox; echo ficus-exit=$?; exec cat -v",
        d = dirs.path().display()
    );
    let tmux = Tmux::new(
        format!("ficus-e2e-copy-{label}-{}", std::process::id()),
        "e2e",
    );
    tmux.start(120, 40, &script);
    tmux.wait_for("audit-collector");
    tmux.keys(&["/"]);
    tmux.text("payments-api");
    tmux.keys(&["Enter", "y"]);
    let screen = tmux.wait_for(toast);
    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
    // The temporary directories go with the test, after ficus has left.
    drop(dirs);
    (tmux, screen)
}

/// With `set-clipboard on`, tmux takes a plain OSC 52 into its buffer (and on to the outer
/// terminal); the passthrough wrapper ficus used to send is dropped by tmux 3.3+.
#[test]
fn y_inside_tmux_with_set_clipboard_on_reaches_the_tmux_buffer() {
    let (tmux, screen) = copy_name_in_tmux(
        "on",
        "tmux set -g set-clipboard on;",
        "Sent the name to the terminal's clipboard (OSC 52)",
    );
    // The toast's line (the row preview above it may show ✓ findings once it has loaded).
    let toast_line = screen
        .lines()
        .find(|line| line.contains("Sent the name"))
        .unwrap_or_default();
    assert!(!toast_line.contains("✓"), "no claim of success:\n{screen}");
    assert_eq!(tmux.run(&["show-buffer"]), "payments-api");
}

/// tmux's defaults (set-clipboard external, allow-passthrough off) drop every copy: ficus
/// says so and how to change it, instead of claiming a copy.
#[test]
fn y_inside_tmux_that_drops_osc52_says_how_to_enable_it() {
    let (tmux, screen) = copy_name_in_tmux(
        "external",
        "tmux set -g set-clipboard external; tmux set -g allow-passthrough off;",
        "tmux drops the copy",
    );
    assert!(screen.contains("set -g set-clipboard on"), "{screen}");
    assert_eq!(tmux.run(&["show-buffer"]), "", "no buffer was made");
}

/// The Health tab (#14) in the real binary: open it, pick inventory-sync's finding (its FIC
/// names id-inventory's client id), fix it with `f` in the wizard, and see the finding go
/// once the app is audited again.
#[test]
fn health_finding_fixed_with_f_disappears() {
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    let script = format!(
        "env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache {binary} --sandbox; echo ficus-exit=$?; exec cat -v",
        d = dirs.path().display()
    );
    let tmux = Tmux::new(format!("ficus-health-{}", std::process::id()), "e2e");
    tmux.start(120, 40, &script);
    tmux.wait_for("49 apps");

    tmux.keys(&["3"]);
    let screen = tmux.wait_for("findings · by severity");
    assert!(screen.contains("clientIdAsSubject"), "{screen}");
    tmux.keys(&["/", "inventory-sync", "Enter"]);
    let screen = tmux.wait_for("1 of 9 findings");
    assert!(
        screen.contains("f fix: subject →"),
        "the fix is offered:\n{screen}"
    );

    tmux.keys(&["f"]);
    tmux.wait_for("Review");
    tmux.keys(&["Enter"]);
    tmux.wait_for("PATCH");
    tmux.keys(&["Enter"]);
    tmux.wait_for("read back from the directory");
    // The app is audited again as the wizard saves; Enter goes back to Health without it.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("No finding matches the filter");
    assert!(screen.contains("0 of 8 findings"), "{screen}");
    assert!(!screen.contains("clientIdAsSubject"), "{screen}");

    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
}
