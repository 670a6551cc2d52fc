//! Token minting (RS256 JWTs shaped like Entra's) and the resources the sandbox knows. Sign-in
//! sessions are in `sessions.rs`, the bearer check Graph uses in `bearer.rs`.
//!
//! Token versions, mirroring Entra:
//! - **v1** (`ver` 1.0, `iss` `https://sts.windows.net/{tid}/` whatever host issued it,
//!   `appid`/`appidacr`): access tokens for the first-party resources (Graph, ARM, Storage, Key
//!   Vault), and for app registrations whose `api.requestedAccessTokenVersion` is null or 1 (the
//!   default). `aud` is the resource as requested (`https://graph.microsoft.com`, `api://…`). The
//!   v1 discovery document at `/{tenant}/.well-known/openid-configuration` names this issuer.
//! - **v2** (`ver` 2.0, `iss` `{authority}/{tid}/v2.0`, `azp`/`azpacr`): managed identity tokens
//!   for the token exchange (`aud` = the exchange app's GUID), tokens for app registrations that
//!   ask for v2 (`aud` = their app id), and id tokens. The v2 discovery document names this
//!   issuer.
//!
//! Claims are Entra's defaults only: `idtyp`, `wids`, `acct`, `app_displayname` and `xms_mirid`
//! appear in tokens for first-party resources (configured by Microsoft), not in tokens for app
//! registrations (which would need optional claims). v2 tokens carry no `acr`, `amr`, `ipaddr`,
//! `given_name` or `family_name`. `iat` and `nbf` are backdated 5 minutes (clock skew); app
//! tokens live a random 60 to 90 minutes. Graph tokens carry a `nonce` in their header and are
//! signed over its SHA-256 hash, so only Graph can check them ([`graph_signed_form`]).

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::keys::TenantKey;
use crate::model::{
    ARM_APP_ID, Application, GRAPH_APP_ID, KEY_VAULT_APP_ID, STORAGE_APP_ID, ServicePrincipal,
    Tenant, User,
};
use ficus_core::cloud::TOKEN_EXCHANGE_APP_ID;
use ficus_core::jwt::b64url;
use ficus_core::secret::Secret;

/// Lifetimes, in seconds, like Entra's defaults. App tokens get a random lifetime between
/// these two (Entra: "a random value ranging between 60-90 minutes").
pub const APP_TOKEN_LIFETIME_MIN: i64 = 3599;
pub const APP_TOKEN_LIFETIME_MAX: i64 = 5399;
pub const USER_TOKEN_LIFETIME: i64 = 4199;
pub const MANAGED_IDENTITY_TOKEN_LIFETIME: i64 = 86399;
pub const REFRESH_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(90 * 86400);
/// `iat` and `nbf` are this far in the past, as Entra backdates them for clock skew.
pub const BACKDATE_SECONDS: i64 = 300;

/// The exchange audience's URI form.
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// What a `resource` (or a scope's resource part) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource's app id.
    pub app_id: Uuid,
    pub display_name: String,
    /// What the token's `aud` says.
    pub audience: String,
    /// 1 or 2: the access token version the resource accepts.
    pub version: u8,
    /// A Microsoft first-party resource (Graph, ARM, Storage, Key Vault, the token exchange),
    /// whose tokens carry the claims Microsoft configured for it (`idtyp`, `wids`, …).
    pub first_party: bool,
}

impl Resource {
    pub fn is_graph(&self) -> bool {
        self.app_id == GRAPH_APP_ID
    }
    pub fn is_exchange(&self) -> bool {
        self.audience == TOKEN_EXCHANGE_APP_ID
    }
}

fn first_party(resource: &str) -> Option<(Uuid, &'static str)> {
    let r = resource.trim_end_matches('/').to_ascii_lowercase();
    let known: &[(&str, Uuid, &str)] = &[
        (
            "https://graph.microsoft.com",
            GRAPH_APP_ID,
            "Microsoft Graph",
        ),
        (
            "https://canary.graph.microsoft.com",
            GRAPH_APP_ID,
            "Microsoft Graph",
        ),
        (
            "https://management.azure.com",
            ARM_APP_ID,
            "Windows Azure Service Management API",
        ),
        (
            "https://management.core.windows.net",
            ARM_APP_ID,
            "Windows Azure Service Management API",
        ),
        ("https://storage.azure.com", STORAGE_APP_ID, "Azure Storage"),
        (
            "https://vault.azure.net",
            KEY_VAULT_APP_ID,
            "Azure Key Vault",
        ),
    ];
    for (uri, id, name) in known {
        if r == *uri {
            return Some((*id, name));
        }
    }
    let id = Uuid::parse_str(&r).ok()?;
    known
        .iter()
        .find(|(_, known_id, _)| *known_id == id)
        .map(|(_, id, name)| (*id, *name))
}

