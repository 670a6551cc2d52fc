//! The Microsoft Graph client: app registrations (streamed page by page), one app, its
//! federated identity credentials (create / update / delete with read-back verification),
//! managed identities, the reverse lookup of apps trusting an identity, and GUID resolution.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::Stream;
use reqwest::Method;
use serde::{Deserialize, Serialize};

#[path = "listing.rs"]
pub mod listing;

use super::error::EntraError;
use super::http::{Http, Response, Retry, Wait, WaitReason, Waiter};
use super::signin::Credentials;
use ficus_core::fic::{ArmId, Fic, FicUpdate, Identity, IdentityKind};
use ficus_core::secret::Secret;

/// Sign-in evidence and secret removal (a child module: it uses this client's plumbing).
#[path = "signins.rs"]
pub mod signins;

/// Columns fetched for the app list.
pub const APP_LIST_SELECT: &str = "id,appId,displayName,signInAudience,createdDateTime";
/// Largest page Graph serves.
pub const PAGE_SIZE: u32 = 999;

/// One row of the app list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSummary {
    /// Object id.
    pub id: String,
    /// Application (client) id.
    pub app_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub sign_in_audience: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    /// How many FICs the app has, when Graph expanded them (`None`: not known yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fic_count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppRow {
    id: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    sign_in_audience: Option<String>,
    #[serde(default)]
    created_date_time: Option<String>,
    /// Only counted: skipped without building values.
    #[serde(default)]
    federated_identity_credentials: Option<Vec<serde::de::IgnoredAny>>,
}

impl From<AppRow> for AppSummary {
    fn from(r: AppRow) -> Self {
        AppSummary {
            id: r.id,
            app_id: r.app_id,
            display_name: r.display_name.unwrap_or_default(),
            sign_in_audience: r.sign_in_audience,
            created_date_time: r.created_date_time,
            fic_count: r.federated_identity_credentials.map(|f| f.len()),
        }
    }
}

/// A client secret's metadata (Graph never returns the value after creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub hint: Option<String>,
}

/// A certificate's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default, rename = "type")]
    pub key_type: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
}

/// One app registration in detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: String,
    pub app_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub sign_in_audience: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub publisher_domain: Option<String>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
}

impl App {
    pub fn summary(&self) -> AppSummary {
        AppSummary {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            display_name: self.display_name.clone(),
            sign_in_audience: self.sign_in_audience.clone(),
            created_date_time: self.created_date_time.clone(),
            fic_count: None,
        }
    }
}

/// An app whose FICs trust a given identity, with those FICs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustingApp {
    pub app: AppSummary,
    pub fics: Vec<Fic>,
}

/// What a GUID is: core's one list of kinds (labels and JSON names included).
pub use ficus_core::fic::guid::GuidKind;

/// One thing a GUID names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuidMatch {
    pub kind: GuidKind,
    pub display_name: String,
    /// The object's other ids, for context (`appId`, object id, ARM id…).
    pub details: Vec<(String, String)>,
}

/// The result of creating a FIC. Graph's answer to the write is the truth: when a read-back
/// does not show it yet (Graph replicates in the background), it is `replicated: false`, not
/// a failure, and lists of this client show it until Graph catches up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// As Graph answered the write (or as read back once visible).
    pub fic: Fic,
    /// Whether a read already shows it. `false`: "not replicated yet"; say so, do not retry.
    pub replicated: bool,
}

/// Apps trusting an identity, from Graph's advanced-query index, with what to tell the admin
/// about that index's lag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustReport {
    pub apps: Vec<TrustingApp>,
    /// Set when the answer may be incomplete because the index lags (this client wrote a FIC
    /// for the identity moments ago, merged in here; or nothing was found).
    pub lag_note: Option<String>,
}

/// Certificate (keyCredentials) metadata of every app, from one bounded, cached listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateIndex {
    /// By app object id; apps without certificates are absent.
    pub by_app: HashMap<String, Vec<KeyCredential>>,
}

/// A write this client made that reads may not show yet.
#[derive(Debug, Clone)]
enum LocalWrite {
    Created(Fic),
    Updated(Fic),
    Deleted(String),
}

#[derive(Debug, Clone)]
struct PendingWrite {
    app: String,
    write: LocalWrite,
    at: Instant,
}

/// The client side of Graph's token bucket for fan-outs: resource units per 10 s.
#[derive(Debug)]
struct Pacer {
    units: f64,
    refilled: Option<Instant>,
}

/// Requests with `$select=keyCredentials` ficus allows itself per minute (Graph's quota is 150
/// per tenant; the rest is left to other tools).
pub const KEY_CREDENTIALS_PER_MINUTE: usize = 120;

/// What the Graph clients of one session share (see [`GraphClient::sharing`]).
#[derive(Debug, Clone, Default)]
pub struct GraphState(Arc<Shared>);

/// State shared by clones of one client.
#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<Vec<PendingWrite>>,
    pacer: Mutex<Option<Pacer>>,
    key_credential_log: Mutex<VecDeque<Instant>>,
    certificates: tokio::sync::Mutex<Option<(Instant, Arc<CertificateIndex>)>>,
}

/// Graph, for one signed-in session. Cheap to clone; clones share the HTTP client and tokens.
#[derive(Clone, Debug)]
pub struct GraphClient {
    http: Http,
    /// Graph root with version, e.g. `https://graph.microsoft.com/v1.0`.
    base: String,
    credentials: Credentials,
    read_only: bool,
    /// How long a read-back of a write is retried quietly before the write is reported as
    /// "not replicated yet" (the write still stands).
    pub read_back_window: Duration,
    /// How long lists merge this client's own writes that Graph does not show yet.
    pub pending_window: Duration,
    /// Resource units per 10 s ficus's fan-outs (reverse lookup, whois) allow themselves.
    /// Graph's budget for an app in a small tenant is 3,500; ficus keeps well inside it.
    pub fanout_budget: u32,
    /// How long the certificate listing is reused.
    pub certificate_ttl: Duration,
    shared: Arc<Shared>,
}

