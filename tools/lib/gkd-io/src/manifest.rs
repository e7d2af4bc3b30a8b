//! The manifest: a JSON file beside each dataset split that says what its arrays hold
//! (docs/data-contracts.md). Its JSON Schema is generated from these types and committed in `schemas/`.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::dtype::Dtype;
use crate::error::{Error, IoResultExt, Result};

/// The `$id` of the dataset manifest schema, recorded in every manifest.
pub const DATASET_MANIFEST_SCHEMA: &str = "https://gkd.example/schemas/dataset-manifest.v1.schema.json";

/// What kind of data a split holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum DatasetKind {
    /// One-hot DNA: `x` is (N, 4, L) in `ncl` layout or (N, L, 4) in `nlc`.
    Sequence,
    /// Histone marks: `x` is (N, marks, bins).
    Histone,
}

impl DatasetKind {
    /// The name written in manifests.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// How the labels `y` are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantArray, strum::EnumMessage, strum::EnumProperty)]
#[strum(serialize_all = "kebab-case")]
pub enum TaskKind {
    /// One 0/1 column.
    Binary,
    /// Several independent 0/1 columns (sigmoid heads).
    Multilabel,
    /// One-hot over K exclusive classes (softmax head).
    Multiclass,
    /// Real-valued targets.
    Regression,
    /// No labels (`y` has zero columns).
    #[strum(props(cli = "hidden"))]
    None,
}

/// Axis order of `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantArray, strum::EnumMessage, strum::EnumProperty)]
#[strum(serialize_all = "kebab-case")]
pub enum Layout {
    /// (rows, channels, length): PyTorch / tangermeme order.
    Ncl,
    /// (rows, length, channels): Keras / TF-MoDISco order.
    Nlc,
}

/// A file a dataset was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// What the file was used for (e.g. "fasta", "bed", "labels", "motifs").
    pub role: String,
    /// The path as given on the command line.
    pub path: String,
    /// Size in bytes when it was read.
    pub bytes: u64,
}

impl SourceFile {
    /// Describe `path` in `role`, reading its size from the file system (0 for stdin).
    pub fn new(role: &str, path: &Path) -> Self {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        SourceFile { role: role.to_owned(), path: path.display().to_string(), bytes }
    }
}

/// The manifest beside each dataset split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetManifest {
    /// Schema identifier ([`DATASET_MANIFEST_SCHEMA`]).
    #[serde(rename = "$schema")]
    pub schema: String,
    /// Sequence or histone data.
    pub kind: DatasetKind,
    /// Split name: "all", "train", "valid", "test" or a user-chosen name.
    pub split: String,
    /// File name of the arrays (relative to the manifest).
    pub arrays_file: String,
    /// File name of the row-identity TSV (relative to the manifest).
    pub rows_file: String,
    /// Shape of every array in the archive.
    pub arrays: BTreeMap<String, Vec<usize>>,
    /// How `x` is stored: float32 (the default, then not written), float16 or uint8. Readers
    /// take the type from the array itself; this records what the writer chose.
    #[serde(default, skip_serializing_if = "Dtype::is_float32")]
    pub x_dtype: Dtype,
    /// Axis order of `x` (`ncl` or `nlc`; histone data is always marks × bins).
    pub layout: Layout,
    /// Channel names in axis order (A, C, G, T for DNA; mark names for histone data).
    pub channels: Vec<String>,
    /// Class (label column) names, in `y` column order.
    pub classes: Vec<String>,
    /// How `y` is to be read.
    pub task: TaskKind,
    /// Sequence length or number of bins.
    pub length: usize,
    /// Number of rows.
    pub rows: usize,
    /// Rows whose label is 1 (or > 0), per class.
    pub positives: Vec<u64>,
    /// Named counts worth knowing (e.g. N bases, other IUPAC codes, reverse-complement rows).
    pub counts: BTreeMap<String, u64>,
    /// The files the data came from.
    pub sources: Vec<SourceFile>,
    /// Tool-specific parameters that produced the data (seed, options, ...).
    pub parameters: serde_json::Value,
    /// The tool that wrote the split.
    pub tool: String,
    /// That tool's version.
    pub version: String,
}

impl DatasetManifest {
    /// Serialise as pretty, key-ordered JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("manifest serialises");
        s.push('\n');
        s
    }

    /// Write into an atomic output.
    pub fn write(&self, out: &mut AtomicFile) -> Result<()> {
        out.write_all(self.to_json().as_bytes())
    }

    /// Read and check a manifest.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).with_path(path)?;
        serde_json::from_str(&text)
            .map_err(|e| Error::at_line(path, e.line() as u64, format!("not a gkd dataset manifest: {e}")))
    }

    /// The JSON Schema (draft 2020-12) of this type, as committed in `schemas/`.
    pub fn json_schema() -> serde_json::Value {
        let mut schema = serde_json::to_value(schemars::schema_for!(DatasetManifest)).expect("schema serialises");
        schema["$id"] = serde_json::Value::String(DATASET_MANIFEST_SCHEMA.to_owned());
        schema
    }
}

/// The manifest path conventionally beside an arrays file: `name.npz` → `name.json`.
pub fn manifest_path_for(arrays: &Path) -> std::path::PathBuf {
    sibling_with_suffix(arrays, ".json")
}

/// The rows TSV path conventionally beside an arrays file: `name.npz` → `name.rows.tsv`.
pub fn rows_path_for(arrays: &Path) -> std::path::PathBuf {
    sibling_with_suffix(arrays, ".rows.tsv")
}

/// `dir/name.npz` → `dir/name{suffix}` (the `.npz` extension, if any, is replaced).
pub fn sibling_with_suffix(arrays: &Path, suffix: &str) -> std::path::PathBuf {
    let name = arrays.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".npz").unwrap_or(&name);
    arrays.with_file_name(format!("{stem}{suffix}"))
}
