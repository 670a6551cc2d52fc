//! The sandbox's shared state ([`AppState`]) and its persistence: the whole directory in one
//! JSON file, written atomically (temp file, fsync, rename). A corrupt or unreadable file is
//! refused with an error naming it, never replaced.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Notify;

use crate::faults::{Faults, ThrottleCounter};
use crate::keys::KeyRing;
use crate::model::{Directory, FORMAT_VERSION};
use crate::sessions::Sessions;

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
}

/// The default state file: `<data dir>/ficus/sandbox.json` (e.g.
/// `~/.local/share/ficus/sandbox.json`).
pub fn default_state_file() -> Result<PathBuf, StateError> {
    let dirs = directories::ProjectDirs::from("", "", "ficus").ok_or(StateError::NoDataDir)?;
    Ok(dirs.data_dir().join("sandbox.json"))
}

/// Reads a state file. `Ok(None)` when it does not exist (the caller seeds a new directory).
pub fn load(path: &Path) -> Result<Option<Directory>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    // Check the version first, so an old file says "version" rather than "corrupt". The probe
    // skips everything else without building it.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        format_version: Option<u64>,
    }
    let corrupt = |detail: String| StateError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let probe: Probe = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let found = probe
        .format_version
        .ok_or_else(|| corrupt("no formatVersion field: not a ficus sandbox state file".into()))?;
    if found != u64::from(FORMAT_VERSION) {
        return Err(StateError::Version {
            path: path.to_path_buf(),
            found: u32::try_from(found).unwrap_or(u32::MAX),
            expected: FORMAT_VERSION,
        });
    }
    let mut directory: Directory =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    directory.reindex();
    Ok(Some(directory))
}

/// Writes the directory atomically: a temp file in the same directory, fsync, rename, then
/// fsync the directory. The file is created 0600 (it holds signing keys and client secrets).
pub fn save(path: &Path, directory: &Directory) -> Result<(), StateError> {
    let bytes = serde_json::to_vec(directory).map_err(|e| StateError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    save_bytes(path, &bytes)
}

/// [`save`] for an already serialized directory: atomic and durable, readable by this user
/// only (it holds keys and secrets).
pub fn save_bytes(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    ficus_files::write_atomic(path, bytes, ficus_files::Access::Private).map_err(|source| {
        StateError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Shared state of a running sandbox, cheap to clone (an `Arc`). Locks are `std` locks held
/// briefly and never across an `.await`: use [`AppState::read`] / [`AppState::update`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    directory: RwLock<Directory>,
    /// Parsed signing keys by tenant id.
    pub keys: KeyRing,
    /// `https://127.0.0.1:PORT` (no trailing slash): the issuer base and token endpoint host.
    pub authority: String,
    pub faults: Faults,
    pub throttle: ThrottleCounter,
    /// The App Service `IDENTITY_HEADER` value the MSI listener expects.
    pub app_service_header: String,
    /// Device codes, refresh tokens.
    pub sessions: Mutex<Sessions>,
    /// Auto-approve device codes for this UPN after about a second.
    pub auto_approve: Option<String>,
    state_file: Option<PathBuf>,
    dirty: Notify,
    /// Changed since the last save.
    unsaved: AtomicBool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("authority", &self.0.authority)
            .field("state_file", &self.0.state_file)
            .finish()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState::new`] needs besides the directory.
pub struct StateOptions {
    pub authority: String,
    pub faults: Faults,
    pub app_service_header: String,
    pub auto_approve: Option<String>,
    pub state_file: Option<PathBuf>,
}

impl AppState {
    pub fn new(
        directory: Directory,
        options: StateOptions,
    ) -> Result<AppState, crate::keys::KeyError> {
        let keys = KeyRing::from_directory(&directory)?;
        Ok(AppState(Arc::new(Shared {
            directory: RwLock::new(directory),
            keys,
            authority: options.authority,
            faults: options.faults,
            throttle: ThrottleCounter::default(),
            app_service_header: options.app_service_header,
            sessions: Mutex::new(Sessions::default()),
            auto_approve: options.auto_approve,
            state_file: options.state_file,
            dirty: Notify::new(),
            unsaved: AtomicBool::new(false),
        })))
    }

    /// Reads the directory under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&Directory) -> R) -> R {
        let guard = self.0.directory.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// Changes the directory under the lock and schedules a save of the state file.
    pub fn update<R>(&self, f: impl FnOnce(&mut Directory) -> R) -> R {
        let result = {
            let mut guard = self.0.directory.write().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        };
        self.0.unsaved.store(true, Ordering::SeqCst);
        self.0.dirty.notify_one();
        result
    }

    /// `{authority}/v1.0`.
    pub fn graph_base(&self) -> String {
        format!("{}/v1.0", self.0.authority)
    }

    pub fn state_file(&self) -> Option<&Path> {
        self.0.state_file.as_deref()
    }

    /// Writes the state file now if anything changed since the last save (no-op when in memory
    /// only). Serializes under the read lock, writes outside it.
    pub fn save_now(&self) -> Result<(), StateError> {
        let Some(path) = self.0.state_file.clone() else {
            return Ok(());
        };
        if !self.0.unsaved.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        // Serialize under the read lock (writers wait, readers do not), write outside it.
        let bytes = self
            .read(serde_json::to_vec)
            .map_err(|e| StateError::Write {
                path: path.clone(),
                source: std::io::Error::other(e),
            })?;
        let result = save_bytes(&path, &bytes);
        if result.is_err() {
            // Try again on the next change or at shutdown.
            self.0.unsaved.store(true, Ordering::SeqCst);
        }
        result
    }

    /// Waits until something changed (see [`AppState::update`]).
    pub async fn changed(&self) {
        self.0.dirty.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_none_and_garbage_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        assert!(load(&path).expect("missing is fine").is_none());
        std::fs::write(&path, b"{not json").expect("write");
        let err = load(&path).expect_err("corrupt");
        assert!(matches!(err, StateError::Corrupt { .. }));
        assert!(err.to_string().contains("state.json"), "{err}");
        assert_eq!(std::fs::read(&path).expect("still there"), b"{not json");
        std::fs::write(&path, br#"{"formatVersion":99}"#).expect("write");
        assert!(matches!(
            load(&path),
            Err(StateError::Version { found: 99, .. })
        ));
    }
}
