//! Signing the administrator in: the device code flow (through the `oauth2` crate), reuse of an
//! Azure CLI login, silent renewal with the refresh token, and the on-disk token cache
//! (0600 files in a 0700 directory; anything wider is refused).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{CacheError, EntraError, StsError};
use super::http::{Http, Retry};
use ficus_core::cloud::Cloud;
use ficus_core::secret::Secret;

/// Microsoft Graph Command Line Tools: a public client that supports dynamic Graph scopes.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// What ficus asks for by default: read and write app registrations, read the directory, and
/// a refresh token.
pub fn default_scopes() -> Vec<String> {
    [
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "offline_access",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Renew this long before the access token expires.
const RENEW_MARGIN_SECS: i64 = 120;

/// The tokens of one sign-in. `Debug` shows no token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Secret<String>,
    #[serde(default)]
    pub refresh_token: Option<Secret<String>>,
    #[serde(default)]
    pub id_token: Option<Secret<String>>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Granted scopes as the token service reported them.
    #[serde(default)]
    pub scope: Option<String>,
}

impl TokenSet {
    pub fn expires_in(&self) -> i64 {
        self.expires_at - now_unix()
    }

    pub fn needs_renewal(&self) -> bool {
        self.expires_in() <= RENEW_MARGIN_SECS
    }

    /// Parses a token-endpoint success body (`expires_in` as number or string).
    pub fn from_token_response(body: &[u8], service: &str) -> Result<TokenSet, EntraError> {
        #[derive(Deserialize)]
        struct Body {
            access_token: String,
            #[serde(default)]
            refresh_token: Option<String>,
            #[serde(default)]
            id_token: Option<String>,
            #[serde(default)]
            expires_in: Option<serde_json::Value>,
            #[serde(default)]
            scope: Option<String>,
        }
        let b: Body = serde_json::from_slice(body).map_err(|e| EntraError::Protocol {
            service: service.to_string(),
            detail: format!("token response: {e}"),
        })?;
        let expires_in = b
            .expires_in
            .as_ref()
            .and_then(number_or_string)
            .unwrap_or(3600);
        Ok(TokenSet {
            access_token: Secret::new(b.access_token),
            refresh_token: b.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
            id_token: b.id_token.filter(|t| !t.is_empty()).map(Secret::new),
            expires_at: now_unix() + expires_in,
            scope: b.scope,
        })
    }
}

pub(crate) fn number_or_string(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Who is signed in, read from the id token (or the access token when there is none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: Option<String>,
    pub name: Option<String>,
    pub object_id: Option<String>,
    pub tenant_id: Option<String>,
}

impl Account {
    pub fn from_tokens(tokens: &TokenSet) -> Account {
        let from = |raw: &str| ficus_core::jwt::decode(raw).ok();
        let jwt = tokens
            .id_token
            .as_ref()
            .and_then(|t| from(t.expose()))
            .or_else(|| from(tokens.access_token.expose()));
        let Some(jwt) = jwt else {
            return Account::default();
        };
        let s = |name: &str| jwt.str_claim(name).map(str::to_string);
        Account {
            username: s("preferred_username")
                .or_else(|| s("upn"))
                .or_else(|| s("unique_name")),
            name: s("name"),
            object_id: s("oid"),
            tenant_id: s("tid"),
        }
    }
}

/// How an expired access token is renewed.
#[derive(Debug, Clone)]
pub enum Renewal {
    /// Redeem the refresh token at the token endpoint; store the rotated tokens in the cache.
    RefreshToken {
        token_endpoint: String,
        client_id: String,
        scopes: Vec<String>,
        cache: Option<(TokenCache, CacheKey)>,
    },
    /// Ask the Azure CLI again.
    AzCli {
        cloud: Cloud,
        tenant: Option<String>,
    },
    /// Cannot be renewed (an explicit token); the reason is shown when it expires.
    Never { reason: String },
}

struct CredState {
    tokens: TokenSet,
    renewal: Renewal,
}

/// The signed-in administrator's tokens, renewed silently. Cheap to clone; shared by every
/// Graph call.
#[derive(Clone)]
pub struct Credentials {
    state: Arc<tokio::sync::Mutex<CredState>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials([redacted])")
    }
}

impl Credentials {
    pub fn new(tokens: TokenSet, renewal: Renewal) -> Credentials {
        Credentials {
            state: Arc::new(tokio::sync::Mutex::new(CredState { tokens, renewal })),
        }
    }

    /// A valid access token, renewing first when it expires within two minutes.
    pub async fn access_token(&self, http: &Http) -> Result<Secret<String>, EntraError> {
        let mut state = self.state.lock().await;
        if state.tokens.needs_renewal() {
            renew(&mut state, http).await?;
        }
        Ok(state.tokens.access_token.clone())
    }

    /// Renews after the service rejected `rejected` (401), unless another caller already did.
    pub async fn renew_after_rejection(
        &self,
        http: &Http,
        rejected: &Secret<String>,
    ) -> Result<Secret<String>, EntraError> {
        let mut state = self.state.lock().await;
        if state.tokens.access_token == *rejected {
            renew(&mut state, http).await?;
        }
        Ok(state.tokens.access_token.clone())
    }

    /// A copy of the current tokens (for the cache or `whoami`).
    pub async fn tokens(&self) -> TokenSet {
        self.state.lock().await.tokens.clone()
    }

    pub async fn account(&self) -> Account {
        Account::from_tokens(&self.state.lock().await.tokens)
    }
}

async fn renew(state: &mut CredState, http: &Http) -> Result<(), EntraError> {
    let fresh = match &state.renewal {
        Renewal::RefreshToken {
            token_endpoint,
            client_id,
            scopes,
            cache,
        } => {
            let Some(refresh_token) = state.tokens.refresh_token.clone() else {
                return Err(EntraError::SignInExpired {
                    reason: "no refresh token was issued".into(),
                });
            };
            let mut fresh =
                redeem_refresh_token(http, token_endpoint, client_id, scopes, &refresh_token)
                    .await
                    .map_err(|e| match e {
                        EntraError::Sts(sts) if sts.error == "invalid_grant" => {
                            EntraError::SignInExpired {
                                reason: sts.to_string(),
                            }
                        }
                        other => other,
                    })?;
            // Entra may omit a new refresh token; keep the old one then.
            if fresh.refresh_token.is_none() {
                fresh.refresh_token = Some(refresh_token);
            }
            if fresh.id_token.is_none() {
                fresh.id_token = state.tokens.id_token.clone();
            }
            if let Some((cache, key)) = cache {
                let login = CachedLogin {
                    key: key.clone(),
                    scopes: scopes.clone(),
                    account: Account::from_tokens(&fresh),
                    tokens: fresh.clone(),
                };
                if let Err(e) = cache.store(&login) {
                    tracing::warn!(error = %e, "could not update the token cache");
                }
            }
            fresh
        }
        Renewal::AzCli { cloud, tenant } => az_cli_token(cloud, tenant.as_deref()).await?,
        Renewal::Never { reason } => {
            return Err(EntraError::SignInExpired {
                reason: reason.clone(),
            });
        }
    };
    tracing::info!("access token renewed");
    state.tokens = fresh;
    Ok(())
}

/// Redeems a refresh token (`grant_type=refresh_token`).
pub async fn redeem_refresh_token(
    http: &Http,
    token_endpoint: &str,
    client_id: &str,
    scopes: &[String],
    refresh_token: &Secret<String>,
) -> Result<TokenSet, EntraError> {
    let scope = scopes.join(" ");
    let resp = http
        .send(Retry::Idempotent, |c| {
            c.post(token_endpoint).form(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("refresh_token", refresh_token.expose().as_str()),
                ("scope", scope.as_str()),
                ("client_info", "1"),
            ])
        })
        .await?;
    if !resp.is_success() {
        return Err(resp.sts_error(token_endpoint).into());
    }
    TokenSet::from_token_response(&resp.body, "the token service")
}

