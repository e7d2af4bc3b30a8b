//! The scan manifest: a JSON file `PREFIX.scan.json` beside the bigWig tracks of a genome scan
//! (gkd-scan), saying which file holds which class and value, what was scanned, and, for a
//! shard of a scatter/gather run, which shard it is (docs/data-contracts.md). `gkd-scan merge`
//! reads the shards' manifests to join their tracks. Its JSON Schema is generated from these
//! types and committed in `schemas/`.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::error::Result;
use crate::json_file;

/// The `$id` of the scan manifest schema, recorded in every manifest.
pub const SCAN_MANIFEST_SCHEMA: &str = "https://gkd.example/schemas/scan.v1.schema.json";

/// The manifest of `PREFIX`'s tracks: `PREFIX.scan.json`.
pub fn scan_manifest_path(prefix: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{prefix}.scan.json"))
}

/// One bigWig track of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanTrack {
    /// The model's class the track is about.
    pub class: String,
    /// What the track holds: `probability` or `logit` (one value per window, over the `stride`
    /// bases at its centre), or `saliency` / `ism` (one value per base, averaged over the
    /// windows that cover it).
    pub content: String,
    /// File name, relative to the manifest's folder.
    pub file: String,
}

/// Which part of a scatter/gather scan a set of tracks is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShardOf {
    /// 1-based shard number.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

/// What a scan wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanManifest {
    /// The schema this manifest follows.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// Model directory, as given.
    pub model: String,
    /// FASTA file, as given.
    pub fasta: String,
    /// BED of the scanned regions, as given (absent: every sequence of the FASTA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed: Option<String>,
    /// Window length (the model's input length).
    pub window: usize,
    /// Bases between consecutive windows.
    pub stride: usize,
    /// One-hot value of N and other ambiguous bases.
    pub n_value: f32,
    /// The shard these tracks are (absent: the whole scan, or shards already merged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
    /// Windows whose predictions the tracks hold.
    pub windows: u64,
    /// The tracks.
    pub tracks: Vec<ScanTrack>,
    /// The tool that wrote the tracks.
    pub tool: String,
    /// That tool's version.
    pub version: String,
}

impl ScanManifest {
    /// Serialise as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        json_file::to_json(self)
    }

    /// Stage the manifest at `path`.
    pub fn stage(&self, path: &Path) -> Result<AtomicFile> {
        json_file::stage(self, path)
    }

    /// Read a manifest.
    pub fn read(path: &Path) -> Result<Self> {
        json_file::read(path, "a gkd-scan manifest")
    }

    /// Whether `other` scanned the same things into the same kinds of track (everything but
    /// the shard, the window count and the file names).
    pub fn same_scan(&self, other: &Self) -> bool {
        let strip = |m: &Self| Self {
            shard: None,
            windows: 0,
            tracks: m.tracks.iter().map(|t| ScanTrack { file: String::new(), ..t.clone() }).collect(),
            ..m.clone()
        };
        strip(self) == strip(other)
    }

    /// The JSON Schema (draft 2020-12) of this type, as committed in `schemas/`.
    pub fn json_schema() -> serde_json::Value {
        json_file::schema_with_id::<ScanManifest>(SCAN_MANIFEST_SCHEMA)
    }
}
