//! The local journal of every write ficus makes to a directory: FICs created, changed or
//! deleted, and secrets removed: who, when, in which tenant, the value before and after. One
//! JSON line per write in `<state dir>/history.jsonl`, appended and fsync'd before the write
//! is reported done, never rewritten. `ficus history` lists it; a deleted or changed FIC can be
//! restored from it ([`restore_plan`]); a removed secret cannot (its value is gone).
//!
//! Shared by the headless commands and the console (both sit above this crate).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use ficus_core::fic::Fic;

/// The journal's file name in the state directory.
pub const FILE_NAME: &str = "history.jsonl";

/// One write ficus made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// ISO 8601, UTC.
    pub at: String,
    /// The signed-in account (UPN), or what is known of it.
    pub who: String,
    pub tenant: String,
    pub app_object_id: String,
    pub app_display_name: String,
    /// `console` or `cli`.
    pub via: String,
    pub change: Change,
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Change {
    FicCreated {
        after: Fic,
    },
    FicUpdated {
        before: Fic,
        after: Fic,
    },
    FicDeleted {
        before: Fic,
    },
    #[serde(rename_all = "camelCase")]
    SecretRemoved {
        key_id: String,
        display_name: Option<String>,
        hint: Option<String>,
        end_date_time: Option<String>,
    },
}

impl Change {
    /// `FIC mi-id-payments deleted`, `secret … removed`.
    pub fn summary(&self) -> String {
        match self {
            Change::FicCreated { after } => format!("FIC {} created", after.name),
            Change::FicUpdated { after, .. } => format!("FIC {} changed", after.name),
            Change::FicDeleted { before } => format!("FIC {} deleted", before.name),
            Change::SecretRemoved {
                key_id,
                display_name,
                ..
            } => format!(
                "secret {} removed",
                display_name.as_deref().unwrap_or(key_id)
            ),
        }
    }
}

impl Entry {
    /// An entry stamped now.
    pub fn now(
        who: &str,
        tenant: &str,
        app_object_id: &str,
        app_display_name: &str,
        via: &str,
        change: Change,
    ) -> Entry {
        let now = time::OffsetDateTime::now_utc();
        Entry {
            at: now
                .replace_nanosecond(0)
                .unwrap_or(now)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            who: who.to_string(),
            tenant: tenant.to_string(),
            app_object_id: app_object_id.to_string(),
            app_display_name: app_display_name.to_string(),
            via: via.to_string(),
            change,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("ficus has no state directory to keep its history in (set XDG_STATE_HOME or HOME)")]
    NoStateDir,
    #[error("cannot write the history journal {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the history journal {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the history journal {} is damaged at line {line}: {detail}; move it aside to start a new one", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("no change number {0} in the history; `ficus history` lists them")]
    NoSuchEntry(usize),
    #[error("{0}")]
    NotRestorable(String),
}

/// The journal: a file in a state directory, or (for the embedded sandbox, whose directory
/// lives only as long as the process) kept in memory.
#[derive(Debug, Clone)]
pub struct History {
    store: Store,
}

#[derive(Debug, Clone)]
enum Store {
    File(PathBuf),
    Memory(Arc<Mutex<Vec<Entry>>>),
}

impl History {
    pub fn in_dir(state_dir: &Path) -> History {
        History {
            store: Store::File(state_dir.join(FILE_NAME)),
        }
    }

    /// A journal that lasts as long as the process (the embedded sandbox's writes).
    pub fn in_memory() -> History {
        History {
            store: Store::Memory(Arc::default()),
        }
    }

    /// The embedded sandbox's journal: in memory, one per process (its directory lives as
    /// long as the process, and so do its writes).
    pub fn sandbox() -> History {
        static SANDBOX: std::sync::LazyLock<History> = std::sync::LazyLock::new(History::in_memory);
        SANDBOX.clone()
    }

    /// The user's journal (`<state dir>/history.jsonl`).
    pub fn of_user() -> Result<History, HistoryError> {
        crate::Dirs::of_user()
            .state_dir
            .map(|d| History::in_dir(&d))
            .ok_or(HistoryError::NoStateDir)
    }

