//! Sessions from the flags: which cloud and tenant, the CA to trust, the token cache, and a
//! signed-in session for the headless commands (the Azure CLI's login or the token cache).

use std::io::Write;
use std::path::PathBuf;

use ficus_core::cloud::Cloud;
use ficus_entra::msi::{self, MsiSource};
use ficus_entra::signin::{self, CachedLogin, Renewal, TokenCache};
use ficus_entra::{Account, Credentials, EntraError, Http, RetryPolicy, Session, SessionConfig};

use crate::error::StartupError;
use crate::options::GlobalArgs;

/// A signed-in session for the headless commands.
pub struct Signed {
    pub session: Session,
    /// Where exchanges get their managed identity token when `--token-file` is not given;
    /// `None`: detect from the environment.
    pub msi_source: Option<MsiSource>,
    pub msi_http: Http,
    /// How the session was obtained (`sandbox`, `token cache`, `azure cli`, …) for `whoami`.
    pub signed_in_via: String,
}

/// The tenant `--sandbox-url` signs in to when `--tenant` is not given.
pub const SANDBOX_URL_DEFAULT_TENANT: &str = "contoso.onmicrosoft.com";

/// Resolves cloud, tenant, CA and cache from the flags (not for `--sandbox`).
pub fn session_config(global: &GlobalArgs) -> Result<SessionConfig, StartupError> {
    global.refuse_sandbox_flags().map_err(StartupError::Usage)?;
    let ca_pem = match &global.ca_file {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            StartupError::Usage(format!("cannot read the CA file {}: {e}", p.display()))
        })?),
        None => None,
    };
    let (cloud, default_tenant) = match &global.sandbox_url {
        Some(url) => {
            let url = url.trim_end_matches('/');
            (
                Cloud::custom(url, &format!("{url}/v1.0")),
                Some(SANDBOX_URL_DEFAULT_TENANT.to_string()),
            )
        }
        None => {
            let kind = global.cloud_kind();
            let cloud = Cloud::for_kind(kind).ok_or_else(|| {
                StartupError::Usage("a custom cloud needs --sandbox-url URL".into())
            })?;
            (cloud, None)
        }
    };
    let tenant = global.tenant.clone().or(default_tenant).ok_or_else(|| {
        StartupError::Usage(
            "no tenant given; pass --tenant ID-OR-DOMAIN (or set FICUS_TENANT), \
             or try ficus offline first with --sandbox"
                .into(),
        )
    })?;
    let mut config = SessionConfig::new(cloud, tenant);
    config.ca_pem = ca_pem;
    config.read_only = global.read_only;
    if let Some(c) = &global.client_id {
        config.client_id = c.clone();
    }
    config.cache_dir = Some(match std::env::var_os("FICUS_CACHE_DIR") {
        Some(d) => PathBuf::from(d),
        None => TokenCache::default_dir().map_err(EntraError::from)?,
    });
    Ok(config)
}

/// The device code flow: the prompt goes to `prompt_out`, the tokens to the cache. Returns
/// who signed in.
pub async fn device_code_login(
    config: &SessionConfig,
    prompt_out: &mut dyn Write,
) -> Result<Account, StartupError> {
    let http = Http::new(&config.http_config())?;
    let flow = signin::start_device_code(
        &http,
        &config.cloud,
        &config.tenant,
        &config.client_id,
        &config.scopes,
    )
    .await?;
    let p = flow.prompt();
    let written = match &p.message {
        Some(m) => writeln!(prompt_out, "{}", ficus_core::text::sanitize(m)),
        None => writeln!(
            prompt_out,
            "To sign in, open {} and enter the code {}",
            ficus_core::text::sanitize(&p.verification_uri),
            ficus_core::text::sanitize(&p.user_code)
        ),
    };
    written.map_err(|e| StartupError::Usage(format!("cannot show the sign-in prompt: {e}")))?;
    let tokens = flow.finish().await?;
    let account = Account::from_tokens(&tokens);
    let key = config.cache_key();
    if let Some(dir) = &config.cache_dir {
        let cache = TokenCache::open(dir.clone()).map_err(EntraError::from)?;
        cache
            .store(&CachedLogin {
                key,
                scopes: config.scopes.clone(),
                account: account.clone(),
                tokens,
            })
            .map_err(EntraError::from)?;
    }
    Ok(account)
}

