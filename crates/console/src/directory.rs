//! The Graph-backed [`Directory`]: the one place in the console that knows `entra/`'s types. It
//! signs in (or receives a session already made, as with `--sandbox`), then converts Graph's
//! apps, identities and FICs into the console's rows, with `fic::rules` findings attached.

use std::sync::Mutex;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::RwLock;
use tokio::sync::mpsc::UnboundedSender;

use super::model::{
    AppDetail, AppRow, Audience, Credential, CredentialKind, FicRow, Finding, IdentityDetail,
    IdentityRow, Severity, TrustRow,
};
use super::msg::{Msg, RequestId, Session as SessionInfo, SignInEvent, SignInFailure};
use crate::effects::{Directory, Page};
use crate::error::{DirectoryError, ErrorKind};
use crate::token_effects::{
    ExchangeMsg, ExchangeResult, ExchangeSpec, Explanation, Refusal, Signature,
    SourceInfo as ExchangeSourceInfo, StepOutcome, StepView,
};
use ficus_core::cloud::Cloud;
use ficus_core::fic::{self, Fic, Identity};
use ficus_entra::graph::AppListItem;
use ficus_entra::{self as entra, EntraError, GraphClient, SessionConfig};
pub use ficus_startup::connection::{
    ConnectFuture, Connected, Connector, MsiHost, Reconnect, SignedInHook, cloud_label,
};
use ficus_startup::history::Change;

/// Everything one signed-in session uses. A tenant switch replaces the whole connection at
/// once (one write of `GraphDirectory::connection`), never field by field, so no request sees
/// one tenant's Graph client with another's identities or cloud.
struct Connection {
    graph: GraphClient,
    cloud: Cloud,
    tenant_id: String,
    /// The session's HTTP client (its CA, its proxy rules) for the token endpoint.
    http: entra::Http,
    /// Every managed identity of this tenant, for findings and subject names; read once.
    identities: RwLock<Option<Vec<Identity>>>,
    /// The emulated managed identity host (`--sandbox`), else this machine's environment.
    msi_host: Option<MsiHost>,
    /// How to switch tenant without the device code flow (a session made elsewhere).
    reconnect: Option<Reconnect>,
    /// Whatever keeps the session alive (the embedded sandbox).
    _keep_alive: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// Where the console's FIC writes are journaled (`ficus history`).
    journal: Option<ficus_startup::history::History>,
    /// Where the tenant's lists are cached for the warm start (beside the token cache).
    lists_dir: Option<std::path::PathBuf>,
}

pub struct GraphDirectory {
    connector: Mutex<Option<Connector>>,
    /// The device-code config, kept to retry a failed sign-in.
    config: Mutex<Option<SessionConfig>>,
    /// The signed-in session; swapped whole when the palette switches tenant.
    connection: std::sync::RwLock<Option<std::sync::Arc<Connection>>>,
    /// Told the tenant (as configured) and cloud of each successful device-code or cache
    /// sign-in, so `main` can remember it for the next plain `ficus`.
    on_signed_in: Option<SignedInHook>,
    /// The app list being paged in parallel, handed out a page per `apps_page` call.
    apps_listing: AppsListing,
    /// This machine's managed identity environment when a test gives one; else the process's.
    machine_msi_env: Option<entra::msi::MsiEnv>,
    /// The lists `cached_apps` read, kept for `refresh_cached_apps` (the warm start, #17).
    warm: tokio::sync::Mutex<Option<entra::list_cache::InNameOrder>>,
    /// The managed identities as the last refresh found them, when they changed.
    refreshed_identities: Mutex<Option<Vec<Identity>>>,
}

impl GraphDirectory {
    pub fn new(connector: Connector) -> GraphDirectory {
        GraphDirectory {
            connector: Mutex::new(Some(connector)),
            config: Mutex::new(None),
            connection: std::sync::RwLock::new(None),
            on_signed_in: None,
            apps_listing: AppsListing::default(),
            machine_msi_env: None,
            warm: tokio::sync::Mutex::new(None),
            refreshed_identities: Mutex::new(None),
        }
    }

    /// Calls `hook(tenant, cloud)` after each successful sign-in through the token cache or
    /// the device code flow.
    pub fn on_signed_in(mut self, hook: SignedInHook) -> GraphDirectory {
        self.on_signed_in = Some(hook);
        self
    }

    fn signed_in(&self, config: &SessionConfig) {
        if let Some(hook) = &self.on_signed_in {
            hook(&config.tenant, &config.cloud);
        }
    }

    fn signed(&self) -> Result<std::sync::Arc<Connection>, DirectoryError> {
        self.connection
            .read()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| {
                DirectoryError::new(
                    ErrorKind::Unauthorized,
                    "not signed in yet; wait for the sign-in to finish",
                )
            })
    }

    /// Replaces the connection in one step (a sign-in, a tenant switch); `None` while a new
    /// sign-in runs.
    fn swap(&self, connection: Option<Connection>) {
        if let Ok(mut slot) = self.connection.write() {
            *slot = connection.map(std::sync::Arc::new);
        }
    }

    /// The managed identities from the warm start's cache (#17), read without the apps and
    /// without any network call; they become the session's identities until a refresh.
    /// `None`: nothing cached (or none cached), so they are listed from Graph.
    async fn cached_identities(&self) -> Option<Vec<Identity>> {
        let connection = self.signed().ok()?;
        if connection.identities.read().await.is_some() {
            return None;
        }
        let dir = connection.lists_dir.clone()?;
        let tenant = connection.tenant_id.clone();
        let cached = tokio::task::spawn_blocking(move || {
            entra::list_cache::ListCache::load_identities(&dir, &tenant)
        })
        .await
        .ok()?
        .ok()
        .flatten()
        .filter(|identities| !identities.is_empty())?;
        *connection.identities.write().await = Some(cached.clone());
        Some(cached)
    }

    async fn all_identities(&self) -> Result<Vec<Identity>, DirectoryError> {
        let connection = self.signed()?;
        if let Some(known) = connection.identities.read().await.as_ref() {
            return Ok(known.clone());
        }
        let identities = connection
            .graph
            .list_managed_identities()
            .await
            .map_err(DirectoryError::from)?;
        *connection.identities.write().await = Some(identities.clone());
        Ok(identities)
    }

    /// Takes over a session made elsewhere: its session, what keeps it alive, its managed
    /// identity host and how it switches tenant. Returns what the header shows.
    fn adopt(&self, connected: Connected, tx: &UnboundedSender<Msg>) -> SessionInfo {
        let tenant_id = connected.info.tenant_id.clone();
        let session = &connected.session;
        observe_waits(session, tx);
        self.swap(Some(Connection {
            graph: session.graph(),
            cloud: session.cloud.clone(),
            tenant_id,
            http: session.http.clone(),
            identities: RwLock::new(None),
            msi_host: connected.msi_host,
            reconnect: connected.reconnect,
            _keep_alive: Some(connected.keep_alive),
            journal: if connected.info.cloud == "sandbox" {
                Some(ficus_startup::history::History::sandbox())
            } else {
                ficus_startup::history::History::of_user().ok()
            },
            lists_dir: lists_dir(session),
        }));
        connected.info
    }

    /// A device-code (or cached) sign-in: a connection of its own, nothing carried over.
    fn finish_sign_in(
        &self,
        session: entra::Session,
        tenant_id: String,
        tx: &UnboundedSender<Msg>,
    ) {
        observe_waits(&session, tx);
        self.swap(Some(Connection {
            graph: session.graph(),
            cloud: session.cloud.clone(),
            tenant_id,
            http: session.http.clone(),
            identities: RwLock::new(None),
            msi_host: None,
            reconnect: None,
            _keep_alive: None,
            journal: ficus_startup::history::History::of_user().ok(),
            lists_dir: lists_dir(&session),
        }));
    }

    async fn device_code(&self, config: SessionConfig, tx: &UnboundedSender<Msg>) {
        let send = |event| {
            let _ = tx.send(Msg::SignIn(event));
        };
        if let Ok(session) = entra::Session::from_cache(config.clone()) {
            let account = session.credentials.account().await;
            let info = session_info(&config, &account, CloudLabel::Real);
            self.finish_sign_in(
                session,
                account.tenant_id.unwrap_or_else(|| config.tenant.clone()),
                tx,
            );
            self.signed_in(&config);
            send(SignInEvent::Done(Box::new(info)));
            return;
        }
        let http = match entra::Http::new(&config.http_config()) {
            Ok(http) => http,
            Err(error) => return send(SignInEvent::Failed(classify(&error))),
        };
        let flow = match entra::signin::start_device_code(
            &http,
            &config.cloud,
            &config.tenant,
            &config.client_id,
            &config.scopes,
        )
        .await
        {
            Ok(flow) => flow,
            Err(error) => return send(SignInEvent::Failed(classify(&error))),
        };
        let prompt = flow.prompt().clone();
        let expires_at =
            OffsetDateTime::now_utc() + time::Duration::seconds(prompt.expires_in.as_secs() as i64);
        send(SignInEvent::Code {
            verification_uri: prompt.verification_uri.clone(),
            user_code: prompt.user_code.clone(),
            expires_at,
        });
        let tokens = match flow.finish().await {
            Ok(tokens) => tokens,
            Err(error) => return send(SignInEvent::Failed(classify(&error))),
        };
        let account = entra::Account::from_tokens(&tokens);
        if let Some(dir) = &config.cache_dir {
            let stored = entra::TokenCache::open(dir.clone()).and_then(|cache| {
                cache.store(&entra::CachedLogin {
                    key: config.cache_key(),
                    scopes: config.scopes.clone(),
                    account: account.clone(),
                    tokens: tokens.clone(),
                })
            });
            if let Err(error) = stored {
                tracing::warn!(%error, "could not cache the sign-in");
            }
        }
        let session = match entra::Session::from_cache(config.clone()) {
            Ok(session) => session,
            Err(_) => {
                let renewal = entra::Renewal::RefreshToken {
                    token_endpoint: config.cloud.token_endpoint(&config.tenant),
                    client_id: config.client_id.clone(),
                    scopes: config.scopes.clone(),
                    cache: None,
                };
                match entra::Session::new(config.clone(), entra::Credentials::new(tokens, renewal))
                {
                    Ok(session) => session,
                    Err(error) => return send(SignInEvent::Failed(classify(&error))),
                }
            }
        };
        let info = session_info(&config, &account, CloudLabel::Real);
        self.finish_sign_in(
            session,
            account.tenant_id.unwrap_or_else(|| config.tenant.clone()),
            tx,
        );
        self.signed_in(&config);
        send(SignInEvent::Done(Box::new(info)));
    }
}

