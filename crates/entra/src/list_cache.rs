//! The warm start (issue 17): the console's lists of one tenant — apps with their FICs (so the
//! FIC counts and subjects), secret and certificate expiries, and the managed identities —
//! kept in the cache directory with the `@odata.deltaLink` that brings them up to date. No
//! tokens and no secret values (a secret's `hint`, its first characters, is dropped).
//!
//! One file a tenant (`lists-<tenant id>.bin`, 0600 in a 0700 directory, replaced atomically
//! through `ficus_files`), in a compact versioned layout (`codec`: the warm start reads 100,000
//! apps in tens of milliseconds): a file of another version, or one that does not decode, is
//! refused ([`ListCacheError::Corrupt`]) and the caller lists from scratch and writes a new
//! one. A refresh replays the delta link: changed apps are fetched again with
//! their FICs (`$filter=id in (…)`, 15 at a time, in parallel), removed ones dropped; Graph's
//! 410 for an expired link is [`Refresh::Expired`] and the caller lists everything again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::EntraError;
use super::graph::{APP_CONSOLE_LIGHT_SELECT, AppListItem, GraphClient, odata_quote, urlencode};
use ficus_core::fic::Identity;

mod codec;

/// The format of the file; another value is refused and rebuilt. 1 was JSON (`apps-*.json`).
pub const FORMAT_VERSION: u32 = 2;
/// Ids in one `id in (…)` filter (Graph's limit on `in` values).
pub const IDS_PER_REQUEST: usize = 15;

#[derive(Debug, thiserror::Error)]
pub enum ListCacheError {
    #[error("cannot use the list cache at {path}: {source}; check the directory's permissions")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the list cache {path} is unreadable ({detail}); it will be rebuilt from a full listing"
    )]
    Corrupt { path: PathBuf, detail: String },
}

/// What the console shows of one tenant, as last listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListCache {
    pub version: u32,
    pub tenant_id: String,
    /// When the lists were last brought up to date (Unix seconds).
    pub saved_at: i64,
    /// By object id.
    pub apps: BTreeMap<String, AppListItem>,
    #[serde(default)]
    pub identities: Vec<Identity>,
    /// Replays the app list's changes since `saved_at`.
    pub apps_delta_link: Option<String>,
    /// Replays the managed identities' changes (`servicePrincipals/delta`); `None`: the
    /// identities are listed in full on the next refresh.
    #[serde(default)]
    pub identities_delta_link: Option<String>,
}

/// A cache as the warm start reads it: the apps by name, in a list.
#[derive(Debug, Clone)]
pub struct InNameOrder {
    /// Everything but the apps.
    rest: ListCache,
    pub apps: Vec<AppListItem>,
}

impl InNameOrder {
    /// When the lists were last brought up to date (Unix seconds).
    pub fn saved_at(&self) -> i64 {
        self.rest.saved_at
    }

    pub fn tenant_id(&self) -> &str {
        &self.rest.tenant_id
    }

    /// The cache itself (the apps by id), to refresh and save.
    pub fn into_cache(self) -> ListCache {
        let mut cache = self.rest;
        cache.apps = self
            .apps
            .into_iter()
            .map(|app| (app.id.clone(), app))
            .collect();
        cache
    }
}

/// What a refresh changed, row by row.
#[derive(Debug, Clone, PartialEq)]
pub enum Changes {
    /// These apps as they are now (changed or added), and the object ids of those removed.
    Applied {
        changed: Vec<AppListItem>,
        removed: Vec<String>,
    },
    /// Graph no longer knows the delta link: list everything ([`list_in_full`]).
    Expired,
}

/// How a refresh went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Applied: apps changed (or added) and removed.
    Applied { changed: usize, removed: usize },
    /// Graph no longer knows the delta link (410 / `syncStateNotFound`): list everything.
    Expired,
}

impl ListCache {
    pub fn new(tenant_id: &str) -> ListCache {
        ListCache {
            version: FORMAT_VERSION,
            tenant_id: tenant_id.to_string(),
            saved_at: now(),
            apps: BTreeMap::new(),
            identities: Vec::new(),
            apps_delta_link: None,
            identities_delta_link: None,
        }
    }

