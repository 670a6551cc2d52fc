use ficus_entra::EntraError;

/// Why ficus could not get going: the flags, the configuration, the sign-in or the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A flag or a combination of flags that cannot work; the message says which and why.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Entra(#[from] EntraError),
    #[error("the sandbox could not start: {0}")]
    Sandbox(String),
}
