//! The sandbox's directory: tenants with their users, app registrations, service principals
//! (managed identities included), signing keys, and the emulated host the managed identity
//! endpoints speak for.
//!
//! Field names serialize in Graph's camelCase so the persisted file reads like Graph, but this
//! is the *storage* shape: some fields are internal (`secret_text`, `created_at`, key
//! material) and must never be returned by Graph. The Graph layer projects what it serves.
//!
//! Collections are `BTreeMap`s keyed by object id so iteration order (and so Graph paging) is
//! stable. Each tenant keeps private `appId → id` indexes: add and remove applications and
//! service principals through [`Tenant::insert_application`] / [`Tenant::remove_application`]
//! (and the service principal twins); editing an existing object through `get_mut` is fine.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use ficus_core::secret::Secret;

/// The well-known app id of Microsoft Graph (the resource of Graph tokens).
pub const GRAPH_APP_ID: Uuid = uuid::uuid!("00000003-0000-0000-c000-000000000000");
/// Azure Resource Manager's app id.
pub const ARM_APP_ID: Uuid = uuid::uuid!("797f4846-ba00-4fd7-ba43-dac1f8f63013");
/// Azure Storage's app id.
pub const STORAGE_APP_ID: Uuid = uuid::uuid!("e406a681-f3d4-42a8-90b6-c2b029497af1");
/// Azure Key Vault's app id.
pub const KEY_VAULT_APP_ID: Uuid = uuid::uuid!("cfa8b339-82a2-471a-a3c9-0fc0be7a4093");
/// Azure CLI, the public client most people sign in with.
pub const AZURE_CLI_APP_ID: Uuid = uuid::uuid!("04b07795-8ddb-461a-bbee-02f9e1bf7b46");
/// Microsoft Graph Command Line Tools (dynamic consent).
pub const GRAPH_CLI_APP_ID: Uuid = uuid::uuid!("14d82eec-204b-4c2f-b7e8-296a70dab67e");

/// Graph's limit of federated identity credentials on one application.
pub const MAX_FICS_PER_APP: usize = 20;

/// Version of the persisted layout; a file with another version is refused, not guessed at.
pub const FORMAT_VERSION: u32 = 1;

/// Everything the sandbox knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub format_version: u32,
    /// The authority this directory was last served at (`https://127.0.0.1:8443`). FIC issuers
    /// that name this sandbox are rebased when it is served elsewhere (see
    /// [`Directory::rebase_authority`]).
    #[serde(default)]
    pub authority: Option<String>,
    pub tenants: Vec<Tenant>,
    /// The machine the MSI listener pretends to be.
    pub host: EmulatedHost,
    /// Sign-in logs and which tenants have Entra ID P1/P2 (see `sign_in_log.rs`).
    #[serde(
        default,
        skip_serializing_if = "crate::sign_in_log::AuditLogs::is_empty"
    )]
    pub audit: crate::sign_in_log::AuditLogs,
}

impl Directory {
    /// A tenant by id (any case), verified domain, or short name (`contoso`).
    pub fn tenant(&self, key: &str) -> Option<&Tenant> {
        let index = self.tenant_index(key)?;
        self.tenants.get(index)
    }

    pub fn tenant_mut(&mut self, key: &str) -> Option<&mut Tenant> {
        let index = self.tenant_index(key)?;
        self.tenants.get_mut(index)
    }

    pub fn tenant_by_id(&self, id: Uuid) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn tenant_by_id_mut(&mut self, id: Uuid) -> Option<&mut Tenant> {
        self.tenants.iter_mut().find(|t| t.id == id)
    }

    fn tenant_index(&self, key: &str) -> Option<usize> {
        let key = key.trim();
        if let Ok(id) = Uuid::parse_str(key) {
            return self.tenants.iter().position(|t| t.id == id);
        }
        self.tenants
            .iter()
            .position(|t| t.domain.eq_ignore_ascii_case(key) || t.name.eq_ignore_ascii_case(key))
    }

