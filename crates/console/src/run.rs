//! The loop: one task owns `State`; terminal events, signals and effect results all arrive as
//! `Msg` on one channel. After draining every pending message it draws, at most once per
//! ~16 ms and only when something changed, each frame inside a synchronized update.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use tokio::sync::mpsc::{self, UnboundedSender};

use super::effects::{self, Directory};
use super::keymap::Keymap;
use super::msg::{Cmd, Msg};
use super::state::{Phase, SignInScreen, State, ToastLevel};
use super::terminal;
use super::theme::Themes;
use super::update::update;
use super::views;

const FRAME: Duration = Duration::from_millis(16);

/// How the console starts.
pub struct ConsoleOptions {
    /// What the first frame says while signing in ("Starting the sandbox…").
    pub connecting: String,
    pub keymap: Keymap,
    pub themes: Themes,
    pub theme: String,
    /// Messages about the configuration (a bad keymap.toml or theme) to show once started.
    pub notices: Vec<String>,
    /// When the process started, to measure the time to the first frame.
    pub started: Instant,
    /// The config.toml a theme chosen in the palette is saved to; `None`: not saved.
    pub config_file: Option<std::path::PathBuf>,
    /// Asks the tmux ficus runs in how a copy gets out (`None`: not inside tmux). Run once,
    /// off the UI thread; replaceable so a test can answer for tmux.
    pub ask_tmux: Option<fn() -> Option<String>>,
}

/// How long tmux has to say how it handles OSC 52 before ficus sends both forms.
const TMUX_PROBE_TIMEOUT: Duration = Duration::from_millis(500);

fn ask_tmux() -> Option<String> {
    terminal::ask_tmux(TMUX_PROBE_TIMEOUT)
}

