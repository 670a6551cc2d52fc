//! Managed identity token sources, detected in azure-identity's order: App Service
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), the workload identity token file
//! (`AZURE_FEDERATED_TOKEN_FILE`, with `AZURE_AUTHORITY_HOST` and `AZURE_TENANT_ID`), then IMDS
//! (after a sub-second probe, so a machine that is not on Azure says so quickly; the real IMDS
//! at 169.254.169.254 only on an Azure VM, see [`on_azure_host`]). A token can
//! also be given explicitly (file or stdin). The sandbox's endpoints are the same protocols.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::{EntraError, MsiError};
use super::http::{Http, HttpConfig, PlainHttp, Retry, RetryPolicy, redact_userinfo};
use super::signin::{now_unix, number_or_string};
use ficus_core::secret::Secret;

/// The real IMDS address.
pub const IMDS_HOST: &str = "http://169.254.169.254";
/// How long the IMDS probe may take before ficus concludes it is not on Azure.
pub const IMDS_PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// The environment variables the detection reads. Tests build this explicitly; the CLI uses
/// [`MsiEnv::from_process`].
#[derive(Debug, Clone, Default)]
pub struct MsiEnv {
    pub identity_endpoint: Option<String>,
    pub identity_header: Option<Secret<String>>,
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST`: where IMDS is (sandbox or pod identity).
    pub imds_authority: Option<String>,
    pub federated_token_file: Option<PathBuf>,
    pub azure_client_id: Option<String>,
    pub azure_tenant_id: Option<String>,
    pub azure_authority_host: Option<String>,
}

impl MsiEnv {
    pub fn from_process() -> MsiEnv {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        MsiEnv {
            identity_endpoint: var("IDENTITY_ENDPOINT"),
            identity_header: var("IDENTITY_HEADER").map(Secret::new),
            imds_authority: var("AZURE_POD_IDENTITY_AUTHORITY_HOST"),
            federated_token_file: var("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
            azure_client_id: var("AZURE_CLIENT_ID"),
            azure_tenant_id: var("AZURE_TENANT_ID"),
            azure_authority_host: var("AZURE_AUTHORITY_HOST"),
        }
    }
}

/// Where the assertion comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsiSource {
    /// App Service / Functions / Container Apps (`X-IDENTITY-HEADER`).
    AppService {
        endpoint: String,
        header: Secret<String>,
    },
    /// IMDS at `base` (`http://169.254.169.254`, or an override such as the sandbox's).
    Imds { base: String },
    /// A Kubernetes (or other) token projected into a file; it is the assertion itself.
    WorkloadIdentityFile { path: PathBuf },
    /// A token file the admin named (or `-` for stdin, already read).
    Explicit {
        label: String,
        token: Secret<String>,
    },
}

impl MsiSource {
    pub fn label(&self) -> String {
        match self {
            MsiSource::AppService { endpoint, .. } => {
                format!("App Service ({})", redact_userinfo(endpoint))
            }
            MsiSource::Imds { base } => format!("IMDS ({})", redact_userinfo(base)),
            MsiSource::WorkloadIdentityFile { path } => {
                format!("workload identity file ({})", path.display())
            }
            MsiSource::Explicit { label, .. } => label.clone(),
        }
    }

    /// The endpoint shown in the exchange timeline (user info redacted).
    pub fn endpoint(&self) -> String {
        redact_userinfo(&self.request_url())
    }

    /// The URL requested (as configured).
    fn request_url(&self) -> String {
        match self {
            MsiSource::AppService { endpoint, .. } => endpoint.clone(),
            MsiSource::Imds { base } => format!("{base}/metadata/identity/oauth2/token"),
            MsiSource::WorkloadIdentityFile { path } => path.display().to_string(),
            MsiSource::Explicit { label, .. } => label.clone(),
        }
    }

    /// Reads a token from a file, or stdin for `-`.
    pub fn explicit_from(path: &str) -> Result<MsiSource, MsiError> {
        let text = if path == "-" {
            read_token_text(std::io::stdin().lock()).map_err(|detail| MsiError::TokenFile {
                path: "stdin".into(),
                detail,
            })?
        } else {
            let file = std::fs::File::open(path).map_err(|e| MsiError::TokenFile {
                path: path.into(),
                detail: e.to_string(),
            })?;
            read_token_text(file).map_err(|detail| MsiError::TokenFile {
                path: path.into(),
                detail,
            })?
        };
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(MsiError::TokenFile {
                path: path.into(),
                detail: "it is empty".into(),
            });
        }
        Ok(MsiSource::Explicit {
            label: if path == "-" {
                "token from stdin".into()
            } else {
                format!("token file {path}")
            },
            token: Secret::new(token),
        })
    }
}

