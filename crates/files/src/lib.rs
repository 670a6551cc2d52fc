//! The one way ficus replaces a file: a temporary file in the same directory, written and
//! fsync'd, renamed over the old one, and the directory fsync'd, so a crash leaves either the
//! old file or the new one, never half of one, and a write that returned is on disk.
//!
//! Used for the token cache, the sandbox's state, the last-used tenant and `config.toml`.
//! A leaf crate: the pure core does no I/O, and every layer that writes files shares this.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Who may read the new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only this user (0600 on Unix): tokens, the sandbox's keys and secrets.
    Private,
    /// The umask's default (usually 0644): settings.
    Default,
}

/// Replaces `path` with `bytes`, durably (see the crate docs). Creates the parent directory.
/// On failure the old file is untouched and the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let temporary = temporary_path(&parent, path);
    let result = write_then_rename(&temporary, path, bytes, access);
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
        return result;
    }
    // Persist the rename itself; not every platform allows fsync on a directory.
    if let Ok(dir) = std::fs::File::open(&parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn write_then_rename(
    temporary: &Path,
    path: &Path,
    bytes: &[u8],
    access: Access,
) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    // `create_new`: never write through a file (or link) someone else left at this name.
    options.write(true).create_new(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(temporary, path)
}

/// `.NAME.tmp-PID-N` beside the target: unique per process and per write, so two writers in
/// one process never share a temporary file.
fn temporary_path(parent: &Path, path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    parent.join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.json");
        write_atomic(&path, b"one", Access::Default).unwrap();
        write_atomic(&path, b"two", Access::Default).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        write_atomic(&path, b"{}", Access::Private).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target");
        // A directory where the file should go: the rename fails, the old content stays.
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"old").unwrap();
        assert!(write_atomic(&path, b"new", Access::Default).is_err());
        assert_eq!(std::fs::read(path.join("inside")).unwrap(), b"old");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "the temporary file was removed");
    }
}
