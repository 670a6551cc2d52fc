//! Command-line definitions and the headless subcommands.

use clap::{Parser, Subcommand};

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

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local Entra sandbox (token service, Graph, managed identity endpoints).
    Sandbox(crate::sandbox::serve::SandboxArgs),
}
