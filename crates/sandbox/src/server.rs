//! Starting and stopping the sandbox: binds both listeners, loads or seeds the directory,
//! serves the token service + Graph (HTTP or HTTPS) and the managed identity endpoints (HTTP)
//! within [`Limits`], compacts the state's journal in the background, and shuts down
//! gracefully with a final save.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use uuid::Uuid;

use crate::faults::Faults;
use crate::keys::KeyError;
use crate::limits::{LimitAcceptor, Limits};
use crate::seed::{self, Seed};
use crate::state::{self, AppState, StateError, StateOptions};
use crate::tls::{self, TlsError};
use crate::tokens::{self, Signer};
use crate::{describe, graph, msi, sts};
use ficus_core::secret::Secret;

/// How to run a sandbox. `Default` is the in-process setup: loopback, free ports, plain HTTP,
/// demo seed in memory, the demo admin auto-approved, no faults.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    /// Managed identity endpoints (always plain HTTP, as on a real host).
    pub msi_listen: SocketAddr,
    pub tls: bool,
    /// `None`: in memory only.
    pub state_file: Option<PathBuf>,
    pub seed: Seed,
    /// UPN whose device codes are approved after about a second; `None` disables.
    pub auto_approve: Option<String>,
    pub faults: Faults,
    /// Connection cap and timeouts of each listener.
    pub limits: Limits,
    /// The signing key of a new seed (a state file's stored key is always kept): by default
    /// the process's, shared by every sandbox it seeds.
    pub seed_key: crate::keys::SeedKey,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            msi_listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            tls: false,
            state_file: None,
            seed: Seed::Demo,
            auto_approve: Some(seed::DEMO_ADMIN.to_string()),
            faults: Faults::default(),
            limits: Limits::default(),
            seed_key: crate::keys::SeedKey::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "cannot listen on {addr}: {source}; pick another address or port (port 0 picks a free one)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("the sandbox server failed: {0}")]
    Serve(String),
    #[error("the sandbox has no tenant '{0}'; use its name, domain or id (e.g. contoso)")]
    UnknownTenant(String),
    #[error("tenant '{tenant}' has no user '{user}'")]
    UnknownUser { tenant: String, user: String },
    #[error("tenant '{tenant}' has no managed identity with client or principal id '{identity}'")]
    UnknownIdentity { tenant: String, identity: String },
    #[error("the sandbox does not know the resource '{0}'")]
    UnknownResource(String),
    #[error("the token service refused: AADSTS{code}: {message}")]
    Refused { code: u32, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppServiceInfo {
    /// Full URL for `IDENTITY_ENDPOINT`.
    pub endpoint: String,
    /// Value for `IDENTITY_HEADER`.
    pub header: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantInfo {
    pub name: String,
    pub id: String,
    pub domain: String,
}

/// Where a running sandbox is.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SandboxInfo {
    /// `https://127.0.0.1:PORT` or `http://…` (no trailing slash).
    pub authority: String,
    /// `{authority}/v1.0`.
    pub graph: String,
    /// `http://127.0.0.1:MSIPORT`, for `AZURE_POD_IDENTITY_AUTHORITY_HOST`.
    pub imds: String,
    pub app_service: AppServiceInfo,
    /// The CA PEM file when TLS is on.
    pub ca_file: Option<PathBuf>,
    /// The same CA in memory (not in the `--json` line).
    #[serde(skip)]
    pub ca_pem: Option<String>,
    pub tenants: Vec<TenantInfo>,
    /// `{authority}/.well-known/ficus-sandbox`: this sandbox's description
    /// ([`crate::describe`]), which `--sandbox-url` clients read to find the emulated host.
    pub description: String,
}

/// Tokens of a completed sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access_token: Secret<String>,
    pub refresh_token: Secret<String>,
    pub expires_in: u64,
    pub id_token: Secret<String>,
}

/// A running sandbox. Dropping it without [`Sandbox::shutdown`] stops both listeners at once
/// and skips the final compaction (every acknowledged write is in the journal already).
pub struct Sandbox {
    pub info: SandboxInfo,
    state: AppState,
    handles: Vec<axum_server::Handle<SocketAddr>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    saver: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("info", &self.info).finish()
    }
}

fn bind(addr: SocketAddr) -> Result<TcpListener, SandboxError> {
    let listener = TcpListener::bind(addr).map_err(|source| SandboxError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| SandboxError::Bind { addr, source })?;
    Ok(listener)
}