impl ConsoleOptions {
    /// The keymap (`keymap.toml`) and themes (built in, then the config's `themes/`) of the
    /// configuration directories; what cannot be used becomes a notice, never a silent default.
    pub fn load(
        dirs: &ficus_startup::Dirs,
        config: &ficus_startup::Config,
        connecting: String,
        started: Instant,
    ) -> ConsoleOptions {
        let mut notices = Vec::new();
        let mut keymap = Keymap::default();
        let mut themes = Themes::built_in();
        if let Some(dir) = &dirs.config_dir {
            let path = dir.join("keymap.toml");
            if let Ok(text) = std::fs::read_to_string(&path) {
                match Keymap::default().with_overrides(&text) {
                    Ok(custom) => {
                        notices.extend(
                            custom
                                .conflicts()
                                .into_iter()
                                .map(|c| format!("keymap.toml: {c}")),
                        );
                        keymap = custom;
                    }
                    Err(error) => notices.push(format!("{error} (using the default keys)")),
                }
            }
            notices.extend(themes.load_user_dir(&dir.join("themes")));
        }
        let theme = super::theme::initial_theme_name(
            std::env::var("NO_COLOR").ok().as_deref(),
            config.theme.as_deref(),
        );
        ConsoleOptions {
            connecting,
            keymap,
            themes,
            theme,
            notices,
            started,
            config_file: dirs.config_file.clone(),
            ask_tmux: terminal::in_tmux().then_some(ask_tmux as fn() -> Option<String>),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("cannot set up the terminal ({0}); is this an interactive terminal?")]
    Terminal(io::Error),
    #[error("drawing failed ({0}); the terminal may have gone away")]
    Draw(io::Error),
}

/// Runs the console until the admin quits or a signal arrives; the terminal is restored on
/// every way out.
pub async fn run<D: Directory>(
    directory: Arc<D>,
    options: ConsoleOptions,
) -> Result<Ended, ConsoleError> {
    terminal::install_panic_hook();
    terminal::enter().map_err(ConsoleError::Terminal)?;
    tracing::debug!(
        at_ms = options.started.elapsed().as_secs_f64() * 1000.0,
        "terminal ready"
    );
    let received = Arc::new(AtomicI32::new(0));
    let result = run_inner(directory, options, Arc::clone(&received)).await;
    terminal::restore();
    result?;
    Ok(match received.load(Ordering::SeqCst) {
        0 => Ended::Quit,
        number => Ended::Signal(number),
    })
}

/// [`run`] over Graph, the way the `ficus` binary starts it.
///
/// Non-generic and boxed on purpose (a build-time choice): rustc compiles generic and
/// `async` code in the crate that instantiates or polls it, so `run::<GraphDirectory>` called
/// from the binary compiled the whole console loop and every effect again in the binary, serially
/// at the end of each release build. Here it is compiled once, in this crate.
pub fn run_graph(
    directory: Arc<super::GraphDirectory>,
    options: ConsoleOptions,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Ended, ConsoleError>>>> {
    Box::pin(run(directory, options))
}

/// How the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The admin quit (or the terminal went away).
    Quit,
    /// This signal arrived; the terminal was restored. Exit with 128 + it.
    Signal(i32),
}

impl Ended {
    /// The process exit status: 0, or 128 + the signal's number.
    pub fn exit_status(self) -> u8 {
        match self {
            Ended::Quit => 0,
            Ended::Signal(number) => u8::try_from(128 + number).unwrap_or(u8::MAX),
        }
    }
}

async fn run_inner<D: Directory>(
    directory: Arc<D>,
    options: ConsoleOptions,
    received: Arc<AtomicI32>,
) -> Result<(), ConsoleError> {
    let mut terminal =
        Terminal::new(CrosstermBackend::new(io::stdout())).map_err(ConsoleError::Terminal)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();

    let mut state = State::new(
        options.keymap,
        options.themes,
        &options.theme,
        time::OffsetDateTime::now_utc(),
    );
    if let Ok(size) = terminal.size() {
        state.size = (size.width, size.height);
    }
    state.phase = Phase::SigningIn(SignInScreen {
        status: Some(options.connecting),
        ..SignInScreen::default()
    });
    let first_commands = vec![Cmd::StartSignIn];
    if let Some(notice) = options.notices.first() {
        state.toast(ToastLevel::Warning, notice.clone());
    }

    // The first frame goes out before any network call.
    draw(&mut terminal, &state)?;
    tracing::info!(
        first_frame_ms = options.started.elapsed().as_secs_f64() * 1000.0,
        "first frame drawn"
    );

    spawn_terminal_events(tx.clone());
    spawn_signals(tx.clone(), received);
    let clipboard = Clipboard::default();
    if let Some(ask) = options.ask_tmux {
        let answer_to = clipboard.clone();
        tokio::task::spawn_blocking(move || {
            let route = terminal::clipboard_route(true, ask().as_deref());
            tracing::debug!(?route, "how a copy leaves tmux");
            let _ = answer_to.route.set(route);
        });
    } else {
        let _ = clipboard.route.set(terminal::ClipboardRoute::Plain);
    }
    let options_config = options.config_file.as_deref();
    let mut quit = false;
    for cmd in first_commands {
        quit |= execute_cmd(&directory, cmd, &tx, options_config);
    }

    let mut dirty = false;
    let mut last_frame = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !quit {
        let next = if dirty {
            let deadline = last_frame + FRAME;
            tokio::select! {
                msg = rx.recv() => msg,
                _ = tokio::time::sleep_until(deadline.into()) => None,
            }
        } else if state.needs_tick() {
            tokio::select! {
                msg = rx.recv() => msg,
                _ = tick.tick() => Some(Msg::Tick(time::OffsetDateTime::now_utc())),
            }
        } else {
            match rx.recv().await {
                Some(msg) => Some(msg),
                None => break,
            }
        };
        if let Some(msg) = next {
            quit |= handle(&mut state, msg, &directory, &tx, options_config, &clipboard);
            // Drain whatever else is waiting before drawing.
            while let Ok(msg) = rx.try_recv() {
                quit |= handle(&mut state, msg, &directory, &tx, options_config, &clipboard);
            }
            dirty = true;
        }
        if quit || state.quit {
            break;
        }
        if dirty && last_frame.elapsed() >= FRAME {
            draw(&mut terminal, &state)?;
            last_frame = Instant::now();
            dirty = false;
        }
    }
    Ok(())
}

fn handle<D: Directory>(
    state: &mut State,
    msg: Msg,
    directory: &Arc<D>,
    tx: &UnboundedSender<Msg>,
    config_file: Option<&std::path::Path>,
    clipboard: &Clipboard,
) -> bool {
    let mut quit = false;
    for cmd in update(state, msg) {
        if let Cmd::Copy(text) = &cmd {
            let route = clipboard.route();
            if let Err(error) = terminal::copy_to_clipboard(text.expose(), route) {
                tracing::warn!(%error, "OSC 52 copy failed");
            }
            // The toast `update` left says the copy was sent; where tmux is known to drop
            // it, say that instead.
            if route == terminal::ClipboardRoute::Blocked {
                state.toast(ToastLevel::Warning, terminal::blocked_by_tmux());
            }
            continue;
        }
        quit |= execute_cmd(directory, cmd, tx, config_file);
    }
    quit || state.quit
}

/// How copies leave the terminal, once tmux (if any) has answered.
#[derive(Clone, Default)]
struct Clipboard {
    route: Arc<std::sync::OnceLock<terminal::ClipboardRoute>>,
}

impl Clipboard {
    fn route(&self) -> terminal::ClipboardRoute {
        self.route
            .get()
            .copied()
            .unwrap_or(terminal::ClipboardRoute::Unknown)
    }
}

/// Returns true when the command is to quit.
fn execute_cmd<D: Directory>(
    directory: &Arc<D>,
    cmd: Cmd,
    tx: &UnboundedSender<Msg>,
    config_file: Option<&std::path::Path>,
) -> bool {
    match cmd {
        Cmd::Quit => true,
        Cmd::SaveTheme(name) => {
            let tx = tx.clone();
            let config_file = config_file.map(std::path::Path::to_path_buf);
            tokio::task::spawn_blocking(move || {
                let result = match config_file {
                    Some(path) => super::theme::save_theme_choice(&path, &name)
                        .map(|()| path.display().to_string())
                        .map_err(|error| format!("could not write {} ({error})", path.display())),
                    None => Err("there is no config directory".to_string()),
                };
                let _ = tx.send(Msg::ThemeSaved(result));
            });
            false
        }
        // Written by `handle`, which knows the route; never spawned as an effect.
        Cmd::Copy(_) => false,
        other => {
            effects::spawn(directory, other, tx);
            false
        }
    }
}

fn draw(
    terminal: &mut Terminal<CrosstermBackend<io::Stdout>>,
    state: &State,
) -> Result<(), ConsoleError> {
    let _ = execute!(io::stdout(), BeginSynchronizedUpdate);
    let result = terminal.draw(|frame| views::draw(frame, state));
    let _ = execute!(io::stdout(), EndSynchronizedUpdate);
    result.map(|_| ()).map_err(ConsoleError::Draw)
}

fn spawn_terminal_events(tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(event) = events.next().await {
            let msg = match event {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Ok(Event::Paste(text)) => Msg::paste(text),
                Ok(Event::Resize(width, height)) => Msg::Resize(width, height),
                Ok(_) => continue,
                Err(error) => {
                    tracing::warn!(%error, "terminal input failed");
                    Msg::Terminate
                }
            };
            let stop = matches!(msg, Msg::Terminate);
            if tx.send(msg).is_err() || stop {
                break;
            }
        }
    });
}