enum CloudLabel {
    Real,
}

fn session_info(
    config: &SessionConfig,
    account: &entra::Account,
    _label: CloudLabel,
) -> SessionInfo {
    SessionInfo {
        tenant: config.tenant.clone(),
        tenant_id: account.tenant_id.clone().unwrap_or_default(),
        cloud: cloud_label(&config.cloud).to_string(),
        user: account
            .username
            .clone()
            .or_else(|| account.name.clone())
            .unwrap_or_else(|| "signed-in user".into()),
        read_only: config.read_only,
        graph_base: config.cloud.graph_v1(),
        cloud_endpoints: config.cloud.clone(),
        known_tenants: vec![config.tenant.clone()],
    }
}

/// An entra error as one sentence for a toast or a screen (entra's messages already say what
/// to do next).
fn say(error: &EntraError) -> String {
    error.to_string()
}

/// Which sign-in failure the screen should explain.
fn classify(error: &EntraError) -> SignInFailure {
    if let EntraError::Sts(sts) = error {
        if sts.error == "authorization_declined" {
            return SignInFailure::Declined;
        }
        if sts.error == "expired_token" || sts.codes.contains(&70020) {
            return SignInFailure::Expired;
        }
        // 53000-53004: device not compliant / blocked by Conditional Access; 50097: device
        // authentication required.
        if sts
            .codes
            .iter()
            .any(|c| (53000..=53004).contains(c) || *c == 50097 || *c == 530033)
        {
            return SignInFailure::ConditionalAccess {
                detail: sts
                    .description
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
        }
    }
    if let EntraError::SignInExpired { .. } = error {
        return SignInFailure::Expired;
    }
    SignInFailure::Other { detail: say(error) }
}

fn parse_time(text: Option<&str>) -> Option<OffsetDateTime> {
    text.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

/// [`app_row`] for many apps, on two threads (the warm start's rows: 100,000 of them).
fn app_rows_in_parallel(items: &[AppListItem]) -> Vec<AppRow> {
    if items.len() < 20_000 {
        return items.iter().map(app_row).collect();
    }
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| second.iter().map(app_row).collect::<Vec<_>>());
        let mut rows: Vec<AppRow> = first.iter().map(app_row).collect();
        match other.join() {
            Ok(rest) => rows.extend(rest),
            Err(_) => rows.extend(second.iter().map(app_row)),
        }
        rows
    })
}

fn app_row(item: &AppListItem) -> AppRow {
    let secrets = item.password_credentials.iter().map(|c| Credential {
        kind: CredentialKind::Secret,
        name: c
            .display_name
            .clone()
            .unwrap_or_else(|| "(no description)".into()),
        key_id: c.key_id.clone().unwrap_or_default(),
        expires: parse_time(c.end_date_time.as_deref()),
    });
    let certificates = item.key_credentials.iter().map(certificate);
    AppRow {
        object_id: item.id.clone(),
        app_id: item.app_id.clone(),
        name: item.display_name.clone().unwrap_or_default(),
        fic_count: item.federated_identity_credentials.as_ref().map(Vec::len),
        fic_subjects: item.federated_identity_credentials.as_ref().map(|fics| {
            fics.iter()
                .filter_map(|fic| fic.get("subject").and_then(|s| s.as_str()))
                .map(str::to_string)
                .collect()
        }),
        credentials: secrets.chain(certificates).collect(),
        audience: Audience::from_graph(item.sign_in_audience.as_deref().unwrap_or("AzureADMyOrg")),
    }
}

fn certificate(c: &entra::graph::KeyCredential) -> Credential {
    Credential {
        kind: CredentialKind::Certificate,
        name: c.display_name.clone().unwrap_or_else(|| "(no name)".into()),
        key_id: c.key_id.clone().unwrap_or_default(),
        expires: parse_time(c.end_date_time.as_deref()),
    }
}

/// What the status line says while the Graph client waits: "waiting 45 s: Graph is
/// throttling ficus (429)". Sent to the loop as a message, never waited on.
pub fn wait_text(wait: &entra::http::Wait) -> String {
    use entra::http::WaitReason;
    let why = match wait.reason {
        WaitReason::Throttled => "Graph is throttling ficus (429)",
        WaitReason::Unavailable => "Graph is briefly unavailable (503)",
        WaitReason::Network => "the connection to Graph failed; trying again",
        WaitReason::Replication => "Graph has not replicated the write yet",
        WaitReason::Pacing => "pacing requests to stay inside Graph's throttling budget",
    };
    let secs = wait.duration.as_secs_f64();
    if secs >= 1.0 {
        format!("waiting {} s: {why}", secs.round() as u64)
    } else {
        format!("waiting {secs:.1} s: {why}")
    }
}

