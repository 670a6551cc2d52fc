use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use ficus::cli::{Cli, Command};

fn main() -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    ficus::install_crypto_provider();
    let cli = Cli::parse();
    if let Some(Command::Sandbox(mut args)) = cli.command {
        args.json = cli.global.json;
        ficus::sandbox::serve::run_blocking(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    if cli.command.is_none() {
        // No subcommand: the full-screen console.
        runtime.block_on(console::run(cli, started))?;
        return Ok(ExitCode::SUCCESS);
    }
    Ok(runtime.block_on(ficus::commands::run(cli)))
}

/// Starting the console: configuration, logging, and how it signs in. The console itself is
/// `ficus::tui`; only this glue knows about the sandbox (`tui/` must not).
mod console {
    use std::path::PathBuf;
    use std::time::Instant;

    use anyhow::Context as _;
    use ficus::cli::Cli;
    use ficus::cloud::Cloud;
    use ficus::entra::{self, Credentials, Renewal};
    use ficus::tui::directory::{ConnectFuture, Reconnect};
    use ficus::tui::keymap::Keymap;
    use ficus::tui::last_tenant;
    use ficus::tui::theme::{Themes, initial_theme_name};
    use ficus::tui::{Connected, Connector, ConsoleOptions, GraphDirectory, Session};

    const SANDBOX_TENANT: &str = "contoso";

    pub async fn run(cli: Cli, started: Instant) -> anyhow::Result<()> {
        let dirs = directories::ProjectDirs::from("", "", "ficus");
        let _log_guard = init_logging(dirs.as_ref());
        let ms = |label: &str| {
            tracing::debug!(at_ms = started.elapsed().as_secs_f64() * 1000.0, "{label}")
        };
        ms("logging ready");
        let config_dir = config_dir(dirs.as_ref());
        let state_dir = state_dir(dirs.as_ref());
        let mut notices = Vec::new();

        let mut keymap = Keymap::default();
        if let Some(dir) = &config_dir {
            let path = dir.join("keymap.toml");
            if let Ok(text) = std::fs::read_to_string(&path) {
                match Keymap::default().with_overrides(&text) {
                    Ok(custom) => keymap = custom,
                    Err(error) => notices.push(format!("{} (using the default keys)", error)),
                }
            }
        }
        let mut themes = Themes::built_in();
        let mut configured_theme = None;
        if let Some(dir) = &config_dir {
            notices.extend(themes.load_user_dir(&dir.join("themes")));
            configured_theme = read_setting(&config_path(dir), "theme");
        }
        let theme = initial_theme_name(
            std::env::var("NO_COLOR").ok().as_deref(),
            configured_theme.as_deref(),
        );

        ms("keymap and themes loaded");
        let (connector, connecting) = if cli.sandbox {
            (
                Connector::Session(Box::pin(sandbox_session(cli.global.clone()))),
                "Starting the embedded sandbox (demo tenant Contoso, no network)…".to_string(),
            )
        } else if cli.global.use_az_cli {
            (
                Connector::Session(az_cli_session(cli.global.clone())),
                "Signing in with the Azure CLI's account…".to_string(),
            )
        } else {
            // The tenant: --tenant, else config.toml (`tenant = "…"`, `cloud = "…"`), else the
            // one that last signed in successfully.
            let mut global = cli.global.clone();
            let config_file = config_dir.as_deref().map(config_path);
            let setting = |key: &str| config_file.as_deref().and_then(|f| read_setting(f, key));
            let last = state_dir.as_deref().and_then(last_tenant::load);
            let cloud_given = std::env::var_os("FICUS_CLOUD").is_some()
                || std::env::args().any(|a| a == "--cloud" || a.starts_with("--cloud="));
            if global.sandbox_url.is_none() {
                let resolved = last_tenant::resolve(
                    global.tenant.as_deref(),
                    setting("tenant").as_deref(),
                    setting("cloud").as_deref(),
                    last.as_ref(),
                    cloud_given,
                )
                .map_err(|message| anyhow::anyhow!("{message}"))?;
                tracing::info!(source = ?resolved.source, tenant = %resolved.tenant, "tenant chosen");
                global.tenant = Some(resolved.tenant);
                if let Some(cloud) = resolved.cloud {
                    global.cloud = cloud;
                }
            }
            let config = ficus::commands::session_config(&global).map_err(|error| {
                anyhow::anyhow!("{error}\n(or try the console offline first: ficus --sandbox)")
            })?;
            (
                Connector::DeviceCode(Box::new(config)),
                "Signing in from the token cache…".to_string(),
            )
        };
        let mut directory = GraphDirectory::new(connector);
        if let Some(dir) = state_dir.clone() {
            // Remembered for the next plain `ficus` (a name and a cloud, never a token).
            directory = directory.on_signed_in(Box::new(move |tenant: &str, cloud: &Cloud| {
                if cloud.kind == ficus::cloud::CloudKind::Custom {
                    return; // a --sandbox-url session: nothing to reopen later
                }
                let last = last_tenant::LastTenant {
                    tenant: tenant.to_string(),
                    cloud: cloud.kind.label().to_string(),
                };
                if let Err(error) = last_tenant::save(&dir, &last) {
                    tracing::warn!(%error, "could not remember the tenant");
                }
            }));
        }
        let directory = std::sync::Arc::new(directory);
        let options = ConsoleOptions {
            connecting,
            keymap,
            themes,
            theme,
            notices,
            started,
            config_file: config_dir.as_deref().map(config_path),
        };
        ficus::tui::run(directory, options)
            .await
            .context("the console stopped")?;
        Ok(())
    }

    fn config_dir(dirs: Option<&directories::ProjectDirs>) -> Option<PathBuf> {
        if let Some(file) = std::env::var_os("FICUS_CONFIG") {
            return PathBuf::from(file).parent().map(PathBuf::from);
        }
        dirs.map(|d| d.config_dir().to_path_buf())
    }

    /// Where the log and the last-used tenant live.
    fn state_dir(dirs: Option<&directories::ProjectDirs>) -> Option<PathBuf> {
        dirs.map(|d| {
            d.state_dir()
                .map(PathBuf::from)
                .unwrap_or_else(|| d.data_local_dir().to_path_buf())
        })
    }

    fn config_path(dir: &std::path::Path) -> PathBuf {
        std::env::var_os("FICUS_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("config.toml"))
    }

    /// A top-level string of config.toml: `theme = "dark"`, `tenant = "contoso.onmicrosoft.com"`.
    fn read_setting(path: &std::path::Path, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(path).ok()?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        table.get(key)?.as_str().map(str::to_string)
    }

    /// Logs go to `<state dir>/ficus.log`, never to the screen. Without a usable directory
    /// there is simply no log.
    fn init_logging(
        dirs: Option<&directories::ProjectDirs>,
    ) -> Option<tracing_appender::non_blocking::WorkerGuard> {
        let dir = state_dir(dirs)?;
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

    /// The embedded sandbox (demo seed unless --sandbox-seed), signed in as the demo admin,
    /// through the same `commands::start_sandbox` the headless commands use.
    async fn sandbox_session(global: ficus::cli::GlobalArgs) -> Result<Connected, String> {
        let (_demo_admin, sandbox) = ficus::commands::start_sandbox(&global)
            .await
            .map_err(|e| e.to_string())?;
        ficus::commands::console_sandbox_session(
            std::sync::Arc::new(sandbox),
            SANDBOX_TENANT,
            global.json,
            global.read_only,
        )
    }

    /// The Azure CLI's account (for tenants whose Conditional Access blocks device code).
    fn az_cli_session(global: ficus::cli::GlobalArgs) -> ConnectFuture {
        Box::pin(async move {
            let config = ficus::commands::session_config(&global).map_err(|e| e.to_string())?;
            let tenant = Some(config.tenant.clone());
            let tokens = entra::signin::az_cli_token(&config.cloud, tenant.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            let renewal = Renewal::AzCli {
                cloud: config.cloud.clone(),
                tenant,
            };
            let session = entra::Session::new(config, Credentials::new(tokens, renewal))
                .map_err(|e| e.to_string())?;
            let account = session.credentials.account().await;
            let info = Session {
                tenant: session.tenant.clone(),
                tenant_id: account.tenant_id.clone().unwrap_or_default(),
                cloud: ficus::tui::directory::cloud_label(&session.cloud).into(),
                user: account
                    .username
                    .clone()
                    .unwrap_or_else(|| "Azure CLI account".into()),
                read_only: session.read_only,
                graph_base: session.cloud.graph_v1(),
                cloud_endpoints: session.cloud.clone(),
            };
            // `tenant NAME` runs `az account get-access-token --tenant NAME` again.
            let reconnect: Reconnect = std::sync::Arc::new(move |name: String| {
                az_cli_session(ficus::cli::GlobalArgs {
                    tenant: Some(name),
                    ..global.clone()
                })
            });
            Ok(Connected {
                session,
                info,
                keep_alive: Box::new(()),
                msi_host: None,
                reconnect: Some(reconnect),
            })
        })
    }
}
