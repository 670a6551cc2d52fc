//! Start-up: everything between the command line and a signed-in session, shared by the
//! console and the headless commands (which sit beside each other above this crate).
//!
//! - [`options`]: the flags every command understands (`--cloud` typed);
//! - [`config`]: `config.toml`, typed, with errors that name the file and the fix, and where
//!   ficus keeps its files;
//! - [`session`]: cloud, tenant, CA and token cache from the flags; headless sign-in;
//! - [`last_tenant`]: which tenant a plain `ficus` opens;
//! - [`connection`]: what a signed-in console holds ([`Connected`]) and how it gets one
//!   ([`Connector`]); a `--sandbox-url` sandbox's emulated host, from the description it serves
//!   ([`connection::sandbox_msi_host`]);
//! - [`console_start`]: the console's connector from the flags and the configuration;
//! - [`sandbox`]: the embedded sandbox as a session (console, headless commands, tests);
//! - [`history`]: the local journal of every write ficus makes, and restoring from it.
//!
//! Uses `entra`, `core` and `sandbox` (to start the embedded one); never the console or the
//! commands.

pub mod config;
pub mod connection;
pub mod console_start;
mod error;
pub mod history;
pub mod last_tenant;
pub mod options;
pub mod sandbox;
pub mod session;

pub use config::{Config, ConfigError, Dirs};
pub use connection::{Connected, Connector, SessionInfo};
pub use error::StartupError;
pub use options::GlobalArgs;
pub use session::Signed;

/// Installs aws-lc-rs as the process-wide rustls provider (see the sandbox crate).
pub use ficus_sandbox::install_crypto_provider;
