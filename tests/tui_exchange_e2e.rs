//! The live test exchange in the real binary in a pseudo-terminal (tmux, 120×60):
//! `ficus --sandbox`, the palette's `exchange payments-api id-payments` works end to end, and
//! `exchange inventory-sync id-inventory` fails with the subject named as the fault.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "x2e"])
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "x2e", key]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "`{text}` did not appear; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

impl Tmux {
    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "x2e", "-l", text]);
        std::thread::sleep(Duration::from_millis(60));
    }
}

#[test]
fn sandbox_exchange_succeeds_for_payments_api_and_names_the_subject_for_inventory_sync() {
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    let script = format!(
        "env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache {binary} --sandbox; echo ficus-exit=$?; exec cat",
        d = dirs.path().display()
    );
    let tmux = Tmux {
        socket: format!("ficus-x2e-{}", std::process::id()),
    };
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "x2e",
        "-x",
        "120",
        "-y",
        "60",
        &script,
    ]);
    tmux.wait_for("payments-api");
    tmux.wait_for("Identities 5");

    // Success: both tokens decoded, signatures verified, the FIC that matched named.
    tmux.keys(&[":"]);
    tmux.text("exchange payments-api id-payments");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the sandbox's emulated host");
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("✓ WORKS");
    assert!(screen.contains("through FIC 'mi-id-payments'"), "{screen}");
    assert!(
        screen.contains("Managed identity token (the assertion)"),
        "{screen}"
    );
    assert!(screen.contains("App token"), "{screen}");
    assert!(
        screen.contains("✓ verified with the issuer's published key"),
        "{screen}"
    );
    assert!(
        screen.contains("(v reveals)"),
        "tokens are masked:\n{screen}"
    );

    // Failure: AADSTS700213, the subject at fault, the nearest FIC and the fix.
    tmux.keys(&["Escape"]);
    tmux.wait_for("/ to filter");
    tmux.keys(&[":"]);
    tmux.text("exchange inventory-sync id-inventory");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the sandbox's emulated host");
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("✗ FAILS");
    assert!(screen.contains("AADSTS700213"), "{screen}");
    assert!(screen.contains("At fault    ✗ the subject"), "{screen}");
    assert!(screen.contains("Nearest FIC mi-id-inventory"), "{screen}");
    assert!(
        screen.contains("F opens FIC 'mi-id-inventory' in the wizard with subject = "),
        "{screen}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
}