// Both listeners set TCP_NODELAY on accepted sockets: without it a response written right
// after a small unacknowledged segment (TLS 1.3 session tickets follow the handshake) waits
// for the client's delayed ACK, ~40 ms per new HTTPS connection (benches/sandbox_nodelay.rs).

/// The host clients should use for a bound address: loopback for wildcard binds.
fn url_host(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".into(),
        IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".into(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    }
}

fn random_header() -> String {
    ficus_core::jwt::b64url(
        [
            Uuid::new_v4().as_bytes().as_slice(),
            Uuid::new_v4().as_bytes().as_slice(),
        ]
        .concat()
        .as_slice(),
    )
}

/// `latency=MS` for the token service and MSI endpoints; the Graph router applies latency and
/// throttling to `/v1.0` itself.
async fn latency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_graph = path == "/v1.0" || path.starts_with("/v1.0/");
    if let Some(delay) = state.faults.latency.filter(|_| !is_graph) {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

/// Starts a sandbox: binds, loads the state file (or seeds and writes it), and serves until
/// [`Sandbox::shutdown`].
///
/// Boxed on purpose (a build-time choice): rustc compiles an `async` body in every crate that
/// polls it, so an `async fn` here (router, TLS, hyper's HTTP/1 and HTTP/2 servers) was
/// compiled again in start-up, the headless commands, the binary and every test and bench
/// binary. Behind `dyn Future` it is compiled once, in this crate.
pub fn start(
    config: SandboxConfig,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Sandbox, SandboxError>> + Send>> {
    Box::pin(start_serving(config))
}

async fn start_serving(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
    crate::install_crypto_provider();
    let listener = bind(config.listen)?;
    let msi_listener = bind(config.msi_listen)?;
    let local = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: config.listen,
        source,
    })?;
    let msi_local = msi_listener
        .local_addr()
        .map_err(|source| SandboxError::Bind {
            addr: config.msi_listen,
            source,
        })?;
    if !config.listen.ip().is_loopback() || !config.msi_listen.ip().is_loopback() {
        tracing::warn!(
            listen = %local,
            msi = %msi_local,
            "the sandbox listens beyond loopback: anyone who can reach it can mint tokens"
        );
    }
    let scheme = if config.tls { "https" } else { "http" };
    let authority = format!("{scheme}://{}:{}", url_host(local), local.port());
    let imds = format!("http://{}:{}", url_host(msi_local), msi_local.port());

    let state_file = config.state_file.clone();
    let seed_kind = config.seed;
    let seed_key = config.seed_key;
    let authority_for_load = authority.clone();
    let (directory, persistence) =
        tokio::task::spawn_blocking(move || -> Result<_, SandboxError> {
            let seed = || {
                seed::build_with_key(seed_kind, &authority_for_load, seed_key)
                    .map_err(SandboxError::from)
            };
            let (mut directory, persistence) = match &state_file {
                Some(path) => {
                    let (d, p) = state::open(path, seed)?;
                    (d, Some(p))
                }
                None => (seed()?, None),
            };
            directory.rebase_authority(&authority_for_load);
            Ok((directory, persistence))
        })
        .await
        .map_err(|e| SandboxError::Serve(e.to_string()))??;

    let tenants = directory
        .tenants
        .iter()
        .map(|t| TenantInfo {
            name: t.name.clone(),
            id: t.id.to_string(),
            domain: t.domain.clone(),
        })
        .collect();
    let header = random_header();
    let app_state = AppState::new(
        directory,
        StateOptions {
            authority: authority.clone(),
            faults: config.faults.clone(),
            app_service_header: header.clone(),
            auto_approve: config.auto_approve.clone(),
            persistence,
        },
    )?;

    // The CA first: the description served on the main listener names it.
    let tls_material = if config.tls {
        let extra = match local.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => Vec::new(),
            ip => vec![ip.to_string()],
        };
        let path = tls::ca_path(config.state_file.as_deref(), local.port());
        let material = if config.state_file.is_some() {
            tls::generate_persistent(&path, &extra)?
        } else {
            let material = tls::generate(&extra)?;
            tls::write_ca(&path, &material.ca_pem)?;
            material
        };
        Some((path, material))
    } else {
        None
    };
    let app_service_endpoint = format!("{imds}/msi/token");
    let description = describe::router(describe::Endpoints {
        imds: imds.clone(),
        app_service_endpoint: app_service_endpoint.clone(),
        ca_pem: tls_material.as_ref().map(|(_, m)| m.ca_pem.clone()),
    });
    // Graph reads share one set of permits per sandbox (see `graph::dispatch`).
    let main_router: Router = crate::sts_routes::router()
        .merge(graph::router().layer(axum::Extension(graph::GraphReads::new())))
        .merge(crate::arm::router())
        .merge(crate::signins_graph::router())
        .merge(description)
        .layer(middleware::from_fn_with_state(app_state.clone(), latency))
        .with_state(app_state.clone());
    let msi_router: Router = msi::router()
        .layer(middleware::from_fn_with_state(app_state.clone(), latency))
        .with_state(app_state.clone());

    let main_handle = axum_server::Handle::new();
    let msi_handle = axum_server::Handle::new();
    let mut ca_file = None;
    let mut ca_pem = None;
    let main_task = if let Some((path, material)) = tls_material {
        ca_file = Some(path);
        ca_pem = Some(material.ca_pem.clone());
        let rustls = axum_server::tls_rustls::RustlsConfig::from_pem(
            material.leaf_chain_pem.into_bytes(),
            material.leaf_key_pem.expose().clone().into_bytes(),
        )
        .await
        .map_err(|e| SandboxError::Serve(format!("TLS setup failed: {e}")))?;
        let limits = config.limits;
        let mut server = axum_server::from_tcp_rustls(listener, rustls)
            .map_err(|e| SandboxError::Serve(e.to_string()))?
            .map(|tls| tls.acceptor(LimitAcceptor::new(limits)))
            .handle(main_handle.clone());
        server
            .http_builder()
            .http1()
            .header_read_timeout(limits.header_timeout);
        tokio::spawn(async move {
            if let Err(e) = server.serve(main_router.into_make_service()).await {
                tracing::error!(error = %e, "sandbox HTTPS listener stopped");
            }
        })
    } else {
        let mut server = axum_server::from_tcp(listener)
            .map_err(|e| SandboxError::Serve(e.to_string()))?
            .acceptor(LimitAcceptor::new(config.limits))
            .first_request_timeout(config.limits.header_timeout)
            .handle(main_handle.clone());
        server
            .http_builder()
            .http1()
            .header_read_timeout(config.limits.header_timeout);
        tokio::spawn(async move {
            if let Err(e) = server.serve(main_router.into_make_service()).await {
                tracing::error!(error = %e, "sandbox HTTP listener stopped");
            }
        })
    };
    let mut msi_server = axum_server::from_tcp(msi_listener)
        .map_err(|e| SandboxError::Serve(e.to_string()))?
        .acceptor(LimitAcceptor::new(config.limits))
        .first_request_timeout(config.limits.header_timeout)
        .handle(msi_handle.clone());
    msi_server
        .http_builder()
        .http1()
        .header_read_timeout(config.limits.header_timeout);
    let msi_task = tokio::spawn(async move {
        if let Err(e) = msi_server.serve(msi_router.into_make_service()).await {
            tracing::error!(error = %e, "sandbox MSI listener stopped");
        }
    });

    // Writes are durable in the journal before they are answered; this only folds a grown
    // journal into a new snapshot.
    let saver = app_state.state_file().is_some().then(|| {
        let s = app_state.clone();
        tokio::spawn(async move {
            loop {
                s.compaction_wanted().await;
                let s2 = s.clone();
                match tokio::task::spawn_blocking(move || s2.compact()).await {
                    Ok(Err(e)) => tracing::error!(error = %e, "compacting the sandbox state failed; the journal keeps every write"),
                    Err(e) => tracing::error!(error = %e, "the compaction task failed"),
                    Ok(Ok(())) => {}
                }
            }
        })
    });

    let info = SandboxInfo {
        graph: format!("{authority}/v1.0"),
        description: format!("{authority}{}", describe::WELL_KNOWN_PATH),
        authority,
        app_service: AppServiceInfo {
            endpoint: app_service_endpoint,
            header,
        },
        imds,
        ca_file,
        ca_pem,
        tenants,
    };
    Ok(Sandbox {
        info,
        state: app_state,
        handles: vec![main_handle, msi_handle],
        tasks: vec![main_task, msi_task],
        saver,
    })
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.shutdown();
        }
        if let Some(saver) = self.saver.take() {
            saver.abort();
        }
        // Without a final save (every acknowledged write is in the journal): only let go.
        let _ = self.state.close(false);
    }
}

