//! ficus: a terminal console for Microsoft Entra ID administrators, built around federated
//! identity credentials (FICs) that let an app registration trust a user-assigned managed
//! identity, and a local sandbox that emulates the Entra token service, Graph and the managed
//! identity endpoints.
//!
//! The `ficus` package is the binary (`src/main.rs`: the command line) over the workspace's
//! crates, whose graph is the architecture (an upward import does not compile):
//!
//! ```text
//!  ficus (bin)
//!    ├──► ficus-console  (the TUI)      ─┐
//!    ├──► ficus-commands (headless)     ─┼──► ficus-startup ──► ficus-entra ──► ficus-core
//!    │                                   │          └─────────► ficus-sandbox ─► ficus-core
//!    └──► ficus-sandbox (`ficus sandbox`)
//! ```
//!
//! This library only names the crates for the integration tests and benchmarks in `tests/`
//! and `benches/`, under the names they had as modules.

pub mod cli;

pub use ficus_commands as commands;
pub use ficus_console as tui;
pub use ficus_core::{audit, cloud, fic, jwt, secret, text};
pub use ficus_entra as entra;
pub use ficus_sandbox as sandbox;
pub use ficus_startup as startup;
pub use ficus_startup::install_crypto_provider;
