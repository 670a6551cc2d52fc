//! Command-line definitions. The headless commands are implemented in `commands.rs`; this
//! file holds only the clap definitions.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ficus",
    version,
    about = "A terminal console for Microsoft Entra ID federated identity credentials"
)]
pub struct Cli {
    /// Run against the embedded sandbox (demo tenant, signed in as the demo admin), no network.
    #[arg(long, global = true)]
    pub sandbox: bool,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every headless command understands.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Use a running `ficus sandbox` at this URL (e.g. https://localhost:8443).
    #[arg(long, global = true, value_name = "URL", conflicts_with = "sandbox")]
    pub sandbox_url: Option<String>,

    /// CA certificate (PEM) to trust, e.g. the running sandbox's ca.pem.
    #[arg(long, global = true, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,

    /// National cloud: global, usgov or china.
    #[arg(long, global = true, env = "FICUS_CLOUD", default_value = "global")]
    pub cloud: String,

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List app registrations.
    Apps {
        /// Only apps whose name, app id or object id contains this text (case-insensitive).
        #[arg(long)]
        filter: Option<String>,
    },
    /// List managed identities.
    Identities,
    /// Say what a GUID is in the tenant.
    Whois { guid: String },
    /// Federated identity credentials of an app.
    #[command(subcommand)]
    Fic(FicCommand),
    /// Exchange a managed identity token for the app's token, and explain any failure.
    Exchange(ExchangeArgs),
    /// Decode a JWT (argument, or - / nothing for stdin), optionally verifying its signature.
    Decode {
        token: Option<String>,
        /// Fetch the issuer's discovery document and JWKS and verify the signature.
        #[arg(long)]
        verify: bool,
    },
    /// Explain an AADSTS code or an error text.
    Explain {
        /// A code (700213, AADSTS700213) or a whole error message.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Sign in with the device code flow and cache the tokens.
    Login,
    /// Forget the cached sign-in.
    Logout,
    /// Show who is signed in.
    Whoami,
    /// Run the local Entra sandbox (token service, Graph, managed identity endpoints).
    Sandbox(crate::sandbox::serve::SandboxArgs),
}

#[derive(Debug, Subcommand)]
pub enum FicCommand {
    /// List an app's federated identity credentials.
    List {
        /// Display name, app id or object id.
        app: String,
    },
    /// Add a FIC that trusts a user-assigned managed identity (auto-filled and validated).
    Add {
        app: String,
        /// Name, client id, principal id or ARM id of the identity.
        #[arg(long)]
        identity: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Print the request and equivalent commands; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Save despite warnings (errors always refuse).
        #[arg(long)]
        force: bool,
    },
    /// Remove a FIC by name (or id).
    Rm { app: String, name: String },
}

#[derive(Debug, Clone, Args)]
pub struct ExchangeArgs {
    /// Display name, app id or object id.
    #[arg(long)]
    pub app: String,
    /// Name, client id, principal id or ARM id of the identity.
    #[arg(long)]
    pub identity: String,
    /// Scope to request (default: Graph's .default).
    #[arg(long)]
    pub scope: Option<String>,
    /// Tenant whose token endpoint is asked (default: the signed-in tenant).
    #[arg(long)]
    pub resource_tenant: Option<String>,
    /// Use this token as the assertion instead of asking a managed identity endpoint (- = stdin).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<String>,
}