impl GraphClient {
    pub fn new(
        http: Http,
        base: impl Into<String>,
        credentials: Credentials,
        read_only: bool,
    ) -> Self {
        GraphClient {
            http,
            base: base.into().trim_end_matches('/').to_string(),
            credentials,
            read_only,
            read_back_window: Duration::from_secs(10),
            pending_window: Duration::from_secs(300),
            fanout_budget: 1000,
            certificate_ttl: Duration::from_secs(600),
            shared: Arc::new(Shared::default()),
        }
    }

    /// This client sharing `state` (the session's) instead of its own: local writes, pacer,
    /// keyCredentials allowance and certificate index.
    pub fn sharing(mut self, state: &GraphState) -> GraphClient {
        self.shared = state.0.clone();
        self
    }

    fn waiter(&self) -> &Waiter {
        &self.http.retry_policy().waiter
    }

    /// Waits for `cost` resource units of the fan-out budget, saying so when it must wait.
    async fn pace(&self, cost: u32, url: &str) {
        let capacity = f64::from(self.fanout_budget.max(1));
        let cost = f64::from(cost).min(capacity);
        let per_second = capacity / 10.0;
        loop {
            let wait = {
                let now = self.waiter().now();
                let mut slot = self.shared.pacer.lock().unwrap_or_else(|e| e.into_inner());
                let pacer = slot.get_or_insert(Pacer {
                    units: capacity,
                    refilled: Some(now),
                });
                let elapsed = pacer
                    .refilled
                    .map(|t| now.saturating_duration_since(t))
                    .unwrap_or_default();
                pacer.units = (pacer.units + elapsed.as_secs_f64() * per_second).min(capacity);
                pacer.refilled = Some(now);
                if pacer.units >= cost {
                    pacer.units -= cost;
                    return;
                }
                Duration::from_secs_f64((cost - pacer.units) / per_second)
            };
            self.waiter()
                .wait(Wait {
                    reason: WaitReason::Pacing,
                    duration: wait,
                    url: super::http::origin_of(url),
                })
                .await;
        }
    }