/// Resolves a resource identifier (URI, app id, or an app's identifier URI) in a tenant.
/// `None` is AADSTS500011. Matching of identifier URIs is exact except for a trailing slash.
pub fn resolve_resource(tenant: &Tenant, resource: &str) -> Option<Resource> {
    let resource = resource.trim();
    if resource.is_empty() {
        return None;
    }
    if resource == EXCHANGE_AUDIENCE || resource == TOKEN_EXCHANGE_APP_ID {
        return Some(Resource {
            app_id: Uuid::parse_str(TOKEN_EXCHANGE_APP_ID).unwrap_or_default(),
            display_name: "AAD Token Exchange Endpoint".into(),
            audience: TOKEN_EXCHANGE_APP_ID.into(),
            version: 2,
            first_party: true,
        });
    }
    if let Some((app_id, name)) = first_party(resource) {
        return Some(Resource {
            app_id,
            display_name: name.into(),
            audience: resource.to_string(),
            version: 1,
            first_party: true,
        });
    }
    let app = app_for_resource(tenant, resource)?;
    let version = app.api.access_token_version();
    Some(Resource {
        app_id: app.app_id,
        display_name: app.display_name.clone(),
        // v1: `aud` is the resource as requested (the `api://` URI); v2: always the app id.
        audience: if version == 2 {
            app.app_id.to_string()
        } else {
            resource.to_string()
        },
        version,
        first_party: false,
    })
}

/// The app registration a resource identifier names in `tenant`.
pub fn app_for_resource<'t>(tenant: &'t Tenant, resource: &str) -> Option<&'t Application> {
    if let Ok(id) = Uuid::parse_str(resource) {
        return tenant.application_by_app_id(id);
    }
    let trimmed = resource.trim_end_matches('/');
    tenant.applications.values().find(|a| {
        a.identifier_uris
            .iter()
            .any(|u| u == resource || u.trim_end_matches('/') == trimmed)
    })
}

/// The v1 issuer: `https://sts.windows.net/{tid}/`, whichever host issued the token (Entra's
/// v1 discovery document says so).
pub fn v1_issuer(tenant_id: Uuid) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}

/// Signs claims for a tenant.
pub struct Signer<'a> {
    pub authority: &'a str,
    pub tenant_id: Uuid,
    pub key: &'a TenantKey,
}

/// The hash Graph's signature covers in place of the header's `nonce`.
fn nonce_hash(nonce: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, nonce.as_bytes());
    b64url(digest.as_ref())
}

fn encode_header(header: &Map<String, Value>) -> String {
    b64url(Value::Object(header.clone()).to_string().as_bytes())
}

/// A Graph token as its signature was computed: the header's `nonce` replaced by its SHA-256
/// hash. `None` when the token has no `nonce` header (then it verifies as it is). Only Graph
/// (here, the sandbox's bearer check) does this; anyone else checking a Graph token against the
/// published keys sees a signature that does not verify, as with Entra's Graph tokens.
pub fn graph_signed_form(token: &str) -> Option<String> {
    let mut parts = token.trim().splitn(3, '.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        header.trim_end_matches('='),
    )
    .ok()?;
    let Value::Object(mut map) = serde_json::from_slice::<Value>(&bytes).ok()? else {
        return None;
    };
    let nonce = map.get("nonce")?.as_str()?.to_string();
    map.insert("nonce".into(), nonce_hash(&nonce).into());
    Some(format!("{}.{payload}.{signature}", encode_header(&map)))
}

impl Signer<'_> {
    pub fn v1_issuer(&self) -> String {
        v1_issuer(self.tenant_id)
    }

    pub fn v2_issuer(&self) -> String {
        format!("{}/{}/v2.0", self.authority, self.tenant_id)
    }

    /// A compact RS256 JWT with Entra's header (`typ`, `alg`, `kid`; v1 tokens add `x5t`).
    pub fn sign(&self, claims: &Map<String, Value>, with_x5t: bool) -> String {
        self.sign_with(claims, with_x5t, None)
    }

    /// A token for `resource`: v1 tokens carry `x5t`, Graph tokens a `nonce`.
    fn sign_for(&self, claims: &Map<String, Value>, resource: &Resource) -> String {
        let nonce = resource.is_graph().then(opaque);
        self.sign_with(claims, resource.version == 1, nonce.as_deref())
    }

    fn sign_with(
        &self,
        claims: &Map<String, Value>,
        with_x5t: bool,
        nonce: Option<&str>,
    ) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        if let Some(nonce) = nonce {
            header.insert("nonce".into(), nonce_hash(nonce).into());
        }
        header.insert("alg".into(), "RS256".into());
        if with_x5t {
            header.insert("x5t".into(), self.key.kid.clone().into());
        }
        header.insert("kid".into(), self.key.kid.clone().into());
        let payload = b64url(Value::Object(claims.clone()).to_string().as_bytes());
        let input = format!("{}.{payload}", encode_header(&header));
        let signature = b64url(&self.key.sign(input.as_bytes()));
        match nonce {
            None => format!("{input}.{signature}"),
            Some(nonce) => {
                header.insert("nonce".into(), nonce.into());
                format!("{}.{payload}.{signature}", encode_header(&header))
            }
        }
    }
}