/// Tells the loop of each wait of `session`'s Graph client (a message: `update` never blocks).
fn observe_waits(session: &entra::Session, tx: &UnboundedSender<Msg>) {
    let tx = tx.clone();
    session
        .http
        .retry_policy()
        .waiter
        .set_observer(move |wait| {
            // Short replication read-backs and pacing are quiet; what the admin waits on is said.
            if wait.duration >= std::time::Duration::from_secs(1)
                || matches!(wait.reason, entra::http::WaitReason::Throttled)
            {
                let _ = tx.send(Msg::GraphWaiting(wait_text(wait)));
            }
        });
}

fn findings(fic: &Fic, context: &fic::RuleContext<'_>) -> Vec<Finding> {
    fic::validate(fic, context)
        .into_iter()
        .map(|finding| Finding {
            severity: match finding.severity {
                fic::Severity::Error => Severity::Error,
                fic::Severity::Warning => Severity::Warning,
            },
            field: finding.field.label().to_string(),
            message: finding.message,
            fixable: finding.fix.is_some(),
        })
        .collect()
}

impl Directory for GraphDirectory {
    async fn sign_in(&self, tx: UnboundedSender<Msg>) {
        let connector = self.connector.lock().ok().and_then(|mut c| c.take());
        let connector = match connector {
            Some(connector) => connector,
            None => {
                match self.config.lock().ok().and_then(|c| c.clone()) {
                    Some(config) => Connector::DeviceCode(Box::new(config)),
                    None => {
                        let _ = tx.send(Msg::SignIn(SignInEvent::Failed(SignInFailure::Other {
                        detail: "the sign-in cannot be retried from here; quit and start ficus again".into(),
                    })));
                        return;
                    }
                }
            }
        };
        match connector {
            Connector::Session(future) => match future.await {
                Ok(connected) => {
                    let info = self.adopt(connected, &tx);
                    let _ = tx.send(Msg::SignIn(SignInEvent::Done(Box::new(info))));
                }
                Err(detail) => {
                    let _ = tx.send(Msg::SignIn(SignInEvent::Failed(SignInFailure::Other {
                        detail,
                    })));
                }
            },
            Connector::DeviceCode(config) => {
                if let Ok(mut kept) = self.config.lock() {
                    *kept = Some((*config).clone());
                }
                self.device_code(*config, &tx).await;
            }
        }
    }

    async fn apps_page(&self, next: Option<String>) -> Result<Page<AppRow>, DirectoryError> {
        // The first call starts the parallel listing; later ones take its pages in the order
        // they arrive, named by the listing's generation so a superseded load ends quietly.
        let connection = self.signed()?;
        let (generation, items) = self
            .apps_listing
            .next_page(&connection, next.as_deref())
            .await;
        let items = match items {
            Some(page) => page.map_err(DirectoryError::from)?,
            None => {
                return Ok(Page {
                    rows: Vec::new(),
                    next: None,
                });
            }
        };
        Ok(Page {
            rows: items.iter().map(app_row).collect(),
            next: Some(AppsListing::cursor(generation)),
        })
    }

    async fn cached_apps(&self) -> Option<crate::msg::CachedApps> {
        use entra::list_cache::{ListCache, ListCacheError};
        let connection = self.signed().ok()?;
        let dir = connection.lists_dir.clone()?;
        let tenant = connection.tenant_id.clone();
        // Read and turned into rows off the async threads: no network, no token. The file
        // keeps the apps by name, so the rows arrive in the list's order.
        let read = tokio::task::spawn_blocking(move || {
            match ListCache::load_in_name_order(&dir, &tenant) {
                Ok(Some(cache)) => {
                    let rows = app_rows_in_parallel(&cache.apps);
                    Some((cache, rows))
                }
                Ok(None) => None,
                Err(error) => {
                    tracing::warn!(%error, "the cached lists are not used");
                    if matches!(error, ListCacheError::Corrupt { .. }) {
                        ListCache::remove(&dir, &tenant);
                    }
                    None
                }
            }
        })
        .await
        .ok()
        .flatten();
        let (cache, rows) = read?;
        let saved_at = OffsetDateTime::from_unix_timestamp(cache.saved_at())
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        *self.warm.lock().await = Some(cache);
        Some(crate::msg::CachedApps { rows, saved_at })
    }

