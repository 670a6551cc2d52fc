//! `ficus sandbox`: runs the sandbox until Ctrl-C / SIGTERM / SIGHUP and tells the user (or,
//! with `--json`, a test harness) where it is. Logs go to stderr, coloured only when stderr is
//! a terminal (and `NO_COLOR` is unset); with `--json` stdout carries exactly one line. A
//! final save that fails makes the command fail (non-zero exit).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use crate::seed::DEMO_ADMIN;
use crate::state::default_state_file;
use crate::{Faults, Sandbox, SandboxConfig, Seed};

#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Token service and Graph (port 0 picks a free port). Loopback unless you name another address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Managed identity endpoints (IMDS and App Service style), plain HTTP.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub msi_listen: SocketAddr,
    /// Serve HTTPS with a generated CA (written next to the state file); SDKs need this.
    #[arg(long)]
    pub tls: bool,
    /// State file [default: sandbox.json in the user's data directory].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seed for a new state file (the global `--seed`: demo, empty or large:N).
    #[arg(skip = Seed::Demo)]
    pub seed: Seed,
    /// Approve device codes as this user after about a second; `off` to approve by hand at /devicelogin.
    #[arg(long, value_name = "USER|off", default_value = DEMO_ADMIN)]
    pub auto_approve: String,
    /// Faults (the global `--faults`: throttle=N,latency=MS,replication=SECS), one spelling for
    /// `ficus sandbox` and `ficus --sandbox`.
    #[arg(skip)]
    pub faults: Faults,
    /// Print one JSON line with the endpoints when ready, nothing else on stdout. Set from the
    /// global `--json` flag (a second `--json` here would clash with it).
    #[arg(skip)]
    pub json: bool,
}

impl SandboxArgs {
    pub fn config(&self) -> anyhow::Result<SandboxConfig> {
        let state_file = match &self.state {
            Some(p) => p.clone(),
            None => default_state_file()?,
        };
        let auto_approve = match self.auto_approve.trim() {
            "" | "off" | "none" => None,
            upn => Some(upn.to_string()),
        };
        Ok(SandboxConfig {
            listen: self.listen,
            msi_listen: self.msi_listen,
            tls: self.tls,
            state_file: Some(state_file),
            seed: self.seed,
            auto_approve,
            faults: self.faults.clone(),
            limits: crate::limits::Limits::default(),
            // One sandbox per process: a key of its own.
            seed_key: crate::keys::SeedKey::Fresh,
        })
    }
}

/// Runs `ficus sandbox` on its own tokio runtime.
pub fn run_blocking(args: SandboxArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(args))
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        // `RUST_LOG=debug` and the like: a level (no per-module filters, whose regex engine
        // would cost more to build than the sandbox needs).
        .with_max_level(
            std::env::var("RUST_LOG")
                .ok()
                .and_then(|v| v.parse::<tracing_subscriber::filter::LevelFilter>().ok())
                .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .try_init();
    let config = args.config()?;
    if let Some(path) = &config.state_file
        && path.exists()
    {
        tracing::info!(state = %path.display(), "using the existing state file; --seed applies only to a new one");
    }
    let stop = stop_signals();
    let sandbox = crate::start(config.clone())
        .await
        .context("the sandbox did not start")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        write_json_line(&mut out, &sandbox.info)?;
    } else {
        print_human(&mut out, &sandbox, &config)?;
    }
    out.flush()?;
    drop(out);
    stop.await;
    tracing::info!("shutting down");
    sandbox
        .stop()
        .await
        .context("the sandbox could not save its state on the way out")?;
    tracing::info!("state saved; stopped");
    Ok(())
}

/// What a user runs to use this sandbox: the console's attach command, the environment for
/// the SDKs and the Azure CLI's cloud registration. One source for the banner and the
/// `--json` line, so the two never disagree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attach {
    /// `ficus --sandbox-url URL [--ca-file PEM]`.
    pub console: String,
    /// `NAME=value` pairs for azure-identity, MSAL and the like, in the order printed.
    pub environment: Vec<(String, String)>,
    /// `az cloud register …` (Graph and ARM served from the sandbox's own URL).
    pub az_cloud_register: String,
}