/// A random opaque value (refresh tokens, nonces).
pub(crate) fn opaque() -> String {
    b64url(Uuid::new_v4().as_bytes())
}

/// `iat`/`nbf` backdated 5 minutes, `exp` at the end of the lifetime from now.
fn times(claims: &mut Map<String, Value>, now: i64, lifetime: i64) {
    claims.insert("iat".into(), (now - BACKDATE_SECONDS).into());
    claims.insert("nbf".into(), (now - BACKDATE_SECONDS).into());
    claims.insert("exp".into(), (now + lifetime + 1).into());
}

/// A random app token lifetime between 60 and 90 minutes.
pub fn app_token_lifetime() -> i64 {
    let bytes = Uuid::new_v4();
    let r = i64::from(u16::from_le_bytes([
        bytes.as_bytes()[0],
        bytes.as_bytes()[1],
    ]));
    APP_TOKEN_LIFETIME_MIN + r % (APP_TOKEN_LIFETIME_MAX - APP_TOKEN_LIFETIME_MIN + 1)
}

/// How the client authenticated: `appidacr`/`azpacr` "1" = secret, "2" = certificate or
/// assertion, "0" = public client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Public,
    Secret,
    Assertion,
}

impl ClientAuth {
    fn acr(self) -> &'static str {
        match self {
            ClientAuth::Public => "0",
            ClientAuth::Secret => "1",
            ClientAuth::Assertion => "2",
        }
    }
}

/// A minted token and its lifetime.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: Secret<String>,
    pub expires_in: i64,
    pub expires_on: i64,
}

fn minted(token: String, now: i64, lifetime: i64) -> Minted {
    Minted {
        token: Secret::new(token),
        expires_in: lifetime,
        expires_on: now + lifetime + 1,
    }
}

/// A managed identity's token, as IMDS / App Service would hand it out. `xms_mirid` and
/// `idtyp` only for first-party audiences (the exchange, Graph, ARM…).
pub fn managed_identity_token(
    signer: &Signer<'_>,
    identity: &ServicePrincipal,
    resource: &Resource,
    now: i64,
) -> Minted {
    let lifetime = MANAGED_IDENTITY_TOKEN_LIFETIME;
    let v2 = resource.version == 2;
    let mut c = Map::new();
    c.insert("aud".into(), resource.audience.clone().into());
    if v2 {
        c.insert("iss".into(), signer.v2_issuer().into());
    } else {
        c.insert("iss".into(), signer.v1_issuer().into());
    }
    times(&mut c, now, lifetime);
    c.insert("aio".into(), opaque().into());
    if v2 {
        c.insert("azp".into(), identity.app_id.to_string().into());
        c.insert("azpacr".into(), "2".into());
    } else {
        c.insert("appid".into(), identity.app_id.to_string().into());
        c.insert("appidacr".into(), "2".into());
        c.insert("idp".into(), signer.v1_issuer().into());
    }
    if resource.first_party {
        c.insert("idtyp".into(), "app".into());
    }
    c.insert("oid".into(), identity.id.to_string().into());
    c.insert("rh".into(), opaque().into());
    let roles = identity.roles_on(resource.app_id);
    if !roles.is_empty() {
        c.insert("roles".into(), json!(roles));
    }
    c.insert("sub".into(), identity.id.to_string().into());
    c.insert("tid".into(), signer.tenant_id.to_string().into());
    c.insert("uti".into(), opaque().into());
    c.insert("ver".into(), if v2 { "2.0" } else { "1.0" }.into());
    if resource.first_party
        && let Some(m) = &identity.managed_identity
    {
        c.insert("xms_mirid".into(), m.resource_id.clone().into());
    }
    minted(signer.sign_for(&c, resource), now, lifetime)
}