/// Every catchable signal whose default action ends the process: each restores the terminal
/// and ends ficus with 128 + its number (the shell's convention). Faults (SIGSEGV, SIGBUS…)
/// and SIGKILL/SIGSTOP cannot be handled here; the panic hook covers Rust's own failures.
pub fn terminating_signals() -> Vec<i32> {
    use tokio::signal::unix::SignalKind;
    let mut signals: Vec<i32> = [
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
        SignalKind::terminate(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
        SignalKind::alarm(),
    ]
    .iter()
    .map(|kind| kind.as_raw_value())
    .collect();
    #[cfg(target_os = "linux")]
    {
        // SIGSTKFLT, SIGIO, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGPWR, SIGSYS, and the
        // real-time signals (glibc keeps 32 and 33 for itself).
        signals.extend([16, 29, 24, 25, 26, 27, 30, 31]);
        signals.extend(34..=64);
    }
    signals
}

fn spawn_signals(tx: UnboundedSender<Msg>, received: Arc<AtomicI32>) {
    use tokio::signal::unix::{SignalKind, signal};
    for number in terminating_signals() {
        let Ok(mut stream) = signal(SignalKind::from_raw(number)) else {
            tracing::debug!(number, "cannot listen for this signal");
            continue;
        };
        let tx = tx.clone();
        let received = Arc::clone(&received);
        tokio::spawn(async move {
            if stream.recv().await.is_some() {
                tracing::info!(number, "signal: leaving");
                // The first signal decides the exit status.
                let _ = received.compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst);
                let _ = tx.send(Msg::Terminate);
            }
        });
    }
}