    async fn refresh_cached_apps(&self) -> Result<crate::msg::AppsRefresh, DirectoryError> {
        use entra::list_cache::{Changes, list_in_full};
        let connection = self.signed()?;
        let unusable = || {
            DirectoryError::new(
                ErrorKind::Unsupported,
                "there are no cached lists to refresh",
            )
        };
        let dir = connection.lists_dir.clone().ok_or_else(unusable)?;
        let mut cache = self
            .warm
            .lock()
            .await
            .take()
            .filter(|c| c.tenant_id().eq_ignore_ascii_case(&connection.tenant_id))
            .ok_or_else(unusable)?
            .into_cache();
        let graph = &connection.graph;
        // The identities' delta beside the apps', not after it: one round trip less.
        let mut identities = entra::list_cache::ListCache::new(&connection.tenant_id);
        identities.identities = std::mem::take(&mut cache.identities);
        identities.identities_delta_link = cache.identities_delta_link.take();
        let (apps, identities_refreshed) = tokio::join!(
            cache.refresh_changes(graph),
            identities.refresh_identities(graph)
        );
        cache.identities = identities.identities;
        cache.identities_delta_link = identities.identities_delta_link;
        match apps.map_err(DirectoryError::from)? {
            Changes::Applied { changed, removed } => {
                match identities_refreshed {
                    Ok(true) => {
                        *connection.identities.write().await = Some(cache.identities.clone());
                        if let Ok(mut slot) = self.refreshed_identities.lock() {
                            *slot = Some(cache.identities.clone());
                        }
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, "the cached managed identities were not refreshed")
                    }
                }
                let rows = changed.iter().map(app_row).collect();
                // Saved behind the answer: the list on screen does not wait for the disk.
                tokio::task::spawn_blocking(move || {
                    if let Err(error) = cache.save(&dir) {
                        tracing::warn!(%error, "the list cache could not be saved");
                    }
                });
                Ok(crate::msg::AppsRefresh::Delta {
                    changed: rows,
                    removed,
                })
            }
            Changes::Expired => {
                tracing::info!("the cached lists' delta link expired: listing every app");
                let cache = list_in_full(graph, &dir, &connection.tenant_id, |_| true)
                    .await
                    .map_err(DirectoryError::from)?;
                Ok(crate::msg::AppsRefresh::Relisted(
                    cache.apps.values().map(app_row).collect(),
                ))
            }
        }
    }

    async fn identities_page(
        &self,
        next: Option<String>,
    ) -> Result<Page<IdentityRow>, DirectoryError> {
        if next.is_some() {
            return Ok(Page {
                rows: Vec::new(),
                next: None,
            });
        }
        let identities = match self.cached_identities().await {
            Some(cached) => cached,
            None => self.all_identities().await?,
        };
        Ok(Page {
            rows: identities.iter().map(IdentityRow::from_identity).collect(),
            next: None,
        })
    }

    fn take_refreshed_identities(&self) -> Option<Vec<IdentityRow>> {
        let identities = self.refreshed_identities.lock().ok()?.take()?;
        Some(identities.iter().map(IdentityRow::from_identity).collect())
    }

    async fn app_detail(&self, object_id: String) -> Result<AppDetail, DirectoryError> {
        let signed = self.signed()?;
        // Light (no keyCredentials: a scarce quota); certificates on demand, from the cached
        // index when it is fresh.
        let (mut item, fics, certificates) = tokio::try_join!(
            signed.graph.console_app_light(&object_id),
            signed.graph.list_fics(&object_id),
            signed.graph.app_certificates(&object_id)
        )
        .map_err(DirectoryError::from)?;
        item.key_credentials = certificates;
        let identities = self.all_identities().await.unwrap_or_default();
        let mut app = app_row(&item);
        app.fic_count = Some(fics.len());
        let rows = fics
            .iter()
            .map(|fic| {
                let identity = identities.iter().find(|i| i.principal_id == fic.subject);
                let mut context = fic::RuleContext::new(&signed.cloud, &signed.tenant_id)
                    .with_app_id(&item.app_id)
                    .with_existing(&fics)
                    .with_identities(&identities);
                if let Some(identity) = identity {
                    context = context.with_identity(identity);
                }
                // A subject that is an identity's client id is the classic mistake: name it so.
                let subject_name = identity.map(|i| i.name.clone()).or_else(|| {
                    identities
                        .iter()
                        .find(|i| i.client_id == fic.subject)
                        .map(|i| format!("✗ client id of {}", i.name))
                });
                FicRow {
                    fic: fic.clone(),
                    raw: None,
                    subject_name,
                    findings: findings(fic, &context),
                }
            })
            .collect();
        Ok(AppDetail {
            app,
            fics: rows,
            identifier_uris: item.identifier_uris.clone(),
        })
    }

    async fn identity_detail(
        &self,
        identity: IdentityRow,
    ) -> Result<IdentityDetail, DirectoryError> {
        let signed = self.signed()?;
        let identities = self.all_identities().await.unwrap_or_default();
        let known = identities
            .iter()
            .find(|i| i.principal_id == identity.principal_id)
            .cloned();
        // FICs that name the principal id (right) and the client id (a classic mistake).
        let report = signed
            .graph
            .apps_trusting_report(&identity.principal_id)
            .await
            .map_err(DirectoryError::from)?;
        let lag_note = report.lag_note;
        let mut trusting = report.apps;
        if identity.client_id != identity.principal_id
            && let Ok(by_client_id) = signed.graph.apps_trusting(&identity.client_id).await
        {
            trusting.extend(by_client_id);
        }
        let mut trusted_by = Vec::new();
        for trusting_app in &trusting {
            let existing = &trusting_app.fics;
            for fic in existing {
                let mut context = fic::RuleContext::new(&signed.cloud, &signed.tenant_id)
                    .with_app_id(&trusting_app.app.app_id)
                    .with_identities(&identities);
                if let Some(known) = &known {
                    context = context.with_identity(known);
                }
                trusted_by.push(TrustRow {
                    app_name: trusting_app.app.display_name.clone(),
                    app_object_id: trusting_app.app.id.clone(),
                    app_id: trusting_app.app.app_id.clone(),
                    fic_name: fic.name.clone(),
                    findings: findings(fic, &context),
                });
            }
        }
        Ok(IdentityDetail {
            identity,
            trusted_by,
            lag_note,
        })
    }

    async fn delete_fic(
        &self,
        app_object_id: String,
        fic_id: String,
    ) -> Result<(), DirectoryError> {
        let signed = self.signed()?;
        // What it was, for the journal (a restore creates it again).
        let before = signed
            .graph
            .get_fic(&app_object_id, &fic_id)
            .await
            .ok()
            .flatten();
        signed
            .graph
            .delete_fic(&app_object_id, &fic_id)
            .await
            .map_err(DirectoryError::from)?;
        if let Some(before) = before {
            journal_write(&signed, &app_object_id, Change::FicDeleted { before }).await;
        }
        self.note_app_changed(&app_object_id);
        Ok(())
    }

    async fn create_fic(&self, app_object_id: String, fic: Fic) -> Result<Fic, DirectoryError> {
        let signed = self.signed()?;
        let created = signed
            .graph
            .create_fic(&app_object_id, &fic)
            .await
            .map_err(|e| DirectoryError::from_entra(&e, plain_write_error(&e, "created")))?;
        let after = created.clone();
        journal_write(&signed, &app_object_id, Change::FicCreated { after }).await;
        self.note_app_changed(&app_object_id);
        Ok(created)
    }

    async fn create_fic_outcome(
        &self,
        app_object_id: String,
        fic: Fic,
    ) -> Result<(Fic, bool), DirectoryError> {
        let signed = self.signed()?;
        let created = signed
            .graph
            .create_fic_outcome(&app_object_id, &fic)
            .await
            .map(|created| (created.fic, created.replicated))
            .map_err(|e| DirectoryError::from_entra(&e, plain_write_error(&e, "created")))?;
        let after = created.0.clone();
        journal_write(&signed, &app_object_id, Change::FicCreated { after }).await;
        self.note_app_changed(&app_object_id);
        Ok(created)
    }

    async fn certificate_index(
        &self,
    ) -> Result<Option<crate::effects::apps::CertificatesByApp>, DirectoryError> {
        let index = self
            .signed()?
            .graph
            .certificate_index()
            .await
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        Ok(Some(std::sync::Arc::new(
            index
                .by_app
                .iter()
                .map(|(app, keys)| (app.clone(), keys.iter().map(certificate).collect()))
                .collect(),
        )))
    }

    async fn update_fic(
        &self,
        app_object_id: String,
        update: fic::FicUpdate,
    ) -> Result<Fic, DirectoryError> {
        let signed = self.signed()?;
        let before = signed
            .graph
            .get_fic(&app_object_id, &update.fic_key)
            .await
            .ok()
            .flatten();
        let after = signed
            .graph
            .update_fic(&app_object_id, &update)
            .await
            .map_err(|e| DirectoryError::from_entra(&e, plain_write_error(&e, "changed")))?;
        if let Some(before) = before {
            let change = Change::FicUpdated {
                before,
                after: after.clone(),
            };
            journal_write(&signed, &app_object_id, change).await;
        }
        self.note_app_changed(&app_object_id);
        Ok(after)
    }

    async fn credential_evidence(
        &self,
        _app_object_id: String,
        app_id: String,
    ) -> Result<crate::evidence::Evidence, DirectoryError> {
        sign_in_evidence(&self.signed()?.graph, &app_id).await
    }

    async fn failing_workloads(
        &self,
        hours: i64,
    ) -> Result<crate::evidence::FailingReport, DirectoryError> {
        use crate::evidence::FailingReport;
        let signed = self.signed()?;
        let since = time::OffsetDateTime::now_utc() - time::Duration::hours(hours);
        match entra::signins::failing_workloads(
            &signed.graph,
            &signed.cloud,
            &signed.tenant_id,
            since,
        )
        .await
        {
            Ok(list) => Ok(FailingReport::Rows(
                list.into_iter().map(failing_row).collect(),
            )),
            Err(e) if entra::signins::is_unlicensed(&e) => Ok(FailingReport::Unavailable(
                entra::signins::NO_PREMIUM_MESSAGE.into(),
            )),
            Err(EntraError::Graph(g)) if g.status == 403 => Ok(FailingReport::Unavailable(
                "no sign-in evidence: reading the sign-in logs needs AuditLog.Read.All".into(),
            )),
            Err(e) => Err(DirectoryError::from(e)),
        }
    }

    async fn remove_secret(
        &self,
        app_object_id: String,
        key_id: String,
    ) -> Result<(), DirectoryError> {
        let signed = self.signed()?;
        // What it was, for the journal (its value is never returned: it cannot come back).
        let app = signed
            .graph
            .get_app(&app_object_id)
            .await
            .map_err(DirectoryError::from)?;
        let Some(secret) = app.password_credentials.iter().find(|p| {
            p.key_id
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(&key_id))
        }) else {
            return Err(DirectoryError::new(
                crate::error::ErrorKind::NotFound,
                format!(
                    "{} has no secret {key_id} any more (removed elsewhere?); reload the app to read it again",
                    app.display_name
                ),
            ));
        };
        signed
            .graph
            .remove_password(&app_object_id, &key_id)
            .await
            .map_err(DirectoryError::from)?;
        let change = Change::SecretRemoved {
            key_id: key_id.clone(),
            display_name: secret.display_name.clone(),
            hint: secret.hint.clone(),
            end_date_time: secret.end_date_time.clone(),
        };
        journal_write(&signed, &app_object_id, change).await;
        Ok(())
    }

    async fn plan_undo(
        &self,
        app_object_id: Option<String>,
    ) -> Result<Option<crate::msg::UndoPlan>, DirectoryError> {
        use ficus_startup::history::restore_plan;
        let signed = self.signed()?;
        let Some(journal) = &signed.journal else {
            return Err(DirectoryError::new(
                crate::error::ErrorKind::Unsupported,
                "ficus has no state directory for its history (set XDG_STATE_HOME or HOME)",
            ));
        };
        let history_error = |e: ficus_startup::history::HistoryError| {
            DirectoryError::new(crate::error::ErrorKind::Invalid, e.to_string())
        };
        let newest = journal
            .entries()
            .map_err(history_error)?
            .into_iter()
            .enumerate()
            .rev()
            .find(|(_, e)| {
                e.tenant.eq_ignore_ascii_case(&signed.tenant_id)
                    && app_object_id
                        .as_deref()
                        .is_none_or(|app| e.app_object_id.eq_ignore_ascii_case(app))
            });
        let Some((index, entry)) = newest else {
            return Ok(None);
        };
        let number = index + 1;
        let plan = restore_plan(&entry).map_err(history_error)?;
        Ok(Some(crate::msg::UndoPlan {
            number,
            app_object_id: entry.app_object_id.clone(),
            app_name: entry.app_display_name.clone(),
            change: entry.change.summary(),
            description: plan.describe(&entry.app_display_name),
        }))
    }

    async fn undo(&self, number: usize) -> Result<String, DirectoryError> {
        use ficus_startup::history::{apply_restore, restore_plan};
        let signed = self.signed()?;
        let Some(journal) = &signed.journal else {
            return Err(DirectoryError::new(
                crate::error::ErrorKind::Unsupported,
                "ficus has no state directory for its history (set XDG_STATE_HOME or HOME)",
            ));
        };
        let history_error = |e: ficus_startup::history::HistoryError| {
            DirectoryError::new(crate::error::ErrorKind::Invalid, e.to_string())
        };
        let entry = journal.entry(number).map_err(history_error)?;
        if !entry.tenant.eq_ignore_ascii_case(&signed.tenant_id) {
            return Err(DirectoryError::new(
                crate::error::ErrorKind::Invalid,
                format!(
                    "change {number} was made in tenant {}; switch there (:tenant {}) to undo it",
                    entry.tenant, entry.tenant
                ),
            ));
        }
        let plan = restore_plan(&entry).map_err(history_error)?;
        let summary = apply_restore(&signed.graph, &entry.app_object_id, &plan)
            .await
            .map_err(|e| DirectoryError::from_entra(&e, plain_write_error(&e, "restored")))?;
        journal_write(&signed, &summary.id, plan.change()).await;
        Ok(plan.describe(&summary.display_name))
    }

    async fn msi_source(&self) -> Result<ExchangeSourceInfo, DirectoryError> {
        self.msi_source_of(crate::token_effects::MsiChoice::Session)
            .await
    }

    async fn msi_source_of(
        &self,
        choice: crate::token_effects::MsiChoice,
    ) -> Result<ExchangeSourceInfo, DirectoryError> {
        let (source, host) = self.detect_msi(choice).await?;
        Ok(ExchangeSourceInfo {
            label: match host {
                Some(host) => format!("{} — {}", host.label, source.label()),
                None => source.label(),
            },
            endpoint: source.endpoint(),
        })
    }

    async fn exchange(
        &self,
        request: RequestId,
        spec: ExchangeSpec,
        tx: UnboundedSender<Msg>,
    ) -> Result<ExchangeResult, DirectoryError> {
        let signed = self.signed()?;
        let source = match &spec.pasted {
            Some(pasted) => entra::msi::MsiSource::Explicit {
                label: pasted.label.clone(),
                token: pasted.token.clone(),
            },
            None => self.detect_msi(spec.msi).await?.0,
        };
        let (fics, identities) = tokio::join!(
            signed.graph.list_fics(&spec.app_object_id),
            self.all_identities()
        );
        let fics = fics.map_err(|e| {
            DirectoryError::from_entra(
                &e,
                format!(
                    "cannot read the app's FICs ({}); reload to try again",
                    say(&e)
                ),
            )
        })?;
        let identities = identities.unwrap_or_default();
        let selector = match (&spec.identity_client_id, &spec.identity_principal_id) {
            (Some(client_id), _) => entra::msi::IdentitySelector::ClientId(client_id.clone()),
            (None, Some(principal_id)) => {
                entra::msi::IdentitySelector::PrincipalId(principal_id.clone())
            }
            (None, None) => entra::msi::IdentitySelector::SystemAssigned,
        };
        let exchange_request = entra::ExchangeRequest {
            app_client_id: spec.app_id.clone(),
            resource_tenant: spec.resource_tenant.clone(),
            scope: spec.scope.clone(),
            source,
            identity: selector,
            app_fics: fics.clone(),
            identities,
        };
        let msi_http = entra::msi::msi_http(entra::RetryPolicy::default())
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        let step_tx = tx.clone();
        let mut on_step = move |step: &entra::Step| {
            let _ = step_tx.send(Msg::Exchange(ExchangeMsg::Step {
                request,
                step: step_view(step),
            }));
        };
        let report = entra::sts::exchange_observed(
            &signed.http,
            &msi_http,
            &signed.cloud,
            &exchange_request,
            &mut on_step,
        )
        .await;
        // Both signatures, against each issuer's published keys.
        let started = std::time::Instant::now();
        let verify = |jwt: Option<&ficus_core::jwt::Jwt>| {
            let http = signed.http.clone();
            let jwt = jwt.cloned();
            let login = signed.cloud.login.clone();
            let tenant = signed.tenant_id.clone();
            async move {
                match jwt {
                    None => Signature::NotChecked("no token".into()),
                    Some(jwt) => check_signature(&http, &jwt, &login, &tenant).await,
                }
            }
        };
        let (assertion_signature, app_token_signature) = tokio::join!(
            verify(report.assertion.as_ref()),
            verify(report.app_token.as_ref())
        );
        let mut steps: Vec<StepView> = report.steps.iter().map(step_view).collect();
        if report.assertion.is_some() || report.app_token.is_some() {
            let step = StepView {
                name: "verify signatures".into(),
                endpoint: String::new(),
                duration_ms: started.elapsed().as_millis() as u64,
                outcome: signatures_outcome(&[&assertion_signature, &app_token_signature]),
            };
            let _ = tx.send(Msg::Exchange(ExchangeMsg::Step {
                request,
                step: step.clone(),
            }));
            steps.push(step);
        }
        let comparison = report
            .assertion
            .as_ref()
            .map(|a| fic::diagnose(a, &fics, &signed.cloud));
        let refusal = report.error.as_ref().map(|e| Refusal {
            code: e.aadsts(),
            error: e.error.clone(),
            message: ficus_core::fic::aadsts::entra_message(&e.description).unwrap_or_default(),
            trace_id: e.trace_id.clone(),
            correlation_id: e.correlation_id.clone(),
        });
        let explanation = report
            .diagnosis
            .as_ref()
            .filter(|_| report.error.is_some())
            .map(|d| Explanation {
                summary: d.summary.clone(),
                field: d.field.clone(),
                fix: d.fix.clone(),
            });
        Ok(ExchangeResult {
            source: report.source.clone(),
            token_endpoint: signed.cloud.token_endpoint(&spec.resource_tenant),
            steps,
            assertion: report.assertion.clone(),
            assertion_raw: report.assertion_raw.clone(),
            app_token: report.app_token.clone(),
            app_token_raw: report.app_token_raw.clone(),
            failure: if refusal.is_some() {
                None
            } else {
                report.failure.clone()
            },
            refusal,
            explanation,
            fics,
            comparison,
            assertion_signature,
            app_token_signature,
        })
    }

    async fn verify_token(
        &self,
        token: ficus_core::secret::Secret<String>,
    ) -> Result<String, String> {
        let jwt = ficus_core::jwt::decode(token.expose()).map_err(|e| e.to_string())?;
        let (http, login, tenant) = match self.signed() {
            Ok(signed) => (
                signed.http.clone(),
                signed.cloud.login.clone(),
                signed.tenant_id.clone(),
            ),
            Err(_) => (
                entra::Http::new(&entra::HttpConfig::default()).map_err(|e| say(&e))?,
                Cloud::global().login,
                String::new(),
            ),
        };
        match check_signature(&http, &jwt, &login, &tenant).await {
            Signature::Verified(kid) => Ok(kid),
            Signature::Failed(why) | Signature::NotChecked(why) | Signature::NotForYou(why) => {
                Err(why)
            }
        }
    }

    async fn switch_tenant(
        &self,
        tenant: String,
        tx: UnboundedSender<Msg>,
    ) -> Result<(), DirectoryError> {
        let Some(mut config) = self.config.lock().ok().and_then(|c| c.clone()) else {
            // A session made elsewhere (sandbox, Azure CLI) switches through its own hook; the
            // current session stays until the new one exists.
            let reconnect = self.signed().ok().and_then(|c| c.reconnect.clone());
            let Some(reconnect) = reconnect else {
                return Err(DirectoryError::new(
                    ErrorKind::Unsupported,
                    format!(
                        "this session cannot switch tenant from inside the console; quit and \
                         start `ficus --tenant {tenant}`"
                    ),
                ));
            };
            // The hook answers with a sentence (an unknown tenant lists the known ones).
            let connected = reconnect(tenant)
                .await
                .map_err(|reason| DirectoryError::new(ErrorKind::NotFound, reason))?;
            let info = self.adopt(connected, &tx);
            let _ = tx.send(Msg::SignIn(SignInEvent::Done(Box::new(info))));
            return Ok(());
        };
        config.tenant = tenant;
        if let Ok(mut kept) = self.config.lock() {
            *kept = Some(config.clone());
        }
        self.swap(None);
        self.device_code(config, &tx).await;
        Ok(())
    }

    async fn whois(&self, guid: String) -> Result<Vec<String>, DirectoryError> {
        let signed = self.signed()?;
        let matches = signed
            .graph
            .resolve_guid(&guid, Some(&signed.tenant_id))
            .await
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        Ok(matches.iter().map(guid_line).collect())
    }

    async fn app_fics(&self, app_object_id: String) -> Result<Vec<Fic>, DirectoryError> {
        self.signed()?
            .graph
            .list_fics(&app_object_id)
            .await
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))
    }

    /// The audit's identities are read fresh (a recreated identity is what it looks for), and
    /// the connection's copy follows them.
    async fn audit_start(&self) -> Result<crate::effects::health::AuditStart, DirectoryError> {
        let signed = self.signed()?;
        let identities = signed
            .graph
            .list_managed_identities()
            .await
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        *signed.identities.write().await = Some(identities.clone());
        Ok(crate::effects::health::AuditStart {
            cloud: signed.cloud.clone(),
            tenant_id: signed.tenant_id.clone(),
            identities,
        })
    }

    async fn audit_page(
        &self,
        next: Option<String>,
    ) -> Result<Page<ficus_core::audit::AppSnapshot>, DirectoryError> {
        let signed = self.signed()?;
        // One bounded certificate listing, cached by the Graph client across pages.
        let certificates = signed
            .graph
            .certificate_index()
            .await
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        let (rows, next) = entra::audit_gather::app_page(&signed.graph, &certificates, next)
            .await
            .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        Ok(Page { rows, next })
    }

    async fn audit_app(
        &self,
        object_id: String,
    ) -> Result<ficus_core::audit::AppSnapshot, DirectoryError> {
        let signed = self.signed()?;
        let (mut item, fics, certificates) = tokio::try_join!(
            signed.graph.console_app_light(&object_id),
            signed.graph.list_fics(&object_id),
            signed.graph.app_certificates(&object_id)
        )
        .map_err(|e| DirectoryError::from_entra(&e, say(&e)))?;
        item.federated_identity_credentials = Some(
            fics.iter()
                .filter_map(|fic| serde_json::to_value(fic).ok())
                .collect(),
        );
        let mut index = entra::graph::CertificateIndex::default();
        if !certificates.is_empty() {
            index.by_app.insert(item.id.clone(), certificates);
        }
        Ok(entra::audit_gather::app_snapshot(item, &index))
    }
}