// ---------------------------------------------------------------------------------------------
// Device code flow (oauth2 crate over our reqwest 0.13 client)

/// What to show the admin while the device code flow waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// Entra's own sentence ("To sign in, use a web browser to open …").
    pub message: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntraDeviceFields {
    #[serde(default)]
    message: Option<String>,
}
impl oauth2::ExtraDeviceAuthorizationFields for EntraDeviceFields {}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntraTokenFields {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    ext_expires_in: Option<serde_json::Value>,
}
impl oauth2::ExtraTokenFields for EntraTokenFields {}

type EntraTokenResponse =
    oauth2::StandardTokenResponse<EntraTokenFields, oauth2::basic::BasicTokenType>;
type DeviceClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    EntraTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// oauth2 5 (http 1.x types) over our reqwest 0.13 client. Keeps the last error body so the
/// AADSTS codes, trace and correlation ids oauth2's standard error type drops are not lost.
struct OAuthHttp {
    http: Http,
    last_error: std::sync::Mutex<Option<(u16, Vec<u8>)>>,
    last_network_error: std::sync::Mutex<Option<super::error::NetworkError>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, Self::Error>>
                + Send
                + Sync
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut request: reqwest::Request = request.try_into().map_err(Box::new)?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            // The same rules as every other request: no plain http to another machine.
            if let Err(refused) = self.http.check_url(request.url()) {
                let detail = refused.detail.clone();
                if let Ok(mut last) = self.last_network_error.lock() {
                    *last = Some(refused);
                }
                return Err(oauth2::HttpClientError::Other(detail));
            }
            request.headers_mut().insert(
                "client-request-id",
                reqwest::header::HeaderValue::from_str(&client_request_id)
                    .map_err(|e| oauth2::HttpClientError::Other(e.to_string()))?,
            );
            let url = super::http::safe_url(request.url());
            let response = match self.http.reqwest().execute(request).await {
                Ok(r) => r,
                Err(e) => {
                    // Kept typed: oauth2's error only says "client error".
                    if let Ok(mut last) = self.last_network_error.lock() {
                        *last = Some(super::http::network_error(&e, 1, &client_request_id));
                    }
                    return Err(Box::new(e).into());
                }
            };
            let status = response.status();
            let mut builder = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in response.headers() {
                builder = builder.header(name.as_str(), value.as_bytes());
            }
            let max = self.http.max_body_bytes();
            let body = match super::http::read_body(response, max).await {
                Ok(body) => body,
                Err(super::http::BodyError::Read(e)) => return Err(Box::new(e).into()),
                Err(super::http::BodyError::TooLarge) => {
                    let error = super::http::too_large(&url, max, 1, &client_request_id);
                    let detail = error.detail.clone();
                    if let Ok(mut last) = self.last_network_error.lock() {
                        *last = Some(error);
                    }
                    return Err(oauth2::HttpClientError::Other(detail));
                }
            };
            if !status.is_success()
                && let Ok(mut last) = self.last_error.lock()
            {
                *last = Some((status.as_u16(), body.clone()));
            }
            builder.body(body).map_err(oauth2::HttpClientError::Http)
        })
    }
}

