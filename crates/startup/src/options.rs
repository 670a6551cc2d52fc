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

    /// Faults for the embedded sandbox, e.g. throttle=3,latency=20,replication=30.
    #[arg(long, global = true, value_name = "SPEC", requires = "sandbox")]
    pub sandbox_faults: Option<String>,

    /// Seed of the embedded sandbox: demo (default), empty or large:N.
    #[arg(long, global = true, value_name = "SEED", requires = "sandbox")]
    pub sandbox_seed: Option<String>,

    /// Public client id to sign in with (default: Microsoft Graph Command Line Tools).
    #[arg(long, global = true, value_name = "GUID")]
    pub client_id: Option<String>,
}

impl GlobalArgs {
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
}
