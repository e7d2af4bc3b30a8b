//! The JSON sidecar of gkd-ggm (schemas/ggm.v1.schema.json): which conditions and features the
//! networks were estimated from, the estimator and its settings, how λ was chosen (with the
//! stability curve), and per network its edge counts. The matrices are in the NPZ beside it,
//! the edges and hub scores in TSVs (docs/data-contracts.md, "Gaussian graphical models").

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::error::Result;
use crate::json_file;

/// Schema id of the gkd-ggm sidecar.
pub const GGM_SCHEMA: &str = "https://gkd.example/schemas/ggm.v1.schema.json";

/// One condition (cell type, class, …): its data and backward mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionRecord {
    /// Its name in the tables.
    pub name: String,
    /// The file its samples came from (with the label filter, if any).
    pub source: String,
    /// Samples (rows).
    pub rows: usize,
    /// The threshold v of T_v applied to its covariance before inversion (0: none needed).
    pub v: f64,
}

/// One point of the stability-selection grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LambdaPoint {
    /// λ.
    pub lambda: f64,
    /// Mean edge instability 2θ(1 − θ) over every pair of every network.
    pub instability: f64,
    /// Its running maximum from the largest λ down (the monotonised instability).
    pub monotone: f64,
    /// Mean edges per network over the subsamples.
    pub mean_edges: f64,
}

/// How λ was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LambdaChoice {
    /// `stars` (stability selection) or `fixed` (given with --lambda).
    pub rule: String,
    /// The λ used.
    pub lambda: f64,
    /// StARS' instability bound β.
    pub beta: Option<f64>,
    /// Subsamples drawn.
    pub subsamples: Option<usize>,
    /// Rows per subsample, per condition.
    pub subsample_rows: Vec<usize>,
    /// Seed of the subsamples.
    pub seed: Option<u64>,
    /// The grid, largest λ first (empty for a fixed λ).
    pub grid: Vec<LambdaPoint>,
}

/// Settings of the estimators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimatorSettings {
    /// Whether each feature was standardised per condition (the covariance is then the
    /// correlation).
    pub standardise: bool,
    /// The eigenvalue floor of T_v(Σ̂), relative to its mean diagonal (null: v was given).
    pub min_eigenvalue: Option<f64>,
    /// FASJEM's ε.
    pub epsilon: f64,
    /// FASJEM's proximal step 4γ as a multiple of λ.
    pub step: f64,
    /// FASJEM's relaxation ρ.
    pub relaxation: f64,
    /// FASJEM's most iterations per group.
    pub max_iterations: usize,
    /// FASJEM's convergence tolerance.
    pub tolerance: f64,
    /// JEEK's shared-part weights W_S (file), if given.
    pub jeek_weights: Option<String>,
}

/// One estimated network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSummary {
    /// The condition (DIFFEE: `B-A`, the second condition minus the first).
    pub name: String,
    /// Edges (nonzero off-diagonal pairs).
    pub edges: usize,
    /// Of those, shared (in every network; JEEK: nonzero shared part).
    pub shared: usize,
    /// Of those, specific.
    pub specific: usize,
}

/// The sidecar of a gkd-ggm run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GgmReport {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// ee, fasjem, fasjem-i, jeek or diffee.
    pub method: String,
    /// The conditions, in the order of the NPZ's first axis.
    pub conditions: Vec<ConditionRecord>,
    /// The features (columns of every matrix), in order.
    pub features: Vec<String>,
    /// Features dropped because they were constant in some condition.
    pub dropped_features: Vec<String>,
    /// Histone inputs: adjacent bins averaged per feature (null for matrix inputs).
    pub pool_bins: Option<usize>,
    /// Whether log(1 + x) was applied to the inputs.
    pub log1p: bool,
    /// Settings.
    pub settings: EstimatorSettings,
    /// How λ was chosen.
    pub lambda: LambdaChoice,
    /// FASJEM groups that did not converge within max_iterations.
    pub unconverged_groups: usize,
    /// The most FASJEM iterations a group took.
    pub iterations: usize,
    /// The networks.
    pub networks: Vec<NetworkSummary>,
    /// The files written beside the sidecar: npz, edges, hubs.
    pub files: Vec<String>,
    /// Tool name.
    pub tool: String,
    /// Tool version.
    pub version: String,
}

impl GgmReport {
    /// Stage the sidecar.
    pub fn stage(&self, path: &Path) -> Result<AtomicFile> {
        json_file::stage(self, path)
    }

    /// Read a sidecar.
    pub fn read(path: &Path) -> Result<Self> {
        json_file::read(path, "a gkd-ggm sidecar")
    }

    /// Its JSON Schema.
    pub fn json_schema() -> serde_json::Value {
        json_file::schema_with_id::<Self>(GGM_SCHEMA)
    }
}
