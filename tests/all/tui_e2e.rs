//! The real binary in a real pseudo-terminal (tmux, 120×60 so the whole demo list fits):
//! `ficus --sandbox` shows `payments-api`,
//! filters, opens it, quits, and leaves the terminal as it found it (normal screen, cooked
//! mode, no bracketed paste, no mouse reporting, cursor shown).

use std::process::Command;
use std::time::Duration;

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
    let screen = tmux.wait_for("pasted-probe");
    std::thread::sleep(Duration::from_millis(300));
    let screen_after = tmux.screen();
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

/// SIGTERM and SIGHUP: the console leaves at once and still restores every mode.
#[test]
fn signals_restore_the_terminal() {
    for signal in ["TERM", "HUP"] {
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
        tmux.wait_for("ficus-exit=0");
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
        tmux.wait_for("after-signal");
        std::thread::sleep(Duration::from_millis(300));
        let screen = tmux.screen();
        assert!(
            !screen.contains("[200~"),
            "bracketed paste left on after SIG{signal}:\n{screen}"
        );
        assert_eq!(
            screen.matches("after-signal").count(),
            2,
            "cooked mode after SIG{signal}:\n{screen}"
        );
    }
}
