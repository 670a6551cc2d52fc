//! The write-ahead journal of the sandbox's state: `<state>.journal`, one JSON line per
//! acknowledged change, appended and fsync'd (`fdatasync`) *before* the change is applied in
//! memory and answered. At start it is replayed over the snapshot (`<state>`); compaction
//! writes a new snapshot atomically and empties the journal.
//!
//! A record is the whole new value of one application (FIC writes change one app), so replay
//! is idempotent: a crash between a snapshot and the journal's truncation replays changes the
//! snapshot already holds, to the same result.
//!
//! A crash mid-append leaves a torn last line (never acknowledged): it is dropped at open. A
//! bad line anywhere else is corruption and refused. A failed append is rolled back (the file
//! is cut to its previous length) so the journal never holds half a record followed by more.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{Application, Directory};
use crate::state_error::StateError;

/// One journal line: the new value of an application of a tenant.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
    pub tenant: Uuid,
    /// The authority the sandbox was served at: FIC issuers that name it are rebased at
    /// replay, as the snapshot's are.
    pub authority: &'a str,
    pub application: &'a Application,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OwnedRecord {
    tenant: Uuid,
    #[serde(default)]
    authority: Option<String>,
    application: Application,
}

/// `<state file>.journal`, beside the state file.
pub fn journal_path(state: &Path) -> PathBuf {
    let mut name = state
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "sandbox.json".into());
    name.push(".journal");
    state.with_file_name(name)
}

/// What replay found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Records applied.
    pub records: u64,
    /// Bytes of whole records (where appending continues).
    pub valid_len: u64,
    /// A torn last line was found (and will be cut at open).
    pub torn: bool,
}

/// Applies the journal at `path` (if any) to `directory`.
pub fn replay(path: &Path, directory: &mut Directory) -> Result<Replayed, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Replayed {
                records: 0,
                valid_len: 0,
                torn: false,
            });
        }
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut records = 0;
    let mut offset = 0usize;
    let mut torn = false;
    let mut line_number = 0usize;
    while offset < bytes.len() {
        line_number += 1;
        let rest = &bytes[offset..];
        let (line, next) = match memchr_newline(rest) {
            Some(end) => (&rest[..end], offset + end + 1),
            None => {
                // No newline: the append was cut short by a crash.
                torn = true;
                break;
            }
        };
        match serde_json::from_slice::<OwnedRecord>(line) {
            Ok(mut record) => {
                if let (Some(from), Some(to)) = (&record.authority, &directory.authority) {
                    record.application.rebase_issuers(from, to);
                }
                let tenant = directory.tenant_by_id_mut(record.tenant).ok_or_else(|| {
                    StateError::Corrupt {
                        path: path.to_path_buf(),
                        detail: format!(
                            "line {line_number} changes an application of tenant {}, which the state file does not hold",
                            record.tenant
                        ),
                    }
                })?;
                if let Some(old) = tenant.applications.get(&record.application.id).cloned() {
                    tenant.remove_application(old.id);
                }
                tenant.insert_application(record.application);
                records += 1;
                offset = next;
            }
            Err(_) if next == bytes.len() || bytes[next..].iter().all(|b| *b == 0) => {
                // The last line is damaged: it was being written when the process died.
                torn = true;
                break;
            }
            Err(e) => {
                return Err(StateError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("line {line_number}: {e}"),
                });
            }
        }
    }
    Ok(Replayed {
        records,
        valid_len: offset as u64,
        torn,
    })
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'\n')
}

/// The open journal, appended to by one writer at a time (it lives behind the state's writer
/// mutex).
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
}

impl Journal {
    /// Opens (creating) the journal for appending, cutting anything after `valid_len` (a torn
    /// tail found by [`replay`]).
    pub fn open(path: &Path, valid_len: u64) -> std::io::Result<Journal> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        if file.metadata()?.len() != valid_len {
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        // Persist the journal's directory entry on first creation.
        if let Some(parent) = path.parent()
            && let Ok(dir) = File::open(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })
        {
            let _ = dir.sync_all();
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            len: valid_len,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes held (records since the last compaction).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one record and waits until it is on disk. On failure the journal is cut back
    /// to where it was; if even that fails the error says so and the caller must stop writing.
    pub fn append(&mut self, record: &Record<'_>) -> Result<(), AppendError> {
        let mut line = serde_json::to_vec(record).map_err(|e| AppendError {
            source: std::io::Error::other(e),
            rolled_back: true,
        })?;
        line.push(b'\n');
        let result = self
            .write_at_end(&line)
            .and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.len += line.len() as u64;
                Ok(())
            }
            Err(source) => {
                let rolled_back = self
                    .file
                    .set_len(self.len)
                    .and_then(|()| self.file.sync_data())
                    .is_ok();
                Err(AppendError {
                    source,
                    rolled_back,
                })
            }
        }
    }

    fn write_at_end(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(bytes)
    }

    /// Empties the journal (after its records went into a new snapshot).
    pub fn reset(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_data()?;
        self.len = 0;
        Ok(())
    }
}

/// A failed [`Journal::append`].
#[derive(Debug)]
pub struct AppendError {
    pub source: std::io::Error,
    /// The journal was cut back to its last whole record; later appends may succeed.
    pub rolled_back: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, CONTOSO, Seed};

    fn directory() -> Directory {
        seed::build(Seed::Demo, "http://127.0.0.1:1").expect("seed")
    }

    #[test]
    fn records_replay_in_order_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json.journal");
        let mut d = directory();
        let tenant = d.tenant(CONTOSO).expect("contoso").id;
        let app_id = seed::app_ids(CONTOSO, "billing-worker").0;
        let mut app = d
            .tenant(CONTOSO)
            .and_then(|t| t.application(app_id))
            .cloned()
            .expect("app");
        let mut journal = Journal::open(&path, 0).expect("open");
        app.display_name = "first".into();
        journal
            .append(&Record {
                tenant,
                authority: "http://127.0.0.1:1",
                application: &app,
            })
            .expect("append");
        app.display_name = "second".into();
        journal
            .append(&Record {
                tenant,
                authority: "http://127.0.0.1:1",
                application: &app,
            })
            .expect("append");
        drop(journal);
        // A crash mid-append.
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{\"tenant\":\"").expect("write");
        drop(f);

        let replayed = replay(&path, &mut d).expect("replays");
        assert_eq!(replayed.records, 2);
        assert!(replayed.torn);
        let name = d
            .tenant(CONTOSO)
            .and_then(|t| t.application(app_id))
            .map(|a| a.display_name.clone());
        assert_eq!(name.as_deref(), Some("second"));

        let journal = Journal::open(&path, replayed.valid_len).expect("reopen cuts the tail");
        assert_eq!(
            std::fs::metadata(&path).expect("meta").len(),
            replayed.valid_len
        );
        assert_eq!(journal.len(), replayed.valid_len);
    }

    #[test]
    fn a_bad_line_before_the_end_is_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json.journal");
        std::fs::write(&path, b"garbage\n{}\n").expect("write");
        let err = replay(&path, &mut directory()).expect_err("corrupt");
        assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_fails_the_append() {
        let file = OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut journal = Journal {
            path: PathBuf::from("/dev/full"),
            file,
            len: 0,
        };
        let d = directory();
        let t = d.tenant(CONTOSO).expect("contoso");
        let app = t.applications.values().next().expect("an app");
        let err = journal
            .append(&Record {
                tenant: t.id,
                authority: "http://127.0.0.1:1",
                application: app,
            })
            .expect_err("ENOSPC");
        assert_eq!(err.source.raw_os_error(), Some(28), "{:?}", err.source);
    }
}