/// An app-only token (client credentials) for `resource`. `principal` is the client's
/// service principal in this tenant (its object id is `oid`/`sub`; its app role assignments
/// on the resource are `roles`). Lives a random 60 to 90 minutes.
pub fn app_token(
    signer: &Signer<'_>,
    client_app_id: Uuid,
    client_display_name: &str,
    principal: Option<&ServicePrincipal>,
    resource: &Resource,
    auth: ClientAuth,
    now: i64,
) -> Minted {
    let lifetime = app_token_lifetime();
    let oid = principal.map(|p| p.id).unwrap_or(client_app_id).to_string();
    let roles = principal
        .map(|p| p.roles_on(resource.app_id))
        .unwrap_or_default();
    let mut c = Map::new();
    c.insert("aud".into(), resource.audience.clone().into());
    if resource.version == 2 {
        c.insert("iss".into(), signer.v2_issuer().into());
        times(&mut c, now, lifetime);
        c.insert("aio".into(), opaque().into());
        c.insert("azp".into(), client_app_id.to_string().into());
        c.insert("azpacr".into(), auth.acr().into());
    } else {
        c.insert("iss".into(), signer.v1_issuer().into());
        times(&mut c, now, lifetime);
        c.insert("aio".into(), opaque().into());
        if resource.first_party {
            c.insert("app_displayname".into(), client_display_name.into());
        }
        c.insert("appid".into(), client_app_id.to_string().into());
        c.insert("appidacr".into(), auth.acr().into());
        c.insert("idp".into(), signer.v1_issuer().into());
    }
    if resource.first_party {
        c.insert("idtyp".into(), "app".into());
    }
    c.insert("oid".into(), oid.clone().into());
    c.insert("rh".into(), opaque().into());
    if !roles.is_empty() {
        c.insert("roles".into(), json!(roles));
    }
    c.insert("sub".into(), oid.into());
    c.insert("tid".into(), signer.tenant_id.to_string().into());
    c.insert("uti".into(), opaque().into());
    c.insert(
        "ver".into(),
        if resource.version == 2 { "2.0" } else { "1.0" }.into(),
    );
    minted(signer.sign_for(&c, resource), now, lifetime)
}

/// The pairwise `sub` Entra gives a user per client: stable, opaque.
fn pairwise_subject(user: Uuid, client_id: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{user}/{client_id}").as_bytes(),
    );
    b64url(&digest.as_ref()[..32])
}

/// A delegated (user) access token. `scp` is the space-separated permission names. v1 tokens
/// carry `acr`, `amr`, `ipaddr` and the user's names; v2 tokens do not. `idtyp`, `wids`,
/// `acct` and `app_displayname` only for first-party resources.
pub fn user_token(
    signer: &Signer<'_>,
    user: &User,
    client_id: &str,
    client_display_name: &str,
    resource: &Resource,
    scp: &str,
    now: i64,
) -> Minted {
    let lifetime = USER_TOKEN_LIFETIME;
    let mut c = Map::new();
    c.insert("aud".into(), resource.audience.clone().into());
    let v2 = resource.version == 2;
    let fp = resource.first_party;
    c.insert(
        "iss".into(),
        if v2 {
            signer.v2_issuer()
        } else {
            signer.v1_issuer()
        }
        .into(),
    );
    times(&mut c, now, lifetime);
    if fp {
        c.insert("acct".into(), 0.into());
    }
    if !v2 {
        c.insert("acr".into(), "1".into());
    }
    c.insert("aio".into(), opaque().into());
    if !v2 {
        c.insert("amr".into(), json!(["pwd", "mfa"]));
    }
    if v2 {
        c.insert("azp".into(), client_id.into());
        c.insert("azpacr".into(), "0".into());
    } else {
        if fp {
            c.insert("app_displayname".into(), client_display_name.into());
        }
        c.insert("appid".into(), client_id.into());
        c.insert("appidacr".into(), "0".into());
        if let Some(surname) = &user.surname {
            c.insert("family_name".into(), surname.clone().into());
        }
        if let Some(given) = &user.given_name {
            c.insert("given_name".into(), given.clone().into());
        }
    }
    if fp {
        c.insert("idtyp".into(), "user".into());
    }
    if !v2 {
        c.insert("ipaddr".into(), "127.0.0.1".into());
    }
    c.insert("name".into(), user.display_name.clone().into());
    c.insert("oid".into(), user.id.to_string().into());
    if v2 {
        c.insert(
            "preferred_username".into(),
            user.user_principal_name.clone().into(),
        );
    }
    c.insert("rh".into(), opaque().into());
    c.insert("scp".into(), scp.into());
    c.insert("sub".into(), pairwise_subject(user.id, client_id).into());
    c.insert("tid".into(), signer.tenant_id.to_string().into());
    if !v2 {
        c.insert(
            "unique_name".into(),
            user.user_principal_name.clone().into(),
        );
        c.insert("upn".into(), user.user_principal_name.clone().into());
    }
    c.insert("uti".into(), opaque().into());
    c.insert("ver".into(), if v2 { "2.0" } else { "1.0" }.into());
    if fp {
        let wids: Vec<String> = user
            .roles
            .iter()
            .map(|r| r.template_id().to_string())
            .chain(std::iter::once(
                // "User" role template, which every member carries.
                "b79fbf4d-3ef9-4689-8143-76b194e85509".to_string(),
            ))
            .collect();
        c.insert("wids".into(), json!(wids));
    }
    minted(signer.sign_for(&c, resource), now, lifetime)
}

