//! The sandbox's shared state ([`AppState`]) and its persistence.
//!
//! On disk: a snapshot (the whole directory in one JSON file, replaced atomically through
//! `ficus_files::write_atomic`), a journal beside it (`<state>.journal`, see
//! [`crate::journal`]) and a lock file (`<state>.lock`, see [`crate::lock`]). An acknowledged
//! write is in the fsync'd journal before it is answered; the journal is replayed at start
//! and compacted into the snapshot when it grows and at shutdown. A corrupt, inconsistent or
//! unreadable file is refused with an error naming it, never replaced.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Notify;
use uuid::Uuid;

use crate::faults::{Faults, ThrottleCounter};
use crate::journal::{self, Journal, Record, journal_path};
use crate::keys::KeyRing;
use crate::lock::StateLock;
use crate::model::{Application, Directory, FORMAT_VERSION};
use crate::sessions::Sessions;

pub use crate::state_error::StateError;

/// The default state file: `<data dir>/ficus/sandbox.json` (e.g.
/// `~/.local/share/ficus/sandbox.json`).
pub fn default_state_file() -> Result<PathBuf, StateError> {
    let dirs = directories::ProjectDirs::from("", "", "ficus").ok_or(StateError::NoDataDir)?;
    Ok(dirs.data_dir().join("sandbox.json"))
}

/// Reads a state file's snapshot (not its journal: [`open`] replays that) and validates it.
/// `Ok(None)` when it does not exist (the caller seeds a new directory).
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
    directory
        .validate()
        .map_err(|problem| StateError::Invalid {
            path: path.to_path_buf(),
            problem,
        })?;
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

/// Recorded sign-ins are moved into the directory at the latest in batches of this many.
const PENDING_SIGN_INS_MAX: usize = 1000;

/// Ask for a snapshot after this many sign-ins not yet saved.
pub const SIGN_INS_PER_SNAPSHOT: u64 = 1000;

/// Compact (new snapshot, empty journal) once the journal holds this much.
pub const COMPACT_AFTER_BYTES: u64 = 8 * 1024 * 1024;

/// A state file opened for serving: locked for this process, read (snapshot, then journal),
/// and its journal open for appending.
#[derive(Debug)]
pub struct Persistence {
    path: PathBuf,
    _lock: StateLock,
    journal: Journal,
}

/// Opens the state file at `path` for a sandbox: takes its lock (refusing when another
/// sandbox holds it), loads the snapshot and replays the journal, validates the result. When
/// there is no state file yet, `seed` builds the directory, which is written at once.
pub fn open<E: From<StateError>>(
    path: &Path,
    seed: impl FnOnce() -> Result<Directory, E>,
) -> Result<(Directory, Persistence), E> {
    let lock = StateLock::acquire(path)?;
    let journal_file = journal_path(path);
    let (directory, valid_len) = match load(path)? {
        Some(mut directory) => {
            let replayed = journal::replay(&journal_file, &mut directory)?;
            if replayed.records > 0 {
                directory
                    .validate()
                    .map_err(|problem| StateError::Invalid {
                        path: journal_file.clone(),
                        problem,
                    })?;
            }
            if replayed.torn {
                tracing::warn!(journal = %journal_file.display(), "the journal ends with a torn record (a write that was never acknowledged); dropping it");
            }
            (directory, replayed.valid_len)
        }
        None => {
            let directory = seed()?;
            save(path, &directory)?;
            // A journal left by a state file that was moved away belongs to no snapshot.
            (directory, 0)
        }
    };
    let journal = Journal::open(&journal_file, valid_len).map_err(|source| StateError::Write {
        path: journal_file.clone(),
        source,
    })?;
    Ok((
        directory,
        Persistence {
            path: path.to_path_buf(),
            _lock: lock,
            journal,
        },
    ))
}

/// Shared state of a running sandbox, cheap to clone (an `Arc`). Locks are `std` locks held
/// briefly and never across an `.await`: use [`AppState::read`], and
/// [`AppState::update_application`] (durable before it returns) or [`AppState::update`].
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
    /// One writer at a time (a write is: copy, change, journal, swap in). Holds the journal.
    writer: Mutex<Writer>,
    /// The journal has grown past [`COMPACT_AFTER_BYTES`].
    compact_wanted: Notify,
    /// Sign-ins recorded since the last snapshot (they are saved with the next one).
    unsaved_sign_ins: std::sync::atomic::AtomicU64,
    /// Sign-ins not yet in the directory's log: the token and MSI endpoints never wait for the
    /// directory's write lock (a long Graph read may hold the read lock); readers of the log
    /// and snapshots move them in first ([`AppState::flush_sign_ins`]).
    pending_sign_ins: Mutex<Vec<(Uuid, crate::sign_in_log::SignIn)>>,
}

