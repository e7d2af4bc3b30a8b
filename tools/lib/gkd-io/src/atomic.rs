//! Outputs that appear whole or not at all (docs/architecture.md §3).
//!
//! Each output is written to a hidden temporary file in its destination directory and renamed
//! over the destination only when the tool has finished every output. Workflow engines treat an
//! existing file as done, so a failed run must never leave a partial file at an output path.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::NamedTempFile;

use crate::error::{Error, IoResultExt, Result};

/// Temporary files and staging directories of outputs not yet committed. A tool stopped by a
/// signal removes them ([`remove_uncommitted`]), since a killed process runs no destructors.
static UNCOMMITTED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Set once [`remove_uncommitted`] has run: the process is exiting, and no new temporary output
/// may appear after the clean-up.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Registers a temporary path in [`UNCOMMITTED`] for as long as it lives.
#[derive(Debug)]
struct Tracked(PathBuf);

impl Tracked {
    /// Make a temporary output with `make` and register the path `path_of` gives, both under
    /// [`UNCOMMITTED`]'s lock, so that a signal's clean-up cannot fall between the two (and
    /// leave a file nobody removes); refused once the clean-up has run.
    fn create<T>(
        make: impl FnOnce() -> std::io::Result<T>,
        path_of: impl Fn(&T) -> PathBuf,
    ) -> std::io::Result<(T, Self)> {
        let mut uncommitted = UNCOMMITTED.lock().unwrap_or_else(|e| e.into_inner());
        if stopping() {
            return Err(std::io::Error::other("the tool is stopping"));
        }
        let made = make()?;
        let path = path_of(&made);
        uncommitted.push(path.clone());
        Ok((made, Tracked(path)))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        UNCOMMITTED.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| p != &self.0);
    }
}

/// Held while outputs are renamed into place, so that a tool stopping on a signal never exits
/// between the renames of one commit.
static COMMITTING: Mutex<()> = Mutex::new(());

/// Remove every temporary file and staging directory of an output this process has not
/// committed; for a tool that is about to exit because of a signal. A commit under way is
/// waited for (its outputs are whole), and none can start afterwards: the commit lock stays held
/// until the process exits, and creating a new output fails ([`stopping`]). Returns what it
/// removed.
pub fn remove_uncommitted() -> Vec<PathBuf> {
    let commit = COMMITTING.lock().unwrap_or_else(|e| e.into_inner());
    let paths = {
        let mut uncommitted = UNCOMMITTED.lock().unwrap_or_else(|e| e.into_inner());
        STOPPING.store(true, std::sync::atomic::Ordering::SeqCst);
        std::mem::take(&mut *uncommitted)
    };
    // Never released: a commit starting after the clean-up would find its temporary files gone
    // (and a staged directory's commit would already have removed the output it replaces).
    std::mem::forget(commit);
    paths
        .into_iter()
        .filter(|p| if p.is_dir() { fs::remove_dir_all(p).is_ok() } else { fs::remove_file(p).is_ok() })
        .collect()
}

/// Whether the signal clean-up ([`remove_uncommitted`]) has run: the process is exiting with the
/// signal's code, and an error its main thread meets now (an output it can no longer create) is
/// a consequence of the stop, not a failure to report.
pub fn stopping() -> bool {
    STOPPING.load(std::sync::atomic::Ordering::SeqCst)
}

/// One output file being written; invisible at its path until [`commit`](Self::commit) or
/// [`commit_all`].
#[derive(Debug)]
pub struct AtomicFile {
    tmp: NamedTempFile,
    dest: PathBuf,
    _tracked: Tracked,
}