/// One `resolve_guid` match as a sentence: what it is, its name, its other ids; the two ids of
/// a managed identity say which one a FIC's subject takes.
fn guid_line(found: &entra::graph::GuidMatch) -> String {
    let mut line = format!(
        "{} {}{}",
        found.kind.label(),
        found.display_name,
        found.kind.subject_hint()
    );
    let details: Vec<String> = found
        .details
        .iter()
        .map(|(key, value)| format!("{key} {value}"))
        .collect();
    if !details.is_empty() {
        line.push_str(&format!(" ({})", details.join(", ")));
    }
    line
}

fn plain_write_error(error: &EntraError, verb: &str) -> String {
    match error {
        EntraError::Graph(graph) => {
            let what = match graph.status {
                429 => format!(
                    "Graph is throttling this tenant (429 Too Many Requests) and still was after ficus' retries; nothing was {verb}. Wait a minute, then retry."
                ),
                403 => format!(
                    "Graph refused: you lack the right to change this app (403 {}). You need to be an owner of the app or an Application Administrator; nothing was {verb}.",
                    graph.code
                ),
                404 => format!(
                    "Graph does not find this app any more (404); it may have been deleted. Nothing was {verb}; go back and reload the list."
                ),
                409 => format!(
                    "Graph refused: a FIC with this name or this issuer and subject already exists on the app (409 {}). Change the name, or edit the existing one.",
                    graph.code
                ),
                400 => format!(
                    "Graph refused the FIC as invalid (400 {}): {}. Nothing was {verb}; correct the field it names.",
                    graph.code, graph.message
                ),
                status if status >= 500 => format!(
                    "Graph failed on its side ({status} {}); nothing is known to be {verb}. Retry in a moment.",
                    graph.code
                ),
                status => format!(
                    "Graph answered {status} {}: {}. Nothing was {verb}.",
                    graph.code, graph.message
                ),
            };
            match &graph.request_id {
                Some(id) => format!("{what} (request-id {id} for a support case)"),
                None => what,
            }
        }
        EntraError::ReadOnly { .. } => {
            "ficus runs with --read-only, so nothing can be saved; restart it without --read-only."
                .to_string()
        }
        other => say(other),
    }
}

