//! How the console signs in, chosen from the flags, `config.toml` and the last-used tenant:
//! the embedded sandbox, the Azure CLI's login, or the token cache with the device code flow.

use ficus_core::cloud::{Cloud, CloudKind};
use ficus_entra::signin::Renewal;
use ficus_entra::{self as entra, Credentials};

use crate::config::{Config, Dirs};
use crate::connection::{
    ConnectFuture, Connected, Connector, Reconnect, SessionInfo, SignedInHook, cloud_label,
};
use crate::error::StartupError;
use crate::last_tenant;
use crate::options::GlobalArgs;
use crate::session::session_config;

/// The console's way in and what its first screen says while it connects.
pub struct ConsoleStart {
    pub connector: Connector,
    pub connecting: String,
}

/// Picks the console's connector: `--sandbox`, `--use-az-cli`, else the tenant of `--tenant`,
/// config.toml or the last successful sign-in, through the token cache or a device code.
pub fn console_start(
    global: &GlobalArgs,
    sandbox: bool,
    config: &Config,
    dirs: &Dirs,
) -> Result<ConsoleStart, StartupError> {
    if sandbox {
        return Ok(ConsoleStart {
            connector: Connector::Session(crate::sandbox::console_sandbox(global.clone())),
            connecting: "Starting the embedded sandbox (demo tenant Contoso, no network)…".into(),
        });
    }
    if global.use_az_cli {
        return Ok(ConsoleStart {
            connector: Connector::Session(az_cli_session(global.clone())),
            connecting: "Signing in with the Azure CLI's account…".into(),
        });
    }
    let mut global = global.clone();
    if global.sandbox_url.is_none() {
        let last = dirs.state_dir.as_deref().and_then(last_tenant::load);
        let config_cloud = config.cloud.map(|kind| kind.label());
        let resolved = last_tenant::resolve(
            global.tenant.as_deref(),
            config.tenant.as_deref(),
            config_cloud,
            last.as_ref(),
            global.cloud.is_some(),
        )
        .map_err(|message| StartupError::Usage(message.into()))?;
        tracing::info!(source = ?resolved.source, tenant = %resolved.tenant, "tenant chosen");
        global.tenant = Some(resolved.tenant);
        if let Some(cloud) = resolved.cloud {
            global.cloud = Some(crate::options::parse_cloud(&cloud).map_err(|e| {
                StartupError::Usage(format!("the remembered or configured cloud: {e}"))
            })?);
        }
    }
    let session_config = session_config(&global).map_err(|error| match error {
        StartupError::Usage(message) => StartupError::Usage(format!(
            "{message}\n(or try the console offline first: ficus --sandbox)"
        )),
        other => other,
    })?;
    Ok(ConsoleStart {
        connector: Connector::DeviceCode(Box::new(session_config)),
        connecting: "Signing in from the token cache…".into(),
    })
}

/// Remembers each successful device-code or cache sign-in in `state_dir`, for the next plain
/// `ficus` (a name and a cloud, never a token).
pub fn remember_tenant(state_dir: std::path::PathBuf) -> SignedInHook {
    Box::new(move |tenant: &str, cloud: &Cloud| {
        if cloud.kind == CloudKind::Custom {
            return; // a --sandbox-url session: nothing to reopen later
        }
        let last = last_tenant::LastTenant {
            tenant: tenant.to_string(),
            cloud: cloud.kind.label().to_string(),
        };
        if let Err(error) = last_tenant::save(&state_dir, &last) {
            tracing::warn!(%error, "could not remember the tenant");
        }
    })
}

/// The Azure CLI's account (for tenants whose Conditional Access blocks device code).
pub fn az_cli_session(global: GlobalArgs) -> ConnectFuture {
    Box::pin(async move {
        let config = session_config(&global).map_err(|e| e.to_string())?;
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
        let info = SessionInfo {
            tenant: session.tenant.clone(),
            tenant_id: account.tenant_id.clone().unwrap_or_default(),
            cloud: cloud_label(&session.cloud).into(),
            user: account
                .username
                .clone()
                .unwrap_or_else(|| "Azure CLI account".into()),
            read_only: session.read_only,
            graph_base: session.cloud.graph_v1(),
            cloud_endpoints: session.cloud.clone(),
            known_tenants: vec![session.tenant.clone()],
        };
        // `tenant NAME` runs `az account get-access-token --tenant NAME` again.
        let reconnect: Reconnect = std::sync::Arc::new(move |name: String| {
            az_cli_session(GlobalArgs {
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