    /// Rebuilds the private indexes (after deserializing).
    pub fn reindex(&mut self) {
        for tenant in &mut self.tenants {
            tenant.reindex();
        }
    }

    /// Makes FIC issuers that pointed at this sandbox's previous authority point at `new`, so a
    /// state file keeps working when the sandbox moves to another port. Issuers of anything
    /// else are left alone.
    pub fn rebase_authority(&mut self, new: &str) {
        let new = new.trim_end_matches('/');
        if let Some(old) = self.authority.clone()
            && old != new
        {
            for tenant in &mut self.tenants {
                tenant.forget_application_names();
                for app in tenant.applications.values_mut() {
                    app.rebase_issuers(&old, new);
                }
            }
        }
        self.authority = Some(new.to_string());
    }

    /// Checks what the sandbox relies on and Graph would never let happen, naming the first
    /// problem: tenant ids, names and domains unique; objects filed under their own ids; app
    /// ids unique per tenant; at most [`MAX_FICS_PER_APP`] FICs per app, with unique ids and
    /// names; owners that are users of the tenant; an emulated host whose tenant and
    /// identities exist.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for t in &self.tenants {
            if !ids.insert(t.id) {
                return Err(format!("tenant id {} appears twice", t.id));
            }
            for key in [&t.name, &t.domain] {
                if !names.insert(key.to_ascii_lowercase()) {
                    return Err(format!("tenant name or domain '{key}' appears twice"));
                }
            }
            t.validate()
                .map_err(|problem| format!("tenant {} ({}): {problem}", t.name, t.id))?;
        }
        let host = self.tenant_by_id(self.host.tenant_id).ok_or_else(|| {
            format!(
                "the emulated host's tenant {} does not exist",
                self.host.tenant_id
            )
        })?;
        for id in self
            .host
            .system_assigned
            .iter()
            .chain(&self.host.user_assigned)
        {
            match host.service_principals.get(id) {
                Some(sp) if sp.service_principal_type == ServicePrincipalType::ManagedIdentity => {}
                Some(_) => {
                    return Err(format!(
                        "the emulated host's identity {id} is not a managed identity"
                    ));
                }
                None => {
                    return Err(format!(
                        "the emulated host's identity {id} does not exist in tenant {}",
                        host.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The tenant of the emulated host (where its identities live).
    pub fn host_tenant(&self) -> Option<&Tenant> {
        self.tenant_by_id(self.host.tenant_id)
    }
}

/// One Entra tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: Uuid,
    /// Short name used on the command line and in seed names: `contoso`.
    pub name: String,
    /// Initial verified domain: `contoso.onmicrosoft.com`.
    pub domain: String,
    pub display_name: String,
    pub created_date_time: Timestamp,
    pub users: BTreeMap<Uuid, User>,
    pub applications: BTreeMap<Uuid, Application>,
    pub service_principals: BTreeMap<Uuid, ServicePrincipal>,
    /// Delegated permission grants (consent) of clients on resources.
    #[serde(default)]
    pub permission_grants: Vec<PermissionGrant>,
    /// The token signing key as stored. Entra's keys are global, so every tenant of one
    /// directory holds the same key (older state files had one per tenant: the first tenant's
    /// is then used for all, see `keys::KeyRing`).
    pub signing_key: SigningKeyMaterial,
    #[serde(skip)]
    app_ids: HashMap<Uuid, Uuid>,
    #[serde(skip)]
    sp_app_ids: HashMap<Uuid, Uuid>,
    /// Applications by `displayName`, built by the first range listing, kept up to date by
    /// [`Tenant::insert_application`] / [`Tenant::remove_application`] and dropped by any
    /// other change (see [`Tenant::application_names`]).
    #[serde(skip)]
    app_names: std::sync::OnceLock<crate::listing::NameIndex>,
}

impl Tenant {
    /// The scopes `client` is consented to on `resource` for `user` (admin consent for all
    /// users, plus the user's own), as values.
    pub fn consented_scopes(&self, client: Uuid, resource: Uuid, user: Uuid) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        for g in &self.permission_grants {
            if g.client_app_id == client
                && g.resource_app_id == resource
                && g.principal_id.is_none_or(|p| p == user)
            {
                for s in g.scope.split_whitespace() {
                    if !scopes.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                        scopes.push(s.to_string());
                    }
                }
            }
        }
        scopes
    }

    pub fn new(
        id: Uuid,
        name: &str,
        domain: &str,
        display_name: &str,
        created: OffsetDateTime,
        signing_key: SigningKeyMaterial,
    ) -> Tenant {
        Tenant {
            id,
            name: name.to_string(),
            domain: domain.to_string(),
            display_name: display_name.to_string(),
            created_date_time: Timestamp(created),
            users: BTreeMap::new(),
            applications: BTreeMap::new(),
            service_principals: BTreeMap::new(),
            permission_grants: Vec::new(),
            signing_key,
            app_ids: HashMap::new(),
            sp_app_ids: HashMap::new(),
            app_names: std::sync::OnceLock::new(),
        }
    }

    fn validate(&self) -> Result<(), String> {
        for (key, user) in &self.users {
            if *key != user.id {
                return Err(format!("user {} is filed under id {key}", user.id));
            }
        }
        let mut app_ids = std::collections::HashSet::new();
        for (key, app) in &self.applications {
            if *key != app.id {
                return Err(format!("application {} is filed under id {key}", app.id));
            }
            if !app_ids.insert(app.app_id) {
                return Err(format!("appId {} is used by two applications", app.app_id));
            }
            let fics = &app.federated_identity_credentials;
            if fics.len() > MAX_FICS_PER_APP {
                return Err(format!(
                    "application {} ({}) has {} federated identity credentials; at most {MAX_FICS_PER_APP} are allowed",
                    app.display_name,
                    app.id,
                    fics.len()
                ));
            }
            let mut fic_ids = std::collections::HashSet::new();
            let mut fic_names = std::collections::HashSet::new();
            for fic in fics {
                if !fic_ids.insert(fic.id) || !fic_names.insert(fic.name.as_str()) {
                    return Err(format!(
                        "application {} ({}) has two federated identity credentials with the id or name of '{}'",
                        app.display_name, app.id, fic.name
                    ));
                }
            }
            if let Some(owner) = app.owners.iter().find(|o| !self.users.contains_key(o)) {
                return Err(format!(
                    "application {} ({}) is owned by {owner}, which is no user of the tenant",
                    app.display_name, app.id
                ));
            }
        }
        let mut sp_app_ids = std::collections::HashSet::new();
        for (key, sp) in &self.service_principals {
            if *key != sp.id {
                return Err(format!(
                    "service principal {} is filed under id {key}",
                    sp.id
                ));
            }
            if let Some(owner) = sp.owners.iter().find(|o| !self.users.contains_key(o)) {
                return Err(format!(
                    "service principal {} ({}) is owned by {owner}, which is no user of the tenant",
                    sp.display_name, sp.id
                ));
            }
            if !sp_app_ids.insert(sp.app_id) {
                return Err(format!(
                    "appId {} is used by two service principals",
                    sp.app_id
                ));
            }
        }
        Ok(())
    }

    pub fn reindex(&mut self) {
        self.forget_application_names();
        self.app_ids = self
            .applications
            .values()
            .map(|a| (a.app_id, a.id))
            .collect();
        self.sp_app_ids = self
            .service_principals
            .values()
            .map(|s| (s.app_id, s.id))
            .collect();
    }

    pub fn insert_application(&mut self, app: Application) {
        if let Some(names) = self.app_names.get_mut() {
            if let Some(old) = self.applications.get(&app.id) {
                names.remove(&old.display_name, old.id);
            }
            names.insert(&app.display_name, app.id);
        }
        self.app_ids.insert(app.app_id, app.id);
        self.applications.insert(app.id, app);
    }

    pub fn remove_application(&mut self, id: Uuid) -> Option<Application> {
        let app = self.applications.remove(&id)?;
        self.app_ids.remove(&app.app_id);
        if let Some(names) = self.app_names.get_mut() {
            names.remove(&app.display_name, app.id);
        }
        Some(app)
    }

    pub fn insert_service_principal(&mut self, sp: ServicePrincipal) {
        self.sp_app_ids.insert(sp.app_id, sp.id);
        self.service_principals.insert(sp.id, sp);
    }

    pub fn remove_service_principal(&mut self, id: Uuid) -> Option<ServicePrincipal> {
        let sp = self.service_principals.remove(&id)?;
        self.sp_app_ids.remove(&sp.app_id);
        Some(sp)
    }

    /// The applications by `displayName` (built on first use: a range listing of a large
    /// tenant then touches only its range).
    pub fn application_names(&self) -> &crate::listing::NameIndex {
        self.app_names.get_or_init(|| {
            crate::listing::NameIndex::build(
                self.applications
                    .values()
                    .map(|a| (a.display_name.as_str(), a.id)),
            )
        })
    }

    /// Drops the name index after a change made around [`Tenant::insert_application`] (through
    /// the public map): the next range listing rebuilds it.
    pub fn forget_application_names(&mut self) {
        self.app_names = std::sync::OnceLock::new();
    }

    pub fn application(&self, id: Uuid) -> Option<&Application> {
        self.applications.get(&id)
    }

    pub fn application_by_app_id(&self, app_id: Uuid) -> Option<&Application> {
        self.applications.get(self.app_ids.get(&app_id)?)
    }

    pub fn application_by_app_id_mut(&mut self, app_id: Uuid) -> Option<&mut Application> {
        let id = *self.app_ids.get(&app_id)?;
        // The caller may rename it.
        self.forget_application_names();
        self.applications.get_mut(&id)
    }

    pub fn service_principal_by_app_id(&self, app_id: Uuid) -> Option<&ServicePrincipal> {
        self.service_principals.get(self.sp_app_ids.get(&app_id)?)
    }

    /// A user by object id or UPN (case-insensitive, as Entra treats UPNs).
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        if let Ok(id) = Uuid::parse_str(id_or_upn.trim()) {
            return self.users.get(&id);
        }
        self.users
            .values()
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(id_or_upn.trim()))
    }

    /// The managed identity service principals (user- and system-assigned).
    pub fn managed_identities(&self) -> impl Iterator<Item = &ServicePrincipal> {
        self.service_principals
            .values()
            .filter(|s| s.service_principal_type == ServicePrincipalType::ManagedIdentity)
    }
}

