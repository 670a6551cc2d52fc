//! The Microsoft Graph client: app registrations (streamed page by page), one app, its
//! federated identity credentials (create / update / delete with read-back verification),
//! managed identities, the reverse lookup of apps trusting an identity, and GUID resolution.

use std::time::Duration;

use futures_util::Stream;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::error::EntraError;
use super::http::{Http, Response, Retry};
use super::signin::Credentials;
use ficus_core::fic::{ArmId, Fic, FicUpdate, Identity, IdentityKind};
use ficus_core::secret::Secret;

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

/// What a GUID is in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuidKind {
    AppObjectId,
    /// An app registration's application (client) id.
    AppClientId,
    ServicePrincipalId,
    /// A service principal's `appId` (the client id of the app it represents).
    ServicePrincipalAppId,
    ManagedIdentityClientId,
    ManagedIdentityPrincipalId,
    TenantId,
    FicId,
    UserId,
}

/// One thing a GUID names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuidMatch {
    pub kind: GuidKind,
    pub display_name: String,
    /// The object's other ids, for context (`appId`, object id, ARM id…).
    pub details: Vec<(String, String)>,
}

/// Graph, for one signed-in session. Cheap to clone; clones share the HTTP client and tokens.
#[derive(Clone, Debug)]
pub struct GraphClient {
    http: Http,
    /// Graph root with version, e.g. `https://graph.microsoft.com/v1.0`.
    base: String,
    credentials: Credentials,
    read_only: bool,
    /// How long a just-created FIC may stay invisible to reads (replication).
    pub read_back_window: Duration,
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
        }
    }

    pub fn base(&self) -> &str {
        &self.base
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
    async fn call(
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

    /// The app's FICs.
    pub async fn list_fics(&self, app_object_id: &str) -> Result<Vec<Fic>, EntraError> {
        self.get_all(self.fics_url(app_object_id), &[]).await
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

    /// Creates a FIC and verifies it by reading it back.
    ///
    /// The POST is not retried blindly: if the answer is lost (dropped connection, 503/504),
    /// the FIC is looked up by name; if it exists with the same issuer and subject the create is
    /// taken as done. After a 201, a 404 on the read-back (replication) is retried for
    /// [`GraphClient::read_back_window`].
    pub async fn create_fic(&self, app_object_id: &str, fic: &Fic) -> Result<Fic, EntraError> {
        self.ensure_writable("creating a federated identity credential")?;
        let body = serde_json::json!({
            "name": fic.name,
            "issuer": fic.issuer,
            "subject": fic.subject,
            "audiences": fic.audiences,
            "description": fic.description,
        });
        let url = self.fics_url(app_object_id);
        let outcome = self
            .call(Method::POST, &url, Retry::Create, &[], Some(&body))
            .await;
        let created: Option<Fic> = match outcome {
            Ok(resp) if resp.is_success() => Some(resp.json("Graph")?),
            Ok(resp) if matches!(resp.status.as_u16(), 502..=504) => None,
            Ok(resp) => return Err(resp.graph_error().into()),
            Err(EntraError::Network(n)) => {
                tracing::warn!(error = %n, "create answer lost; reading back");
                None
            }
            Err(e) => return Err(e),
        };
        let key = created
            .as_ref()
            .and_then(|c| c.id.clone())
            .unwrap_or_else(|| fic.name.clone());
        let read = self.read_back(app_object_id, &key).await?;
        match read {
            Some(back) => {
                verify_same(fic, &back)?;
                Ok(back)
            }
            None if created.is_some() => Err(EntraError::Verification {
                detail: format!(
                    "Graph answered 201 for '{}' but it is still not readable after {} s (replication); list the app's credentials again in a minute",
                    fic.name,
                    self.read_back_window.as_secs()
                ),
            }),
            None => Err(EntraError::Verification {
                detail: format!(
                    "the answer to creating '{}' was lost and it does not exist; nothing was created, try again",
                    fic.name
                ),
            }),
        }
    }

    async fn read_back(
        &self,
        app_object_id: &str,
        id_or_name: &str,
    ) -> Result<Option<Fic>, EntraError> {
        let deadline = tokio::time::Instant::now() + self.read_back_window;
        let mut wait = Duration::from_millis(200);
        loop {
            if let Some(f) = self.get_fic(app_object_id, id_or_name).await? {
                return Ok(Some(f));
            }
            if tokio::time::Instant::now() + wait > deadline {
                return Ok(None);
            }
            tokio::time::sleep(wait).await;
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
        let back =
            self.get_fic(app_object_id, key)
                .await?
                .ok_or_else(|| EntraError::Verification {
                    detail: format!("'{key}' is gone after the update"),
                })?;
        let checks = [
            (
                "issuer",
                update.issuer.as_deref(),
                Some(back.issuer.as_str()),
            ),
            (
                "subject",
                update.subject.as_deref(),
                Some(back.subject.as_str()),
            ),
            // A cleared description may read back as absent or as "".
            (
                "description",
                update.description.as_deref(),
                Some(back.description.as_deref().unwrap_or("")),
            ),
        ];
        for (field, want, got) in checks {
            if let Some(w) = want
                && Some(w) != got
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
        Ok(back)
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
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Managed identities

    /// Managed identities (service principals of type ManagedIdentity), classified.
    pub async fn list_managed_identities(&self) -> Result<Vec<Identity>, EntraError> {
        let filter = urlencode("servicePrincipalType eq 'ManagedIdentity'");
        let url = self.url(&format!(
            "servicePrincipals?$filter={filter}&$select=id,appId,displayName,alternativeNames,appOwnerOrganizationId,servicePrincipalType&$top={PAGE_SIZE}"
        ));
        let rows: Vec<SpRow> = self.get_all(url, &[]).await?;
        Ok(rows.into_iter().map(identity_from_sp).collect())
    }

    // -----------------------------------------------------------------------------------------
    // Reverse lookup

    /// Apps with a FIC whose subject is `principal_id` (advanced query: `ConsistencyLevel:
    /// eventual` and `$count=true`), each with the FICs that trust it.
    pub async fn apps_trusting(&self, principal_id: &str) -> Result<Vec<TrustingApp>, EntraError> {
        let filter = format!(
            "federatedIdentityCredentials/any(f:f/subject eq '{}')",
            odata_quote(principal_id)
        );
        let url = self.url(&format!(
            "applications?$filter={}&$count=true&$select={APP_LIST_SELECT}&$top={PAGE_SIZE}",
            urlencode(&filter)
        ));
        let rows: Vec<AppRow> = self
            .get_all(url, &[("ConsistencyLevel", "eventual")])
            .await?;
        let mut out = Vec::new();
        for row in rows {
            let app = AppSummary::from(row);
            let fics = self
                .list_fics(&app.id)
                .await?
                .into_iter()
                .filter(|f| f.subject == principal_id)
                .collect();
            out.push(TrustingApp { app, fics });
        }
        Ok(out)
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
        if let Some(app) = self
            .get_optional::<App>(&self.url(&format!("applications/{guid}")))
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
                kind: GuidKind::AppClientId,
                display_name: app.display_name.clone(),
                details: vec![("objectId".into(), app.id.clone())],
            });
        }
        let sp_select = "$select=id,appId,displayName,alternativeNames,servicePrincipalType,appOwnerOrganizationId";
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
    #[serde(default)]
    app_owner_organization_id: Option<String>,
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
        tenant_id: sp.app_owner_organization_id,
    }
}

fn sp_match(sp: SpRow, by_object_id: bool) -> GuidMatch {
    let is_mi = sp.service_principal_type.as_deref() == Some("ManagedIdentity");
    let name = sp.display_name.clone().unwrap_or_default();
    let kind = match (is_mi, by_object_id) {
        (true, true) => GuidKind::ManagedIdentityPrincipalId,
        (true, false) => GuidKind::ManagedIdentityClientId,
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

/// Columns of the console's app list: the summary's plus credentials and identifier URIs.
pub const APP_CONSOLE_SELECT: &str = "id,appId,displayName,signInAudience,createdDateTime,passwordCredentials,keyCredentials,identifierUris";

/// One app of the console's list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

impl GraphClient {
    /// One page of the console's app list; `next` is the previous page's `@odata.nextLink`
    /// (`None` for the first page). Returns the apps and the next link.
    pub async fn console_apps_page(
        &self,
        next: Option<String>,
    ) -> Result<(Vec<AppListItem>, Option<String>), EntraError> {
        let url = next.unwrap_or_else(|| {
            self.url(&format!(
                "applications?$select={APP_CONSOLE_SELECT}&$top={PAGE_SIZE}&$expand=federatedIdentityCredentials"
            ))
        });
        let page: Page<AppListItem> = self.get_ok(&url, &[]).await?.json("Graph")?;
        Ok((page.value, page.next_link))
    }

    /// One app with the console's columns.
    pub async fn console_app(&self, object_id: &str) -> Result<AppListItem, EntraError> {
        let url = self.url(&format!(
            "applications/{}?$select={APP_CONSOLE_SELECT}",
            urlencode(object_id)
        ));
        self.get_ok(&url, &[]).await?.json("Graph")
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
            app_owner_organization_id: None,
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
            app_owner_organization_id: None,
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