impl Attach {
    pub fn of(info: &crate::SandboxInfo) -> Attach {
        let console = match &info.ca_file {
            Some(ca) => format!(
                "ficus --sandbox-url {} --ca-file {}",
                info.authority,
                ca.display()
            ),
            None => format!("ficus --sandbox-url {}", info.authority),
        };
        let mut environment = vec![("AZURE_AUTHORITY_HOST".to_string(), info.authority.clone())];
        if let Some(ca) = &info.ca_file {
            for name in ["REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"] {
                environment.push((name.to_string(), ca.display().to_string()));
            }
        }
        environment.push((
            "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_string(),
            info.imds.clone(),
        ));
        environment.push((
            "IDENTITY_ENDPOINT".to_string(),
            info.app_service.endpoint.clone(),
        ));
        environment.push((
            "IDENTITY_HEADER".to_string(),
            info.app_service.header.clone(),
        ));
        if let Some(t) = info.tenants.first() {
            environment.push(("AZURE_TENANT_ID".to_string(), t.id.clone()));
        }
        let az_cloud_register = format!(
            "az cloud register --name ficus-sandbox --endpoint-active-directory {a} --endpoint-active-directory-resource-id {a}/ --endpoint-active-directory-graph-resource-id {a}/ --endpoint-microsoft-graph-resource-id {a}/ --endpoint-resource-manager {a}/ --skip-endpoint-discovery",
            a = info.authority
        );
        Attach {
            console,
            environment,
            az_cloud_register,
        }
    }
}

/// The `--json` line: the endpoints, and how to attach (the same as the human banner).
#[derive(serde::Serialize)]
struct ReadyLine<'a> {
    #[serde(flatten)]
    info: &'a crate::SandboxInfo,
    attach: String,
    environment: std::collections::BTreeMap<String, String>,
    az_cloud_register: String,
}

fn write_json_line(out: &mut impl Write, info: &crate::SandboxInfo) -> anyhow::Result<()> {
    let attach = Attach::of(info);
    serde_json::to_writer(
        &mut *out,
        &ReadyLine {
            info,
            attach: attach.console,
            environment: attach.environment.into_iter().collect(),
            az_cloud_register: attach.az_cloud_register,
        },
    )?;
    writeln!(out)?;
    Ok(())
}

fn print_human(
    out: &mut impl Write,
    sandbox: &Sandbox,
    config: &SandboxConfig,
) -> std::io::Result<()> {
    let info = &sandbox.info;
    let attach = Attach::of(info);
    writeln!(out, "ficus sandbox is running. Ctrl-C stops it.")?;
    writeln!(out)?;
    writeln!(out, "  token service  {}", info.authority)?;
    writeln!(out, "  Graph          {}", info.graph)?;
    writeln!(out, "  IMDS           {}", info.imds)?;
    writeln!(out, "  App Service    {}", info.app_service.endpoint)?;
    writeln!(out, "  device login   {}/devicelogin", info.authority)?;
    if let Some(upn) = &config.auto_approve {
        writeln!(out, "                 (auto-approving as {upn})")?;
    }
    writeln!(out, "  description    {}", info.description)?;
    for t in &info.tenants {
        writeln!(out, "  tenant         {} {} ({})", t.name, t.id, t.domain)?;
    }
    if let Some(path) = &config.state_file {
        writeln!(out, "  state          {}", path.display())?;
    }
    if let Some(ca) = &info.ca_file {
        writeln!(out, "  CA             {}", ca.display())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "# Attach a ficus console (or headless command) to this sandbox; its test exchange takes"
    )?;
    writeln!(
        out,
        "# managed identity tokens from the sandbox's emulated host (found through the description):"
    )?;
    writeln!(out, "{}", attach.console)?;
    writeln!(out)?;
    writeln!(
        out,
        "# Point azure-identity and MSAL at the sandbox (IDENTITY_* selects App Service; unset them to use IMDS):"
    )?;
    if info.ca_file.is_none() {
        writeln!(
            out,
            "# (no TLS: azure-identity and MSAL require https; restart with --tls)"
        )?;
    }
    for (name, value) in &attach.environment {
        writeln!(out, "export {name}={value}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "# The Azure CLI (with REQUESTS_CA_BUNDLE above): Graph is served from the sandbox's own URL"
    )?;
    writeln!(out, "{}", attach.az_cloud_register)?;
    Ok(())
}

/// Registers for Ctrl-C, SIGTERM and SIGHUP (a closed terminal) now, before the sandbox says
/// it is ready, and returns what waits for the first of them: all three save and exit.
/// SIGXFSZ (a file size limit hit while saving) is caught too, so that it reaches the writer
/// as an error (answered 503 and reported) instead of killing the process.
fn stop_signals() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let registered = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        );
        // SIGXFSZ is 25 on Linux and the BSDs.
        let mut file_size = signal(SignalKind::from_raw(25)).ok();
        match registered {
            (Ok(mut interrupt), Ok(mut term), Ok(mut hangup)) => Box::pin(async move {
                loop {
                    let file_size_hit = async {
                        match file_size.as_mut() {
                            Some(s) => s.recv().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = interrupt.recv() => break,
                        _ = term.recv() => break,
                        _ = hangup.recv() => break,
                        Some(()) = file_size_hit => {
                            tracing::warn!("a file size limit (SIGXFSZ) was hit while saving");
                        }
                    }
                }
            }),
            _ => Box::pin(async {
                let _ = tokio::signal::ctrl_c().await;
            }),
        }
    }
    #[cfg(not(unix))]
    {
        Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
