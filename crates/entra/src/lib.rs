//! Everything that talks to Entra ID and Microsoft Graph over HTTP.
//!
//! # API summary (for the console and the headless commands)
//!
//! ```text
//! SessionConfig { cloud: Cloud, tenant, client_id, scopes, cache_dir: Option<PathBuf>,
//!                 ca_pem: Option<String>, read_only, http: HttpConfig }
//!   SessionConfig::new(cloud, tenant)            defaults: Graph CLI Tools client, default scopes
//! Session::new(config, credentials) -> Result<Session>        (pub cloud, tenant, http, credentials, read_only)
//! Session::from_cache(config) -> Result<Session>               silent start from the token cache
//! Session::graph() -> GraphClient                              (cheap clone)
//!   The console gets its Session from `commands::connect(&GlobalArgs, prompt_out)` (cache or
//!   az cli) or, for --sandbox, `commands::start_sandbox(&GlobalArgs)` / `sandbox_context(..)`
//!   -> commands::Context { session, msi_source, msi_http, .. }
//! Session::cache_key() / token_cache()
//!
//! signin::start_device_code(&http, &cloud, tenant, client_id, &scopes) -> DeviceCodeFlow
//!   flow.prompt() -> &DeviceCodePrompt { user_code, verification_uri, message, expires_in, interval }
//!   flow.finish().await -> TokenSet                            (honours pending/slow_down/expired/declined)
//! signin::az_cli_token(&cloud, tenant) -> TokenSet             (`az account get-access-token`)
//! signin::Credentials::new(TokenSet, Renewal)  .access_token(&http) .tokens() .account()
//! signin::TokenCache::open(dir)  .load(&key) .store(&login) .remove(&key)   (0700 dir / 0600 files)
//!
//! GraphClient
//!   list_apps() -> impl Stream<Item = Result<Vec<AppSummary>>>   pages of ≤999, nextLink verbatim
//!   list_all_apps(), find_apps_by_name(name), get_app(object_id), get_app_by_app_id(app_id)
//!   list_fics(app_object_id), get_fic(app, id_or_name)
//!   create_fic(app, &Fic) -> Fic / create_fic_outcome(app, &Fic) -> Created { fic, replicated }
//!     the write's answer is the truth: a read-back that disagrees is retried quietly, then
//!     `replicated: false` (never a failure, never a second create); a lost answer is read
//!     back by name, then POSTed once more (a landed first create answers 409)
//!   update_fic(app, &fic::FicUpdate) -> Fic (the written value under lag),  delete_fic(app, id_or_name)
//!   list_fics merges this client's own writes until Graph shows them (pending_window)
//!   list_managed_identities() -> Vec<fic::Identity>   tenant_id = the directory read from
//!   apps_trusting(principal_id) -> Vec<TrustingApp { app, fics }>   (ConsistencyLevel: eventual)
//!   apps_trusting_report(principal_id) -> TrustReport { apps, lag_note }   paced fan-out
//!   console_apps_page_light(next) / console_app_light(id)   no keyCredentials (hot paths)
//!   certificate_index() -> Arc<CertificateIndex { by_app }>   one cached keyCredentials listing
//!   app_certificates(id) -> Vec<KeyCredential>                details on demand, within allowance
//!   console_apps_parallel(ParallelListing) -> Stream of pages   displayName ranges paged in
//!     parallel ($expand pages hold 100; or two_phase: rows at 999 and FICs apart, joined
//!     by id, misses completed by id), shared 429 gate, each app once, checked against $count
//!     (graph/listing.rs; the ranges: partition.rs)
//! list_cache::open_apps(&graph, dir, tenant, emit) -> (ListCache, Start::{Warm, Cold})
//!   the warm start: cached lists (0600/0700, versioned) refreshed through applications/delta;
//!   410 or an unreadable file -> a full parallel listing that rebuilds the cache
//!   (format 2: list_cache/codec.rs, binary, apps by name in chunks decoded on every core);
//!   ListCache::load_in_name_order / load_identities (the console's warm start, no network),
//!   refresh_changes -> Changes::{Applied { changed, removed }, Expired}, refresh_identities
//!   (servicePrincipals/delta), list_in_full
//! Waits: RetryPolicy.waiter: Waiter (real, or Waiter::virtual_clock() in tests; set_observer
//!   to say "waiting 45 s: Graph is throttling ficus"); Retry-After honoured up to
//!   RetryPolicy.max_retry_after (5 min), beyond 30 s included
//!   resolve_guid(guid, tenant_id) -> Vec<GuidMatch { kind: GuidKind, display_name, details }>
//!
//! audit_gather::prerequisites(&graph) -> Prerequisites { identities, certificates }
//!   audit_gather::app_page(&graph, &certificates, next) -> (Vec<audit::AppSnapshot>, next)
//!     the console list's pages; the tenant audit reads nothing per app
//!
//! resolve::resolve_app(&graph, query) / resolve_identity(&identities, query)  (Ambiguous lists candidates)
//!
//! msi::detect(&MsiEnv) -> MsiSource { AppService | Imds | WorkloadIdentityFile | Explicit }
//! msi::acquire(&http, &source, &IdentitySelector, resource) -> MsiToken
//! msi::msi_http(RetryPolicy) -> Http                          (never proxied)
//! sts::exchange(&http, &msi_http, &cloud, &ExchangeRequest) -> ExchangeReport   (never fails:
//!   every failure is a step)  ExchangeRequest { app_client_id, resource_tenant, scope,
//!   source: MsiSource, identity: IdentitySelector, app_fics, identities }
//!   ExchangeReport { steps: Vec<Step { name, endpoint, duration, outcome: Outcome }>,
//!     assertion: Option<Jwt>, app_token: Option<Jwt>, app_token_raw: Option<Secret>,
//!     error: Option<StsError>, failure: Option<String>,
//!     diagnosis: Option<Diagnosis { code, summary, field, fix, fic_name }> }  .succeeded()
//! sts::diagnose_refusal(&StsError, assertion, fics, identities, &cloud) -> Diagnosis
//! sts::client_assertion_token(&http, token_endpoint, client_id, scope, &assertion) -> TokenSet
//! sts::fetch_jwks(&http, issuer) -> Jwks                      (discovery, then jwks_uri)
//!
//! Errors: EntraError { Graph(GraphError{status,code,message,request_id,client_request_id,date}),
//!   Sts(StsError{status,error,description,codes,trace_id,correlation_id,timestamp,..}),
//!   Network(NetworkError{kind,url,detail,attempts,..}), Cache, Msi, NotSignedIn, SignInExpired,
//!   ReadOnly, NotFound, Ambiguous{candidates}, Protocol, Verification, Invalid, AzCli }
//!   EntraError::to_json() for `--json`.
//! ```
//!
//! signins (graph/signins.rs): GraphClient::sign_ins(&SignInQuery) -> Vec<SignIn>,
//!   remove_password(app, key_id); credential_usage / secret_quiet / failing_groups (pure);
//!   is_unlicensed(&EntraError) and NO_PREMIUM_MESSAGE for tenants without P1/P2
//!
//! Tokens are always in `Secret<T>` and never logged.

