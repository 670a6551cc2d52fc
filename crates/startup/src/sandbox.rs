//! The embedded sandbox as a session: started in-process, signed in as a tenant's
//! administrator, with managed identity tokens from its emulated host. `ficus --sandbox`, the
//! headless commands and the tests all start it through here.

use std::sync::Arc;

use ficus_core::cloud::Cloud;
use ficus_entra::msi::{self, MsiEnv, MsiSource};
use ficus_entra::signin::{self, Renewal};
use ficus_entra::{Credentials, RetryPolicy, Session, SessionConfig};
use ficus_sandbox::Sandbox;

use crate::connection::{ConnectFuture, Connected, MsiHost, Reconnect, SessionInfo};
use crate::error::StartupError;
use crate::options::GlobalArgs;
use crate::session::Signed;

/// The tenant `ficus --sandbox` opens.
pub const CONSOLE_TENANT: &str = ficus_sandbox::seed::CONTOSO;

/// A session on a running in-process sandbox, signed in as `upn` of its `contoso` tenant, with
/// exchanges using the sandbox's IMDS.
pub fn sandbox_signed(
    sandbox: &Sandbox,
    upn: &str,
    read_only: bool,
) -> Result<Signed, StartupError> {
    let info = &sandbox.info;
    let tenant = info
        .tenants
        .iter()
        .find(|t| t.name == ficus_sandbox::seed::CONTOSO)
        .or(info.tenants.first())
        .ok_or_else(|| StartupError::Sandbox("the sandbox has no tenant".into()))?;
    sandbox_signed_in(sandbox, &tenant.id, upn, read_only)
}

/// The same, signed in to the sandbox tenant with id `tenant_id` (the console's `tenant NAME`).
pub fn sandbox_signed_in(
    sandbox: &Sandbox,
    tenant_id: &str,
    upn: &str,
    read_only: bool,
) -> Result<Signed, StartupError> {
    let info = &sandbox.info;
    let tenant = info
        .tenants
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(tenant_id))
        .ok_or_else(|| {
            StartupError::Sandbox(format!("the sandbox has no tenant with id {tenant_id}"))
        })?;
    let cloud = Cloud::custom(&info.authority, &info.graph);
    let mut config = SessionConfig::new(cloud, tenant.id.clone());
    config.ca_pem = info.ca_pem.clone();
    config.read_only = read_only;
    let scopes: Vec<&str> = config.scopes.iter().map(String::as_str).collect();
    let signed = sandbox
        .sign_in(&tenant.id, upn, &config.client_id, &scopes)
        .map_err(|e| StartupError::Sandbox(e.to_string()))?;
    let tokens = signin::TokenSet {
        access_token: signed.access_token,
        refresh_token: Some(signed.refresh_token).filter(|t| !t.expose().is_empty()),
        id_token: Some(signed.id_token).filter(|t| !t.expose().is_empty()),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp()
            + i64::try_from(signed.expires_in).unwrap_or(0),
        scope: Some(config.scopes.join(" ")),
    };
    let renewal = Renewal::RefreshToken {
        token_endpoint: config.cloud.token_endpoint(&config.tenant),
        client_id: config.client_id.clone(),
        scopes: config.scopes.clone(),
        cache: None,
    };
    let session = Session::new(config, Credentials::new(tokens, renewal))?;
    Ok(Signed {
        session,
        msi_source: Some(MsiSource::Imds {
            base: info.imds.clone(),
        }),
        msi_http: msi::msi_http(RetryPolicy::default())?,
        signed_in_via: "sandbox (in-process)".into(),
    })
}

/// The console's session in one tenant of a running sandbox (by name, domain or tenant id),
/// signed in as that tenant's administrator. Its `reconnect` does the same for the palette's
/// `tenant NAME`, on the same running sandbox.
pub fn console_sandbox_session(
    sandbox: Arc<Sandbox>,
    wanted: &str,
    read_only: bool,
) -> Result<Connected, String> {
    let tenant = sandbox_tenant(&sandbox, wanted)?;
    let admin = tenant_admin(&sandbox, &tenant.id).ok_or_else(|| no_admin(&tenant.name))?;
    let signed =
        sandbox_signed_in(&sandbox, &tenant.id, &admin, read_only).map_err(|e| e.to_string())?;
    let session = signed.session;
    let cloud = session.cloud.clone();
    let info = SessionInfo {
        tenant: format!("{} ({})", tenant.name, tenant.domain),
        tenant_id: tenant.id.clone(),
        cloud: "sandbox".into(),
        user: admin,
        read_only: session.read_only,
        graph_base: cloud.graph_v1(),
        cloud_endpoints: cloud,
        known_tenants: sandbox
            .info
            .tenants
            .iter()
            .map(|t| t.name.clone())
            .collect(),
    };
    // The test exchange asks the sandbox's emulated host (its IMDS) for identity tokens.
    let msi_host = MsiHost {
        label: "the sandbox's emulated host".into(),
        env: MsiEnv {
            imds_authority: Some(sandbox.info.imds.clone()),
            ..MsiEnv::default()
        },
    };
    let for_switch = Arc::clone(&sandbox);
    let reconnect: Reconnect = Arc::new(move |name: String| -> ConnectFuture {
        let connected = console_sandbox_session(Arc::clone(&for_switch), &name, read_only);
        Box::pin(std::future::ready(connected))
    });
    Ok(Connected {
        session,
        info,
        keep_alive: Box::new(sandbox),
        msi_host: Some(msi_host),
        reconnect: Some(reconnect),
    })
}