    /// `$XDG_CACHE_HOME/ficus/lists` (or the platform's equivalent).
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "ficus").map(|p| p.cache_dir().join("lists"))
    }

    pub fn path(dir: &Path, tenant_id: &str) -> PathBuf {
        let safe: String = tenant_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        dir.join(format!("lists-{safe}.bin"))
    }

    /// Where format 1 (JSON) kept the tenant's lists: removed once format 2 is written.
    fn legacy_path(dir: &Path, tenant_id: &str) -> PathBuf {
        let path = Self::path(dir, tenant_id);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .replacen("lists-", "apps-", 1)
            .replace(".bin", ".json");
        dir.join(name)
    }

    /// The tenant's file read and decoded by `decode`: `Ok(None)` when there is none, `Corrupt`
    /// when it does not decode or holds another tenant (whose name `tenant_of` finds).
    fn read_checked<T>(
        dir: &Path,
        tenant_id: &str,
        decode: impl FnOnce(&[u8]) -> Result<T, String>,
        tenant_of: impl FnOnce(&T) -> &String,
    ) -> Result<Option<T>, ListCacheError> {
        let path = Self::path(dir, tenant_id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ListCacheError::Io { path, source }),
        };
        let decoded = match decode(&bytes) {
            Ok(decoded) => decoded,
            Err(detail) => return Err(ListCacheError::Corrupt { path, detail }),
        };
        let holds = tenant_of(&decoded);
        if !holds.eq_ignore_ascii_case(tenant_id) {
            let detail = format!("it holds tenant {holds}");
            return Err(ListCacheError::Corrupt { path, detail });
        }
        Ok(Some(decoded))
    }

    /// The tenant's cache: `Ok(None)` when there is none, `Corrupt` for a file of another
    /// version or that does not parse (the caller rebuilds it).
    pub fn load(dir: &Path, tenant_id: &str) -> Result<Option<ListCache>, ListCacheError> {
        Self::read_checked(dir, tenant_id, codec::decode, |cache| &cache.tenant_id)
    }

    /// The tenant's cache for the warm start: the apps in the console's order (by name, as
    /// the file keeps them), ready to become rows without a sort; [`InNameOrder::into_cache`]
    /// makes the cache to refresh. `Ok(None)`: there is none; `Corrupt`: as [`ListCache::load`].
    pub fn load_in_name_order(
        dir: &Path,
        tenant_id: &str,
    ) -> Result<Option<InNameOrder>, ListCacheError> {
        let decoded = Self::read_checked(dir, tenant_id, codec::decode_in_order, |(rest, _)| {
            &rest.tenant_id
        })?;
        Ok(decoded.map(|(rest, apps)| InNameOrder { rest, apps }))
    }

    /// Only the managed identities of the tenant's cache (the Identities list), without
    /// decoding its apps; `Ok(None)` when there is no cache.
    pub fn load_identities(
        dir: &Path,
        tenant_id: &str,
    ) -> Result<Option<Vec<Identity>>, ListCacheError> {
        let head_only = |bytes: &[u8]| codec::decode_head(bytes).map(|(head, _)| head);
        let decoded = Self::read_checked(dir, tenant_id, head_only, |head| &head.tenant_id)?;
        Ok(decoded.map(|head| head.identities))
    }

    /// Writes the cache (0600 in a 0700 directory), replacing the old file atomically.
    pub fn save(&self, dir: &Path) -> Result<(), ListCacheError> {
        create_private_dir(dir)?;
        let path = Self::path(dir, &self.tenant_id);
        let mut clean = self.clone();
        for app in clean.apps.values_mut() {
            for secret in &mut app.password_credentials {
                secret.hint = None;
            }
        }
        let bytes = codec::encode(&clean);
        ficus_files::write_atomic(&path, &bytes, ficus_files::Access::Private)
            .map_err(|source| ListCacheError::Io { path, source })?;
        let _ = std::fs::remove_file(Self::legacy_path(dir, &self.tenant_id));
        Ok(())
    }

    /// Removes the tenant's cache file (a corrupt one before rebuilding).
    pub fn remove(dir: &Path, tenant_id: &str) {
        let _ = std::fs::remove_file(Self::path(dir, tenant_id));
    }

    /// How old the lists are, in seconds.
    pub fn age_secs(&self) -> i64 {
        (now() - self.saved_at).max(0)
    }

    /// Re-reads one app ficus just changed and saves it into the tenant's cache (if there is
    /// one): the next start shows the change at once.
    pub async fn note_changed(
        graph: &GraphClient,
        dir: &Path,
        tenant_id: &str,
        app_object_id: &str,
    ) -> Result<(), EntraError> {
        let Ok(Some(mut cache)) = ListCache::load(dir, tenant_id) else {
            return Ok(());
        };
        let fresh = graph
            .console_apps_by_id(&[app_object_id.to_string()])
            .await?;
        if fresh.is_empty() {
            cache.apps.remove(app_object_id);
        }
        for app in fresh {
            cache.upsert(app);
        }
        if let Err(e) = cache.save(dir) {
            tracing::warn!(error = %e, "the list cache could not be saved");
        }
        Ok(())
    }

    /// Puts an app ficus just changed (or listed) in place.
    pub fn upsert(&mut self, mut app: AppListItem) {
        // A secret's hint is its first characters: not kept, in memory or on disk.
        for secret in &mut app.password_credentials {
            secret.hint = None;
        }
        self.apps.insert(app.id.clone(), app);
    }

    /// Brings the apps up to date through the saved delta link.
    pub async fn refresh(&mut self, graph: &GraphClient) -> Result<Refresh, EntraError> {
        Ok(match self.refresh_changes(graph).await? {
            Changes::Applied { changed, removed } => Refresh::Applied {
                changed: changed.len(),
                removed: removed.len(),
            },
            Changes::Expired => Refresh::Expired,
        })
    }

    /// [`ListCache::refresh`] saying which apps changed (as they are now) and which left, so
    /// a list already on screen changes just those rows.
    pub async fn refresh_changes(&mut self, graph: &GraphClient) -> Result<Changes, EntraError> {
        let Some(link) = self.apps_delta_link.clone() else {
            return Ok(Changes::Expired);
        };
        let changes = match graph.apps_delta(&link).await {
            Ok(changes) => changes,
            Err(EntraError::Graph(g))
                if g.status == 410 || g.code.eq_ignore_ascii_case("syncStateNotFound") =>
            {
                return Ok(Changes::Expired);
            }
            Err(e) => return Err(e),
        };
        for id in &changes.removed {
            self.apps.remove(id);
        }
        let fresh = graph.console_apps_by_id(&changes.changed).await?;
        // Changed, then deleted before the read: it leaves the list too.
        let mut removed = changes.removed;
        for id in &changes.changed {
            if !fresh.iter().any(|app| &app.id == id) && self.apps.remove(id).is_some() {
                removed.push(id.clone());
            }
        }
        let mut changed = Vec::with_capacity(fresh.len());
        for mut app in fresh {
            for secret in &mut app.password_credentials {
                secret.hint = None;
            }
            changed.push(app.clone());
            self.upsert(app);
        }
        self.apps_delta_link = Some(changes.delta_link);
        self.saved_at = now();
        Ok(Changes::Applied { changed, removed })
    }

    /// Brings the managed identities up to date: through the service principals' delta link
    /// when there is one (Graph cannot filter that delta to managed identities, so any
    /// service principal changed lists the managed identities again: they are few next to
    /// the apps), else a full listing with a fresh link. `Ok(true)`: they changed.
    pub async fn refresh_identities(&mut self, graph: &GraphClient) -> Result<bool, EntraError> {
        if let Some(link) = self.identities_delta_link.clone() {
            match graph.service_principals_delta(&link).await {
                Ok(changes) if changes.changed.is_empty() && changes.removed.is_empty() => {
                    self.identities_delta_link = Some(changes.delta_link);
                    return Ok(false);
                }
                Ok(_) => {}
                Err(EntraError::Graph(g))
                    if g.status == 410 || g.code.eq_ignore_ascii_case("syncStateNotFound") => {}
                Err(e) => return Err(e),
            }
        }
        let link = graph.service_principals_delta_latest().await.ok();
        let listed = graph.list_managed_identities().await?;
        let changed = listed != self.identities;
        self.identities = listed;
        self.identities_delta_link = link;
        Ok(changed)
    }
}