pub mod audit_gather;
pub mod error;
pub mod graph;
pub mod http;
pub mod list_cache;
pub mod msi;
pub mod partition;
mod redact;
pub mod resolve;
pub mod signin;
pub mod sts;

use std::path::PathBuf;

pub use error::{
    CacheError, EntraError, GraphError, MsiError, NetworkError, NetworkErrorKind, StsError,
};
/// Sign-in evidence (`/beta/auditLogs/signIns`) and secret removal: see `signins.rs`.
pub use graph::signins;
pub use graph::{
    App, AppSummary, CertificateIndex, Created, GraphClient, GuidKind, GuidMatch, TrustReport,
    TrustingApp,
};
pub use http::{
    Http, HttpConfig, PlainHttp, RetryPolicy, Wait, WaitReason, Waiter, redact_userinfo,
};
pub use signin::{Account, CacheKey, CachedLogin, Credentials, Renewal, TokenCache, TokenSet};
pub use sts::{Diagnosis, ExchangeReport, ExchangeRequest, Outcome, Step};

use ficus_core::cloud::Cloud;

/// How to reach a tenant.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub cloud: Cloud,
    /// Tenant id or domain (`organizations` is not allowed: ficus works in one tenant).
    pub tenant: String,
    /// The public client used to sign in.
    pub client_id: String,
    pub scopes: Vec<String>,
    /// Token cache directory; `None` = do not cache.
    pub cache_dir: Option<PathBuf>,
    /// A CA to trust instead of the system roots (the sandbox's).
    pub ca_pem: Option<String>,
    /// Refuse every write.
    pub read_only: bool,
    pub http: HttpConfig,
}

impl SessionConfig {
    pub fn new(cloud: Cloud, tenant: impl Into<String>) -> SessionConfig {
        SessionConfig {
            cloud,
            tenant: tenant.into(),
            client_id: signin::DEFAULT_CLIENT_ID.to_string(),
            scopes: signin::default_scopes(),
            cache_dir: None,
            ca_pem: None,
            read_only: false,
            http: HttpConfig::default(),
        }
    }

