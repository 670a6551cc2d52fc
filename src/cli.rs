//! The command line: the console (no subcommand), the headless commands (`ficus-commands`)
//! and `ficus sandbox`; the flags every part understands are `ficus_startup::GlobalArgs`.

use clap::{Parser, Subcommand};
pub use ficus_startup::GlobalArgs;

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

/// What to run: a headless command, or the sandbox on its own.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Headless(ficus_commands::Command),
    /// Run the local Entra sandbox (token service, Graph, managed identity endpoints).
    Sandbox(ficus_sandbox::serve::SandboxArgs),
}
