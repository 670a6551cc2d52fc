//! What a signed-in console holds: the entra session, what its header shows, how it gets
//! managed identity tokens for the test exchange, and how it switches tenant. Made here (the
//! sandbox, the Azure CLI) or by the console's own device-code sign-in.

use std::future::Future;
use std::pin::Pin;

use ficus_core::cloud::{Cloud, CloudKind};
use ficus_entra::{self as entra, SessionConfig};

/// Who is signed in where; shown in the console's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Display name or domain of the tenant.
    pub tenant: String,
    pub tenant_id: String,
    /// `global`, `usgov`, `china` or `sandbox`.
    pub cloud: String,
    pub user: String,
    pub read_only: bool,
    /// Graph root with version, e.g. `https://graph.microsoft.com/v1.0`; shown in confirmations.
    pub graph_base: String,
    /// The cloud's endpoints (exports name its Graph host and issuer).
    pub cloud_endpoints: Cloud,
    /// Tenants the palette's `tenant NAME` can switch to, as they are typed (the sandbox's
    /// tenants; for a real tenant, the one signed in to). Suggestions only: any name may be typed.
    pub known_tenants: Vec<String>,
}

/// A session made before the console runs (the sandbox, or the Azure CLI): the entra session,
/// what the header shows, and anything that must stay alive while the console runs.
pub struct Connected {
    pub session: entra::Session,
    pub info: SessionInfo,
    pub keep_alive: Box<dyn std::any::Any + Send + Sync>,
    /// Where the test exchange gets managed identity tokens; `None`: detect from this
    /// process's environment (App Service, workload identity file, IMDS).
    pub msi_host: Option<MsiHost>,
    /// How the palette's `tenant NAME` makes a session for another tenant the same way (the
    /// sandbox signs that tenant's admin in; the Azure CLI asks for a token with `--tenant`).
    /// `None`: this session cannot switch tenant.
    pub reconnect: Option<Reconnect>,
}

/// Makes a [`Connected`] for the named tenant (a name, domain or tenant id). Its `Err` is a
/// sentence for a toast (an unknown tenant lists the known ones); the current session stays.
pub type Reconnect = std::sync::Arc<dyn Fn(String) -> ConnectFuture + Send + Sync>;

/// A managed identity host other than this machine's environment (the sandbox's emulated
/// host), for the test exchange.
#[derive(Debug, Clone)]
pub struct MsiHost {
    /// How the exchange screen names it: "the sandbox's emulated host".
    pub label: String,
    pub env: entra::msi::MsiEnv,
}

/// How the exchange screen names a sandbox's emulated host.
pub const SANDBOX_HOST_LABEL: &str = "the sandbox's emulated host";

/// The emulated host of the sandbox at `sandbox_url` (a `--sandbox-url` session), from the
/// description it serves at `/.well-known/ficus-sandbox`, read with the session's client (its
/// CA). Its IMDS must be on this machine or on the sandbox's own host, never link-local: a
/// description is not allowed to send managed identity requests to the real IMDS. `Err`: a
/// sentence saying why (the caller says what to do instead: a token file, a pasted token).
pub async fn sandbox_msi_host(http: &entra::Http, sandbox_url: &str) -> Result<MsiHost, String> {
    use ficus_sandbox::describe::{Description, KIND, WELL_KNOWN_PATH};
    let base = sandbox_url.trim_end_matches('/');
    let url = format!("{base}{WELL_KNOWN_PATH}");
    let unusable = |why: String| {
        format!(
            "the sandbox at {} does not say where its emulated host is ({why}); is it a ficus \
             sandbox of this version?",
            entra::http::safe_url_text(base)
        )
    };
    let response = http
        .get_json(&url, None, &[])
        .await
        .map_err(|e| unusable(e.to_string()))?;
    if !response.is_success() {
        return Err(unusable(format!(
            "{WELL_KNOWN_PATH} answered {}",
            response.status
        )));
    }
    let description: Description = response
        .json("the sandbox's description")
        .map_err(|e| unusable(e.to_string()))?;
    if description.kind != KIND {
        return Err(unusable(format!(
            "its description is of kind '{}', not '{KIND}'",
            ficus_core::text::sanitize(&description.kind)
        )));
    }
    let imds = description.managed_identity.imds.trim_end_matches('/');
    let imds_url =
        url::Url::parse(imds).map_err(|e| unusable(format!("its IMDS URL is not a URL: {e}")))?;
    let sandbox_host = url::Url::parse(base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let imds_host = imds_url.host_str().map(str::to_ascii_lowercase);
    let on_loopback = match imds_url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let link_local = match imds_url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => ip.segments()[0] & 0xffc0 == 0xfe80,
        _ => false,
    };
    if imds_url.scheme() != "http" || link_local || !(on_loopback || imds_host == sandbox_host) {
        return Err(unusable(format!(
            "its IMDS {} is neither on this machine nor on the sandbox's host",
            entra::http::safe_url_text(imds)
        )));
    }
    Ok(MsiHost {
        label: SANDBOX_HOST_LABEL.into(),
        env: entra::msi::MsiEnv {
            imds_authority: Some(imds.to_string()),
            ..entra::msi::MsiEnv::default()
        },
    })
}

pub type ConnectFuture = Pin<Box<dyn Future<Output = Result<Connected, String>> + Send>>;

/// How the console gets signed in.
pub enum Connector {
    /// A future that yields a session (sandbox, Azure CLI).
    Session(ConnectFuture),
    /// The token cache, else the device code flow on the sign-in screen.
    DeviceCode(Box<SessionConfig>),
}

/// Told the tenant (as configured) and cloud of each successful device-code or cache sign-in.
pub type SignedInHook = Box<dyn Fn(&str, &Cloud) + Send + Sync>;

/// How the header names a cloud: `sandbox` for a custom one.
pub fn cloud_label(cloud: &Cloud) -> &'static str {
    match cloud.kind {
        CloudKind::Custom => "sandbox",
        other => other.label(),
    }
}
