//! Shared by the console's tests: the in-process sandbox (demo seed) signed in as the demo
//! admin, wired to the real Graph-backed directory, and a driver that runs `update` with the
//! real effects runner until every request has been answered.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ficus::tui::effects::{self, Directory};
use ficus::tui::keymap::Keymap;
use ficus::tui::msg::{Cmd, Msg, SignInEvent};
use ficus::tui::theme::Themes;
use ficus::tui::{Connector, GraphDirectory, State, update};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

pub const ADMIN: &str = "admin@contoso.onmicrosoft.com";

/// Starts the demo sandbox and returns a directory already connected to it.
pub async fn demo_directory(read_only: bool) -> Arc<GraphDirectory> {
    demo_directory_with(ficus::sandbox::SandboxConfig::default(), read_only).await
}

/// The same with a sandbox configured by the test (faults, for one).
pub async fn demo_directory_with(
    sandbox_config: ficus::sandbox::SandboxConfig,
    read_only: bool,
) -> Arc<GraphDirectory> {
    ficus::install_crypto_provider();
    let sandbox = ficus::sandbox::start(sandbox_config)
        .await
        .expect("sandbox starts");
    // The same session `ficus --sandbox` makes: contoso's admin, the emulated host for MSI.
    let connected =
        ficus::startup::sandbox::console_sandbox_session(Arc::new(sandbox), "contoso", read_only)
            .expect("signed in to the sandbox");
    Arc::new(GraphDirectory::new(Connector::Session(Box::pin(
        async move { Ok(connected) },
    ))))
}

/// The demo sandbox with `faults` (and `seed`), its Graph client waiting on a virtual clock
/// (no test waits real seconds). `shared`: each wait moves the sandbox's Graph clock forward
/// by as much (buckets refill, replicas catch up); otherwise the sandbox's clock stands still.
/// Returns the sandbox too, to ask it what it answered.
pub async fn faulty_directory(
    faults: &str,
    seed: ficus::sandbox::seed::Seed,
    shared: bool,
) -> (
    Arc<GraphDirectory>,
    Arc<ficus::sandbox::Sandbox>,
    ficus::entra::http::Waiter,
) {
    ficus::install_crypto_provider();
    let sandbox = Arc::new(
        ficus::sandbox::start(ficus::sandbox::SandboxConfig {
            faults: ficus::sandbox::Faults::parse(faults).expect("faults"),
            seed,
            ..ficus::sandbox::SandboxConfig::default()
        })
        .await
        .expect("sandbox starts"),
    );
    let mut connected =
        ficus::startup::sandbox::console_sandbox_session(sandbox.clone(), "contoso", false)
            .expect("signed in to the sandbox");
    let waiter = if shared {
        let state = sandbox.state().clone();
        ficus::entra::http::Waiter::virtual_clock_with(move |d| state.throttle.advance(d))
    } else {
        ficus::entra::http::Waiter::virtual_clock()
    };
    let mut config = connected.session.config.clone();
    config.http.retry.waiter = waiter.clone();
    connected.session =
        ficus::entra::Session::new(config, connected.session.credentials.clone()).expect("session");
    let directory = Arc::new(GraphDirectory::new(Connector::Session(Box::pin(
        async move { Ok(connected) },
    ))));
    (directory, sandbox, waiter)
}

/// The embedded sandbox exactly as `ficus --sandbox` connects to it (`commands::start_sandbox`
/// and `commands::console_sandbox_session`): signed in to `tenant`, able to switch tenant.
pub async fn console_sandbox_directory(tenant: &str) -> Arc<GraphDirectory> {
    ficus::install_crypto_provider();
    let (_demo_admin, sandbox) =
        ficus::startup::sandbox::start_sandbox_signed(&ficus::cli::GlobalArgs::default())
            .await
            .expect("sandbox starts");
    let connected =
        ficus::startup::sandbox::console_sandbox_session(Arc::new(sandbox), tenant, false)
            .expect("signed in to the sandbox");
    Arc::new(GraphDirectory::new(Connector::Session(Box::pin(
        async move { Ok(connected) },
    ))))
}

/// The console's state and a way to run messages through `update` and the effects runner.
pub struct Driver<D: Directory> {
    pub state: State,
    pub directory: Arc<D>,
    tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
    outstanding: usize,
    /// Every "waiting N s: …" the Graph client announced, in order.
    pub waits: Vec<String>,
}