/// The sandbox tenant named `wanted` (name, domain or tenant id, any case). Unknown: a
/// sentence naming the known ones, short enough for a toast at 80 columns.
pub fn sandbox_tenant(
    sandbox: &Sandbox,
    wanted: &str,
) -> Result<ficus_sandbox::TenantInfo, String> {
    let key = wanted.trim();
    sandbox
        .info
        .tenants
        .iter()
        .find(|t| {
            t.id.eq_ignore_ascii_case(key)
                || t.domain.eq_ignore_ascii_case(key)
                || t.name.eq_ignore_ascii_case(key)
        })
        .cloned()
        .ok_or_else(|| {
            let known: Vec<String> = sandbox
                .info
                .tenants
                .iter()
                .map(|t| t.name.clone())
                .collect();
            if known.is_empty() {
                "the sandbox has no tenant; its seed is broken (restart ficus --sandbox)".into()
            } else {
                format!("No sandbox tenant `{key}`; known: {}", known.join(", "))
            }
        })
}

/// The tenant `--sandbox` opens: `--tenant` / `FICUS_TENANT` when given, else contoso.
pub fn wanted_tenant(global: &GlobalArgs) -> &str {
    global
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(CONSOLE_TENANT)
}

/// Why a sandbox tenant cannot be signed in to, and what to do instead.
fn no_admin(tenant: &str) -> String {
    format!(
        "the sandbox tenant {tenant} has no administrator to sign in as (the `empty` seed has no \
         users); use --seed demo (the default) or --seed large:N"
    )
}

/// Who signs in to a sandbox tenant: a user who can manage every app registration,
/// `admin@…` first (the demo seed's admins), then by name so the choice is stable.
fn tenant_admin(sandbox: &Sandbox, tenant_id: &str) -> Option<String> {
    sandbox.state().read(|directory| {
        let tenant = directory.tenant(tenant_id)?;
        let mut admins: Vec<&str> = tenant
            .users
            .values()
            .filter(|u| u.can_manage_all_applications())
            .map(|u| u.user_principal_name.as_str())
            .collect();
        admins.sort_by_key(|upn| (!upn.starts_with("admin@"), upn.to_string()));
        admins.first().map(|upn| upn.to_string())
    })
}

/// Starts the in-process sandbox (`--seed`, `--faults`; HTTPS with its own CA).
pub async fn start_sandbox(global: &GlobalArgs) -> Result<Sandbox, StartupError> {
    let faults = global.faults.clone().unwrap_or_default();
    let seed = global.seed.unwrap_or(ficus_sandbox::Seed::Demo);
    ficus_sandbox::start(ficus_sandbox::SandboxConfig {
        tls: true,
        seed,
        faults,
        ..ficus_sandbox::SandboxConfig::default()
    })
    .await
    .map_err(|e| StartupError::Sandbox(e.to_string()))
}

/// Starts the in-process sandbox signed in as the demo admin (the headless `--sandbox`).
/// `--tenant` / `FICUS_TENANT` pick the tenant (its administrator signs in); an unknown one
/// is an error naming the known ones.
pub async fn start_sandbox_signed(global: &GlobalArgs) -> Result<(Signed, Sandbox), StartupError> {
    let sandbox = start_sandbox(global).await?;
    let signed = sandbox_tenant(&sandbox, wanted_tenant(global))
        .map_err(StartupError::Sandbox)
        .and_then(|tenant| {
            let admin = tenant_admin(&sandbox, &tenant.id)
                .ok_or_else(|| StartupError::Sandbox(no_admin(&tenant.name)))?;
            sandbox_signed_in(&sandbox, &tenant.id, &admin, global.read_only)
        });
    match signed {
        Ok(signed) => Ok((signed, sandbox)),
        Err(e) => {
            sandbox.shutdown().await;
            Err(e)
        }
    }
}

/// The embedded sandbox as the console's session (`ficus --sandbox`).
pub fn console_sandbox(global: GlobalArgs) -> ConnectFuture {
    Box::pin(async move {
        let sandbox = start_sandbox(&global).await.map_err(|e| e.to_string())?;
        let wanted = wanted_tenant(&global).to_string();
        console_sandbox_session(Arc::new(sandbox), &wanted, global.read_only)
    })
}