impl Sandbox {
    /// The shared state (for tests and for the Graph layer's tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A reqwest client that trusts this sandbox's CA and bypasses proxies.
    pub fn http_client(&self) -> Result<reqwest::Client, SandboxError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &self.info.ca_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| SandboxError::Serve(e.to_string()))?;
            builder = builder.tls_certs_only([cert]);
        }
        builder
            .build()
            .map_err(|e| SandboxError::Serve(e.to_string()))
    }

    /// Stops both listeners (in-flight requests get a second to finish) and compacts the
    /// state one last time; a failed final save is logged (see [`Sandbox::stop`]).
    pub async fn shutdown(self) {
        if let Err(e) = self.stop().await {
            tracing::error!(error = %e, "final save of the sandbox state failed");
        }
    }

    /// [`Sandbox::shutdown`] that reports a failed final save (`ficus sandbox` then exits
    /// non-zero).
    pub async fn stop(mut self) -> Result<(), SandboxError> {
        for handle in &self.handles {
            handle.graceful_shutdown(Some(Duration::from_secs(1)));
        }
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        if let Some(saver) = self.saver.take() {
            saver.abort();
            let state = self.state.clone();
            tokio::task::spawn_blocking(move || state.close(true))
                .await
                .map_err(|e| SandboxError::Serve(format!("the final save task failed: {e}")))??;
        }
        Ok(())
    }

    /// The in-process equivalent of a completed device-code sign-in.
    pub fn sign_in(
        &self,
        tenant: &str,
        upn: &str,
        client_id: &str,
        scopes: &[&str],
    ) -> Result<SignedIn, SandboxError> {
        let (tenant_id, user_id) = self.state.read(|d| {
            let t = d
                .tenant(tenant)
                .ok_or_else(|| SandboxError::UnknownTenant(tenant.to_string()))?;
            let u = t.user(upn).ok_or_else(|| SandboxError::UnknownUser {
                tenant: tenant.to_string(),
                user: upn.to_string(),
            })?;
            Ok::<_, SandboxError>((t.id, u.id))
        })?;
        let mut all: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        for oidc in ["openid", "profile", "offline_access"] {
            if !all.iter().any(|s| s == oidc) {
                all.push(oidc.to_string());
            }
        }
        let tokens =
            sts::user_token_response(&self.state, tenant_id, user_id, client_id, &all, true, true)
                .map_err(|e| SandboxError::Refused {
                    code: e.code,
                    message: e.message,
                })?;
        Ok(SignedIn {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.unwrap_or_default(),
            expires_in: u64::try_from(tokens.expires_in).unwrap_or(0),
            id_token: tokens.id_token.unwrap_or_default(),
        })
    }

    /// A managed identity token as the MSI endpoints mint it, for any managed identity of the
    /// tenant (attached to the emulated host or not), named by client or principal id.
    pub fn managed_identity_token(
        &self,
        tenant: &str,
        client_id_or_principal_id: &str,
        resource: &str,
    ) -> Result<Secret<String>, SandboxError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let wanted = Uuid::parse_str(client_id_or_principal_id.trim()).map_err(|_| {
            SandboxError::UnknownIdentity {
                tenant: tenant.to_string(),
                identity: client_id_or_principal_id.to_string(),
            }
        })?;
        let resource = resource.trim();
        let resource = resource.strip_suffix("/.default").unwrap_or(resource);
        self.state.read(|d| {
            let t = d
                .tenant(tenant)
                .ok_or_else(|| SandboxError::UnknownTenant(tenant.to_string()))?;
            let identity = t
                .managed_identities()
                .find(|s| s.id == wanted || s.app_id == wanted)
                .ok_or_else(|| SandboxError::UnknownIdentity {
                    tenant: tenant.to_string(),
                    identity: client_id_or_principal_id.to_string(),
                })?;
            let res = tokens::resolve_resource(t, resource)
                .ok_or_else(|| SandboxError::UnknownResource(resource.to_string()))?;
            let key = self
                .state
                .keys
                .get(t.id)
                .ok_or_else(|| SandboxError::UnknownTenant(tenant.to_string()))?;
            let signer = Signer {
                authority: &self.state.authority,
                tenant_id: t.id,
                key: &key,
            };
            Ok(tokens::managed_identity_token(&signer, identity, &res, now).token)
        })
    }
}