    /// The file, when it is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.store {
            Store::File(p) => Some(p),
            Store::Memory(_) => None,
        }
    }

    /// Where it is kept, in words.
    pub fn location(&self) -> String {
        match &self.store {
            Store::File(p) => p.display().to_string(),
            Store::Memory(_) => "memory (the embedded sandbox's writes last as long as it)".into(),
        }
    }

    /// Appends one entry and waits until it is on disk (the file is this user's only).
    pub fn append(&self, entry: &Entry) -> Result<(), HistoryError> {
        let path = match &self.store {
            Store::File(p) => p,
            Store::Memory(list) => {
                list.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(entry.clone());
                return Ok(());
            }
        };
        let write = |source| HistoryError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write)?;
        }
        let mut line = serde_json::to_vec(entry).map_err(|e| write(std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(write)?;
        file.write_all(&line).map_err(write)?;
        file.sync_data().map_err(write)?;
        Ok(())
    }

    /// Every entry, oldest first (numbered from 1 in that order). A last line cut short by
    /// a crash is ignored; damage anywhere else is reported.
    pub fn entries(&self) -> Result<Vec<Entry>, HistoryError> {
        let path = match &self.store {
            Store::File(p) => p,
            Store::Memory(list) => {
                return Ok(list.lock().unwrap_or_else(|e| e.into_inner()).clone());
            }
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(HistoryError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut entries = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Entry>(line) {
                Ok(e) => entries.push(e),
                Err(_) if i + 1 == lines.len() && !complete => break,
                Err(e) => {
                    return Err(HistoryError::Corrupt {
                        path: path.clone(),
                        line: i + 1,
                        detail: e.to_string(),
                    });
                }
            }
        }
        Ok(entries)
    }

    /// Entry `number` (1-based, as listed).
    pub fn entry(&self, number: usize) -> Result<Entry, HistoryError> {
        let entries = self.entries()?;
        number
            .checked_sub(1)
            .and_then(|i| entries.get(i).cloned())
            .ok_or(HistoryError::NoSuchEntry(number))
    }

    /// The newest entry of a tenant (the console's `u`).
    pub fn last_for_tenant(&self, tenant: &str) -> Result<Option<(usize, Entry)>, HistoryError> {
        Ok(self
            .entries()?
            .into_iter()
            .enumerate()
            .rev()
            .find(|(_, e)| e.tenant.eq_ignore_ascii_case(tenant))
            .map(|(i, e)| (i + 1, e)))
    }
}

/// How an entry is undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    /// A deleted FIC: create it again as it was.
    Recreate(Fic),
    /// A changed FIC: put its fields back (`current` is what the change left).
    Revert { current: Fic, to: Fic },
    /// A created FIC: delete it.
    Delete(Fic),
}

/// What restoring `entry` does, or why it cannot be done (a removed secret's value is gone).
pub fn restore_plan(entry: &Entry) -> Result<Restore, HistoryError> {
    match &entry.change {
        Change::FicDeleted { before } => Ok(Restore::Recreate(Fic {
            id: None,
            ..before.clone()
        })),
        Change::FicUpdated { before, after } => Ok(Restore::Revert {
            current: after.clone(),
            to: before.clone(),
        }),
        Change::FicCreated { after } => Ok(Restore::Delete(after.clone())),
        Change::SecretRemoved {
            display_name,
            key_id,
            ..
        } => Err(HistoryError::NotRestorable(format!(
            "the secret {} cannot come back: Entra never returns a secret's value, so a removed secret is gone for good; add a new secret (or better, a FIC) and give it to the workload",
            display_name.as_deref().unwrap_or(key_id)
        ))),
    }
}

impl Restore {
    /// In words, for the confirmation.
    pub fn describe(&self, app: &str) -> String {
        match self {
            Restore::Recreate(f) => format!(
                "create the FIC {} on {app} again (issuer {}, subject {}, audience {})",
                f.name,
                f.issuer,
                f.subject,
                f.audiences.join(", ")
            ),
            Restore::Revert { to, .. } => format!(
                "put the FIC {} on {app} back to issuer {}, subject {}, audience {}",
                to.name,
                to.issuer,
                to.subject,
                to.audiences.join(", ")
            ),
            Restore::Delete(f) => format!("delete the FIC {} from {app} (it was created)", f.name),
        }
    }