/// An RFC 3339 UTC timestamp (`2026-11-25T21:00:00Z`), Graph's date-time format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// Graph's rendering: whole seconds, `Z`.
    pub fn to_graph_string(&self) -> String {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        let t = t.replace_nanosecond(0).unwrap_or(t);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_graph_string())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .map(Timestamp)
            .map_err(|e| serde::de::Error::custom(format!("bad date-time '{text}': {e}")))
    }
}

/// A directory role a user holds (only the ones that matter for app management).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DirectoryRole {
    GlobalAdministrator,
    ApplicationAdministrator,
    CloudApplicationAdministrator,
    ApplicationDeveloper,
    GlobalReader,
}

impl DirectoryRole {
    /// The role template id Entra puts in the `wids` claim.
    pub fn template_id(self) -> Uuid {
        match self {
            DirectoryRole::GlobalAdministrator => {
                uuid::uuid!("62e90394-69f5-4237-9190-012177145e10")
            }
            DirectoryRole::ApplicationAdministrator => {
                uuid::uuid!("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3")
            }
            DirectoryRole::CloudApplicationAdministrator => {
                uuid::uuid!("158c047a-c907-4556-b7ef-446551a6b5f7")
            }
            DirectoryRole::ApplicationDeveloper => {
                uuid::uuid!("cf1c38e5-3621-4004-a7cb-879624dced7c")
            }
            DirectoryRole::GlobalReader => uuid::uuid!("f2ef992c-3afb-46b9-b7cf-a126ee74c451"),
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            DirectoryRole::GlobalAdministrator => "Global Administrator",
            DirectoryRole::ApplicationAdministrator => "Application Administrator",
            DirectoryRole::CloudApplicationAdministrator => "Cloud Application Administrator",
            DirectoryRole::ApplicationDeveloper => "Application Developer",
            DirectoryRole::GlobalReader => "Global Reader",
        }
    }