struct Writer {
    persistence: Option<Persistence>,
    /// A failed append could not be rolled back: no write is accepted until a compaction
    /// rewrote the state.
    broken: Option<String>,
    /// Changed by [`AppState::update`] without a successful save yet.
    dirty: bool,
    /// [`AppState::close`] ran: the state file is no longer this sandbox's.
    closed: bool,
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
    /// `None`: in memory only.
    pub persistence: Option<Persistence>,
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
            state_file: options.persistence.as_ref().map(|p| p.path.clone()),
            writer: Mutex::new(Writer {
                persistence: options.persistence,
                broken: None,
                dirty: false,
                closed: false,
            }),
            compact_wanted: Notify::new(),
            unsaved_sign_ins: std::sync::atomic::AtomicU64::new(0),
            pending_sign_ins: Mutex::new(Vec::new()),
        })))
    }

    /// Reads the directory under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&Directory) -> R) -> R {
        let guard = self.0.directory.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.0.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes one application, durably: `locate` names it (tenant id, application object
    /// id), `change` edits a copy; the new value is appended to the journal and fsync'd, and
    /// only then swapped in for readers. When the journal cannot take it the change is
    /// dropped and [`StateError::Unavailable`] returned, so nothing is answered as done that
    /// a crash could lose. Blocks on disk I/O: call it from blocking code.
    pub fn update_application<R, E>(
        &self,
        locate: impl FnOnce(&Directory) -> Result<(Uuid, Uuid), E>,
        change: impl FnOnce(&mut Application) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StateError>,
    {
        let mut writer = self.writer();
        if writer.closed {
            return Err(StateError::Unavailable {
                path: self.0.state_file.clone().unwrap_or_default(),
                detail: "the sandbox is stopping".into(),
            }
            .into());
        }
        if let Some(detail) = &writer.broken {
            return Err(StateError::Unavailable {
                path: self.0.state_file.clone().unwrap_or_default(),
                detail: detail.clone(),
            }
            .into());
        }
        let (tenant_id, mut app) = self.read(|d| -> Result<_, E> {
            let (tenant_id, app_id) = locate(d)?;
            let app = d
                .tenant_by_id(tenant_id)
                .and_then(|t| t.application(app_id))
                .cloned()
                .ok_or_else(|| StateError::Unavailable {
                    path: PathBuf::new(),
                    detail: format!("application {app_id} vanished during the write"),
                })?;
            Ok((tenant_id, app))
        })?;
        let old_app_id = app.app_id;
        let result = change(&mut app)?;
        if let Some(persistence) = writer.persistence.as_mut() {
            let record = Record {
                tenant: tenant_id,
                authority: &self.0.authority,
                application: &app,
            };
            if let Err(e) = persistence.journal.append(&record) {
                let detail = e.source.to_string();
                let path = persistence.journal.path().to_path_buf();
                tracing::error!(journal = %path.display(), error = %detail, "a write could not be made durable; it was refused");
                if !e.rolled_back {
                    writer.broken = Some(detail.clone());
                }
                return Err(StateError::Unavailable { path, detail }.into());
            }
            if persistence.journal.len() >= COMPACT_AFTER_BYTES {
                self.0.compact_wanted.notify_one();
            }
        }
        let mut directory = self.0.directory.write().unwrap_or_else(|e| e.into_inner());
        if let Some(tenant) = directory.tenant_by_id_mut(tenant_id) {
            if old_app_id != app.app_id {
                tenant.remove_application(app.id);
            }
            tenant.insert_application(app);
        }
        Ok(result)
    }

    /// Changes anything in the directory, then writes a new snapshot before returning (slow
    /// on a large state: for setup and tests; Graph writes use
    /// [`AppState::update_application`]). A failed save is logged and retried at shutdown.
    pub fn update<R>(&self, f: impl FnOnce(&mut Directory) -> R) -> R {
        let mut writer = self.writer();
        let result = {
            let mut guard = self.0.directory.write().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut guard);
            // `f` may have changed applications through the public maps.
            for tenant in &mut guard.tenants {
                tenant.forget_application_names();
            }
            result
        };
        if writer.persistence.is_some() {
            writer.dirty = true;
            if let Err(e) = self.compact_locked(&mut writer) {
                tracing::error!(error = %e, "saving the sandbox state failed");
            }
        }
        result
    }

    /// Appends a workload sign-in to its tenant's log. Not journaled (Entra's logs lag by
    /// minutes too): it is saved with the next snapshot, which is asked for after
    /// [`SIGN_INS_PER_SNAPSHOT`] unsaved ones, and at the latest when the sandbox stops.
    pub fn record_sign_in(&self, tenant: Uuid, sign_in: crate::sign_in_log::SignIn) {
        let queued = {
            let mut pending = self
                .0
                .pending_sign_ins
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            pending.push((tenant, sign_in));
            pending.len()
        };
        // Bounded even when nothing reads the log (an in-memory sandbox): move them in now
        // and then, one write lock per batch.
        if queued >= PENDING_SIGN_INS_MAX {
            self.flush_sign_ins();
        }
        let unsaved = self
            .0
            .unsaved_sign_ins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if unsaved.is_multiple_of(SIGN_INS_PER_SNAPSHOT) {
            self.0.compact_wanted.notify_one();
        }
    }

    /// Moves the recorded sign-ins into the directory's log (before reading it or saving).
    pub fn flush_sign_ins(&self) {
        let pending = std::mem::take(
            &mut *self
                .0
                .pending_sign_ins
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        if pending.is_empty() {
            return;
        }
        let mut directory = self.0.directory.write().unwrap_or_else(|e| e.into_inner());
        for (tenant, sign_in) in pending {
            directory.audit.push(tenant, sign_in);
        }
    }

    /// `{authority}/v1.0`.
    pub fn graph_base(&self) -> String {
        format!("{}/v1.0", self.0.authority)
    }

    pub fn state_file(&self) -> Option<&Path> {
        self.0.state_file.as_deref()
    }

    /// Bytes in the journal (0 in memory).
    pub fn journal_len(&self) -> u64 {
        self.writer()
            .persistence
            .as_ref()
            .map_or(0, |p| p.journal.len())
    }

    /// Writes a new snapshot and empties the journal, if anything was journaled or changed
    /// since the last one (no-op in memory). Writers wait meanwhile; readers do not.
    pub fn compact(&self) -> Result<(), StateError> {
        let mut writer = self.writer();
        self.compact_locked(&mut writer)
    }

    fn compact_locked(&self, writer: &mut Writer) -> Result<(), StateError> {
        self.flush_sign_ins();
        let unsaved_sign_ins = self
            .0
            .unsaved_sign_ins
            .swap(0, std::sync::atomic::Ordering::Relaxed);
        let dirty = writer.dirty || writer.broken.is_some() || unsaved_sign_ins > 0;
        let Some(persistence) = writer.persistence.as_mut() else {
            return Ok(());
        };
        if !dirty && persistence.journal.is_empty() {
            return Ok(());
        }
        let bytes = self
            .read(serde_json::to_vec)
            .map_err(|e| StateError::Write {
                path: persistence.path.clone(),
                source: std::io::Error::other(e),
            })?;
        if let Err(e) = save_bytes(&persistence.path, &bytes) {
            self.0
                .unsaved_sign_ins
                .fetch_add(unsaved_sign_ins, std::sync::atomic::Ordering::Relaxed);
            return Err(e);
        }
        persistence
            .journal
            .reset()
            .map_err(|source| StateError::Write {
                path: persistence.journal.path().to_path_buf(),
                source,
            })?;
        writer.dirty = false;
        writer.broken = None;
        Ok(())
    }

    /// Lets go of the state file: a last compaction (when `save`), then the journal and the
    /// lock are closed, so another sandbox may open the file at once even while requests of
    /// this one linger. Later writes are refused. The state file's error, if the save failed
    /// (the journal still holds every acknowledged write).
    pub fn close(&self, save: bool) -> Result<(), StateError> {
        let mut writer = self.writer();
        if writer.closed {
            return Ok(());
        }
        let result = if save {
            self.compact_locked(&mut writer)
        } else {
            Ok(())
        };
        writer.closed = true;
        writer.persistence = None;
        result
    }

    /// Waits until the journal asks for a compaction.
    pub async fn compaction_wanted(&self) {
        self.0.compact_wanted.notified().await;
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