/// A device code flow in progress: show [`DeviceCodeFlow::prompt`], then await
/// [`DeviceCodeFlow::finish`].
pub struct DeviceCodeFlow {
    prompt: DeviceCodePrompt,
    details: oauth2::DeviceAuthorizationResponse<EntraDeviceFields>,
    client: DeviceClient,
    http: OAuthHttp,
    token_endpoint: String,
}

impl DeviceCodeFlow {
    pub fn prompt(&self) -> &DeviceCodePrompt {
        &self.prompt
    }

    /// Polls the token endpoint as RFC 8628 and Entra say: keeps waiting on
    /// `authorization_pending`, slows down on `slow_down`, stops on `expired_token`,
    /// `authorization_declined` and any other error.
    pub async fn finish(self) -> Result<TokenSet, EntraError> {
        let result = self
            .client
            .exchange_device_access_token(&self.details)
            .request_async(&self.http, tokio::time::sleep, None)
            .await;
        match result {
            Ok(token) => {
                use oauth2::TokenResponse;
                let expires_in = token
                    .expires_in()
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(3600);
                Ok(TokenSet {
                    access_token: Secret::new(token.access_token().secret().clone()),
                    refresh_token: token
                        .refresh_token()
                        .map(|r| Secret::new(r.secret().clone())),
                    id_token: token.extra_fields().id_token.clone().map(Secret::new),
                    expires_at: now_unix() + expires_in,
                    scope: token.scopes().map(|s| {
                        s.iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    }),
                })
            }
            Err(e) => Err(oauth_error(e, &self.http, &self.token_endpoint)),
        }
    }
}

