pub mod file;
pub mod fill;
pub mod idmap;
pub mod merge;
#[cfg(feature = "read")]
pub mod misc;

#[cfg(feature = "cli")]
pub mod cli;

pub use file::*;