impl GraphDirectory {
    /// This machine's managed identity environment as the exchange sees it: the process's,
    /// unless a test gives one (so that no test asks this machine's real endpoints).
    pub fn with_machine_msi_env(mut self, env: entra::msi::MsiEnv) -> Self {
        self.machine_msi_env = Some(env);
        self
    }

    /// The managed identity source: for the session, the configured host (the sandbox's), else
    /// this machine's; for [`MsiChoice::ThisMachine`](crate::token_effects::MsiChoice), this
    /// machine's whatever the session.
    async fn detect_msi(
        &self,
        choice: crate::token_effects::MsiChoice,
    ) -> Result<(entra::msi::MsiSource, Option<MsiHost>), DirectoryError> {
        let session = choice == crate::token_effects::MsiChoice::Session;
        let connection = self.signed().ok();
        let mut host = connection
            .as_ref()
            .and_then(|c| c.msi_host.clone())
            .filter(|_| session);
        // A `--sandbox-url` session: the sandbox's emulated host, from its description (never
        // this machine's environment, whose IMDS is not the sandbox's).
        if let Some(c) = connection.as_ref().filter(|c| {
            session && host.is_none() && c.cloud.kind == ficus_core::cloud::CloudKind::Custom
        }) {
            let found = ficus_startup::connection::sandbox_msi_host(&c.http, &c.cloud.login)
                .await
                .map_err(|why| DirectoryError::new(ErrorKind::Unsupported, why))?;
            host = Some(found);
        }
        let env = host.as_ref().map(|h| h.env.clone()).unwrap_or_else(|| {
            self.machine_msi_env
                .clone()
                .unwrap_or_else(entra::msi::MsiEnv::from_process)
        });
        match entra::msi::detect(&env).await {
            Ok(source) => Ok((source, host)),
            Err(EntraError::Msi(entra::MsiError::NoSource { imds, probe_ms })) => {
                Err(DirectoryError::new(
                    ErrorKind::Unsupported,
                    format!(
                        "This machine is not an Azure host: no App Service endpoint (IDENTITY_ENDPOINT), no workload identity token file (AZURE_FEDERATED_TOKEN_FILE), and nothing answered at IMDS {imds} within {probe_ms} ms"
                    ),
                ))
            }
            Err(EntraError::Msi(entra::MsiError::NotAzureHost)) => Err(DirectoryError::new(
                ErrorKind::Unsupported,
                "This machine is not an Azure VM: no App Service endpoint (IDENTITY_ENDPOINT), no workload identity token file (AZURE_FEDERATED_TOKEN_FILE), so the real IMDS was not asked",
            )),
            Err(e) => Err(DirectoryError::from_entra(&e, say(&e))),
        }
    }
}