fn oauth_error<RE: std::error::Error + 'static, TE: oauth2::ErrorResponse + 'static>(
    e: oauth2::RequestTokenError<RE, TE>,
    http: &OAuthHttp,
    endpoint: &str,
) -> EntraError {
    let endpoint = super::http::redact_userinfo(endpoint);
    let endpoint = endpoint.as_str();
    let last = http.last_error.lock().ok().and_then(|mut l| l.take());
    match e {
        oauth2::RequestTokenError::ServerResponse(resp) => {
            if let Some((status, body)) = last
                && let Some(sts) = StsError::from_body(status, endpoint, &body)
            {
                return sts.into();
            }
            EntraError::from(StsError::without_body(
                400,
                serde_json::to_value(&resp)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                    .unwrap_or_else(|| "error".into()),
                resp.to_string(),
                endpoint,
            ))
        }
        oauth2::RequestTokenError::Request(err) => {
            let recorded = http
                .last_network_error
                .lock()
                .ok()
                .and_then(|mut l| l.take());
            match recorded {
                Some(n) => n.into(),
                None => {
                    let detail = super::http::redact_userinfo(&super::http::error_chain(&err));
                    EntraError::from(super::error::NetworkError {
                        kind: if super::http::is_tls_failure(&detail) {
                            super::error::NetworkErrorKind::Tls
                        } else {
                            super::error::NetworkErrorKind::Connect
                        },
                        url: endpoint.to_string(),
                        detail,
                        attempts: 1,
                        client_request_id: None,
                    })
                }
            }
        }
        oauth2::RequestTokenError::Parse(err, _) => EntraError::Protocol {
            service: endpoint.to_string(),
            detail: err.to_string(),
        },
        oauth2::RequestTokenError::Other(text) => EntraError::Protocol {
            service: endpoint.to_string(),
            detail: super::http::redact_userinfo(&text),
        },
    }
}

/// Starts the device code flow: asks for a user code to show the admin.
pub async fn start_device_code(
    http: &Http,
    cloud: &Cloud,
    tenant: &str,
    client_id: &str,
    scopes: &[String],
) -> Result<DeviceCodeFlow, EntraError> {
    let device_url = cloud.device_code_endpoint(tenant);
    let token_endpoint = cloud.token_endpoint(tenant);
    let invalid = |e: url::ParseError| EntraError::Invalid(format!("bad authority URL: {e}"));
    let client: DeviceClient = oauth2::Client::new(oauth2::ClientId::new(client_id.to_string()))
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_device_authorization_url(
            oauth2::DeviceAuthorizationUrl::new(device_url.clone()).map_err(invalid)?,
        )
        .set_token_uri(oauth2::TokenUrl::new(token_endpoint.clone()).map_err(invalid)?);
    let adapter = OAuthHttp {
        http: http.clone(),
        last_error: std::sync::Mutex::new(None),
        last_network_error: std::sync::Mutex::new(None),
    };
    let details: oauth2::DeviceAuthorizationResponse<EntraDeviceFields> = client
        .exchange_device_code()
        .add_scopes(scopes.iter().map(|s| oauth2::Scope::new(s.clone())))
        .request_async(&adapter)
        .await
        .map_err(|e| oauth_error(e, &adapter, &device_url))?;
    let prompt = DeviceCodePrompt {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        message: details.extra_fields().message.clone(),
        expires_in: details.expires_in(),
        interval: details.interval(),
    };
    Ok(DeviceCodeFlow {
        prompt,
        details,
        client,
        http: adapter,
        token_endpoint,
    })
}

