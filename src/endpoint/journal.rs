//! The data-safety journal: what a run found on each server it may change,
//! written to disk before its first write, so the servers can be put back
//! exactly as they were at the end of the run, after a failure, on
//! SIGINT/SIGTERM, or later by `metaconform restore JOURNAL` after a crash
//! or `kill -9`.
//!
//! The journal holds no secret: the endpoint without user info or query,
//! server ids, their user metadata (system-owned keys are never changed, so
//! never recorded), `vm_state` and lock. Restoring needs the credentials
//! again. The file is replaced atomically (write, then rename) and removed
//! once every server is back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change of [`JournalFile`].
pub const JOURNAL_VERSION: u32 = 1;

/// Whose server it is, which says which identity puts it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerRole {
    /// A server of the project under test (`--server`).
    Project,
    /// A server lent for writing once (`--fresh-server`): where the dialect
    /// cannot delete a key (bms-v1), the keys cases added stay.
    Fresh,
    /// A server of the second project (`--alt-server`).
    Alt,
    /// A server the run created (`--create-servers`): deleted, not restored.
    Created,
}

/// One server as the run found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSnapshot {
    pub id: String,
    pub role: ServerRole,
    /// `OS-EXT-STS:vm_state`, when the endpoint shows it.
    pub vm_state: Option<String>,
    /// `locked`, when the endpoint shows it (Nova from 2.9).
    pub locked: Option<bool>,
    /// The user metadata (system-owned keys left out: they are never touched).
    pub metadata: BTreeMap<String, String>,
    /// The flavor id, where the endpoint shows one: a resize a case
    /// confirmed is undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    /// The run's lease tag on the server ([`crate::endpoint::lease`]),
    /// removed once the server is back; `None` where it could not be
    /// leased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<String>,
}

/// The journal file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalFile {
    pub format_version: u32,
    /// RFC 3339, UTC: when the snapshot was taken.
    pub taken_at: String,
    /// The process that wrote it (to tell a live run from a dead one).
    pub pid: u32,
    /// The endpoint, without user info or query string.
    pub endpoint: String,
    pub dialect: String,
    pub project_id: String,
    pub alt_project_id: Option<String>,
    pub servers: Vec<ServerSnapshot>,
}

/// Reading or writing a journal went wrong.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot write the journal {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the journal {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a metaconform journal: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: journal format version {found}, this metaconform reads {JOURNAL_VERSION}: restore with the metaconform that wrote it"
    )]
    Version { path: PathBuf, found: u32 },
}

/// A journal on disk.
#[derive(Debug, Clone)]
pub struct Journal {
    pub path: PathBuf,
    pub file: JournalFile,
}

impl Journal {
    /// The run id in a journal's file name (`journal-<id>.json`), which
    /// names the run's leases too.
    pub fn run_id(path: &Path) -> String {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let stem = stem.unwrap_or_default();
        stem.strip_prefix("journal-").unwrap_or(&stem).to_string()
    }

    /// A new journal's path in `dir`: unique per run, so shards and parallel
    /// runs never overwrite each other's.
    pub fn new_path(dir: &Path) -> PathBuf {
        let id = uuid::Uuid::new_v4().simple().to_string();
        dir.join(format!("journal-{}.json", &id[..12]))
    }

    /// Write `file` to `path` atomically (temporary file, then rename).
    pub fn create(path: PathBuf, file: JournalFile) -> Result<Journal, JournalError> {
        let journal = Journal { path, file };
        journal.save()?;
        Ok(journal)
    }

    /// Record a server the run has just created, so that restoring (by the
    /// run or by `metaconform restore`) deletes it.
    pub fn record_created(&mut self, id: &str) -> Result<(), JournalError> {
        self.file.servers.push(ServerSnapshot {
            id: id.to_string(),
            role: ServerRole::Created,
            vm_state: None,
            locked: None,
            metadata: BTreeMap::new(),
            flavor: None,
            lease: None,
        });
        self.save()
    }

    /// Drop a created server from the journal: it is deleted.
    pub fn forget_created(&mut self, id: &str) -> Result<(), JournalError> {
        let before = self.file.servers.len();
        self.file
            .servers
            .retain(|s| !(s.role == ServerRole::Created && s.id == id));
        match self.file.servers.len() == before {
            true => Ok(()),
            false => self.save(),
        }
    }

