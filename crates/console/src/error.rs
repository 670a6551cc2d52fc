//! Typed errors across the effect boundary: what kind of failure the directory met (so the
//! screens can tell a taken name from a missing right) and the sentence to show.

use ficus_entra::EntraError;

/// What kind of failure, as far as the screens need to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404: the object is gone (deleted elsewhere, or never there).
    NotFound,
    /// 409: a name (or an issuer and subject) already taken.
    Conflict,
    /// 403: the signed-in user lacks the right.
    Forbidden,
    /// The session runs with `--read-only`.
    ReadOnly,
    /// 429 after the retries.
    Throttled,
    /// No answer (connect, timeout, TLS).
    Network,
    /// Not signed in, or the sign-in expired.
    Unauthorized,
    /// 400, or a request ficus refuses to send.
    Invalid,
    /// This directory cannot do it at all (no token service, one tenant only, no lookups).
    Unsupported,
    Other,
}

/// A directory call that failed: its kind, and a sentence that says what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryError {
    pub kind: ErrorKind,
    pub message: String,
}

impl DirectoryError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> DirectoryError {
        DirectoryError {
            kind,
            message: message.into(),
        }
    }

    /// An entra error's kind, with its own message or a better one.
    pub fn from_entra(error: &EntraError, message: impl Into<String>) -> DirectoryError {
        DirectoryError::new(kind_of(error), message)
    }
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DirectoryError {}

impl From<EntraError> for DirectoryError {
    fn from(error: EntraError) -> DirectoryError {
        DirectoryError::from_entra(&error, error.to_string())
    }
}

/// A failure only known as a sentence (a panicked effect, a test double).
impl From<String> for DirectoryError {
    fn from(message: String) -> DirectoryError {
        DirectoryError::new(ErrorKind::Other, message)
    }
}

/// The sentence alone (a toast, a panel line).
impl From<DirectoryError> for String {
    fn from(error: DirectoryError) -> String {
        error.message
    }
}

impl From<&str> for DirectoryError {
    fn from(message: &str) -> DirectoryError {
        DirectoryError::new(ErrorKind::Other, message)
    }
}

/// The kind of an entra error: Graph's status, then the error's own variant.
pub fn kind_of(error: &EntraError) -> ErrorKind {
    let status = |status: u16| match status {
        400 => ErrorKind::Invalid,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Other,
    };
    match error {
        EntraError::Graph(graph) => status(graph.status),
        EntraError::Sts(sts) => match status(sts.status) {
            ErrorKind::Other if sts.status == 400 || sts.status == 401 => ErrorKind::Unauthorized,
            kind => kind,
        },
        EntraError::Network(_) | EntraError::Msi(_) => ErrorKind::Network,
        EntraError::NotSignedIn { .. }
        | EntraError::SignInExpired { .. }
        | EntraError::Cache(_)
        | EntraError::AzCli(_) => ErrorKind::Unauthorized,
        EntraError::ReadOnly { .. } => ErrorKind::ReadOnly,
        EntraError::NotFound { .. } => ErrorKind::NotFound,
        EntraError::Ambiguous { .. } | EntraError::Invalid(_) => ErrorKind::Invalid,
        // A link to another host is refused before any token leaves: not a request to retry.
        EntraError::ForeignOrigin { .. } => ErrorKind::Invalid,
        EntraError::Protocol { .. } | EntraError::Verification { .. } => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_errors_keep_their_kind() {
        assert_eq!(
            DirectoryError::from(EntraError::ReadOnly {
                action: "create".into()
            })
            .kind,
            ErrorKind::ReadOnly
        );
        assert_eq!(
            kind_of(&EntraError::Invalid("bad".into())),
            ErrorKind::Invalid
        );
        assert_eq!(DirectoryError::from("a panic").kind, ErrorKind::Other);
    }
}