    /// May this role create, update and delete any application's credentials (FICs)?
    pub fn can_manage_all_applications(self) -> bool {
        matches!(
            self,
            DirectoryRole::GlobalAdministrator
                | DirectoryRole::ApplicationAdministrator
                | DirectoryRole::CloudApplicationAdministrator
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub roles: Vec<DirectoryRole>,
}

impl User {
    pub fn can_manage_all_applications(&self) -> bool {
        self.roles.iter().any(|r| r.can_manage_all_applications())
    }
}

/// An app registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Object id.
    pub id: Uuid,
    /// Application (client) id.
    pub app_id: Uuid,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_date_time: Timestamp,
    /// `AzureADMyOrg`, `AzureADMultipleOrgs`, `AzureADandPersonalMicrosoftAccount`, `PersonalMicrosoftAccount`.
    pub sign_in_audience: String,
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    #[serde(default)]
    pub publisher_domain: Option<String>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    pub federated_identity_credentials: Vec<FederatedIdentityCredential>,
    #[serde(default)]
    pub app_roles: Vec<AppRole>,
    /// Public client flows allowed (device code without a secret).
    #[serde(default)]
    pub is_fallback_public_client: bool,
    /// Object ids of owning users (owners may edit the app without an admin role).
    #[serde(default)]
    pub owners: Vec<Uuid>,
    /// The `api` section: the access token version the app accepts and the delegated
    /// permissions (scopes) it publishes.
    #[serde(default)]
    pub api: ApiApplication,
}

/// Graph's `apiApplication` (the parts the token service reads).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiApplication {
    /// `null` or `1`: Entra issues v1 access tokens for this API (the default); `2`: v2.
    #[serde(default)]
    pub requested_access_token_version: Option<u8>,
    /// Delegated permissions the API publishes (`scp` values clients may be granted).
    #[serde(default)]
    pub oauth2_permission_scopes: Vec<PermissionScope>,
}