/// A v2 id token for `client_id` (MSAL reads `preferred_username` from it).
pub fn id_token(signer: &Signer<'_>, user: &User, client_id: &str, now: i64) -> Secret<String> {
    let mut c = Map::new();
    c.insert("aud".into(), client_id.into());
    c.insert("iss".into(), signer.v2_issuer().into());
    times(&mut c, now, USER_TOKEN_LIFETIME);
    c.insert("name".into(), user.display_name.clone().into());
    c.insert("oid".into(), user.id.to_string().into());
    c.insert(
        "preferred_username".into(),
        user.user_principal_name.clone().into(),
    );
    c.insert("rh".into(), opaque().into());
    c.insert("sub".into(), pairwise_subject(user.id, client_id).into());
    c.insert("tid".into(), signer.tenant_id.to_string().into());
    c.insert("uti".into(), opaque().into());
    c.insert("ver".into(), "2.0".into());
    Secret::new(signer.sign(&c, false))
}

/// `client_info`: base64url `{"uid":<oid>,"utid":<tid>}`, MSAL's account key.
pub fn client_info(user: Uuid, tenant: Uuid) -> String {
    b64url(
        json!({"uid": user.to_string(), "utid": tenant.to_string()})
            .to_string()
            .as_bytes(),
    )
}

/// The scopes the well-known first-party public clients get on Graph with `/.default` (Azure
/// CLI's observed set).
pub const AZURE_CLI_GRAPH_SCP: &str = "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All AuditLog.Read.All DelegatedPermissionGrant.ReadWrite.All Directory.AccessAsUser.All email Group.ReadWrite.All openid profile User.Read.All User.ReadWrite.All";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, CONTOSO, Seed};

    #[test]
    fn resources_resolve_like_entra() {
        let directory = seed::build(Seed::Demo, "https://127.0.0.1:8443").expect("seed");
        let tenant = directory.tenant(CONTOSO).expect("contoso");
        let graph = resolve_resource(tenant, "https://graph.microsoft.com/").expect("graph");
        assert!(graph.is_graph());
        assert_eq!(graph.version, 1);
        assert_eq!(graph.audience, "https://graph.microsoft.com/");
        let by_id = resolve_resource(tenant, "00000003-0000-0000-c000-000000000000").expect("id");
        assert!(by_id.is_graph());
        for exchange in [EXCHANGE_AUDIENCE, TOKEN_EXCHANGE_APP_ID] {
            let r = resolve_resource(tenant, exchange).expect("exchange");
            assert!(r.is_exchange());
            assert_eq!(r.version, 2);
        }
        // The US Gov exchange audience is not a resource of this (global) sandbox.
        assert!(resolve_resource(tenant, "api://AzureADTokenExchangeUSGov").is_none());
        let payments = seed::app_ids(CONTOSO, "payments-api").1;
        // An app registration with the default requestedAccessTokenVersion (null): v1, `aud`
        // as requested.
        let own = resolve_resource(tenant, &format!("api://{payments}")).expect("identifier uri");
        assert_eq!(own.audience, format!("api://{payments}"));
        assert_eq!(own.version, 1);
        assert!(!own.first_party);
        assert!(graph.first_party);
        assert!(resolve_resource(tenant, "api://nope").is_none());
        assert!(resolve_resource(tenant, "").is_none());
    }

    #[test]
    fn client_info_is_base64url_json() {
        let info = client_info(Uuid::nil(), Uuid::max());
        let jwt = ficus_core::jwt::decode(&format!("e30.{info}.c2ln")).expect("decodes");
        assert_eq!(jwt.claims["uid"], Uuid::nil().to_string());
        assert_eq!(jwt.claims["utid"], Uuid::max().to_string());
    }
}