impl<D: Directory> Driver<D> {
    pub fn new(directory: Arc<D>, theme: &str) -> Driver<D> {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = State::new(
            Keymap::default(),
            Themes::built_in(),
            theme,
            time::OffsetDateTime::now_utc(),
        );
        Driver {
            state,
            directory,
            tx,
            rx,
            outstanding: 0,
            waits: Vec::new(),
        }
    }

    /// Signs in and waits for both lists to load.
    pub async fn start(&mut self) {
        self.run(vec![Cmd::StartSignIn]).await;
    }

    /// Sends one message and waits until every request it caused has been answered.
    pub async fn send(&mut self, msg: Msg) {
        let commands = update(&mut self.state, msg);
        self.run(commands).await;
    }

    pub async fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
            .await;
    }

    pub async fn keys(&mut self, text: &str) {
        for c in text.chars() {
            let modifiers = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.send(Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers)))
                .await;
        }
    }

    pub async fn run(&mut self, commands: Vec<Cmd>) {
        self.spawn_all(commands);
        while self.outstanding > 0 {
            let msg = tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
                .await
                .expect("the directory answers within 20 s")
                .expect("channel open");
            if is_final(&msg) {
                self.outstanding -= 1;
            }
            if let Msg::GraphWaiting(text) = &msg {
                self.waits.push(text.clone());
            }
            let commands = update(&mut self.state, msg);
            self.spawn_all(commands);
        }
    }

    fn spawn_all(&mut self, commands: Vec<Cmd>) {
        for cmd in commands {
            if matches!(cmd, Cmd::Copy(_) | Cmd::Quit) {
                continue;
            }
            // The exchange screen's replication retries fall due after a fifth of their backoff
            // (5 s → 1 s): what they wait for, a sandbox's `replication=SECS`, is short too.
            if let Cmd::Exchange(ficus::tui::exchange::ExchangeCmd::RetryAfter {
                request,
                seconds,
            }) = cmd
            {
                self.outstanding += 1;
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(seconds * 200)).await;
                    let due = ficus::tui::exchange::ExchangeMsg::RetryDue { request };
                    let _ = tx.send(Msg::Exchange(due));
                });
                continue;
            }
            // The Apps list ends with its last page and, apart, its certificate index.
            self.outstanding += if matches!(cmd, Cmd::LoadApps { .. }) {
                2
            } else {
                1
            };
            effects::spawn(&self.directory, cmd, &self.tx);
        }
    }
}

fn is_final(msg: &Msg) -> bool {
    match msg {
        Msg::AppsPage { done, .. } | Msg::IdentitiesPage { done, .. } => *done,
        Msg::AppsFailed { .. }
        | Msg::IdentitiesFailed { .. }
        | Msg::AppDetailLoaded { .. }
        | Msg::IdentityDetailLoaded { .. }
        | Msg::FicDeleted { .. } => true,
        Msg::SignIn(SignInEvent::Done(_) | SignInEvent::Failed(_)) => true,
        Msg::SwitchRefused(_) => true,
        // The one-shot delay of a resting cursor, and a contained panic.
        Msg::Rested { .. } | Msg::EffectPanicked(_) => true,
        Msg::CertificatesLoaded { .. } => true,
        // The warm start's refresh behind the cached rows (#17) ends the apps' listing.
        Msg::AppsRefreshed { .. } | Msg::AppsRefreshFailed { .. } => true,
        Msg::EvidenceLoaded { .. } => true,
        // Failing workloads, a secret's removal and undo (#15).
        Msg::FailingLoaded { .. }
        | Msg::SecretRemoved { .. }
        | Msg::UndoPlanned { .. }
        | Msg::Undone { .. } => true,
        // Sent before a create's `Saved`, which ends the command.
        Msg::Wizard(ficus::tui::wizard::WizardMsg::Replication { .. }) => false,
        Msg::Wizard(_) => true,
        // The exchange screen's answers (#7): each command ends with one message, except a
        // run, whose steps come before its `Finished`.
        Msg::Exchange(ficus::tui::exchange::ExchangeMsg::Step { .. }) => false,
        Msg::Exchange(_) => true,
        // The Health tab's audit (#14): its last page, a failure, one app audited again.
        Msg::Health(ficus::tui::screens::health::HealthMsg::Page { done, .. }) => *done,
        Msg::Health(_) => true,
        _ => false,
    }
}
