//! Why the sandbox's state cannot be read, written or held, in words that say what to do.
//! Apart from `state.rs` so that the journal and the lock, which `state.rs` uses, can name
//! their errors without importing it back.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "cannot read the sandbox state file {path}: {source}; check its permissions, or pass another --state FILE"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the sandbox state file {path} is corrupt ({detail}); it was left untouched: move it away to start fresh, or pass another --state FILE"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the sandbox state file {path} has format version {found}, this ficus reads version {expected}; move it away or use a matching ficus"
    )]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "cannot write the sandbox state file {path}: {source}; check the directory exists and is writable"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no data directory is known for this user (HOME unset?); pass --state FILE")]
    NoDataDir,
    #[error(
        "the sandbox state file {path} is inconsistent: {problem}; it was left untouched: fix or move it away, or pass another --state FILE"
    )]
    Invalid { path: PathBuf, problem: String },
    #[error(
        "the sandbox state file {path} is in use by another sandbox{}; stop that one, or pass another --state FILE",
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked { path: PathBuf, holder: Option<u32> },
    #[error("the sandbox cannot save to {path} ({detail}); the change was not made")]
    Unavailable { path: PathBuf, detail: String },
}