    fn save(&self) -> Result<(), JournalError> {
        let err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let text =
            serde_json::to_string_pretty(&self.file).map_err(|e| err(std::io::Error::other(e)))?;
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, text + "\n").map_err(err)?;
        std::fs::rename(&temporary, &self.path).map_err(err)
    }

    /// Load a journal written by [`Journal::create`].
    pub fn load(path: &Path) -> Result<Journal, JournalError> {
        let text = std::fs::read_to_string(path).map_err(|source| JournalError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: JournalFile = serde_json::from_str(&text).map_err(|e| JournalError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if file.format_version != JOURNAL_VERSION {
            return Err(JournalError::Version {
                path: path.to_path_buf(),
                found: file.format_version,
            });
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Every server is back: the journal has done its job.
    pub fn remove(self) -> Result<(), JournalError> {
        std::fs::remove_file(&self.path).map_err(|source| JournalError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// One journal that every task of a run writes to: the run's own
/// `--create-servers` and each case step that creates a server record what
/// they created, and [`SharedJournal::current`] is what is put back.
#[derive(Debug, Clone)]
pub struct SharedJournal(Arc<Mutex<Journal>>);

impl SharedJournal {
    pub fn new(journal: Journal) -> SharedJournal {
        SharedJournal(Arc::new(Mutex::new(journal)))
    }

    /// The journal as it stands (a copy), e.g. to put the servers back.
    pub fn current(&self) -> Journal {
        self.lock().clone()
    }

    /// [`Journal::record_created`], saved before it returns.
    pub fn record_created(&self, id: &str) -> Result<(), JournalError> {
        self.lock().record_created(id)
    }

    /// [`Journal::forget_created`], saved before it returns.
    pub fn forget_created(&self, id: &str) -> Result<(), JournalError> {
        self.lock().forget_created(id)
    }

    /// A task that panicked while holding the lock left a journal that was
    /// saved or not, never half-changed in memory: use it.
    fn lock(&self) -> MutexGuard<'_, Journal> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> JournalFile {
        JournalFile {
            format_version: JOURNAL_VERSION,
            taken_at: "2026-12-04T00:00:00Z".into(),
            pid: 1,
            endpoint: "http://127.0.0.1:1/v2.1/p".into(),
            dialect: "nova".into(),
            project_id: "p".into(),
            alt_project_id: None,
            servers: vec![ServerSnapshot {
                id: "s".into(),
                role: ServerRole::Project,
                vm_state: Some("stopped".into()),
                locked: Some(true),
                metadata: [("owner".to_string(), "team".to_string())].into(),
                flavor: None,
                lease: None,
            }],
        }
    }

    #[test]
    fn round_trips_and_is_removed() {
        let dir = std::env::temp_dir().join(format!("mc-journal-{}", std::process::id()));
        let path = Journal::new_path(&dir);
        let written = Journal::create(path.clone(), sample()).unwrap();
        let read = Journal::load(&path).unwrap();
        assert_eq!(read.file, written.file);
        let shared = SharedJournal::new(read);
        shared.record_created("c1").unwrap();
        assert_eq!(Journal::load(&path).unwrap().file.servers.len(), 2);
        shared.forget_created("c1").unwrap();
        shared.forget_created("s").unwrap(); // a lent server is never forgotten
        assert_eq!(Journal::load(&path).unwrap().file, written.file);
        let read = shared.current();
        read.remove().unwrap();
        assert!(!path.exists());
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn a_foreign_file_is_refused_with_its_place() {
        let dir = std::env::temp_dir().join(format!("mc-journal-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.json");
        std::fs::write(&path, "{\n  \"format_version\": 1,\n  \"surprise\": 2\n}").unwrap();
        let err = Journal::load(&path).unwrap_err().to_string();
        assert!(err.contains("j.json:3:"), "{err}");
        std::fs::write(
            &path,
            serde_json::to_string(&JournalFile {
                format_version: 9,
                ..sample()
            })
            .unwrap(),
        )
        .unwrap();
        let err = Journal::load(&path).unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