impl ApiApplication {
    /// The access token version Entra issues for this API: 2 only when asked for.
    pub fn access_token_version(&self) -> u8 {
        if self.requested_access_token_version == Some(2) {
            2
        } else {
            1
        }
    }
}

/// A delegated permission an API publishes (`oauth2PermissionScopes` item).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionScope {
    pub id: Uuid,
    /// The `scp` value: `user_impersonation`, `Orders.Read`…
    pub value: String,
    /// `User` (users may consent) or `Admin` (admin consent required).
    #[serde(rename = "type")]
    pub consent_type: String,
    #[serde(default)]
    pub admin_consent_display_name: String,
    pub is_enabled: bool,
}

/// A delegated permission grant (Graph's `oAuth2PermissionGrant`): the client may get these
/// scopes on the resource for every user (`AllPrincipals`, admin consent) or for one user.
/// Keyed by app ids rather than service principal object ids, since the sandbox has no service
/// principals for first-party clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionGrant {
    pub client_app_id: Uuid,
    pub resource_app_id: Uuid,
    /// Space-separated scope values.
    pub scope: String,
    /// `None`: all users (admin consent); `Some(user)`: that user's own consent.
    #[serde(default)]
    pub principal_id: Option<Uuid>,
}

impl Application {
    /// Points FIC issuers that named the sandbox at `old` to `new` (see
    /// [`Directory::rebase_authority`]).
    pub fn rebase_issuers(&mut self, old: &str, new: &str) {
        let (old, new) = (old.trim_end_matches('/'), new.trim_end_matches('/'));
        if old == new {
            return;
        }
        let old_prefix = format!("{old}/");
        for fic in &mut self.federated_identity_credentials {
            if let Some(rest) = fic.issuer.strip_prefix(&old_prefix) {
                fic.issuer = format!("{new}/{rest}");
            }
        }
    }