/// How the lists were opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// From the cache, brought up to date through its delta link.
    Warm {
        /// How old the cache was before the refresh, in seconds.
        age_secs: i64,
        changed: usize,
        removed: usize,
    },
    /// Listed in full: no cache, an unreadable one (rebuilt), or an expired delta link.
    Cold { reason: String },
    /// From the cache as it was: the refresh failed (Graph unreachable, throttled past what
    /// ficus waits); the rows are `age_secs` old.
    Stale { age_secs: i64, error: String },
}

/// Opens the tenant's app list: the cache refreshed through delta when it can be, else a full
/// parallel listing (a delta link taken first, so changes during the listing are not lost),
/// saved as the new cache. `emit` gets the rows of a cold listing page by page as they come.
pub async fn open_apps(
    graph: &GraphClient,
    dir: &Path,
    tenant_id: &str,
    emit: impl Fn(Vec<AppListItem>) -> bool + Send + Sync,
) -> Result<(ListCache, Start), EntraError> {
    let reason = match ListCache::load(dir, tenant_id) {
        Ok(Some(mut cache)) => {
            let age_secs = cache.age_secs();
            match cache.refresh(graph).await {
                Err(e) => {
                    tracing::warn!(error = %e, age_secs, "showing the cached lists: the refresh failed");
                    let error = e.to_string();
                    return Ok((cache, Start::Stale { age_secs, error }));
                }
                Ok(Refresh::Applied { changed, removed }) => {
                    // Nothing changed: the saved file and its link stay good (a delta link
                    // can be replayed until Graph expires it), so the start skips the write.
                    if changed + removed > 0
                        && let Err(e) = cache.save(dir)
                    {
                        tracing::warn!(error = %e, "the list cache could not be saved");
                    }
                    return Ok((
                        cache,
                        Start::Warm {
                            age_secs,
                            changed,
                            removed,
                        },
                    ));
                }
                Ok(Refresh::Expired) => "the saved delta link has expired".to_string(),
            }
        }
        Ok(None) => "no cached lists yet".to_string(),
        Err(e) => {
            tracing::warn!(error = %e, "rebuilding the list cache");
            ListCache::remove(dir, tenant_id);
            e.to_string()
        }
    };
    let cache = list_in_full(graph, dir, tenant_id, emit).await?;
    Ok((cache, Start::Cold { reason }))
}

