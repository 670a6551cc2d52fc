//! A terminal a person would use, for end-to-end tests of the real binary: one private tmux
//! server per test (its own socket), keys in, screen text out.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    /// The tmux session (and target) the test creates with `new-session -s`.
    pub session: &'static str,
    /// Pause after each key, so the console sees them one at a time as typed.
    pub key_delay: Duration,
    /// How long `wait_for` waits before failing with the screen it saw.
    pub timeout: Duration,
}

impl Tmux {
    pub fn new(socket: String, session: &'static str) -> Tmux {
        Tmux {
            socket,
            session,
            key_delay: Duration::from_millis(60),
            timeout: Duration::from_secs(30),
        }
    }

    /// Starts `script` (a shell command line) in a new detached session of `cols` × `rows`,
    /// with no user tmux configuration.
    pub fn start(&self, cols: u16, rows: u16, script: &str) {
        let (cols, rows) = (cols.to_string(), rows.to_string());
        self.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            &cols,
            "-y",
            &rows,
            script,
        ]);
    }

    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", self.session])
    }

    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", self.session, key]);
            std::thread::sleep(self.key_delay);
        }
    }

    /// Types `text` literally (no key-name lookup).
    #[allow(dead_code)] // not every test binary types text
    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", self.session, "-l", text]);
        std::thread::sleep(self.key_delay);
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_count(text, 1)
    }

    /// Waits until `text` shows at least `count` times; returns that screen.
    pub fn wait_for_count(&self, text: &str, count: usize) -> String {
        let deadline = Instant::now() + self.timeout;
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= count {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "`{text}` did not appear {count} time(s); the screen shows:\n{screen}"
            );
            // Short: a capture is one cheap tmux call, and every test waits on the screen.
            std::thread::sleep(Duration::from_millis(25));
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