    /// The HTTP configuration with the CA and, for loopback authorities, no proxy.
    pub fn http_config(&self) -> HttpConfig {
        let mut http = self.http.clone();
        if self.ca_pem.is_some() {
            http.ca_pem = self.ca_pem.clone();
        }
        if is_loopback(&self.cloud.login) || is_loopback(&self.cloud.graph) {
            http.no_proxy = true;
        }
        http
    }

    /// Refuses sign-in and Graph URLs that `http` may not speak to (plain `http://` to another
    /// machine), before any request is made.
    pub fn check_transport(&self, http: &Http) -> Result<(), EntraError> {
        for url in [&self.cloud.login, &self.cloud.graph] {
            if let Ok(parsed) = url::Url::parse(url) {
                http.check_url(&parsed)?;
            }
        }
        Ok(())
    }

    pub fn cache_key(&self) -> CacheKey {
        CacheKey::new(&self.cloud, &self.tenant, &self.client_id)
    }
}

/// True for `http(s)://127.0.0.1…`, `localhost` or `[::1]`.
pub fn is_loopback(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| match u.host()? {
            url::Host::Domain(d) => Some(d.eq_ignore_ascii_case("localhost")),
            url::Host::Ipv4(ip) => Some(ip.is_loopback()),
            url::Host::Ipv6(ip) => Some(ip.is_loopback()),
        })
        .unwrap_or(false)
}

/// A signed-in connection to one tenant.
#[derive(Debug, Clone)]
pub struct Session {
    pub cloud: Cloud,
    pub tenant: String,
    pub http: Http,
    pub credentials: Credentials,
    pub read_only: bool,
    pub config: SessionConfig,
    /// What every [`GraphClient`] of this session shares: its own writes that Graph does not
    /// show yet, the fan-out pacer, the keyCredentials allowance and the certificate index.
    graph_state: graph::GraphState,
}

impl Session {
    /// Refuses a cloud whose sign-in or Graph URL is plain `http://` to another machine
    /// (tokens in clear text): `https://`, or `http://` to loopback only.
    pub fn new(config: SessionConfig, credentials: Credentials) -> Result<Session, EntraError> {
        let http = Http::new(&config.http_config())?;
        config.check_transport(&http)?;
        Ok(Session {
            cloud: config.cloud.clone(),
            tenant: config.tenant.clone(),
            http,
            credentials,
            read_only: config.read_only,
            config,
            graph_state: graph::GraphState::default(),
        })
    }

    /// Starts from the token cache; the refresh token renews silently when needed.
    pub fn from_cache(config: SessionConfig) -> Result<Session, EntraError> {
        let cache = config
            .cache_dir
            .clone()
            .ok_or_else(|| EntraError::NotSignedIn {
                tenant: config.tenant.clone(),
            })
            .and_then(|d| Ok(TokenCache::open(d)?))?;
        let key = config.cache_key();
        let login = cache.load(&key)?.ok_or_else(|| EntraError::NotSignedIn {
            tenant: config.tenant.clone(),
        })?;
        let renewal = Renewal::RefreshToken {
            token_endpoint: config.cloud.token_endpoint(&config.tenant),
            client_id: config.client_id.clone(),
            scopes: config.scopes.clone(),
            cache: Some((cache, key)),
        };
        Session::new(config, Credentials::new(login.tokens, renewal))
    }

    /// The token cache, when one is configured.
    pub fn token_cache(&self) -> Result<Option<TokenCache>, EntraError> {
        match &self.config.cache_dir {
            Some(d) => Ok(Some(TokenCache::open(d.clone())?)),
            None => Ok(None),
        }
    }

    /// A Graph client of this session. Every client of one session shares the local-write
    /// journal (a FIC created through one is listed by all until Graph shows it), the pacer
    /// and the caches.
    pub fn graph(&self) -> GraphClient {
        GraphClient::new(
            self.http.clone(),
            self.cloud.graph_v1(),
            self.credentials.clone(),
            self.read_only,
        )
        .sharing(&self.graph_state)
    }

    /// The tenant id (GUID) of the signed-in account, from its token.
    pub async fn tenant_id(&self) -> Option<String> {
        self.credentials.account().await.tenant_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities_bypass_proxies() {
        assert!(is_loopback("https://127.0.0.1:8443"));
        assert!(is_loopback("http://localhost:1/x"));
        assert!(is_loopback("https://[::1]:9"));
        assert!(!is_loopback("https://login.microsoftonline.com"));
        let cfg = SessionConfig::new(
            Cloud::custom("https://127.0.0.1:8443", "https://127.0.0.1:8443/v1.0"),
            "contoso",
        );
        assert!(cfg.http_config().no_proxy);
        assert!(
            !SessionConfig::new(Cloud::global(), "c")
                .http_config()
                .no_proxy
        );
    }
}