/// Lists every app in parallel (a delta link taken first, so changes during the listing are
/// not lost) and saves the lists as the tenant's new cache. `emit` gets the rows page by page.
pub async fn list_in_full(
    graph: &GraphClient,
    dir: &Path,
    tenant_id: &str,
    emit: impl Fn(Vec<AppListItem>) -> bool + Send + Sync,
) -> Result<ListCache, EntraError> {
    // A Graph that refuses the delta query still lists: the next start is cold again.
    let link = match graph.apps_delta_latest().await {
        Ok(link) => Some(link),
        Err(e) => {
            tracing::warn!(error = %e, "no delta link for the app list; the next start lists in full");
            None
        }
    };
    let listed = std::sync::Mutex::new(Vec::new());
    graph
        .list_parallel(Default::default(), |rows| {
            listed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(rows.iter().cloned());
            emit(rows)
        })
        .await?;
    let mut cache = ListCache::new(tenant_id);
    for app in listed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        cache.upsert(app);
    }
    cache.apps_delta_link = link;
    // The identities ride along (few next to the apps); without them the file still serves.
    if let Err(e) = cache.refresh_identities(graph).await {
        tracing::warn!(error = %e, "the managed identities are not cached this time");
    }
    if let Err(e) = cache.save(dir) {
        tracing::warn!(error = %e, "the list cache could not be saved");
    }
    Ok(cache)
}

/// What a delta round reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeltaChanges {
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub delta_link: String,
}

