use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use ficus::cli::{Cli, Command};

fn main() -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    ficus_startup::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Sandbox(mut args)) => {
            // One spelling for the standalone and the embedded sandbox: the global flags.
            args.json = cli.global.json;
            if let Some(seed) = cli.global.seed {
                args.seed = seed;
            }
            if let Some(faults) = &cli.global.faults {
                args.faults = faults.clone();
            }
            // `run_blocking` makes the sandbox's own runtime.
            ficus_sandbox::serve::run_blocking(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Headless(command)) => {
            let runtime = tokio::runtime::Runtime::new()?;
            Ok(runtime.block_on(ficus_commands::run(cli.global, cli.sandbox, Some(command))))
        }
        None => {
            // No subcommand: the full-screen console.
            let runtime = tokio::runtime::Runtime::new()?;
            let status = runtime.block_on(console::run(cli, started))?;
            Ok(ExitCode::from(status))
        }
    }
}

/// Starting the console: logging, the configuration, and how it signs in (the start-up
/// layer decides; the console knows nothing of the sandbox).
mod console {
    use std::time::Instant;

    use anyhow::Context as _;
    use ficus::cli::Cli;
    use ficus_console::{ConsoleOptions, GraphDirectory};
    use ficus_startup::console_start::{console_start, remember_tenant};
    use ficus_startup::{Config, Dirs};

    /// The exit status: 0, or 128 + the signal that ended the console.
    pub async fn run(cli: Cli, started: Instant) -> anyhow::Result<u8> {
        let dirs = Dirs::of_user();
        let _log_guard = init_logging(&dirs);
        let ms = |label: &str| {
            tracing::debug!(at_ms = started.elapsed().as_secs_f64() * 1000.0, "{label}")
        };
        ms("logging ready");
        let mut notices = Vec::new();
        let config = match dirs.config_file.as_deref().map(Config::load) {
            Some(Ok(config)) => config,
            Some(Err(error)) => {
                notices.push(format!("{error} (using the defaults)"));
                Config::default()
            }
            None => Config::default(),
        };
        let start = console_start(&cli.global, cli.sandbox, &config, &dirs)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        let mut directory = GraphDirectory::new(start.connector);
        if let Some(dir) = dirs.state_dir.clone() {
            directory = directory.on_signed_in(remember_tenant(dir));
        }
        let mut options = ConsoleOptions::load(&dirs, &config, start.connecting, started);
        options.notices.splice(0..0, notices);
        ms("keymap and themes loaded");
        let ended = ficus_console::run_graph(std::sync::Arc::new(directory), options)
            .await
            .context("the console stopped")?;
        Ok(ended.exit_status())
    }

    /// Logs go to `<state dir>/ficus.log`, never to the screen. Without a usable directory
    /// there is simply no log.
    fn init_logging(dirs: &Dirs) -> Option<tracing_appender::non_blocking::WorkerGuard> {
        let dir = dirs.state_dir.clone()?;
        std::fs::create_dir_all(&dir).ok()?;
        let appender = tracing_appender::rolling::never(&dir, "ficus.log");
        let (writer, guard) = tracing_appender::non_blocking(appender);
        // A level, not an EnvFilter: its regex engine costs ~40 ms at start in a debug build.
        let level = std::env::var("FICUS_LOG")
            .ok()
            .and_then(|v| v.parse::<tracing_subscriber::filter::LevelFilter>().ok())
            .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
        tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .with_max_level(level)
            .try_init()
            .ok()?;
        Some(guard)
    }
}