/// Forgets the cached sign-in of the flags' tenant and client; whether there was one.
pub fn forget_login(config: &SessionConfig) -> Result<bool, StartupError> {
    Ok(match &config.cache_dir {
        Some(dir) if dir.exists() => TokenCache::open(dir.clone())
            .map_err(EntraError::from)?
            .remove(&config.cache_key())
            .map_err(EntraError::from)?,
        _ => false,
    })
}

/// A session from the flags: the Azure CLI, or the token cache (a running sandbox is signed in
/// to on the spot, as it approves device codes itself).
pub async fn connect(
    global: &GlobalArgs,
    prompt_out: &mut dyn Write,
) -> Result<Signed, StartupError> {
    connect_with(global, prompt_out, SignInPrompt::IfTerminal).await
}

/// Whether [`connect_with`] may start a device-code sign-in when nothing is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInPrompt {
    /// Never (`whoami`): not signed in is the answer.
    Never,
    /// Only with `--sandbox-url` and when stdin is a terminal; otherwise "not signed in".
    IfTerminal,
}

impl SignInPrompt {
    fn allowed(self) -> bool {
        use std::io::IsTerminal;
        match self {
            SignInPrompt::Never => false,
            SignInPrompt::IfTerminal => std::io::stdin().is_terminal(),
        }
    }
}

/// [`connect`], saying whether a sign-in prompt is allowed.
pub async fn connect_with(
    global: &GlobalArgs,
    prompt_out: &mut dyn Write,
    prompt: SignInPrompt,
) -> Result<Signed, StartupError> {
    let config = session_config(global)?;
    let msi_http = msi::msi_http(RetryPolicy::default())?;
    if global.use_az_cli {
        let tenant = Some(config.tenant.clone());
        let tokens = signin::az_cli_token(&config.cloud, tenant.as_deref()).await?;
        let renewal = Renewal::AzCli {
            cloud: config.cloud.clone(),
            tenant,
        };
        let session = Session::new(config, Credentials::new(tokens, renewal))?;
        return Ok(Signed {
            session,
            msi_source: None,
            msi_http,
            signed_in_via: "azure cli".into(),
        });
    }
    // A sandbox URL this client may never speak to is refused with its reason first, whether
    // or not a sign-in is cached.
    if global.sandbox_url.is_some()
        && let Ok(login) = url::Url::parse(&config.cloud.login)
    {
        Http::new(&config.http_config())?
            .check_url(&login)
            .map_err(EntraError::from)?;
    }
    let session = match Session::from_cache(config.clone()) {
        Ok(s) => s,
        Err(EntraError::NotSignedIn { .. }) if global.sandbox_url.is_some() && prompt.allowed() => {
            device_code_login(&config, prompt_out).await?;
            Session::from_cache(config)?
        }
        Err(e) => return Err(e.into()),
    };
    // A running sandbox's emulated host gives the exchanges their managed identity tokens
    // (`--token-file` still wins); without its description, this machine's environment.
    let msi_source = match &global.sandbox_url {
        Some(url) => match crate::connection::sandbox_msi_host(&session.http, url).await {
            Ok(host) => host.env.imds_authority.map(|base| MsiSource::Imds { base }),
            Err(why) => {
                tracing::warn!(%why, "no emulated host from the sandbox");
                None
            }
        },
        None => None,
    };
    Ok(Signed {
        session,
        msi_source,
        msi_http,
        signed_in_via: "token cache".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ficus_core::cloud::CloudKind;

    #[test]
    fn session_config_needs_a_tenant_and_knows_the_clouds() {
        let err = session_config(&GlobalArgs::default()).expect_err("no tenant");
        assert!(err.to_string().contains("--tenant"), "{err}");
        assert!(err.to_string().contains("--sandbox"), "{err}");

        let cfg = session_config(&GlobalArgs {
            cloud: Some(CloudKind::UsGov),
            tenant: Some("contoso.onmicrosoft.us".into()),
            read_only: true,
            ..GlobalArgs::default()
        })
        .expect("config");
        assert_eq!(cfg.cloud.login, "https://login.microsoftonline.us");
        assert!(cfg.read_only);
        assert_eq!(cfg.client_id, signin::DEFAULT_CLIENT_ID);

        let cfg = session_config(&GlobalArgs {
            sandbox_url: Some("https://localhost:8443/".into()),
            ..GlobalArgs::default()
        })
        .expect("sandbox url");
        assert_eq!(cfg.tenant, "contoso.onmicrosoft.com");
        assert_eq!(cfg.cloud.graph_v1(), "https://localhost:8443/v1.0");
        assert!(cfg.http_config().no_proxy);
    }
}