    /// Waits for a slot of ficus's own `$select=keyCredentials` allowance (per minute).
    async fn key_credentials_slot(&self, url: &str) {
        let minute = Duration::from_secs(60);
        loop {
            let wait = {
                let now = self.waiter().now();
                let mut log = self
                    .shared
                    .key_credential_log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                while log
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= minute)
                {
                    log.pop_front();
                }
                if log.len() < KEY_CREDENTIALS_PER_MINUTE {
                    log.push_back(now);
                    return;
                }
                let oldest = log.front().copied().unwrap_or(now);
                (oldest + minute).saturating_duration_since(now)
            };
            self.waiter()
                .wait(Wait {
                    reason: WaitReason::Pacing,
                    duration: wait.max(Duration::from_millis(1)),
                    url: super::http::origin_of(url),
                })
                .await;
        }
    }

    /// Remembers a write for the lists that do not show it yet.
    fn remember(&self, app: &str, write: LocalWrite) {
        let at = self.waiter().now();
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let key = pending_name(&write).to_string();
        // An update of a create Graph does not show yet is still that create, with new values.
        let still_created = pending.iter().any(|p| {
            p.app.eq_ignore_ascii_case(app)
                && matches!(&p.write, LocalWrite::Created(f) if f.name.eq_ignore_ascii_case(&key))
        });
        let write = match write {
            LocalWrite::Updated(f) if still_created => LocalWrite::Created(f),
            other => other,
        };
        pending.retain(|p| {
            !(p.app.eq_ignore_ascii_case(app) && pending_name(&p.write).eq_ignore_ascii_case(&key))
        });
        pending.push(PendingWrite {
            app: app.to_string(),
            write,
            at,
        });
    }

    /// Merges this client's recent writes into a FIC list Graph answered, dropping each one
    /// Graph already reflects ("until Graph catches up").
    fn merge_local(&self, app: &str, mut fics: Vec<Fic>) -> (Vec<Fic>, bool) {
        let now = self.waiter().now();
        let window = self.pending_window;
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.retain(|p| now.saturating_duration_since(p.at) < window);
        let mut merged = false;
        pending.retain(|p| {
            if !p.app.eq_ignore_ascii_case(app) {
                return true;
            }
            let name = pending_name(&p.write);
            let position = fics
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name) || f.id.as_deref() == Some(name));
            match (&p.write, position) {
                // Graph shows it as written: caught up.
                (LocalWrite::Created(w) | LocalWrite::Updated(w), Some(i))
                    if verify_same(w, &fics[i]).is_ok() =>
                {
                    false
                }
                (LocalWrite::Created(w) | LocalWrite::Updated(w), Some(i)) => {
                    fics[i] = w.clone();
                    merged = true;
                    true
                }
                (LocalWrite::Created(w), None) => {
                    fics.push(w.clone());
                    merged = true;
                    true
                }
                // An update of something Graph does not list: keep waiting, show nothing.
                (LocalWrite::Updated(_), None) => true,
                (LocalWrite::Deleted(_), Some(i)) => {
                    fics.remove(i);
                    merged = true;
                    true
                }
                (LocalWrite::Deleted(_), None) => false,
            }
        });
        (fics, merged)
    }

    /// This client's created or updated FICs that reads may not show yet, by app.
    fn pending_fics(&self) -> Vec<(String, Fic)> {
        let now = self.waiter().now();
        let pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending
            .iter()
            .filter(|p| now.saturating_duration_since(p.at) < self.pending_window)
            .filter_map(|p| match &p.write {
                LocalWrite::Created(f) | LocalWrite::Updated(f) => Some((p.app.clone(), f.clone())),
                LocalWrite::Deleted(_) => None,
            })
            .collect()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The HTTP client (its retry policy holds the [`Waiter`] every wait goes through).
    pub fn http(&self) -> &Http {
        &self.http
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// The session's token goes to Graph's origin only (scheme, host and port of the base
    /// URL): a link to anywhere else (an `@odata.nextLink` a proxy rewrote) is refused before
    /// any token is read, naming both origins.
    fn check_origin(&self, url: &str) -> Result<(), EntraError> {
        let expected = super::http::origin_of(&self.base);
        let found = super::http::origin_of(url);
        let same = url::Url::parse(url)
            .ok()
            .zip(url::Url::parse(&self.base).ok())
            .is_some_and(|(u, b)| u.origin() == b.origin() && u.origin().is_tuple());
        if same {
            Ok(())
        } else {
            tracing::warn!(%expected, %found, "refused a Graph link to another origin");
            Err(EntraError::ForeignOrigin { expected, found })
        }
    }

    /// Sends with the bearer token; on 401 renews the token once and tries again.
    ///
    /// Boxed on purpose (a build-time choice): an `async fn` is compiled in every crate that
    /// polls it, so every Graph call compiled this, the token renewal and the HTTP layer again
    /// in the console, the commands and start-up; behind `dyn` it is compiled once, here.
    fn call<'a>(
        &'a self,
        method: Method,
        url: &'a str,
        retry: Retry,
        headers: &'a [(&'a str, &'a str)],
        body: Option<&'a serde_json::Value>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Response, EntraError>> + Send + 'a>> {
        Box::pin(self.call_with_renewal(method, url, retry, headers, body))
    }

    async fn call_with_renewal(
        &self,
        method: Method,
        url: &str,
        retry: Retry,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, EntraError> {
        self.check_origin(url)?;
        let mut token = self.credentials.access_token(&self.http).await?;
        for round in 0..2 {
            let resp = self
                .send_once(&method, url, retry, headers, body, &token)
                .await?;
            if resp.status.as_u16() == 401 && round == 0 {
                tracing::info!("Graph rejected the access token; renewing");
                token = self
                    .credentials
                    .renew_after_rejection(&self.http, &token)
                    .await?;
                continue;
            }
            return Ok(resp);
        }
        unreachable_two_rounds()
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        retry: Retry,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        token: &Secret<String>,
    ) -> Result<Response, EntraError> {
        Ok(self
            .http
            .send(retry, |c| {
                let mut rb = c
                    .request(method.clone(), url)
                    .bearer_auth(token.expose())
                    .header("Accept", "application/json");
                for (k, v) in headers {
                    rb = rb.header(*k, *v);
                }
                if let Some(b) = body {
                    rb = rb.json(b);
                }
                rb
            })
            .await?)
    }

    async fn get_ok(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, EntraError> {
        let resp = self
            .call(Method::GET, url, Retry::Idempotent, headers, None)
            .await?;
        if !resp.is_success() {
            return Err(resp.graph_error().into());
        }
        Ok(resp)
    }

    /// Follows `@odata.nextLink` verbatim and collects every item.
    async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        first_url: String,
        headers: &[(&str, &str)],
    ) -> Result<Vec<T>, EntraError> {
        let mut out = Vec::new();
        let mut next = Some(first_url);
        while let Some(url) = next {
            let page: Page<T> = self.get_ok(&url, headers).await?.json("Graph")?;
            out.extend(page.value);
            next = page.next_link;
        }
        Ok(out)
    }

    /// The URL of `path` under Graph's root (for the list cache's requests).
    pub(crate) fn url_of(&self, path: &str) -> String {
        self.url(path)
    }

    /// One GET page (or link) as JSON, with the client's retries.
    pub(crate) async fn get_json_page<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, EntraError> {
        self.get_ok(url, &[]).await?.json("Graph")
    }

    fn ensure_writable(&self, action: &str) -> Result<(), EntraError> {
        if self.read_only {
            return Err(EntraError::ReadOnly {
                action: action.to_string(),
            });
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Apps

    /// The first URL of the app list.
    pub fn apps_url(&self) -> String {
        self.url(&format!(
            "applications?$select={APP_LIST_SELECT}&$top={PAGE_SIZE}&$expand=federatedIdentityCredentials"
        ))
    }

    /// App registrations as a stream of pages (each up to 999 apps), so a view can show the
    /// first page while the rest load. The stream ends after the last page or the first error.
    pub fn list_apps(
        &self,
    ) -> impl Stream<Item = Result<Vec<AppSummary>, EntraError>> + Send + 'static {
        let client = self.clone();
        let first = self.apps_url();
        futures_util::stream::unfold(Some(first), move |next| {
            let client = client.clone();
            async move {
                let url = next?;
                match client
                    .get_ok(&url, &[])
                    .await
                    .and_then(|r| r.json::<Page<AppRow>>("Graph"))
                {
                    Ok(page) => {
                        let items = page.value.into_iter().map(AppSummary::from).collect();
                        Some((Ok(items), page.next_link))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }

    /// Every app registration (all pages).
    pub async fn list_all_apps(&self) -> Result<Vec<AppSummary>, EntraError> {
        use futures_util::StreamExt;
        let mut out = Vec::new();
        let mut pages = std::pin::pin!(self.list_apps());
        while let Some(page) = pages.next().await {
            out.extend(page?);
        }
        Ok(out)
    }

    /// Apps whose display name equals `name` (Graph compares case-insensitively).
    pub async fn find_apps_by_name(&self, name: &str) -> Result<Vec<AppSummary>, EntraError> {
        let filter = format!("displayName eq '{}'", odata_quote(name));
        let url = self.url(&format!(
            "applications?$select={APP_LIST_SELECT}&$top={PAGE_SIZE}&$filter={}",
            urlencode(&filter)
        ));
        match self.get_all::<AppRow>(url, &[]).await {
            Ok(rows) => Ok(rows.into_iter().map(AppSummary::from).collect()),
            // A Graph that cannot filter on displayName: scan the list instead.
            Err(EntraError::Graph(g)) if g.is_unsupported_query() || g.status == 400 => {
                let all = self.list_all_apps().await?;
                Ok(all
                    .into_iter()
                    .filter(|a| a.display_name.eq_ignore_ascii_case(name))
                    .collect())
            }
            Err(e) => Err(e),
        }
    }

    /// One app by object id.
    pub async fn get_app(&self, object_id: &str) -> Result<App, EntraError> {
        self.get_ok(
            &self.url(&format!("applications/{}", path_seg(object_id))),
            &[],
        )
        .await?
        .json("Graph")
    }

    /// GETs one object; `None` when Graph says it does not exist.
    async fn get_optional<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Option<T>, EntraError> {
        not_found_as_none(self.get_ok(url, &[]).await)?
            .map(|r| r.json("Graph"))
            .transpose()
    }

    /// One app by application (client) id; `None` when there is none.
    pub async fn get_app_by_app_id(&self, app_id: &str) -> Result<Option<App>, EntraError> {
        let url = self.url(&format!("applications(appId='{}')", odata_quote(app_id)));
        self.get_optional(&url).await
    }

    // -----------------------------------------------------------------------------------------
    // Federated identity credentials

    fn fics_url(&self, app_object_id: &str) -> String {
        self.url(&format!(
            "applications/{}/federatedIdentityCredentials",
            path_seg(app_object_id)
        ))
    }

    /// The app's FICs as Graph lists them, with this client's own recent writes merged in
    /// until Graph shows them (a just-created FIC is listed at once).
    pub async fn list_fics(&self, app_object_id: &str) -> Result<Vec<Fic>, EntraError> {
        let listed = self.get_all(self.fics_url(app_object_id), &[]).await?;
        Ok(self.merge_local(app_object_id, listed).0)
    }

    /// One FIC by id or name; `None` when absent.
    pub async fn get_fic(
        &self,
        app_object_id: &str,
        id_or_name: &str,
    ) -> Result<Option<Fic>, EntraError> {
        let url = format!("{}/{}", self.fics_url(app_object_id), path_seg(id_or_name));
        self.get_optional(&url).await
    }

    /// Creates a FIC; see [`GraphClient::create_fic_outcome`]. Returns the FIC as Graph
    /// answered the write (or as read back).
    pub async fn create_fic(&self, app_object_id: &str, fic: &Fic) -> Result<Fic, EntraError> {
        self.create_fic_outcome(app_object_id, fic)
            .await
            .map(|c| c.fic)
    }

    /// Creates a FIC. Graph's answer to the write is the truth; the read-back only confirms it.
    ///
    /// - After a 201, a read-back that does not show it yet (404, or an older value: Graph
    ///   replicates in the background) is retried quietly for
    ///   [`GraphClient::read_back_window`]; if it still disagrees the create is done but
    ///   `replicated: false`, never a failure and never a second create.
    /// - The POST is never retried blindly. If its answer is lost (dropped connection,
    ///   502/503/504), the FIC is read back by name; found with the same fields, the create is
    ///   done. Not visible, it is POSTed once more: the name is unique per app, so a first
    ///   create that did land answers 409 instead of making a second one.
    pub async fn create_fic_outcome(
        &self,
        app_object_id: &str,
        fic: &Fic,
    ) -> Result<Created, EntraError> {
        self.ensure_writable("creating a federated identity credential")?;
        let url = self.fics_url(app_object_id);
        let written = match self.post_fic(&url, fic).await? {
            Some(written) => written,
            None => match self.find_after_lost_answer(app_object_id, fic).await? {
                Some(created) => return Ok(created),
                None => match self.post_fic(&url, fic).await {
                    Ok(Some(written)) => written,
                    Ok(None) => {
                        return Err(EntraError::Verification {
                            detail: format!(
                                "the answers to creating '{}' were lost twice and it is not visible yet; ficus did not try again: list the app's credentials in a minute",
                                fic.name
                            ),
                        });
                    }
                    // The first create did land; reads do not show it yet.
                    Err(EntraError::Graph(g)) if g.status == 409 => {
                        tracing::info!(name = %fic.name, "lost create had landed (409 on the second)");
                        self.remember(app_object_id, LocalWrite::Created(fic.clone()));
                        return Ok(Created {
                            fic: fic.clone(),
                            replicated: false,
                        });
                    }
                    Err(e) => return Err(e),
                },
            },
        };
        self.remember(app_object_id, LocalWrite::Created(written.clone()));
        let key = written.id.clone().unwrap_or_else(|| written.name.clone());
        let (seen, confirmed) = self
            .read_back_until(app_object_id, &key, |back| {
                verify_same(&written, back).is_ok()
            })
            .await?;
        match seen {
            Some(back) if confirmed => Ok(Created {
                fic: back,
                replicated: true,
            }),
            _ => {
                tracing::info!(name = %written.name, "created; not replicated yet");
                Ok(Created {
                    fic: written,
                    replicated: false,
                })
            }
        }
    }

    /// POSTs a FIC. `Some`: Graph's answer; `None`: the answer was lost (the FIC may or may
    /// not exist); `Err`: Graph refused.
    async fn post_fic(&self, url: &str, fic: &Fic) -> Result<Option<Fic>, EntraError> {
        let body = serde_json::json!({
            "name": fic.name,
            "issuer": fic.issuer,
            "subject": fic.subject,
            "audiences": fic.audiences,
            "description": fic.description,
        });
        match self
            .call(Method::POST, url, Retry::Create, &[], Some(&body))
            .await
        {
            Ok(resp) if resp.is_success() => Ok(Some(resp.json("Graph")?)),
            Ok(resp) if matches!(resp.status.as_u16(), 502..=504) => {
                tracing::warn!(status = %resp.status, "create answer lost; reading back");
                Ok(None)
            }
            Ok(resp) => Err(resp.graph_error().into()),
            Err(EntraError::Network(n)) => {
                tracing::warn!(error = %n, "create answer lost; reading back");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// After a lost answer: the FIC by name, if it is visible with the fields sent.
    async fn find_after_lost_answer(
        &self,
        app_object_id: &str,
        fic: &Fic,
    ) -> Result<Option<Created>, EntraError> {
        let (seen, confirmed) = self
            .read_back_until(app_object_id, &fic.name, |back| {
                verify_same(fic, back).is_ok()
            })
            .await?;
        match seen {
            Some(back) if confirmed => {
                self.remember(app_object_id, LocalWrite::Created(back.clone()));
                Ok(Some(Created {
                    fic: back,
                    replicated: true,
                }))
            }
            // Something else holds the name: not ours to claim.
            Some(back) => verify_same(fic, &back).map(|()| None),
            None => Ok(None),
        }
    }

    /// Reads `id_or_name` back until `accept` says it shows the write, quietly, for at most
    /// [`GraphClient::read_back_window`]. Returns the last thing seen and whether it was
    /// accepted.
    async fn read_back_until(
        &self,
        app_object_id: &str,
        id_or_name: &str,
        accept: impl Fn(&Fic) -> bool,
    ) -> Result<(Option<Fic>, bool), EntraError> {
        let started = self.waiter().now();
        let mut wait = Duration::from_millis(200);
        loop {
            let seen = self.get_fic(app_object_id, id_or_name).await?;
            if seen.as_ref().is_some_and(&accept) {
                return Ok((seen, true));
            }
            let spent = self.waiter().now().saturating_duration_since(started);
            if spent + wait > self.read_back_window {
                return Ok((seen, false));
            }
            self.waiter()
                .wait(Wait {
                    reason: WaitReason::Replication,
                    duration: wait,
                    url: super::http::safe_url_text(&self.fics_url(app_object_id)),
                })
                .await;
            wait = (wait * 2).min(Duration::from_secs(2));
        }
    }

    /// Sends `update` (built once by `fic::export::update_request`: only the changed fields, a
    /// cleared description as `""`) and returns the FIC as read back, checked against it.
    pub async fn update_fic(
        &self,
        app_object_id: &str,
        update: &FicUpdate,
    ) -> Result<Fic, EntraError> {
        self.ensure_writable("changing a federated identity credential")?;
        let key = update.fic_key.as_str();
        let url = format!("{}/{}", self.fics_url(app_object_id), path_seg(key));
        let body = update.body();
        let resp = self
            .call(Method::PATCH, &url, Retry::Idempotent, &[], Some(&body))
            .await?;
        if !resp.is_success() {
            return Err(resp.graph_error().into());
        }
        // 204: the write stands. Read back quietly until a replica shows it.
        let (seen, confirmed) = self
            .read_back_until(app_object_id, key, |back| {
                update_shows(update, back).is_ok()
            })
            .await?;
        let base = match seen {
            Some(back) if confirmed => return Ok(back),
            Some(back) => back,
            None => self
                .pending_fics()
                .into_iter()
                .find(|(app, f)| {
                    app.eq_ignore_ascii_case(app_object_id)
                        && (f.name.eq_ignore_ascii_case(key) || f.id.as_deref() == Some(key))
                })
                .map(|(_, f)| f)
                .ok_or_else(|| EntraError::Verification {
                    detail: format!(
                        "'{key}' was updated (Graph answered 204) but is not visible to reads yet; list the app's credentials again in a minute"
                    ),
                })?,
        };
        // Not replicated yet: what was written is the truth.
        let expected = apply_update(base, update);
        self.remember(app_object_id, LocalWrite::Updated(expected.clone()));
        Ok(expected)
    }

    /// Deletes a FIC by id or name. Deleting one that is already gone is an error naming it.
    pub async fn delete_fic(
        &self,
        app_object_id: &str,
        id_or_name: &str,
    ) -> Result<(), EntraError> {
        self.ensure_writable("deleting a federated identity credential")?;
        let url = format!("{}/{}", self.fics_url(app_object_id), path_seg(id_or_name));
        let resp = self
            .call(Method::DELETE, &url, Retry::Idempotent, &[], None)
            .await?;
        if !resp.is_success() {
            return Err(resp.graph_error().into());
        }
        // Lists may show it a while longer: hide it here until Graph catches up.
        let name = self
            .pending_fics()
            .into_iter()
            .find(|(app, f)| {
                app.eq_ignore_ascii_case(app_object_id)
                    && (f.id.as_deref() == Some(id_or_name)
                        || f.name.eq_ignore_ascii_case(id_or_name))
            })
            .map(|(_, f)| f.name)
            .unwrap_or_else(|| id_or_name.to_string());
        self.remember(app_object_id, LocalWrite::Deleted(name));
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Managed identities

    /// Managed identities (service principals of type ManagedIdentity), classified.
    pub async fn list_managed_identities(&self) -> Result<Vec<Identity>, EntraError> {
        let filter = urlencode("servicePrincipalType eq 'ManagedIdentity'");
        let url = self.url(&format!(
            "servicePrincipals?$filter={filter}&$select=id,appId,displayName,alternativeNames,servicePrincipalType&$top={PAGE_SIZE}"
        ));
        let rows: Vec<SpRow> = self.get_all(url, &[]).await?;
        // A managed identity lives in the directory it was read from. Graph does not set
        // `appOwnerOrganizationId` on managed identity service principals (it is documented
        // for application-backed ones), so the tenant comes from the session, never from it.
        let tenant = self.credentials.account().await.tenant_id;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut identity = identity_from_sp(row);
                identity.tenant_id = tenant.clone();
                identity
            })
            .collect())
    }

    // -----------------------------------------------------------------------------------------
    // Reverse lookup

    /// Apps with a FIC whose subject is `principal_id` (advanced query: `ConsistencyLevel:
    /// eventual` and `$count=true`), each with the FICs that trust it. See
    /// [`GraphClient::apps_trusting_report`] for the index's lag.
    pub async fn apps_trusting(&self, principal_id: &str) -> Result<Vec<TrustingApp>, EntraError> {
        Ok(self.apps_trusting_report(principal_id).await?.apps)
    }

    /// The reverse lookup with what to say about it. The advanced-query index behind it is
    /// eventually consistent: this client's own FICs for the identity that it does not show
    /// yet are merged in (and said so), and an empty answer says the index may lag. The
    /// per-app FIC reads are paced to stay inside Graph's throttling budget; waits are told to
    /// the waiter's observer.
    pub async fn apps_trusting_report(
        &self,
        principal_id: &str,
    ) -> Result<TrustReport, EntraError> {
        let filter = format!(
            "federatedIdentityCredentials/any(f:f/subject eq '{}')",
            odata_quote(principal_id)
        );
        let url = self.url(&format!(
            "applications?$filter={}&$count=true&$select={APP_LIST_SELECT}&$top={PAGE_SIZE}",
            urlencode(&filter)
        ));
        self.pace(1, &url).await;
        let rows: Vec<AppRow> = self
            .get_all(url, &[("ConsistencyLevel", "eventual")])
            .await?;
        let mut apps: Vec<AppSummary> = rows.into_iter().map(AppSummary::from).collect();
        // Apps this client just gave a FIC for the identity, which the index may not show.
        let mut merged_local = false;
        for (app_id, fic) in self.pending_fics() {
            if fic.subject == principal_id && !apps.iter().any(|a| a.id == app_id) {
                let url = self.url(&format!(
                    "applications/{}?$select={APP_LIST_SELECT}",
                    path_seg(&app_id)
                ));
                self.pace(1, &url).await;
                if let Some(row) = self.get_optional::<AppRow>(&url).await? {
                    apps.push(AppSummary::from(row));
                    merged_local = true;
                }
            }
        }
        let mut out = Vec::new();
        for app in apps {
            self.pace(2, &self.fics_url(&app.id)).await;
            let fics: Vec<Fic> = self
                .list_fics(&app.id)
                .await?
                .into_iter()
                .filter(|f| f.subject == principal_id)
                .collect();
            if !fics.is_empty() {
                out.push(TrustingApp { app, fics });
            }
        }
        let lag_note = if merged_local {
            Some("includes credentials ficus created moments ago that Graph's query index does not show yet".to_string())
        } else if out.is_empty() {
            Some("Graph's query index is eventually consistent: a credential created in the last few minutes may not show yet".to_string())
        } else {
            None
        };
        Ok(TrustReport {
            apps: out,
            lag_note,
        })
    }

    // -----------------------------------------------------------------------------------------
    // GUID resolution

    /// Everything `guid` names in the tenant: app (object or client id), service principal
    /// (object or app id; managed identities called out), a FIC id, a user, or the tenant.
    pub async fn resolve_guid(
        &self,
        guid: &str,
        tenant_id: Option<&str>,
    ) -> Result<Vec<GuidMatch>, EntraError> {
        let guid = guid.trim();
        if uuid::Uuid::parse_str(guid).is_err() {
            return Err(EntraError::Invalid(format!(
                "'{guid}' is not a GUID (8-4-4-4-12 hex digits)"
            )));
        }
        let mut out = Vec::new();
        if tenant_id.is_some_and(|t| t.eq_ignore_ascii_case(guid)) {
            out.push(GuidMatch {
                kind: GuidKind::TenantId,
                display_name: "this tenant".into(),
                details: vec![],
            });
        }
        // Five lookups per GUID: paced, so a loop of `whois` stays inside Graph's budget.
        self.pace(8, &self.base).await;
        if let Some(app) = self
            .get_optional::<App>(
                &self.url(&format!("applications/{guid}?$select=id,appId,displayName")),
            )
            .await?
        {
            out.push(GuidMatch {
                kind: GuidKind::AppObjectId,
                display_name: app.display_name.clone(),
                details: vec![("appId".into(), app.app_id.clone())],
            });
        }
        if let Some(app) = self.get_app_by_app_id(guid).await? {
            out.push(GuidMatch {
                kind: GuidKind::AppId,
                display_name: app.display_name.clone(),
                details: vec![("objectId".into(), app.id.clone())],
            });
        }
        let sp_select = "$select=id,appId,displayName,alternativeNames,servicePrincipalType";
        if let Some(sp) = self
            .get_optional::<SpRow>(&self.url(&format!("servicePrincipals/{guid}?{sp_select}")))
            .await?
        {
            out.push(sp_match(sp, true));
        }
        if let Some(sp) = self
            .get_optional::<SpRow>(
                &self.url(&format!("servicePrincipals(appId='{guid}')?{sp_select}")),
            )
            .await?
        {
            out.push(sp_match(sp, false));
        }
        // Users (and anything else) through directoryObjects, which every tenant serves.
        if let Some(o) = self
            .get_optional::<serde_json::Value>(&self.url(&format!("directoryObjects/{guid}")))
            .await?
            && o["@odata.type"] == "#microsoft.graph.user"
        {
            out.push(GuidMatch {
                kind: GuidKind::UserId,
                display_name: o["displayName"].as_str().unwrap_or("").to_string(),
                details: o["userPrincipalName"]
                    .as_str()
                    .map(|upn| vec![("userPrincipalName".to_string(), upn.to_string())])
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

fn unreachable_two_rounds() -> Result<Response, EntraError> {
    // The loop above returns in its second round at the latest.
    Err(EntraError::Protocol {
        service: "Graph".into(),
        detail: "token renewal loop ended unexpectedly".into(),
    })
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpRow {
    id: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    alternative_names: Vec<String>,
    #[serde(default)]
    service_principal_type: Option<String>,
}

/// User-assigned when `alternativeNames` holds `isExplicit=True`; the ARM id is the entry that
/// starts with `/subscriptions/`.
fn identity_from_sp(sp: SpRow) -> Identity {
    let explicit = sp
        .alternative_names
        .iter()
        .any(|n| n.eq_ignore_ascii_case("isExplicit=True"));
    let arm_id = sp
        .alternative_names
        .iter()
        .find(|n| n.to_ascii_lowercase().starts_with("/subscriptions/"))
        .cloned();
    let parsed = arm_id.as_deref().and_then(ArmId::parse);
    let kind = if explicit {
        IdentityKind::UserAssigned
    } else {
        IdentityKind::SystemAssigned
    };
    Identity {
        name: sp
            .display_name
            .clone()
            .or_else(|| parsed.as_ref().and_then(|p| p.name.clone()))
            .unwrap_or_default(),
        kind,
        client_id: sp.app_id,
        principal_id: sp.id,
        subscription: parsed.as_ref().map(|p| p.subscription.clone()),
        resource_group: parsed.as_ref().and_then(|p| p.resource_group.clone()),
        arm_id,
        // Filled in by the caller from the directory the identity was read from.
        tenant_id: None,
    }
}

fn sp_match(sp: SpRow, by_object_id: bool) -> GuidMatch {
    let is_mi = sp.service_principal_type.as_deref() == Some("ManagedIdentity");
    let name = sp.display_name.clone().unwrap_or_default();
    let kind = match (is_mi, by_object_id) {
        (true, true) => GuidKind::IdentityPrincipalId,
        (true, false) => GuidKind::IdentityClientId,
        (false, true) => GuidKind::ServicePrincipalId,
        (false, false) => GuidKind::ServicePrincipalAppId,
    };
    let mut details = vec![
        ("objectId".to_string(), sp.id.clone()),
        ("appId".to_string(), sp.app_id.clone()),
    ];
    if is_mi {
        let ident = identity_from_sp(sp);
        details.push((
            "kind".into(),
            match ident.kind {
                IdentityKind::UserAssigned => "user-assigned".into(),
                IdentityKind::SystemAssigned => "system-assigned".into(),
            },
        ));
        if let Some(arm) = ident.arm_id {
            details.push(("armId".into(), arm));
        }
    }
    GuidMatch {
        kind,
        display_name: name,
        details,
    }
}

fn pending_name(write: &LocalWrite) -> &str {
    match write {
        LocalWrite::Created(f) | LocalWrite::Updated(f) => &f.name,
        LocalWrite::Deleted(name) => name,
    }
}

/// Whether `back` shows every field `update` changed.
fn update_shows(update: &FicUpdate, back: &Fic) -> Result<(), EntraError> {
    let checks = [
        ("issuer", update.issuer.as_deref(), back.issuer.as_str()),
        ("subject", update.subject.as_deref(), back.subject.as_str()),
        // A cleared description may read back as absent or as "".
        (
            "description",
            update.description.as_deref(),
            back.description.as_deref().unwrap_or(""),
        ),
    ];
    for (field, want, got) in checks {
        if let Some(w) = want
            && w != got
        {
            return Err(EntraError::Verification {
                detail: format!("{field} reads back as {got:?}, not {w:?}"),
            });
        }
    }
    if let Some(a) = &update.audiences
        && *a != back.audiences
    {
        return Err(EntraError::Verification {
            detail: format!("audiences read back as {:?}", back.audiences),
        });
    }
    Ok(())
}

/// `base` with `update` applied: what Graph holds after the write.
fn apply_update(mut base: Fic, update: &FicUpdate) -> Fic {
    if let Some(i) = &update.issuer {
        base.issuer = i.clone();
    }
    if let Some(s) = &update.subject {
        base.subject = s.clone();
    }
    if let Some(a) = &update.audiences {
        base.audiences = a.clone();
    }
    if let Some(d) = &update.description {
        base.description = (!d.is_empty()).then(|| d.clone());
    }
    base
}

fn verify_same(want: &Fic, got: &Fic) -> Result<(), EntraError> {
    let mut diffs = Vec::new();
    if want.name != got.name {
        diffs.push(format!("name {:?} != {:?}", got.name, want.name));
    }
    if want.issuer != got.issuer {
        diffs.push(format!("issuer {:?} != {:?}", got.issuer, want.issuer));
    }
    if want.subject != got.subject {
        diffs.push(format!("subject {:?} != {:?}", got.subject, want.subject));
    }
    if want.audiences != got.audiences {
        diffs.push(format!(
            "audiences {:?} != {:?}",
            got.audiences, want.audiences
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(EntraError::Verification {
            detail: diffs.join("; "),
        })
    }
}

fn not_found_as_none(r: Result<Response, EntraError>) -> Result<Option<Response>, EntraError> {
    match r {
        Ok(resp) => Ok(Some(resp)),
        Err(EntraError::Graph(g)) if g.is_not_found() || g.status == 404 => Ok(None),
        // Graph answers 400 for a malformed key (e.g. appId of the wrong shape).
        Err(EntraError::Graph(g)) if g.status == 400 && g.code == "Request_BadRequest" => Ok(None),
        Err(e) => Err(e),
    }
}

/// Escapes a string literal for OData (`'` doubled).
pub fn odata_quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Percent-encodes one path segment.
fn path_seg(s: &str) -> String {
    urlencode(s)
}

// ---------------------------------------------------------------------------------------------
// The console's app list (added for tui/): the list columns plus credential metadata, one page
// at a time so the view streams.

/// One app of the console's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppListItem {
    pub id: String,
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub sign_in_audience: Option<String>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    #[serde(default)]
    pub federated_identity_credentials: Option<Vec<serde_json::Value>>,
}

/// Columns of the console's app list without `keyCredentials` (its hot path: every page and
/// every row the cursor rests on). `$select=keyCredentials` is limited to 150 requests per
/// minute per tenant and returns the certificate blobs; certificate expiry comes from
/// [`GraphClient::certificate_index`], details from [`GraphClient::app_certificates`].
pub const APP_CONSOLE_LIGHT_SELECT: &str =
    "id,appId,displayName,signInAudience,createdDateTime,passwordCredentials,identifierUris";

impl GraphClient {
    /// One page of the console's app list without `keyCredentials` (`key_credentials` is
    /// empty: take it from [`GraphClient::certificate_index`]). The FIC counts come from
    /// `$expand` and include this client's own FICs that Graph does not list yet.
    pub async fn console_apps_page_light(
        &self,
        next: Option<String>,
    ) -> Result<(Vec<AppListItem>, Option<String>), EntraError> {
        let url = next.unwrap_or_else(|| {
            self.url(&format!(
                "applications?$select={APP_CONSOLE_LIGHT_SELECT}&$top={PAGE_SIZE}&$expand=federatedIdentityCredentials"
            ))
        });
        let page: Page<AppListItem> = self.get_ok(&url, &[]).await?.json("Graph")?;
        let items = page
            .value
            .into_iter()
            .map(|mut item| {
                if let Some(listed) = item.federated_identity_credentials.take() {
                    item.federated_identity_credentials =
                        Some(self.merge_local_values(&item.id, listed));
                }
                item
            })
            .collect();
        Ok((items, page.next_link))
    }

    /// One app with the console's columns, without `keyCredentials` (for the row the cursor
    /// rests on).
    pub async fn console_app_light(&self, object_id: &str) -> Result<AppListItem, EntraError> {
        let url = self.url(&format!(
            "applications/{}?$select={APP_CONSOLE_LIGHT_SELECT}",
            urlencode(object_id)
        ));
        self.get_ok(&url, &[]).await?.json("Graph")
    }

    /// Certificate metadata of every app, from one listing of `$select=id,keyCredentials` at
    /// 999 apps a page (100,000 apps: about 100 requests, inside ficus's own allowance of
    /// [`KEY_CREDENTIALS_PER_MINUTE`], waiting — and saying so — when it is spent), reused for
    /// [`GraphClient::certificate_ttl`]. Concurrent callers share one listing.
    pub async fn certificate_index(&self) -> Result<Arc<CertificateIndex>, EntraError> {
        let mut cached = self.shared.certificates.lock().await;
        if let Some((at, index)) = cached.as_ref()
            && self.waiter().now().saturating_duration_since(*at) < self.certificate_ttl
        {
            return Ok(index.clone());
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            id: String,
            #[serde(default)]
            key_credentials: Vec<KeyCredential>,
        }
        let mut index = CertificateIndex::default();
        let mut next = Some(self.url(&format!(
            "applications?$select=id,keyCredentials&$top={PAGE_SIZE}"
        )));
        while let Some(url) = next {
            self.key_credentials_slot(&url).await;
            let page: Page<Row> = self.get_ok(&url, &[]).await?.json("Graph")?;
            for row in page.value {
                if !row.key_credentials.is_empty() {
                    index.by_app.insert(row.id, row.key_credentials);
                }
            }
            next = page.next_link;
        }
        let index = Arc::new(index);
        *cached = Some((self.waiter().now(), index.clone()));
        Ok(index)
    }

    /// One app's certificates, on demand (details view): from the cached index when it is
    /// fresh, else one `$select=keyCredentials` GET within ficus's allowance.
    pub async fn app_certificates(
        &self,
        object_id: &str,
    ) -> Result<Vec<KeyCredential>, EntraError> {
        {
            let cached = self.shared.certificates.lock().await;
            if let Some((at, index)) = cached.as_ref()
                && self.waiter().now().saturating_duration_since(*at) < self.certificate_ttl
            {
                return Ok(index.by_app.get(object_id).cloned().unwrap_or_default());
            }
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            #[serde(default)]
            key_credentials: Vec<KeyCredential>,
        }
        let url = self.url(&format!(
            "applications/{}?$select=keyCredentials",
            urlencode(object_id)
        ));
        self.key_credentials_slot(&url).await;
        let row: Row = self.get_ok(&url, &[]).await?.json("Graph")?;
        Ok(row.key_credentials)
    }

    /// [`GraphClient::merge_local`] over raw FIC JSON (the console list's `$expand`).
    pub(crate) fn merge_local_values(
        &self,
        app: &str,
        listed: Vec<serde_json::Value>,
    ) -> Vec<serde_json::Value> {
        // The common case, no write of this client pending: nothing to merge or decode.
        let pending = {
            let pending = self
                .shared
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            pending.iter().any(|p| p.app.eq_ignore_ascii_case(app))
        };
        if !pending {
            return listed;
        }
        let fics: Vec<Fic> = listed
            .iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect();
        if fics.len() != listed.len() {
            return listed;
        }
        let (merged, changed) = self.merge_local(app, fics);
        if !changed {
            return listed;
        }
        merged
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_classified_from_alternative_names() {
        let ua = SpRow {
            id: "p1".into(),
            app_id: "c1".into(),
            display_name: Some("id-payments".into()),
            alternative_names: vec![
                "isExplicit=True".into(),
                "/subscriptions/s1/resourcegroups/rg-pay/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments".into(),
            ],
            service_principal_type: Some("ManagedIdentity".into()),
        };
        let id = identity_from_sp(ua);
        assert_eq!(id.kind, IdentityKind::UserAssigned);
        assert_eq!(id.principal_id, "p1");
        assert_eq!(id.client_id, "c1");
        assert_eq!(id.subscription.as_deref(), Some("s1"));
        assert_eq!(id.resource_group.as_deref(), Some("rg-pay"));

        let sa = SpRow {
            id: "p2".into(),
            app_id: "c2".into(),
            display_name: Some("vm-legacy".into()),
            alternative_names: vec![
                "isExplicit=False".into(),
                "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-legacy".into(),
            ],
            service_principal_type: Some("ManagedIdentity".into()),
        };
        assert_eq!(identity_from_sp(sa).kind, IdentityKind::SystemAssigned);
    }

    #[test]
    fn odata_literals_and_query_values_are_escaped() {
        assert_eq!(odata_quote("o'brien"), "o''brien");
        assert_eq!(urlencode("a eq 'b c'"), "a%20eq%20%27b%20c%27");
        assert_eq!(path_seg("x/y"), "x%2Fy");
    }

    #[test]
    fn read_back_verification_names_each_difference() {
        let want = Fic {
            name: "n".into(),
            issuer: "i".into(),
            subject: "s".into(),
            audiences: vec!["a".into()],
            ..Fic::default()
        };
        assert!(verify_same(&want, &want.clone()).is_ok());
        let got = Fic {
            subject: "S".into(),
            ..want.clone()
        };
        let e = verify_same(&want, &got).expect_err("differs");
        assert!(e.to_string().contains("subject"), "{e}");
    }
}