    pub fn fic(&self, id_or_name: &str) -> Option<&FederatedIdentityCredential> {
        match Uuid::parse_str(id_or_name) {
            Ok(id) => self
                .federated_identity_credentials
                .iter()
                .find(|f| f.id == id),
            Err(_) => self
                .federated_identity_credentials
                .iter()
                .find(|f| f.name == id_or_name),
        }
    }
}

/// A client secret. Graph never returns `secret_text` after creation; the sandbox keeps it to
/// check `client_secret` grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    pub key_id: Uuid,
    #[serde(default)]
    pub display_name: Option<String>,
    /// First three characters of the secret, as Graph shows.
    pub hint: String,
    pub start_date_time: Timestamp,
    pub end_date_time: Timestamp,
    /// Internal: the secret value.
    pub secret_text: Secret<String>,
}

/// A certificate credential (public part only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub key_id: Uuid,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `AsymmetricX509Cert`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// `Verify`.
    pub usage: String,
    /// Base64 SHA-1 thumbprint of the certificate.
    pub custom_key_identifier: String,
    pub start_date_time: Timestamp,
    pub end_date_time: Timestamp,
    /// Internal: the certificate (base64 DER) when it was uploaded, to check assertions signed
    /// with its key. Graph never returns it (`key` is null on reads).
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedIdentityCredential {
    pub id: Uuid,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Internal: when it was created (drives the `replication=SECS` fault). Not a Graph field.
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    pub id: Uuid,
    pub value: String,
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// `Application` and/or `User`.
    pub allowed_member_types: Vec<String>,
    pub is_enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServicePrincipalType {
    Application,
    ManagedIdentity,
    Legacy,
    SocialIdp,
}

impl ServicePrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServicePrincipalType::Application => "Application",
            ServicePrincipalType::ManagedIdentity => "ManagedIdentity",
            ServicePrincipalType::Legacy => "Legacy",
            ServicePrincipalType::SocialIdp => "SocialIdp",
        }
    }
}

/// A service principal: an app's instance in a tenant, or a managed identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Object id. For a managed identity: its principal id (= `oid`/`sub` of its tokens).
    pub id: Uuid,
    /// For a managed identity: its client id.
    pub app_id: Uuid,
    pub display_name: String,
    pub service_principal_type: ServicePrincipalType,
    /// Managed identities: `["isExplicit=True", "<ARM id>"]` (user-assigned) or
    /// `["isExplicit=False", "<host ARM id>"]` (system-assigned).
    #[serde(default)]
    pub alternative_names: Vec<String>,
    #[serde(default)]
    pub service_principal_names: Vec<String>,
    /// The tenant that owns the app registration (differs for multitenant apps).
    #[serde(default)]
    pub app_owner_organization_id: Option<Uuid>,
    pub account_enabled: bool,
    #[serde(default)]
    pub sign_in_audience: Option<String>,
    /// Application permissions granted to this principal (the `roles` of its app tokens).
    #[serde(default)]
    pub app_role_assignments: Vec<AppRoleAssignment>,
    /// Set for managed identities.
    #[serde(default)]
    pub managed_identity: Option<ManagedIdentity>,
    /// Object ids of owning users (Graph's `servicePrincipal/owners`).
    #[serde(default)]
    pub owners: Vec<Uuid>,
}

