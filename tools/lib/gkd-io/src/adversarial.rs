//! The JSON sidecars of gkd-attack (schemas/attack.v1.schema.json and
//! schemas/attack-detection.v1.schema.json): what was attacked, how, and per attack the
//! robustness summary (success rate, substitutions needed, robust accuracy at each budget, where
//! the substitutions fell); and of `gkd-attack detect`, the detector's AUROC per squeezer. The
//! per-row tables are TSV (docs/data-contracts.md, "Adversarial attacks").

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::error::Result;
use crate::json_file;

/// Schema id of the attack sidecar.
pub const ATTACK_SCHEMA: &str = "https://gkd.example/schemas/attack.v1.schema.json";
/// Schema id of the detection sidecar.
pub const DETECTION_SCHEMA: &str = "https://gkd.example/schemas/attack-detection.v1.schema.json";

/// The settings of an attack run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttackSettingsRecord {
    /// Most substitutions per row.
    pub budget: usize,
    /// flip, down or up.
    pub goal: String,
    /// Score change the down / up goals need (0 for flip).
    pub margin: f32,
    /// The flip goal's decision threshold on the score (null for down / up).
    pub threshold: Option<f32>,
    /// The split the threshold was rate-matched on (its score above which as many rows are
    /// called positive as are labelled), if it was.
    pub threshold_from: Option<String>,
    /// Gradient steps of the pgd attack.
    pub pgd_steps: usize,
    /// Its step size.
    pub pgd_step: f32,
    /// Seed of the random attack.
    pub seed: u64,
    /// Information-content threshold (bits) of a ground-truth motif position.
    pub ic_threshold: f64,
    /// The sites table whose sites of the attacked class were checked, if one was given.
    pub sites: Option<String>,
}

/// One attack's results over the attacked rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttackSummary {
    /// greedy-ism, hotflip, pgd or random.
    pub attack: String,
    /// The adversarial split (NPZ file name beside the sidecar).
    pub split: String,
    /// Rows attacked.
    pub rows: usize,
    /// Rows that met the goal before any substitution (a flip goal: misclassified rows).
    pub broken_clean: usize,
    /// Rows the attack broke with 1 … budget substitutions.
    pub successes: usize,
    /// successes / (rows − broken_clean); null when every row was broken clean.
    pub success_rate: Option<f64>,
    /// Median substitutions of the successes (null without one).
    pub median_substitutions: Option<f64>,
    /// Per budget k = 0 … budget: the fraction of rows not broken with at most k substitutions
    /// (under the flip goal, the robust accuracy).
    pub robust: Vec<f64>,
    /// Substitutions kept by the successful attacks.
    pub substitutions: u64,
    /// Of those, how many fall on a ground-truth motif position (with a truth array).
    pub in_motif: Option<u64>,
    /// in_motif / substitutions.
    pub motif_fraction: Option<f64>,
    /// The fraction of substitutable positions that are motif positions, over the broken rows:
    /// what motif_fraction would be if substitutions fell anywhere.
    pub motif_fraction_expected: Option<f64>,
    /// Of the successful substitutions, how many fall in a site of the attacked class (with
    /// --sites).
    pub in_site: Option<u64>,
    /// in_site / substitutions.
    pub site_fraction: Option<f64>,
    /// The fraction of substitutable positions inside a site of the attacked class, over the
    /// broken rows.
    pub site_fraction_expected: Option<f64>,
}

/// The sidecar of an attack run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttackReport {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The attacked model's directory.
    pub model: String,
    /// The clean dataset split.
    pub data: String,
    /// The attacked class.
    pub class: String,
    /// The model's head (sigmoid: the class's logit is attacked; softmax: its margin over the
    /// largest other logit).
    pub head: String,
    /// Settings.
    pub settings: AttackSettingsRecord,
    /// The per-row table (file name).
    pub table: String,
    /// One summary per attack, in the order run.
    pub attacks: Vec<AttackSummary>,
    /// Tool name.
    pub tool: String,
    /// Tool version.
    pub version: String,
}

impl AttackReport {
    /// Stage the sidecar.
    pub fn stage(&self, path: &Path) -> Result<AtomicFile> {
        json_file::stage(self, path)
    }

    /// Read a sidecar.
    pub fn read(path: &Path) -> Result<Self> {
        json_file::read(path, "a gkd-attack sidecar")
    }

    /// Its JSON Schema.
    pub fn json_schema() -> serde_json::Value {
        json_file::schema_with_id::<Self>(ATTACK_SCHEMA)
    }
}

/// One squeezer's (or the combined detector's) separation of adversarial from clean rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqueezerScore {
    /// rc, ensemble, mask or combined (the largest of the others, each divided by its median on
    /// the clean rows).
    pub squeezer: String,
    /// AUROC of the detection score, adversarial rows against their clean originals.
    pub auroc: Option<f64>,
    /// Fraction of adversarial rows scored above the 95th percentile of the clean rows' scores
    /// (detection at a 5% false-positive rate).
    pub detected_at_5pct_fpr: Option<f64>,
}

/// The sidecar of `gkd-attack detect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectionReport {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The model whose predictions are compared.
    pub model: String,
    /// The clean split.
    pub clean: String,
    /// The adversarial split (a gkd-attack output).
    pub adversarial: String,
    /// The attack that made it.
    pub attack: String,
    /// The scored class.
    pub class: String,
    /// Pairs scored: adversarial rows (broken with at least one substitution) and their clean
    /// originals.
    pub pairs: usize,
    /// The ensemble squeezer's models, if used.
    pub ensemble: Vec<String>,
    /// The fraction of lowest-attribution positions the mask squeezer blurs, if used.
    pub mask_fraction: Option<f32>,
    /// Per squeezer, then combined.
    pub squeezers: Vec<SqueezerScore>,
    /// The per-row table (file name).
    pub table: String,
    /// Tool name.
    pub tool: String,
    /// Tool version.
    pub version: String,
}

impl DetectionReport {
    /// Stage the sidecar.
    pub fn stage(&self, path: &Path) -> Result<AtomicFile> {
        json_file::stage(self, path)
    }

    /// Read a sidecar.
    pub fn read(path: &Path) -> Result<Self> {
        json_file::read(path, "a gkd-attack detect sidecar")
    }

    /// Its JSON Schema.
    pub fn json_schema() -> serde_json::Value {
        json_file::schema_with_id::<Self>(DETECTION_SCHEMA)
    }
}
