//! One state file, one sandbox: an advisory lock on `<state>.lock`, held for the life of the
//! process (the kernel drops it when the process dies, even on `kill -9`). The lock file holds
//! the holder's pid so the second sandbox can say who has it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::state_error::StateError;

/// Held while the sandbox runs; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

/// `<state file>.lock`, beside the state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "sandbox.json".into());
    name.push(".lock");
    state.with_file_name(name)
}

impl StateLock {
    /// Takes the lock of `state` or says which process holds it. Creates the state's
    /// directory if needed.
    pub fn acquire(state: &Path) -> Result<StateLock, StateError> {
        let path = lock_path(state);
        let write_error = |source: std::io::Error| StateError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(write_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(StateError::Locked {
                    path: state.to_path_buf(),
                    holder: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(write_error(source)),
        }
        let pid = std::process::id().to_string();
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(pid.as_bytes()))
            .and_then(|()| file.sync_data())
            .map_err(write_error)?;
        Ok(StateLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("sandbox.json");
        let first = StateLock::acquire(&state).expect("first");
        assert_eq!(first.path(), dir.path().join("sandbox.json.lock"));
        let err = StateLock::acquire(&state).expect_err("second is refused");
        assert!(
            matches!(err, StateError::Locked { holder: Some(pid), .. } if pid == std::process::id()),
            "{err:?}"
        );
        assert!(err.to_string().contains(&std::process::id().to_string()));
        drop(first);
        StateLock::acquire(&state).expect("free again once the first is gone");
    }
}