/// Reads a token, at most [`ficus_core::jwt::MAX_TOKEN_LEN`] bytes (one more is read to know
/// it is too long): an endless stream or a huge file is refused, never loaded.
pub fn read_token_text(reader: impl std::io::Read) -> Result<String, String> {
    let max = ficus_core::jwt::MAX_TOKEN_LEN;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(reader, max as u64 + 1), &mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > max {
        return Err(format!(
            "it is longer than {} KiB, which no token is; pass the token itself",
            max / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not text (byte {} is not UTF-8); pass the token itself",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Which identity on the host to ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySelector {
    ClientId(String),
    PrincipalId(String),
    ResourceId(String),
    SystemAssigned,
}

/// A managed identity token and where it came from.
#[derive(Debug, Clone)]
pub struct MsiToken {
    pub token: Secret<String>,
    /// Unix seconds, when the source said.
    pub expires_on: Option<i64>,
    pub source: String,
    pub endpoint: String,
}

/// An HTTP client fit for IMDS and App Service: no proxy ever (link-local / localhost), and
/// plain `http://` allowed to link-local addresses as well as this machine, since those
/// endpoints speak nothing else.
pub fn msi_http(retry: RetryPolicy) -> Result<Http, EntraError> {
    Http::new(&HttpConfig {
        no_proxy: true,
        retry,
        plain_http: PlainHttp::LoopbackAndLinkLocal,
        ..HttpConfig::default()
    })
}

/// Finds the source the way azure-identity does. IMDS is probed (no `Metadata` header, which a
/// real IMDS answers with 400 at once) within [`IMDS_PROBE_TIMEOUT`].
pub async fn detect(env: &MsiEnv) -> Result<MsiSource, EntraError> {
    if let (Some(endpoint), Some(header)) = (&env.identity_endpoint, &env.identity_header) {
        return Ok(MsiSource::AppService {
            endpoint: endpoint.clone(),
            header: header.clone(),
        });
    }
    if let (Some(path), Some(_), Some(_)) = (
        &env.federated_token_file,
        &env.azure_tenant_id,
        &env.azure_authority_host,
    ) {
        return Ok(MsiSource::WorkloadIdentityFile { path: path.clone() });
    }
    // The real IMDS is asked only on an Azure host: anywhere else a request to 169.254.169.254
    // is at best a wasted probe and at worst reaches something that is not IMDS.
    if env.imds_authority.is_none() && !on_azure_host() {
        return Err(MsiError::NotAzureHost.into());
    }
    let base = env
        .imds_authority
        .clone()
        .unwrap_or_else(|| IMDS_HOST.to_string())
        .trim_end_matches('/')
        .to_string();
    if probe_imds(&base).await? {
        return Ok(MsiSource::Imds { base });
    }
    Err(MsiError::NoSource {
        imds: base,
        probe_ms: IMDS_PROBE_TIMEOUT.as_millis() as u64,
    }
    .into())
}

/// The chassis asset tag every Azure virtual machine reports (SMBIOS), which is how Azure's
/// own agents tell they run on Azure.
pub const AZURE_CHASSIS_ASSET_TAG: &str = "7783-7084-3265-9085-8269-3286-77";

/// Whether this machine is an Azure virtual machine (so that IMDS may be there). On Linux its
/// SMBIOS chassis asset tag says so; macOS never is; elsewhere it cannot be told cheaply and
/// the probe decides, as before.
pub fn on_azure_host() -> bool {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/sys/class/dmi/id/chassis_asset_tag")
            .is_ok_and(|tag| tag.trim() == AZURE_CHASSIS_ASSET_TAG)
    } else {
        !cfg!(target_os = "macos")
    }
}

/// True when something answers HTTP at the IMDS token path within the probe timeout.
pub async fn probe_imds(base: &str) -> Result<bool, EntraError> {
    let http = Http::new(&HttpConfig {
        no_proxy: true,
        connect_timeout: IMDS_PROBE_TIMEOUT,
        request_timeout: IMDS_PROBE_TIMEOUT,
        retry: RetryPolicy::none(),
        plain_http: PlainHttp::LoopbackAndLinkLocal,
        ..HttpConfig::default()
    })?;
    let url = format!("{base}/metadata/identity/oauth2/token");
    let started = Instant::now();
    let answered = http.send(Retry::Never, |c| c.get(&url)).await.is_ok();
    tracing::debug!(
        answered,
        ms = started.elapsed().as_millis() as u64,
        "IMDS probe"
    );
    Ok(answered)
}

/// Gets a token for `resource` (e.g. `api://AzureADTokenExchange`) from the source.
pub async fn acquire(
    http: &Http,
    source: &MsiSource,
    selector: &IdentitySelector,
    resource: &str,
) -> Result<MsiToken, EntraError> {
    let endpoint = source.endpoint();
    let url = source.request_url();
    match source {
        MsiSource::Explicit { token, label } => Ok(MsiToken {
            token: token.clone(),
            expires_on: ficus_core::jwt::decode(token.expose())
                .ok()
                .and_then(|j| j.time_claim("exp")),
            source: label.clone(),
            endpoint,
        }),
        MsiSource::WorkloadIdentityFile { path } => {
            let text = std::fs::File::open(path)
                .map_err(|e| e.to_string())
                .and_then(read_token_text)
                .map_err(|detail| MsiError::TokenFile {
                    path: path.display().to_string(),
                    detail,
                })?;
            let token = Secret::new(text.trim().to_string());
            Ok(MsiToken {
                expires_on: ficus_core::jwt::decode(token.expose())
                    .ok()
                    .and_then(|j| j.time_claim("exp")),
                token,
                source: source.label(),
                endpoint,
            })
        }
        MsiSource::Imds { .. } => {
            let mut query = vec![
                ("api-version", "2018-02-01".to_string()),
                ("resource", resource.to_string()),
            ];
            push_selector(&mut query, selector, "client_id", "object_id", "msi_res_id");
            let resp = http
                .send(Retry::Idempotent, |c| {
                    c.get(&url).query(&query).header("Metadata", "true")
                })
                .await?;
            token_from(resp, source, &endpoint)
        }
        MsiSource::AppService { header, .. } => {
            let mut query = vec![
                ("api-version", "2019-08-01".to_string()),
                ("resource", resource.to_string()),
            ];
            push_selector(
                &mut query,
                selector,
                "client_id",
                "principal_id",
                "mi_res_id",
            );
            let resp = http
                .send(Retry::Idempotent, |c| {
                    c.get(&url)
                        .query(&query)
                        .header("X-IDENTITY-HEADER", header.expose().as_str())
                })
                .await?;
            token_from(resp, source, &endpoint)
        }
    }
}

fn push_selector(
    query: &mut Vec<(&'static str, String)>,
    selector: &IdentitySelector,
    client: &'static str,
    principal: &'static str,
    resource: &'static str,
) {
    match selector {
        IdentitySelector::ClientId(v) => query.push((client, v.clone())),
        IdentitySelector::PrincipalId(v) => query.push((principal, v.clone())),
        IdentitySelector::ResourceId(v) => query.push((resource, v.clone())),
        IdentitySelector::SystemAssigned => {}
    }
}

fn token_from(
    resp: super::http::Response,
    source: &MsiSource,
    endpoint: &str,
) -> Result<MsiToken, EntraError> {
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    if !resp.is_success() {
        // IMDS: {"error","error_description"}; App Service: {"statusCode","message"}.
        let message = body["error_description"]
            .as_str()
            .or_else(|| body["message"].as_str())
            .or_else(|| body["error"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(200)
                    .collect()
            });
        return Err(MsiError::Refused {
            endpoint: endpoint.to_string(),
            status: resp.status.as_u16(),
            message,
        }
        .into());
    }
    let Some(token) = body["access_token"].as_str().filter(|t| !t.is_empty()) else {
        return Err(MsiError::BadAnswer {
            endpoint: endpoint.to_string(),
            detail: "no access_token".into(),
        }
        .into());
    };
    let expires_on = number_or_string(&body["expires_on"])
        .or_else(|| number_or_string(&body["expires_in"]).map(|s| now_unix() + s));
    Ok(MsiToken {
        token: Secret::new(token.to_string()),
        expires_on,
        source: source.label(),
        endpoint: endpoint.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn app_service_wins_then_workload_file() {
        let env = MsiEnv {
            identity_endpoint: Some("http://127.0.0.1:1/msi/token".into()),
            identity_header: Some(Secret::new("h".into())),
            federated_token_file: Some("/tmp/t".into()),
            azure_tenant_id: Some("t".into()),
            azure_authority_host: Some("https://x".into()),
            ..MsiEnv::default()
        };
        assert!(matches!(
            detect(&env).await,
            Ok(MsiSource::AppService { .. })
        ));
        let env = MsiEnv {
            identity_endpoint: None,
            ..env
        };
        assert!(matches!(
            detect(&env).await,
            Ok(MsiSource::WorkloadIdentityFile { .. })
        ));
    }

    #[tokio::test]
    async fn no_source_is_reported_quickly() {
        // A closed loopback port stands in for a machine without IMDS.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let env = MsiEnv {
            imds_authority: Some(format!("http://127.0.0.1:{port}")),
            ..MsiEnv::default()
        };
        let started = Instant::now();
        let err = detect(&env).await.expect_err("no source");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(err.to_string().contains("--token-file"), "{err}");
    }

    #[test]
    fn explicit_token_file_must_not_be_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t");
        std::fs::write(&p, "  \n").expect("write");
        let err = MsiSource::explicit_from(p.to_str().expect("utf8")).expect_err("empty");
        assert!(err.to_string().contains("empty"));
        std::fs::write(&p, "abc\n").expect("write");
        match MsiSource::explicit_from(p.to_str().expect("utf8")).expect("reads") {
            MsiSource::Explicit { token, .. } => assert_eq!(token.expose(), "abc"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