    /// The change the restore itself makes (journaled like any write).
    pub fn change(&self) -> Change {
        match self {
            Restore::Recreate(f) => Change::FicCreated { after: f.clone() },
            Restore::Revert { current, to } => Change::FicUpdated {
                before: current.clone(),
                after: to.clone(),
            },
            Restore::Delete(f) => Change::FicDeleted { before: f.clone() },
        }
    }
}

/// Carries out `plan` on the app `app_object_id` (a deleted FIC created again, a changed one
/// put back, a created one deleted): the one restore of `ficus history restore` and the
/// console's undo. Returns the app as it is now; journaling the restore is the caller's.
pub async fn apply_restore(
    graph: &ficus_entra::GraphClient,
    app_object_id: &str,
    plan: &Restore,
) -> Result<ficus_entra::AppSummary, ficus_entra::EntraError> {
    use ficus_entra::EntraError;
    let summary = graph.get_app(app_object_id).await?.summary();
    match plan {
        Restore::Recreate(fic) => {
            graph.create_fic(&summary.id, fic).await?;
        }
        Restore::Revert { current, to } => {
            let live = graph
                .list_fics(&summary.id)
                .await?
                .into_iter()
                .find(|f| f.name == current.name)
                .ok_or_else(|| EntraError::NotFound {
                    what: "federated identity credential",
                    query: current.name.clone(),
                    hint: "it was deleted since; restore its deletion instead".into(),
                })?;
            let update = ficus_core::fic::update_request(&live, to)
                .map_err(|e| EntraError::Invalid(e.to_string()))?;
            graph.update_fic(&summary.id, &update).await?;
        }
        Restore::Delete(fic) => {
            let key = fic.id.clone().unwrap_or_else(|| fic.name.clone());
            graph.delete_fic(&summary.id, &key).await?;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fic(subject: &str) -> Fic {
        Fic {
            id: Some("f-1".into()),
            name: "mi-id-payments".into(),
            issuer: "https://login.microsoftonline.com/t/v2.0".into(),
            subject: subject.into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            description: None,
        }
    }

    #[test]
    fn entries_append_durably_and_read_back_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let history = History::in_dir(&dir.path().join("state"));
        assert!(history.entries().expect("empty").is_empty());
        let deleted = Entry::now(
            "admin@contoso",
            "contoso",
            "o-1",
            "payments-api",
            "cli",
            Change::FicDeleted { before: fic("p") },
        );
        history.append(&deleted).expect("append");
        let removed = Entry::now(
            "admin@contoso",
            "contoso",
            "o-1",
            "payments-api",
            "cli",
            Change::SecretRemoved {
                key_id: "k".into(),
                display_name: Some("payments-api secret".into()),
                hint: Some("abc".into()),
                end_date_time: None,
            },
        );
        history.append(&removed).expect("append");
        // A crash mid-append leaves a torn line: ignored.
        let mut f = OpenOptions::new()
            .append(true)
            .open(history.path().expect("a file"))
            .expect("open");
        f.write_all(b"{\"at\":").expect("write");
        let entries = history.entries().expect("read");
        assert_eq!(entries, vec![deleted.clone(), removed.clone()]);
        assert_eq!(history.entry(1).expect("1"), deleted);
        assert!(matches!(
            history.entry(3),
            Err(HistoryError::NoSuchEntry(3))
        ));
        assert_eq!(
            history
                .last_for_tenant("CONTOSO")
                .expect("last")
                .map(|(n, _)| n),
            Some(2)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(history.path().expect("a file"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        match restore_plan(&deleted).expect("restorable") {
            Restore::Recreate(f) => {
                assert_eq!(f.subject, "p");
                assert_eq!(f.id, None);
            }
            other => panic!("{other:?}"),
        }
        let refused = restore_plan(&removed).expect_err("secrets do not come back");
        assert!(
            refused.to_string().contains("cannot come back"),
            "{refused}"
        );
    }

    #[test]
    fn a_changed_fic_reverts_to_its_old_fields() {
        let entry = Entry::now(
            "a",
            "t",
            "o",
            "app",
            "console",
            Change::FicUpdated {
                before: fic("old"),
                after: fic("new"),
            },
        );
        let plan = restore_plan(&entry).expect("plan");
        assert_eq!(
            plan.change(),
            Change::FicUpdated {
                before: fic("new"),
                after: fic("old")
            }
        );
        assert!(plan.describe("app").contains("subject old"));
    }
}
