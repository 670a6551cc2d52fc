//! The flags every part of ficus understands (the console, the headless commands, the
//! embedded sandbox), typed where they can be.

use clap::Args;
use ficus_core::cloud::CloudKind;

/// Flags every command understands, the console included.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Use a running `ficus sandbox` at this URL (e.g. https://localhost:8443).
    #[arg(long, global = true, value_name = "URL", conflicts_with = "sandbox")]
    pub sandbox_url: Option<String>,

    /// CA certificate (PEM) to trust, e.g. the running sandbox's ca.pem.
    #[arg(long, global = true, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,

    /// National cloud: global (default), usgov or china.
    #[arg(long, global = true, env = "FICUS_CLOUD", value_name = "CLOUD", value_parser = parse_cloud)]
    pub cloud: Option<CloudKind>,

    /// Tenant id or domain (e.g. contoso.onmicrosoft.com).
    #[arg(long, global = true, env = "FICUS_TENANT")]
    pub tenant: Option<String>,

    /// Refuse every write.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Machine-readable output on stdout; errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    /// Reuse the Azure CLI's login (`az account get-access-token`).
    #[arg(long, global = true)]
    pub use_az_cli: bool,

    /// Sandbox faults (with --sandbox or `ficus sandbox`): throttle=N,latency=MS,replication=SECS.
    #[arg(long, global = true, value_name = "SPEC")]
    pub faults: Option<ficus_sandbox::Faults>,

    /// Sandbox seed (with --sandbox or `ficus sandbox`): demo (default), empty or large:N.
    #[arg(long, global = true, value_name = "SEED")]
    pub seed: Option<ficus_sandbox::Seed>,

    /// Public client id to sign in with (default: Microsoft Graph Command Line Tools).
    #[arg(long, global = true, value_name = "GUID")]
    pub client_id: Option<String>,
}

impl GlobalArgs {
    /// Refuses sandbox-only flags on a session with a real tenant (or a running sandbox,
    /// which was seeded when it started).
    pub fn refuse_sandbox_flags(&self) -> Result<(), String> {
        match (&self.faults, &self.seed) {
            (None, None) => Ok(()),
            _ => Err(
                "--faults and --seed shape a sandbox: use them with --sandbox, or with \
                      `ficus sandbox` for a standalone one"
                    .into(),
            ),
        }
    }

    /// The cloud asked for, or the global cloud.
    pub fn cloud_kind(&self) -> CloudKind {
        self.cloud.unwrap_or(CloudKind::Global)
    }
}

/// `--cloud` and `FICUS_CLOUD`: a national cloud's name (the Azure CLI's names work too).
pub fn parse_cloud(text: &str) -> Result<CloudKind, String> {
    match CloudKind::parse(text) {
        Some(CloudKind::Custom) | None => Err(format!(
            "unknown cloud '{}'; use global, usgov or china (a sandbox is --sandbox or --sandbox-url URL)",
            text.trim()
        )),
        Some(kind) => Ok(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_clouds_parse_and_custom_is_refused() {
        assert_eq!(parse_cloud("usgov"), Ok(CloudKind::UsGov));
        assert_eq!(parse_cloud("AzureChinaCloud"), Ok(CloudKind::China));
        assert_eq!(parse_cloud(" global "), Ok(CloudKind::Global));
        let error = parse_cloud("mars").unwrap_err();
        assert!(error.contains("use global, usgov or china"), "{error}");
    }

    #[test]
    fn sandbox_flags_are_refused_for_a_real_tenant() {
        assert_eq!(GlobalArgs::default().refuse_sandbox_flags(), Ok(()));
        let seeded = GlobalArgs {
            seed: Some(ficus_sandbox::Seed::Empty),
            ..GlobalArgs::default()
        };
        let error = seeded.refuse_sandbox_flags().unwrap_err();
        assert!(error.contains("--sandbox"), "{error}");
        let error = crate::session::session_config(&GlobalArgs {
            tenant: Some("contoso.onmicrosoft.com".into()),
            ..seeded
        })
        .unwrap_err();
        assert!(error.to_string().contains("ficus sandbox"), "{error}");
    }
}
