//! The JSON sidecar of gkd-variant (schemas/variant-effects.v1.schema.json): what was scored,
//! with which models and settings, how many variants were scored or skipped and why, and the
//! files written. The tables themselves are TSV (docs/data-contracts.md, "Variant effects").

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::error::Result;
use crate::json_file;
use crate::scan_manifest::ShardOf;

/// Schema id of the sidecar.
pub const VARIANT_EFFECTS_SCHEMA: &str = "https://gkd.example/schemas/variant-effects.v1.schema.json";

/// One scored model: a model directory, or an ensemble (the mean of its members' logits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoredModel {
    /// The model's name in the tables.
    pub name: String,
    /// Its model directories (one, or an ensemble's members).
    pub dirs: Vec<String>,
    /// Output head: sigmoid or softmax.
    pub head: String,
    /// Input length (bases) of its windows.
    pub length: usize,
}

/// Variants and alleles read, scored and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantCounts {
    /// VCF records read (in this shard).
    pub records: u64,
    /// ALT alleles of those records.
    pub alleles: u64,
    /// Variants scored (one per ALT allele of bases whose REF matched the FASTA).
    pub scored: u64,
    /// Variants whose REF differs from the FASTA (skipped with `--ref-mismatch skip`).
    pub ref_mismatch: u64,
    /// Symbolic ALT alleles (`<DEL>`, `<*>`), skipped.
    pub symbolic: u64,
    /// Breakend ALT alleles, skipped.
    pub breakend: u64,
    /// `.` and `*` ALT alleles, skipped.
    pub missing: u64,
}

impl std::ops::AddAssign for VariantCounts {
    fn add_assign(&mut self, o: Self) {
        self.records += o.records;
        self.alleles += o.alleles;
        self.scored += o.scored;
        self.ref_mismatch += o.ref_mismatch;
        self.symbolic += o.symbolic;
        self.breakend += o.breakend;
        self.missing += o.missing;
    }
}

/// How the variants were scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantSettings {
    /// The classes scored, by name.
    pub classes: Vec<String>,
    /// Logits averaged over the window and its reverse complement.
    pub both_strands: bool,
    /// What a REF that differs from the FASTA does: `error` or `skip`.
    pub ref_mismatch: String,
    /// One-hot value of N.
    pub n_value: f32,
    /// Bases each side of the variant written to the ISM table (absent: no ISM table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ism_flank: Option<usize>,
    /// The window convention (docs/science.md, "Variant effects").
    pub windows: String,
}

/// The files written, relative to nothing (as given on the command line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantFiles {
    /// One row per variant × model × class.
    pub tsv: String,
    /// The input VCF with the effects as INFO fields.
    pub vcf: String,
    /// Position-wise ISM effects around each variant (with `--ism-flank`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ism: Option<String>,
}

/// The sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantEffects {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The VCF read.
    pub vcf: String,
    /// The reference FASTA.
    pub fasta: String,
    /// The models, in table order.
    pub models: Vec<ScoredModel>,
    /// How they were scored.
    pub settings: VariantSettings,
    /// The shard these files are (absent: the whole VCF, or shards already merged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
    /// What was read, scored and skipped.
    pub counts: VariantCounts,
    /// The files written.
    pub files: VariantFiles,
    /// The tool that wrote them.
    pub tool: String,
    /// Its version.
    pub version: String,
}

impl VariantEffects {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        json_file::to_json(self)
    }

    /// Stage the sidecar at `path`.
    pub fn stage(&self, path: &Path) -> Result<AtomicFile> {
        json_file::stage(self, path)
    }

    /// Read a sidecar.
    pub fn read(path: &Path) -> Result<Self> {
        json_file::read(path, "a gkd-variant sidecar")
    }

    /// Whether `other` scored the same inputs the same way (all but shard, counts and files).
    pub fn same_run(&self, other: &Self) -> bool {
        (&self.vcf, &self.fasta, &self.models, &self.settings, &self.version)
            == (&other.vcf, &other.fasta, &other.models, &other.settings, &other.version)
    }

    /// The JSON Schema of the sidecar.
    pub fn json_schema() -> serde_json::Value {
        json_file::schema_with_id::<VariantEffects>(VARIANT_EFFECTS_SCHEMA)
    }
}