impl ServicePrincipal {
    /// Role values granted on a resource (by resource app id).
    pub fn roles_on(&self, resource_app_id: Uuid) -> Vec<String> {
        self.app_role_assignments
            .iter()
            .filter(|a| a.resource_app_id == resource_app_id)
            .map(|a| a.app_role_value.clone())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    pub id: Uuid,
    pub resource_app_id: Uuid,
    pub resource_display_name: String,
    pub app_role_id: Uuid,
    /// `Application.ReadWrite.OwnedBy`…
    pub app_role_value: String,
    pub created_date_time: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ManagedIdentityKind {
    UserAssigned,
    SystemAssigned,
}

/// The Azure side of a managed identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedIdentity {
    pub kind: ManagedIdentityKind,
    /// User-assigned: the identity's own ARM id (`.../userAssignedIdentities/id-payments`);
    /// system-assigned: the host resource's ARM id. Goes into `xms_mirid`.
    pub resource_id: String,
    pub subscription_id: Uuid,
    pub resource_group: String,
    /// Resource name (`id-payments`, or the VM name for system-assigned).
    pub name: String,
    pub location: String,
}

/// The machine the managed identity endpoints speak for (a VM with IMDS, also reachable in App
/// Service style on the same listener).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatedHost {
    pub tenant_id: Uuid,
    /// ARM id of the host resource.
    pub resource_id: String,
    /// Principal id of the system-assigned identity, if enabled.
    #[serde(default)]
    pub system_assigned: Option<Uuid>,
    /// Principal ids of the attached user-assigned identities.
    #[serde(default)]
    pub user_assigned: Vec<Uuid>,
}

/// A tenant's RSA-2048 signing key as stored: PKCS#8 private key and a self-signed
/// certificate (for `x5c`), both DER. Parsed into a usable key by `sandbox::keys`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyMaterial {
    /// `kid` and `x5t`: base64url SHA-1 of the certificate, as Entra does.
    pub kid: String,
    #[serde(with = "b64_secret")]
    pub private_key_pkcs8: Secret<Vec<u8>>,
    #[serde(with = "b64_bytes")]
    pub certificate_der: Vec<u8>,
}

impl std::fmt::Debug for SigningKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyMaterial")
            .field("kid", &self.kid)
            .field("private_key_pkcs8", &self.private_key_pkcs8)
            .finish()
    }
}

mod b64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