fn step_view(step: &entra::Step) -> StepView {
    StepView {
        name: step.name.clone(),
        endpoint: step.endpoint.clone(),
        duration_ms: step.duration.as_millis() as u64,
        outcome: match &step.outcome {
            entra::Outcome::Ok(s) => StepOutcome::Ok(s.clone()),
            entra::Outcome::Failed(s) => StepOutcome::Failed(s.clone()),
            entra::Outcome::Skipped(s) => StepOutcome::Skipped(s.clone()),
        },
    }
}

/// A signature check's verdict in three states: verified; failed (the keys were read and the
/// signature does not match them, or the token cannot be checked at all); not checked (the
/// issuer's keys could not be read: that says nothing about the token).
pub fn signature_of(result: Result<String, ficus_entra::EntraError>) -> Signature {
    match result {
        Ok(kid) => Signature::Verified(kid),
        Err(e @ ficus_entra::EntraError::Invalid(_)) => Signature::Failed(say(&e)),
        Err(e) => {
            Signature::NotChecked(format!("the issuer's keys could not be read: {}", say(&e)))
        }
    }
}

/// A token's signature in the console's terms: a Graph token is not for you (only Graph can
/// verify it); otherwise the keys of its issuer (a v1 `sts.windows.net` issuer's come from the
/// session's login host `login`), then, since Entra's keys sign every tenant's tokens, `iss`
/// against `tid`, the key's `{tenantid}` template and the session's `tenant`.
pub async fn check_signature(
    http: &entra::Http,
    jwt: &ficus_core::jwt::Jwt,
    login: &str,
    tenant: &str,
) -> Signature {
    use ficus_core::jwt::{GRAPH_TOKEN_NOT_VERIFIABLE, check_issuer_tenant, keys_issuer};
    let expected = Some(tenant).filter(|t| !t.trim().is_empty());
    let Some(issuer) = jwt.str_claim("iss") else {
        return Signature::Failed(
            "the token names no issuer (iss), so there are no keys to check it against".into(),
        );
    };
    if jwt.has_graph_nonce() {
        return match check_issuer_tenant(jwt, None, expected) {
            Err(why) => Signature::Failed(why),
            Ok(()) => Signature::NotForYou(GRAPH_TOKEN_NOT_VERIFIABLE.into()),
        };
    }
    let keys_from = keys_issuer(issuer, Some(login));
    let jwks = match entra::sts::fetch_jwks(http, &keys_from).await {
        Ok(jwks) => jwks,
        Err(e) => return signature_of(Err(e)),
    };
    if let Err(e) = ficus_core::jwt::verify(jwt, &jwks) {
        return Signature::Failed(e.to_string());
    }
    let kid = jwt.kid().unwrap_or("?").to_string();
    match check_issuer_tenant(jwt, jwks.find(&kid), expected) {
        Ok(()) => Signature::Verified(kid),
        Err(why) => Signature::Failed(why),
    }
}

/// The "verify signatures" step of the timeline from both verdicts (a missing token is not
/// counted).
pub fn signatures_outcome(signatures: &[&Signature]) -> StepOutcome {
    let failed = signatures.iter().any(|s| matches!(s, Signature::Failed(_)));
    let verified = signatures
        .iter()
        .filter(|s| matches!(s, Signature::Verified(_)))
        .count();
    let graph = signatures
        .iter()
        .filter(|s| matches!(s, Signature::NotForYou(_)))
        .count();
    let graph_note = if graph > 0 {
        format!("; {graph} Graph token not for you to verify")
    } else {
        String::new()
    };
    let unchecked: Vec<&str> = signatures
        .iter()
        .filter_map(|s| match s {
            Signature::NotChecked(why) if why != "no token" && !why.is_empty() => {
                Some(why.as_str())
            }
            _ => None,
        })
        .collect();
    if failed {
        StepOutcome::Failed("a signature does not verify; see below".into())
    } else if let Some(why) = unchecked.first() {
        StepOutcome::Skipped(format!(
            "not checked ({verified} verified{graph_note}): {why}"
        ))
    } else {
        StepOutcome::Ok(format!(
            "{verified} verified with the issuer's keys{graph_note}"
        ))
    }
}

/// What the sign-in logs of the last [`WINDOW_DAYS`](crate::evidence::WINDOW_DAYS) days say
/// about each credential of the app (by the secret's or certificate's keyId, the FIC's id);
/// a tenant without P1/P2, or a session without the permission, gets the reason instead.
async fn sign_in_evidence(
    graph: &GraphClient,
    app_id: &str,
) -> Result<crate::evidence::Evidence, DirectoryError> {
    use crate::evidence::{CredentialUse, Evidence, WINDOW_DAYS};
    use entra::signins::{self, SignInQuery};
    let since = time::OffsetDateTime::now_utc() - time::Duration::days(WINDOW_DAYS);
    let list = match graph.sign_ins(&SignInQuery::app(app_id, since)).await {
        Ok(list) => list,
        Err(e) if signins::is_unlicensed(&e) => {
            return Ok(Evidence::Unavailable(signins::NO_PREMIUM_MESSAGE.into()));
        }
        Err(entra::EntraError::Graph(g)) if g.status == 403 => {
            return Ok(Evidence::Unavailable(
                "no sign-in evidence: reading the sign-in logs needs AuditLog.Read.All".into(),
            ));
        }
        Err(e) => return Err(DirectoryError::from(e)),
    };
    let mut uses: Vec<CredentialUse> = Vec::new();
    for s in &list {
        let federated = s.client_credential_type.as_deref() == Some("federatedIdentityCredential");
        let Some(key) = s
            .service_principal_credential_key_id
            .clone()
            .or_else(|| s.federated_credential_id.clone())
            .or_else(|| federated.then(|| crate::evidence::UNMATCHED.to_string()))
        else {
            continue;
        };
        let Some(at) = s.at() else {
            continue;
        };
        let entry = match uses
            .iter_mut()
            .position(|u| u.key.eq_ignore_ascii_case(&key))
        {
            Some(i) => &mut uses[i],
            None => {
                uses.push(CredentialUse {
                    key,
                    last_used: None,
                    uses: 0,
                    last_failure: None,
                    failures: 0,
                });
                let last = uses.len() - 1;
                &mut uses[last]
            }
        };
        if s.failed() {
            entry.failures += 1;
            if entry.last_failure.is_none_or(|(t, _)| at > t) {
                entry.last_failure = Some((at, s.status.error_code));
            }
        } else {
            entry.uses += 1;
            if entry.last_used.is_none_or(|t| at > t) {
                entry.last_used = Some(at);
            }
        }
    }
    Ok(Evidence::Usage(uses))
}

