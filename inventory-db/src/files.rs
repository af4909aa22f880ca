//! Files the library writes (backups, CSV exports): created owner-only (0600) under a
//! temporary name beside the target and moved into place only when complete; an existing
//! file is replaced only when the caller says so, and the database in use never.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{DbError, OverwriteRefusal};
use crate::pool::Database;

/// Whether an output may replace an existing file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse when the file exists (the default).
    #[default]
    Refuse,
    /// Replace it (`--force`).
    Replace,
}

/// A file being written: a temporary file next to the target until [`OutputFile::commit`].
/// Dropped without a commit, it removes the temporary file and leaves the target as it was.
#[derive(Debug)]
pub struct OutputFile {
    what: &'static str,
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
    overwrite: Overwrite,
}

static TEMP_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl OutputFile {
    /// Checks that `target` may be written (not the database in use or one of its files,
    /// not an existing file unless `overwrite` says so) and opens the temporary file.
    /// `what` names the file in errors (`backup`, `CSV export`).
    pub fn create(
        db: &Database,
        target: &Path,
        overwrite: Overwrite,
        what: &'static str,
    ) -> Result<OutputFile, DbError> {
        if is_live_database(db, target) {
            return Err(DbError::WouldOverwrite {
                path: target.to_path_buf(),
                refusal: OverwriteRefusal::LiveDatabase,
            });
        }
        if overwrite == Overwrite::Refuse && std::fs::symlink_metadata(target).is_ok() {
            return Err(DbError::WouldOverwrite {
                path: target.to_path_buf(),
                refusal: OverwriteRefusal::Exists,
            });
        }
        let name = target
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let temp = target.with_file_name(format!(
            ".{name}.{}-{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&temp)
            .map_err(|e| DbError::io(format!("cannot write {what} {}", target.display()), e))?;
        Ok(OutputFile {
            what,
            target: target.to_path_buf(),
            temp,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
            overwrite,
        })
    }

    /// Flushes and syncs the file, then moves it into place: atomically replacing the
    /// target when allowed, else only if no file appeared there meanwhile.
    pub fn commit(mut self) -> Result<(), DbError> {
        let action = format!("cannot write {} {}", self.what, self.target.display());
        let writer = self.writer.take();
        let result = (|| -> std::io::Result<()> {
            if let Some(writer) = writer {
                let file = writer.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
            }
            match self.overwrite {
                Overwrite::Replace => std::fs::rename(&self.temp, &self.target)?,
                Overwrite::Refuse => {
                    // A hard link fails when the target exists: no window for a clobber.
                    std::fs::hard_link(&self.temp, &self.target)?;
                    std::fs::remove_file(&self.temp)?;
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
                    // Make the rename itself durable; not every platform can open a directory.
                    if let Ok(d) = File::open(dir) {
                        let _ = d.sync_all();
                    }
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(DbError::WouldOverwrite {
                    path: self.target.clone(),
                    refusal: OverwriteRefusal::Exists,
                })
            }
            Err(e) => Err(DbError::io(action, e)),
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.writer {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("the file is already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        self.writer.take();
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// The path as the file system resolves it; for a file that does not exist yet, its
/// directory resolved and its name appended.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::canonicalize(dir).ok().map(|d| d.join(name))
}

/// Whether `target` is the SQLite database of `db` or one of its side files.
fn is_live_database(db: &Database, target: &Path) -> bool {
    let Some(db_path) = db.url().sqlite_path().and_then(resolved) else {
        return false;
    };
    let Some(target) = resolved(target) else {
        return false;
    };
    let db_name = db_path.as_os_str().to_string_lossy().into_owned();
    [
        db_path.clone(),
        PathBuf::from(format!("{db_name}-wal")),
        PathBuf::from(format!("{db_name}-shm")),
        PathBuf::from(format!("{db_name}-journal")),
    ]
    .contains(&target)
}