mod b64_secret {
    use ficus_core::secret::Secret;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Secret<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        super::b64_bytes::serialize(bytes.expose(), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret<Vec<u8>>, D::Error> {
        super::b64_bytes::deserialize(d).map(Secret::new)
    }
}

/// A GUID derived from a name (`"contoso/app/payments-api"`), so seeds are reproducible: the
/// first 16 bytes of its SHA-256, stamped as a version-4 UUID.
pub fn derived_uuid(name: &str) -> Uuid {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_uuids_are_stable_and_distinct() {
        let a = derived_uuid("contoso/app/payments-api");
        assert_eq!(a, derived_uuid("contoso/app/payments-api"));
        assert_ne!(a, derived_uuid("contoso/app/inventory-sync"));
        assert_eq!(a.get_version_num(), 4);
    }

    /// The names index as kept up to date equals one built afresh.
    fn names_in(tenant: &Tenant, low: Option<&str>, high: Option<&str>) -> Vec<Uuid> {
        tenant.application_names().ids_in(low, high)
    }

    #[test]
    fn the_name_index_follows_inserts_renames_and_removals() {
        let mut d = crate::seed::build(crate::seed::Seed::Large(50), "https://127.0.0.1:8443")
            .expect("seed");
        let tenant = d.tenant_mut(crate::seed::CONTOSO).expect("contoso");
        let everything = names_in(tenant, None, None);
        assert_eq!(everything.len(), tenant.applications.len());
        let mut app = tenant.applications.values().next().expect("an app").clone();
        app.display_name = "Zzz renamed".into();
        tenant.insert_application(app.clone());
        assert_eq!(names_in(tenant, Some("zzz"), None), vec![app.id]);
        assert_eq!(
            names_in(tenant, None, None).len(),
            everything.len(),
            "moved, not added"
        );
        tenant.remove_application(app.id);
        assert!(names_in(tenant, Some("zzz"), None).is_empty());
        // A change through the public map: forgotten, then rebuilt.
        let other = *tenant.applications.keys().next().expect("another app");
        if let Some(a) = tenant.applications.get_mut(&other) {
            a.display_name = "ZZZ other".into();
        }
        tenant.forget_application_names();
        assert_eq!(
            names_in(tenant, Some("zzz"), Some("zzz other")),
            vec![other]
        );
        let fresh = crate::listing::NameIndex::build(
            tenant
                .applications
                .values()
                .map(|a| (a.display_name.as_str(), a.id)),
        );
        assert_eq!(fresh.ids_in(None, None), names_in(tenant, None, None));
    }

    #[test]
    fn rebasing_moves_only_issuers_that_named_the_sandbox() {
        let mut d =
            crate::seed::build(crate::seed::Seed::Demo, "https://127.0.0.1:8443").expect("seed");
        d.rebase_authority("https://127.0.0.1:9443");
        let contoso = d.tenant("contoso").expect("contoso");
        let issuers: Vec<&str> = contoso
            .applications
            .values()
            .flat_map(|a| a.federated_identity_credentials.iter())
            .map(|f| f.issuer.as_str())
            .collect();
        assert!(issuers.iter().all(|i| !i.contains(":8443")));
        assert!(issuers.contains(&format!("https://127.0.0.1:9443/{}/v2.0/", contoso.id).as_str()));
        assert!(issuers.contains(&"https://token.actions.githubusercontent.com"));
        assert_eq!(d.authority.as_deref(), Some("https://127.0.0.1:9443"));
    }

    #[test]
    fn seeds_are_valid_and_inconsistencies_are_named() {
        for seed in [
            crate::seed::Seed::Demo,
            crate::seed::Seed::Empty,
            crate::seed::Seed::Large(50),
        ] {
            let d = crate::seed::build(seed, "http://127.0.0.1:1").expect("seed");
            d.validate().expect("seeds are consistent");
        }
        let demo = crate::seed::build(crate::seed::Seed::Demo, "http://127.0.0.1:1").expect("seed");

        let mut d = demo.clone();
        let twin = d.tenants[0].clone();
        d.tenants.push(twin);
        let problem = d.validate().expect_err("duplicate tenant");
        assert!(problem.contains("appears twice"), "{problem}");

        let mut d = demo.clone();
        let app = d.tenants[0]
            .applications
            .values_mut()
            .next()
            .expect("an app");
        let template = FederatedIdentityCredential {
            id: Uuid::nil(),
            name: String::new(),
            issuer: "https://example.test".into(),
            subject: "s".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            description: None,
            created_at: Timestamp::now(),
        };
        app.federated_identity_credentials = (0..500)
            .map(|i| FederatedIdentityCredential {
                id: Uuid::new_v4(),
                name: format!("fic-{i}"),
                ..template.clone()
            })
            .collect();
        let problem = d.validate().expect_err("too many FICs");
        assert!(
            problem.contains("500 federated identity credentials"),
            "{problem}"
        );

        let mut d = demo.clone();
        d.host.user_assigned.push(Uuid::nil());
        let problem = d.validate().expect_err("dangling host identity");
        assert!(problem.contains(&Uuid::nil().to_string()), "{problem}");

        let mut d = demo;
        let app = d.tenants[0]
            .applications
            .values_mut()
            .next()
            .expect("an app");
        app.owners.push(Uuid::nil());
        let problem = d.validate().expect_err("dangling owner");
        assert!(problem.contains("no user of the tenant"), "{problem}");
    }

    #[test]
    fn timestamps_render_like_graph() {
        let t = Timestamp(time::macros::datetime!(2026-11-25 21:30:15.123 UTC));
        assert_eq!(t.to_graph_string(), "2026-11-25T21:30:15Z");
        let json = serde_json::to_string(&t).expect("serializes");
        let back: Timestamp = serde_json::from_str(&json).expect("parses");
        assert_eq!(back.unix(), t.unix());
    }
}