/// entra's failing workload as the console's row.
fn failing_row(w: entra::signins::FailingWorkload) -> crate::evidence::FailingRow {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    crate::evidence::FailingRow {
        summary: w.summary.clone(),
        app_name: w.group.app_display_name.clone(),
        app_id: w.group.app_id.clone(),
        app_object_id: w.app_object_id.clone(),
        error_code: w.group.error_code,
        count: w.group.count,
        first: parse(&w.group.first),
        last: parse(&w.group.last),
        identity: w
            .presented_identity
            .as_ref()
            .map(|i| (i.principal_id.clone(), i.name.clone())),
        fault: w.fault.map(|(fic, finding)| crate::evidence::FicAtFault {
            fic,
            message: finding.message,
            fix: finding.fix.map(|f| (f.field, f.value, f.label)),
        }),
        reason: w.group.failure_reason,
    }
}

/// Journals a FIC write the console made (`ficus history` lists it and restores from it). A
/// journal that cannot be written is logged: the write itself stands and was reported.
async fn journal_write(
    signed: &Connection,
    app_object_id: &str,
    change: ficus_startup::history::Change,
) {
    let Some(journal) = &signed.journal else {
        return;
    };
    let account = signed.graph.credentials().account().await;
    let who = account
        .username
        .or(account.object_id)
        .unwrap_or_else(|| "unknown".into());
    let app_name = signed
        .graph
        .console_app_light(app_object_id)
        .await
        .ok()
        .and_then(|a| a.display_name)
        .unwrap_or_default();
    let entry = ficus_startup::history::Entry::now(
        &who,
        &signed.tenant_id,
        app_object_id,
        &app_name,
        "console",
        change,
    );
    if let Err(error) = journal.append(&entry) {
        tracing::warn!(%error, "the console's write could not be journaled");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect (c): issuer keys that cannot be read leave the signature "not checked (why)",
    /// not "does not verify", which reads as a forged token.
    #[test]
    fn unreachable_issuer_keys_are_not_checked_rather_than_failed() {
        let unreachable = signature_of(Err(EntraError::Protocol {
            service: "https://login.example/t/discovery/v2.0/keys".into(),
            detail: "HTTP 503".into(),
        }));
        assert!(
            matches!(&unreachable, Signature::NotChecked(why) if why.contains("HTTP 503")),
            "{unreachable:?}"
        );
        let forged = signature_of(Err(EntraError::Invalid(
            "the signature does not match".into(),
        )));
        assert!(matches!(forged, Signature::Failed(_)));
        let verified = signature_of(Ok("kid-1".into()));
        assert_eq!(verified, Signature::Verified("kid-1".into()));
        let no_token = Signature::NotChecked("no token".into());
        assert!(matches!(
            signatures_outcome(&[&unreachable, &no_token]),
            StepOutcome::Skipped(why) if why.starts_with("not checked") && why.contains("HTTP 503")
        ));
        assert!(matches!(
            signatures_outcome(&[&verified, &forged]),
            StepOutcome::Failed(_)
        ));
        assert!(matches!(
            signatures_outcome(&[&verified, &no_token]),
            StepOutcome::Ok(_)
        ));
    }
}

type AppPages = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<Vec<AppListItem>, EntraError>> + Send>,
>;

/// The running parallel app listing ([`GraphClient::console_apps_parallel`]) behind the
/// page-at-a-time [`Directory::apps_page`]: its cursor names the listing's generation.
#[derive(Default)]
struct AppsListing {
    current: tokio::sync::Mutex<Option<(u64, AppPages)>>,
    generations: std::sync::atomic::AtomicU64,
}

impl AppsListing {
    const CURSOR: &'static str = "ficus-parallel-listing:";

    fn cursor(generation: u64) -> String {
        format!("{}{generation}", Self::CURSOR)
    }

    /// The next page of the listing `cursor` names (a new listing for `None`); `None` once
    /// it has ended or was superseded.
    async fn next_page(
        &self,
        connection: &Connection,
        cursor: Option<&str>,
    ) -> (u64, Option<Result<Vec<AppListItem>, EntraError>>) {
        use futures_util::StreamExt;
        let mut current = self.current.lock().await;
        let generation = match cursor {
            None => {
                let generation = self
                    .generations
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                let pages: AppPages =
                    match &connection.lists_dir {
                        Some(dir) => warm_or_cold(&connection.graph, dir, &connection.tenant_id),
                        None => Box::pin(connection.graph.console_apps_parallel(
                            entra::graph::listing::ParallelListing::default(),
                        )),
                    };
                *current = Some((generation, pages));
                generation
            }
            Some(cursor) => match cursor
                .strip_prefix(Self::CURSOR)
                .and_then(|g| g.parse::<u64>().ok())
            {
                Some(generation) => generation,
                None => return (0, None),
            },
        };
        let page = match current.as_mut() {
            Some((running, pages)) if *running == generation => {
                let page = pages.next().await;
                if page.is_none() {
                    *current = None;
                }
                page
            }
            // Superseded by a newer load: this one ends without touching it.
            _ => None,
        };
        (generation, page)
    }
}

/// The list cache's directory of a session: `lists/` in its token cache directory (0700).
fn lists_dir(session: &entra::Session) -> Option<std::path::PathBuf> {
    session.config.cache_dir.as_ref().map(|d| d.join("lists"))
}

/// The app list from the cache brought up to date through delta (pages of a few thousand
/// rows), or, without a usable cache, the parallel listing streamed as it comes (and cached).
fn warm_or_cold(graph: &GraphClient, dir: &std::path::Path, tenant_id: &str) -> AppPages {
    use entra::list_cache::{Start, open_apps};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (graph, dir, tenant_id) = (graph.clone(), dir.to_path_buf(), tenant_id.to_string());
    tokio::spawn(async move {
        let pages = tx.clone();
        let opened = open_apps(&graph, &dir, &tenant_id, move |rows| {
            pages.send(Ok(rows)).is_ok()
        })
        .await;
        match opened {
            Ok((
                cache,
                Start::Warm {
                    age_secs,
                    changed,
                    removed,
                },
            )) => {
                tracing::info!(age_secs, changed, removed, "apps from the cache, refreshed");
                let apps: Vec<AppListItem> = cache.apps.into_values().collect();
                for chunk in apps.chunks(5000) {
                    if tx.send(Ok(chunk.to_vec())).is_err() {
                        return;
                    }
                }
            }
            Ok((cache, Start::Stale { age_secs, error })) => {
                tracing::warn!(age_secs, %error, "apps from the cache, not refreshed");
                let apps: Vec<AppListItem> = cache.apps.into_values().collect();
                for chunk in apps.chunks(5000) {
                    if tx.send(Ok(chunk.to_vec())).is_err() {
                        return;
                    }
                }
            }
            Ok((_, Start::Cold { reason })) => tracing::info!(%reason, "apps listed in full"),
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

impl GraphDirectory {
    /// After a write ficus made, the cached copy of that app is re-read in the background.
    fn note_app_changed(&self, app_object_id: &str) {
        let Ok(connection) = self.signed() else {
            return;
        };
        let Some(dir) = connection.lists_dir.clone() else {
            return;
        };
        let app = app_object_id.to_string();
        tokio::spawn(async move {
            if let Err(e) = entra::list_cache::ListCache::note_changed(
                &connection.graph,
                &dir,
                &connection.tenant_id,
                &app,
            )
            .await
            {
                tracing::warn!(error = %e, "the cached app could not be updated");
            }
        });
    }
}