// ---------------------------------------------------------------------------------------------
// Azure CLI

/// Reuses an Azure CLI login: `az account get-access-token --resource-type ms-graph`.
pub async fn az_cli_token(_cloud: &Cloud, tenant: Option<&str>) -> Result<TokenSet, EntraError> {
    let mut cmd = tokio::process::Command::new("az");
    cmd.args([
        "account",
        "get-access-token",
        "--resource-type",
        "ms-graph",
        "--output",
        "json",
    ]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| EntraError::AzCli("`az` did not answer within 60 s".into()))?
        .map_err(|e| {
            EntraError::AzCli(format!(
                "cannot run `az` ({e}); is the Azure CLI installed?"
            ))
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(EntraError::AzCli(stderr.trim().chars().take(500).collect()));
    }
    parse_az_cli_output(&output.stdout)
}

/// Parses `az account get-access-token` JSON (prefers the POSIX `expires_on`).
pub fn parse_az_cli_output(stdout: &[u8]) -> Result<TokenSet, EntraError> {
    #[derive(Deserialize)]
    struct AzToken {
        #[serde(rename = "accessToken")]
        access_token: String,
        #[serde(default)]
        expires_on: Option<serde_json::Value>,
    }
    let t: AzToken = serde_json::from_slice(stdout)
        .map_err(|e| EntraError::AzCli(format!("unexpected output ({e})")))?;
    let expires_at = t
        .expires_on
        .as_ref()
        .and_then(number_or_string)
        .or_else(|| {
            ficus_core::jwt::decode(&t.access_token)
                .ok()
                .and_then(|j| j.time_claim("exp"))
        })
        .unwrap_or_else(|| now_unix() + 300);
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: None,
        id_token: None,
        expires_at,
        scope: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Token cache

/// Which sign-in a cache entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// The login authority, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
}

impl CacheKey {
    pub fn new(cloud: &Cloud, tenant: &str, client_id: &str) -> CacheKey {
        CacheKey {
            authority: cloud.login.clone(),
            tenant: tenant.to_string(),
            client_id: client_id.to_string(),
        }
    }

    fn file_name(&self) -> String {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        let host = self
            .authority
            .split("://")
            .nth(1)
            .unwrap_or(&self.authority);
        format!(
            "{}__{}__{}.json",
            clean(host),
            clean(&self.tenant.to_ascii_lowercase()),
            clean(&self.client_id)
        )
    }
}

/// One cached sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedLogin {
    pub key: CacheKey,
    pub scopes: Vec<String>,
    pub account: Account,
    pub tokens: TokenSet,
}

/// The token cache directory.
#[derive(Debug, Clone)]
pub struct TokenCache {
    dir: PathBuf,
}

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

impl TokenCache {
    /// `$XDG_DATA_HOME/ficus/tokens` (or the platform's equivalent).
    pub fn default_dir() -> Result<PathBuf, CacheError> {
        directories::ProjectDirs::from("", "", "ficus")
            .map(|p| p.data_dir().join("tokens"))
            .ok_or(CacheError::NoDataDir)
    }