#[derive(Deserialize)]
struct DeltaRow {
    id: String,
    #[serde(default, rename = "@removed")]
    removed: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DeltaPage {
    #[serde(default = "Vec::new")]
    value: Vec<DeltaRow>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(default, rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

impl GraphClient {
    /// A delta link for the app list as it is now (`$deltatoken=latest`: no objects), taken
    /// before a full listing so nothing changed during it is missed.
    pub async fn apps_delta_latest(&self) -> Result<String, EntraError> {
        // The console's columns: a change to any of them makes the app show in the delta.
        let url = self.url_of(&format!(
            "applications/delta?$select={APP_CONSOLE_LIGHT_SELECT}&$deltatoken=latest"
        ));
        Ok(self.apps_delta(&url).await?.delta_link)
    }

    /// A delta link for the service principals as they are now (`$deltatoken=latest`).
    pub async fn service_principals_delta_latest(&self) -> Result<String, EntraError> {
        let url = self.url_of(
            "servicePrincipals/delta?$select=id,appId,displayName,alternativeNames,servicePrincipalType&$deltatoken=latest",
        );
        Ok(self.apps_delta(&url).await?.delta_link)
    }

    /// Follows a service principals delta round: the ids changed and removed.
    pub async fn service_principals_delta(&self, link: &str) -> Result<DeltaChanges, EntraError> {
        self.apps_delta(link).await
    }

    /// Follows a delta round from `link` to its deltaLink: the ids changed and removed.
    pub async fn apps_delta(&self, link: &str) -> Result<DeltaChanges, EntraError> {
        let mut out = DeltaChanges::default();
        let mut next = link.to_string();
        loop {
            let page: DeltaPage = self.get_json_page(&next).await?;
            for row in page.value {
                if row.removed.is_some() {
                    out.removed.push(row.id);
                } else {
                    out.changed.push(row.id);
                }
            }
            match (page.next_link, page.delta_link) {
                (Some(link), _) => next = link,
                (None, Some(delta)) => {
                    out.delta_link = delta;
                    return Ok(out);
                }
                (None, None) => {
                    return Err(EntraError::Graph(Box::new(super::error::GraphError {
                        status: 200,
                        code: "NoDeltaLink".into(),
                        message:
                            "Graph ended a delta round without a deltaLink; list everything again."
                                .into(),
                        request_id: None,
                        client_request_id: None,
                        date: None,
                    })));
                }
            }
        }
    }

    /// The console's columns and FICs of these apps, `IDS_PER_REQUEST` a request, all in
    /// parallel. Apps deleted meanwhile are simply absent.
    pub async fn console_apps_by_id(&self, ids: &[String]) -> Result<Vec<AppListItem>, EntraError> {
        let requests = ids.chunks(IDS_PER_REQUEST).map(|chunk| {
            let list = chunk
                .iter()
                .map(|id| format!("'{}'", odata_quote(id)))
                .collect::<Vec<_>>()
                .join(",");
            let url = self.url_of(&format!(
                "applications?$select={APP_CONSOLE_LIGHT_SELECT}&$expand=federatedIdentityCredentials&$filter={}",
                urlencode(&format!("id in ({list})"))
            ));
            async move {
                #[derive(Deserialize)]
                struct Rows {
                    #[serde(default = "Vec::new")]
                    value: Vec<AppListItem>,
                }
                let rows: Rows = self.get_json_page(&url).await?;
                // This client's own writes Graph does not show yet count too.
                let rows = rows.value.into_iter().map(|mut item| {
                    if let Some(listed) = item.federated_identity_credentials.take() {
                        item.federated_identity_credentials =
                            Some(self.merge_local_values(&item.id, listed));
                    }
                    item
                });
                Ok::<_, EntraError>(rows.collect::<Vec<_>>())
            }
        });
        let pages = futures_util::future::try_join_all(requests).await?;
        Ok(pages.into_iter().flatten().collect())
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), ListCacheError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|_| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|source| ListCacheError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), ListCacheError> {
    std::fs::create_dir_all(dir).map_err(|source| ListCacheError::Io {
        path: dir.to_path_buf(),
        source,
    })
}