impl AtomicFile {
    /// Start writing `dest`. Creates missing parent directories. Fails with a message naming
    /// `dest` when it is a directory or its directory cannot be written.
    pub fn create(dest: impl AsRef<Path>) -> Result<Self> {
        let dest = dest.as_ref().to_path_buf();
        if dest.is_dir() {
            return Err(Error::io(
                &dest,
                std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory; expected a file path for an output",
                ),
            ));
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| cannot_write(&dest, e))?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (tmp, _tracked) = Tracked::create(
            || tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(&parent),
            |tmp| tmp.path().to_owned(),
        )
        .map_err(|e| cannot_write(&dest, e))?;
        Ok(AtomicFile { tmp, dest, _tracked })
    }

    /// The destination path.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// A buffered writer of its own on the temporary file (a second handle, so that it can be
    /// kept while the file is staged; flush it before committing).
    pub fn writer(&self) -> Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(1 << 20, self.tmp.as_file().try_clone().with_path(self.tmp.path())?))
    }

    /// The temporary file to write into (it implements `Write` and `Seek`).
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// A buffered writer over the temporary file.
    pub fn buffered(&mut self) -> BufWriter<&mut File> {
        BufWriter::with_capacity(1 << 20, self.tmp.as_file_mut())
    }

    /// Write `bytes` as the whole content.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let dest = self.dest.clone();
        self.file().write_all(bytes).with_path(dest)
    }

    /// Flush, give the file ordinary permissions and rename it to its destination.
    pub fn commit(self) -> Result<()> {
        let _commit = COMMITTING.lock().unwrap_or_else(|e| e.into_inner());
        self.commit_held()
    }

    fn commit_held(self) -> Result<()> {
        let AtomicFile { tmp, dest, _tracked } = self;
        tmp.as_file().sync_all().with_path(&dest)?;
        set_readable(tmp.as_file(), &dest)?;
        tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
        Ok(())
    }
}

/// Commit several outputs together. If one rename fails, the outputs already renamed by this
/// call are removed again, so either every output appears or none does.
pub fn commit_all(files: Vec<AtomicFile>) -> Result<()> {
    let _commit = COMMITTING.lock().unwrap_or_else(|e| e.into_inner());
    let mut done: Vec<PathBuf> = Vec::with_capacity(files.len());
    for f in files {
        let dest = f.dest.clone();
        if let Err(e) = f.commit_held() {
            for d in &done {
                let _ = fs::remove_file(d);
            }
            return Err(e);
        }
        done.push(dest);
    }
    Ok(())
}

/// Write a whole file atomically in one call.
pub fn write_file(dest: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes)?;
    f.commit()
}

/// `DIR.suffix` beside `DIR` (the whole name is kept: `a0.5` becomes `a0.5.suffix`).
pub fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "output".into());
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

/// A directory output that appears whole or not at all: it is built under `DIR.suffix` beside
/// its final path, then renamed into place (replacing an earlier one) by [`commit`](Self::commit).
/// Dropped without a commit (an error on the way), the staging directory is removed.
#[derive(Debug)]
pub struct StagedDir {
    staging: PathBuf,
    target: PathBuf,
    tracked: Option<Tracked>,
}

impl StagedDir {
    /// Start building `target` in an empty `target.suffix`.
    pub fn create(target: &Path, suffix: &str) -> Result<Self> {
        let staging = sibling(target, suffix);
        if staging.exists() {
            fs::remove_dir_all(&staging).with_path(&staging)?;
        }
        let ((), tracked) =
            Tracked::create(|| fs::create_dir_all(&staging), |()| staging.clone()).with_path(&staging)?;
        let tracked = Some(tracked);
        Ok(Self { staging, target: target.to_owned(), tracked })
    }

    /// The directory being built.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Write file `name` of the directory.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_file(self.staging.join(name), bytes)
    }

    /// Put the directory in place, replacing what was there.
    pub fn commit(mut self) -> Result<()> {
        let _commit = COMMITTING.lock().unwrap_or_else(|e| e.into_inner());
        if self.target.exists() {
            fs::remove_dir_all(&self.target).with_path(&self.target)?;
        }
        fs::rename(&self.staging, &self.target).with_path(&self.target)?;
        self.tracked = None;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if self.tracked.take().is_some() {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn cannot_write(dest: &Path, e: std::io::Error) -> Error {
    Error::io(dest, std::io::Error::new(e.kind(), format!("cannot create output here: {e}")))
}

#[cfg(unix)]
fn set_readable(file: &File, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o644)).with_path(dest)
}

#[cfg(not(unix))]
fn set_readable(_file: &File, _dest: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sub/out.txt");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!dest.exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"hello");
    }

    #[test]
    fn dropped_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_staged_directory_replaces_the_old_one_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model_a0.5");
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("old"), b"old").unwrap();
        let staged = StagedDir::create(&target, "staging").unwrap();
        assert_eq!(staged.path(), dir.path().join("model_a0.5.staging"));
        staged.write("new", b"new").unwrap();
        assert!(target.join("old").exists() && !target.join("new").exists());
        staged.commit().unwrap();
        assert_eq!(fs::read(target.join("new")).unwrap(), b"new");
        assert!(!target.join("old").exists() && !dir.path().join("model_a0.5.staging").exists());
    }

    #[test]
    fn directory_destination_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = AtomicFile::create(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }
}
