//! The headless subcommands' arguments (clap). The `ficus` binary adds the console and
//! `ficus sandbox` beside them.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List app registrations.
    Apps {
        /// Only apps whose name, app id or object id contains this text (case-insensitive).
        #[arg(long)]
        filter: Option<String>,
    },
    /// List managed identities.
    Identities {
        /// Only identities whose name, client id, principal id, resource group or ARM id
        /// contains this text (case-insensitive).
        #[arg(long)]
        filter: Option<String>,
    },
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
    /// The workload's code that uses an app's FIC for an identity, per SDK, values filled in.
    Code(crate::code::CodeArgs),
    /// An app's workload sign-ins: which credential, when, failures with their AADSTS code.
    Signins(crate::evidence::SigninsArgs),
    /// An app's client secrets with their last use; remove one once it has gone quiet.
    #[command(subcommand)]
    Secret(crate::evidence::SecretCommand),
    /// The journal of every write ficus made; `history restore N` undoes change N.
    History(crate::evidence::HistoryArgs),
    /// Failing workloads: failed workload sign-ins grouped by app, identity and AADSTS code,
    /// each with what is wrong with the app's FICs.
    Failing(crate::evidence::FailingArgs),
    /// Check the whole tenant: every FIC, secret, certificate and managed identity (read-only).
    Audit {
        /// A Markdown report (for a ticket or a wiki) instead of text; `--json` for scripts.
        #[arg(long)]
        markdown: bool,
        /// Exit with status 1 when any finding is at or above this severity.
        #[arg(long, value_name = "SEVERITY", value_parser = ["error", "warning", "info"])]
        fail_on: Option<String>,
    },
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
    /// Remove a FIC by name (or id). Asks for confirmation when run interactively.
    Rm {
        app: String,
        name: String,
        /// Do not ask: remove it (needed when stdin is not a terminal, e.g. in scripts).
        #[arg(long, short = 'y')]
        yes: bool,
    },
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
