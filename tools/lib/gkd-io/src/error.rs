//! One error type for every tool, mapped to the exit codes of docs/architecture.md §3:
//! 0 ok, 1 data or runtime error, 2 usage error.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias used across the gkd crates.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in an input file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line number.
    Line(u64),
    /// A 1-based record number, with the record's name when it has one.
    Record(u64, Option<String>),
    /// Free text, e.g. "array 'x'".
    Other(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Record(n, Some(name)) => write!(f, "record {n} ('{name}')"),
            Location::Record(n, None) => write!(f, "record {n}"),
            Location::Other(s) => f.write_str(s),
        }
    }
}

/// Every error a gkd tool reports. `Display` gives the one-line message shown to the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad content in an input file: names the file, where, and what was expected.
    #[error("{}", input_message(.path, .location, .message))]
    Input {
        /// The offending file.
        path: PathBuf,
        /// Where in the file.
        location: Location,
        /// What was wrong and what was expected.
        message: String,
    },
    /// An operating-system error while reading or writing a path.
    #[error("{}: {}", .path.display(), .source)]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Options that do not fit together (exit code 2, like a clap usage error).
    #[error("{0}")]
    Usage(String),
    /// Any other runtime failure.
    #[error("{0}")]
    Runtime(String),
    /// Stopped by a signal (SIGTERM from a scheduler, SIGINT from the keyboard); exit code 128 +
    /// the signal's number, as a shell reports a process the signal ended.
    #[error("{message}")]
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// What was stopped and what was kept.
        message: String,
    },
}

fn input_message(path: &Path, location: &Location, message: &str) -> String {
    match location {
        Location::File => format!("{}: {message}", path.display()),
        loc => format!("{}: {loc}: {message}", path.display()),
    }
}

impl Error {
    /// Bad content at a line of a file.
    pub fn at_line(path: impl AsRef<Path>, line: u64, message: impl Into<String>) -> Self {
        Error::Input { path: path.as_ref().to_path_buf(), location: Location::Line(line), message: message.into() }
    }

    /// Bad content in a numbered (1-based) record of a file.
    pub fn at_record(path: impl AsRef<Path>, record: u64, name: Option<&str>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.as_ref().to_path_buf(),
            location: Location::Record(record, name.map(str::to_owned)),
            message: message.into(),
        }
    }

    /// Bad content in a file as a whole.
    pub fn in_file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Input { path: path.as_ref().to_path_buf(), location: Location::File, message: message.into() }
    }

    /// An I/O error on a path.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// A usage error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    /// A runtime error (exit code 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Error::Runtime(message.into())
    }

    /// Stopped by signal `signal` (exit code 128 + signal).
    pub fn interrupted(signal: i32, message: impl Into<String>) -> Self {
        Error::Interrupted { signal, message: message.into() }
    }

    /// The process exit code for this error (docs/architecture.md §3).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Interrupted { signal, .. } => 128 + signal,
            _ => 1,
        }
    }
}

/// Attach a path to I/O results: `file.read(..).with_path(&path)?`.
pub trait IoResultExt<T> {
    /// Convert an `io::Error` into [`Error::Io`] naming `path`.
    fn with_path(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoResultExt<T> for std::io::Result<T> {
    fn with_path(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_and_place() {
        let e = Error::at_line("a.bed", 7, "end 5 is before start 9");
        assert_eq!(e.to_string(), "a.bed: line 7: end 5 is before start 9");
        assert_eq!(e.exit_code(), 1);
        let e = Error::at_record("x.fa", 3, Some("chr2"), "empty sequence");
        assert_eq!(e.to_string(), "x.fa: record 3 ('chr2'): empty sequence");
        assert_eq!(Error::usage("bad").exit_code(), 2);
    }
}
