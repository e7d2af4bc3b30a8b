//! Formats and I/O shared by every `gkd` tool.
//!
//! Each module holds one job: [`error`] (one error type and its exit codes), [`atomic`]
//! (outputs that appear whole or not at all), [`input`] (opening plain, gzip or BGZF inputs),
//! [`npz`] (NumPy `.npz`/`.npy` tensors, read by rows) and [`dtype`] (their element types), [`manifest`] (the JSON beside each dataset split),
//! [`table`] (row-identity and other TSV tables), the tool outputs ([`dataset`], [`predictions`],
//! [`attributions`], [`scores`], [`scan_manifest`], [`patterns`], [`adversarial`]), [`progress`] (how library work reports progress), [`stop`]
//! (a request to stop early, e.g. on SIGTERM) and [`weights`] (finite, well-shaped safetensors). Command-line
//! plumbing lives in `gkd-cli`, which only the tools use.

pub mod adversarial;
pub mod atomic;
pub mod attributions;
pub mod dataset;
pub mod dtype;
pub mod error;
pub mod input;
pub mod json_file;
pub mod manifest;
pub mod networks;
pub mod npz;
pub mod patterns;
pub mod predictions;
pub mod progress;
pub mod scan_manifest;
pub mod scores;
pub mod sites;
pub mod stop;
pub mod table;
pub mod variant_effects;
pub mod weights;

pub use error::{Error, Result};
