//! The command line of `gkd-ggm`: its arguments and their help.

use std::path::PathBuf;

use clap::Parser;
use gkd_cli::{CommonArgs, choice};
use gkd_networks::estimators::Method;

use crate::TOOL;

/// Examples shown after the options in `--help`.
pub const EXAMPLES: &str = "\
Examples:
  # Joint networks of three cell types' histone marks x bins (10 bins pooled per feature), with
  # what they share; lambda by stability selection:
  gkd-ggm --data E003.npz --data E004.npz --data E005.npz --pool-bins 10 --log1p --method jeek -o ggm/jeek
  # The expressed genes of each cell type only:
  gkd-ggm --data E003.npz --data E004.npz --where-label expressed=1 --pool-bins 10 --log1p -o ggm/on
  # The differential network between a split's unexpressed and expressed genes:
  gkd-ggm --data histone.train.npz --by-label expressed --pool-bins 10 --log1p --method diffee -o ggm/diff
  # Any samples x features matrices (TSV with a header, or NPY/NPZ), FASJEM at a given lambda:
  gkd-ggm --data a.tsv --data b.tsv --method fasjem --lambda 0.1 -o ggm/fasjem
  # One network (the single-task elementary estimator):
  gkd-ggm --data expression.tsv --method ee -o ggm/single";

/// Sparse Gaussian graphical models across conditions by elementary estimators: each
/// condition's precision matrix (its network of partial correlations), what the networks share,
/// or how two differ.
///
/// Writes PREFIX.npz (precision, partial_correlation, shared; float64, conditions first; with
/// --intermediates also covariance and backward), PREFIX.edges.tsv, PREFIX.hubs.tsv and PREFIX.json (schema ggm.v1).
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, long_about, after_help = EXAMPLES)]
pub struct Cli {
    /// One condition's samples: a gkd histone (or any) dataset split (NPZ with its manifest:
    /// features are channels × pooled bins), a samples × features TSV / CSV (header of feature
    /// names; a first column `id` is skipped), or a 2-D NPY / NPZ array (`x`). Repeat per
    /// condition.
    #[arg(long = "data", value_name = "FILE", required = true)]
    pub data: Vec<PathBuf>,
    /// Names of the conditions, one per --data, in order [default: the file stems].
    #[arg(long = "condition", value_name = "NAME")]
    pub conditions: Vec<String>,
    /// Split the one --data dataset into two conditions by this class's label (0, then 1).
    #[arg(long, value_name = "CLASS")]
    pub by_label: Option<String>,
    /// Keep only the rows of every --data dataset whose label of CLASS is VALUE (0 or 1), e.g.
    /// the expressed genes of each cell type.
    #[arg(long, value_name = "CLASS=VALUE", conflicts_with = "by_label")]
    pub where_label: Option<String>,
    /// The estimator.
    #[arg(long, value_parser = choice::<Method>(), default_value = "jeek")]
    pub method: Method,
    /// Histone datasets: average this many adjacent bins per feature.
    #[arg(long, value_name = "BINS", default_value_t = 1)]
    pub pool_bins: usize,
    /// Apply log(1 + x) to the inputs first (read counts).
    #[arg(long)]
    pub log1p: bool,
    /// Do not standardise each feature per condition (use the covariance, not the correlation).
    #[arg(long)]
    pub no_standardise: bool,
    /// λ, the sparsity level [default: chosen by stability selection].
    #[arg(long, value_name = "VALUE")]
    pub lambda: Option<f64>,
    /// Stability selection: subsamples drawn per condition (at most 255).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub subsamples: usize,
    /// Stability selection: the bound β on the monotonised instability.
    #[arg(long, value_name = "BETA", default_value_t = 0.05)]
    pub beta: f64,
    /// Stability selection: points of the λ grid.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub lambdas: usize,
    /// Stability selection: the grid's smallest λ as a fraction of its largest (the smallest λ
    /// with no edge).
    #[arg(long, value_name = "RATIO", default_value_t = 0.01)]
    pub lambda_min_ratio: f64,
    /// Seed of the subsamples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The threshold v of T_v(covariance) before inversion [default: the smallest v on a grid
    /// that leaves every eigenvalue above --min-eigenvalue].
    #[arg(long, value_name = "V")]
    pub threshold_v: Option<f64>,
    /// The eigenvalue floor of T_v(covariance), relative to its mean diagonal.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.01)]
    pub min_eigenvalue: f64,
    /// FASJEM: ε, the weight of the group norm (and of its constraint) relative to ℓ1.
    #[arg(long, default_value_t = 0.1)]
    pub epsilon: f64,
    /// FASJEM: the proximal step 4γ as a multiple of λ.
    #[arg(long, default_value_t = 1.0)]
    pub step: f64,
    /// FASJEM: the relaxation ρ of the proximal iterations, in (0, 2).
    #[arg(long, default_value_t = 1.5)]
    pub relaxation: f64,
    /// FASJEM: most proximal iterations per entry.
    #[arg(long, default_value_t = 5000)]
    pub max_iterations: usize,
    /// FASJEM: stop when no value moves more than this × max(1, max|a|).
    #[arg(long, default_value_t = 1e-10)]
    pub tolerance: f64,
    /// JEEK: weights W_S of the shared part (a features × features matrix: NPY, NPZ or TSV;
    /// larger = a shared edge is less likely there) [default: all ones].
    #[arg(long, value_name = "FILE")]
    pub jeek_weights: Option<PathBuf>,
    /// Also write each condition's covariance (`covariance`) and backward mapping
    /// [T_v(covariance)]⁻¹ (`backward`) into the NPZ.
    #[arg(long)]
    pub intermediates: bool,
    /// Output prefix: PREFIX.npz, PREFIX.edges.tsv, PREFIX.hubs.tsv, PREFIX.json.
    #[arg(short, long, value_name = "PREFIX")]
    pub output: PathBuf,
    /// Options every tool has.
    #[command(flatten)]
    pub common: CommonArgs,
}