    /// Opens (creating 0700 if missing) the cache directory; refuses one others can read.
    pub fn open(dir: impl Into<PathBuf>) -> Result<TokenCache, CacheError> {
        let dir = dir.into();
        if !dir.exists() {
            create_private_dir(&dir)?;
        }
        check_mode(&dir, DIR_MODE)?;
        Ok(TokenCache { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_for(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    pub fn load(&self, key: &CacheKey) -> Result<Option<CachedLogin>, CacheError> {
        let path = self.path_for(key);
        if !path.exists() {
            return Ok(None);
        }
        check_mode(&path, FILE_MODE)?;
        let text = std::fs::read(&path).map_err(|source| CacheError::Io {
            path: path.clone(),
            source,
        })?;
        let login: CachedLogin =
            serde_json::from_slice(&text).map_err(|e| CacheError::Corrupt {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        Ok(Some(login))
    }

    /// Writes atomically and durably, readable by this user only.
    pub fn store(&self, login: &CachedLogin) -> Result<PathBuf, CacheError> {
        let path = self.path_for(&login.key);
        let json = serde_json::to_vec_pretty(login).map_err(|e| CacheError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        ficus_files::write_atomic(&path, &json, ficus_files::Access::Private).map_err(
            |source| CacheError::Io {
                path: path.clone(),
                source,
            },
        )?;
        Ok(path)
    }

    /// Removes one sign-in; `true` when there was one.
    pub fn remove(&self, key: &CacheKey) -> Result<bool, CacheError> {
        let path = self.path_for(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(CacheError::Io { path, source }),
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), CacheError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|source| CacheError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    // The umask may have narrowed it further, never widened; set exactly.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE)).map_err(|source| {
        CacheError::Io {
            path: dir.to_path_buf(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), CacheError> {
    std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(unix)]
fn check_mode(path: &Path, want: u32) -> Result<(), CacheError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CacheError::Permissions {
            path: path.to_path_buf(),
            mode,
            want,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _want: u32) -> Result<(), CacheError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(expires_in: i64) -> TokenSet {
        TokenSet {
            access_token: Secret::new("at".into()),
            refresh_token: Some(Secret::new("rt".into())),
            id_token: None,
            expires_at: now_unix() + expires_in,
            scope: Some("x".into()),
        }
    }

    #[test]
    fn cache_round_trips_with_private_modes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("tokens");
        let cache = TokenCache::open(&dir).expect("opens");
        let key = CacheKey::new(
            &Cloud::global(),
            "contoso.onmicrosoft.com",
            DEFAULT_CLIENT_ID,
        );
        let login = CachedLogin {
            key: key.clone(),
            scopes: default_scopes(),
            account: Account::default(),
            tokens: tokens(3600),
        };
        let path = cache.store(&login).expect("stores");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
        let back = cache.load(&key).expect("loads").expect("present");
        assert_eq!(back.tokens.refresh_token.expect("rt").expose(), "rt");
        assert!(cache.remove(&key).expect("removes"));
        assert!(cache.load(&key).expect("loads").is_none());
        assert!(!cache.remove(&key).expect("second remove"));
    }

    #[cfg(unix)]
    #[test]
    fn cache_with_wider_permissions_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("tokens");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let err = TokenCache::open(&dir).expect_err("refused");
        assert!(err.to_string().contains("chmod 700"), "{err}");

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let cache = TokenCache::open(&dir).expect("opens");
        let key = CacheKey::new(&Cloud::global(), "t", "c");
        let path = cache
            .store(&CachedLogin {
                key: key.clone(),
                scopes: vec![],
                account: Account::default(),
                tokens: tokens(10),
            })
            .expect("stores");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = cache.load(&key).expect_err("refused");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn token_set_debug_hides_tokens_and_parses_string_numbers() {
        let t = TokenSet::from_token_response(
            br#"{"access_token":"secret-at","expires_in":"3599","refresh_token":"secret-rt"}"#,
            "sts",
        )
        .expect("parses");
        let shown = format!("{t:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!((3590..=3599).contains(&t.expires_in()));
        assert!(!t.needs_renewal());
        assert!(tokens(60).needs_renewal());
    }

    #[test]
    fn az_cli_output_prefers_posix_expiry() {
        let t = parse_az_cli_output(
            br#"{"accessToken":"x","expiresOn":"2030-01-01 00:00:00.000000","expires_on":1893456000,"tenant":"t","tokenType":"Bearer"}"#,
        )
        .expect("parses");
        assert_eq!(t.expires_at, 1893456000);
        assert!(parse_az_cli_output(b"not json").is_err());
    }
}
