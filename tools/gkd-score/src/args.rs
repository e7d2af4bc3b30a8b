//! The command line of `gkd-score`: its subcommands, arguments and their help.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use gkd_cli::CommonArgs;

use crate::TOOL;

pub const EXAMPLES: &str = "\
Examples:
  # Teacher / distilled / scratch test AUROC and AUPR, per class and macro:
  gkd-score predictive --data task1.test.npz --input teacher=preds/teacher.test.npz \\
            --input distilled=preds/distilled.test.npz --input scratch=preds/scratch.test.npz -o predictive.tsv
  # Motif recovery of saliency and ISM maps over the first 500 positive test sequences:
  gkd-score recovery --data task3.test.npz --input saliency=attr/saliency.npz --input ism=attr/ism.npz \\
            -o recovery.tsv --json recovery.json
  # Attribution consistency of three seeds' maps (reference: their mean):
  gkd-score consistency --input s1=a1.npz --input s2=a2.npz --input s3=a3.npz -o consistency.tsv
  # TF-MoDISco patterns (named by workflows/scripts/gkd_tomtom.py) against the embedded motifs:
  gkd-score motifs --data task3.test.npz --input teacher.deepshap=teacher.patterns.json -o motifs.tsv
  # A distillation sweep over seeds: mean +/- sd per model and metric, paired differences from the
  # scratch student with a sign test (students labelled KIND_T{T}_a{alpha}):
  gkd-score sweep --report seed1/predictive.json --report seed1/recovery.json \\
            --report seed2/predictive.json --report seed2/recovery.json --reference scratch -o sweep.tsv
  # Do the students rank variants like their teacher, and find the motif-breaking ones?
  gkd-score variants --input effects.tsv --reference teacher --truth v.truth.tsv -o variants.tsv
  # Robustness of a teacher and a student under gkd-attack's attacks, with the detector's AUROC:
  gkd-score robustness -i teacher=attacks/teacher.json -i student=attacks/student.json \\
            --detection teacher=attacks/teacher.detect.json -o robustness.tsv --json robustness.json";

/// Score predictions and attribution maps.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
    /// Options every tool has.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Inputs and outputs every scoring command shares.
#[derive(Debug, clap::Args)]
pub struct Io {
    /// An input, labelled: NAME=FILE (repeat for several models); FILE alone is labelled by its name.
    #[arg(short, long = "input", value_name = "NAME=FILE", required = true)]
    pub inputs: Vec<String>,
    /// Output TSV table.
    #[arg(short, long, value_name = "TSV")]
    pub output: PathBuf,
    /// Also write the JSON report (schemas/scores.v1.schema.json).
    #[arg(long, value_name = "JSON")]
    pub json: Option<PathBuf>,
}

impl Io {
    /// The output table and the optional JSON report.
    pub fn destination(&self) -> (&Path, Option<&Path>) {
        (&self.output, self.json.as_deref())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Predictions (gkd-predict) against the dataset's labels: per-class and macro AUROC / AUPR.
    Predictive {
        /// Dataset split whose labels are scored against (rows matched by id).
        #[arg(long, value_name = "NPZ")]
        data: PathBuf,
        #[command(flatten)]
        io: Io,
        /// Label of the input every model's probabilities are compared with (mean |p − p_ref|,
        /// e.g. a student's agreement with its teacher).
        #[arg(long, value_name = "NAME")]
        agreement_with: Option<String>,
    },
    /// Attribution maps (gkd-attribute) against the dataset's ground truth: per-sequence AUROC /
    /// AUPR over positions (positives: generating PWM column IC > threshold bits) and signal-to-noise.
    Recovery {
        /// Synthetic dataset split with a `truth` array (gkd-synth); rows matched by dataset row.
        #[arg(long, value_name = "NPZ")]
        data: PathBuf,
        #[command(flatten)]
        io: Io,
        /// Score the first N maps whose row is positive for the explained class.
        #[arg(long, default_value_t = 500)]
        first: usize,
        /// Information content (bits) above which a truth column is a motif position.
        #[arg(long, default_value_t = 0.01)]
        threshold: f64,
        /// Also write every sequence's AUROC / AUPR / signal-to-noise to this TSV.
        #[arg(long, value_name = "TSV")]
        per_sequence: Option<PathBuf>,
        /// Sites table (gkd-synth's NAME.sites.tsv: id, start, end, class): a map's motif is only
        /// the sites of the class it explains (multi-label data such as task 1).
        #[arg(long, value_name = "TSV")]
        sites: Option<PathBuf>,
    },
    /// Score reports (predictive, recovery, consistency) of several seeds: per model and metric
    /// the mean ± sd over seeds, and the paired difference from --reference with a two-sided sign
    /// test.
    Sweep {
        /// A gkd-score JSON report of one seed, as SEED=JSON or JSON; repeat for every report of
        /// every seed. Without SEED, a report's seed is the dataset split it was scored against
        /// (label the reports when the seeds share one dataset and differ in training only).
        #[arg(long = "report", value_name = "[SEED=]JSON", required = true)]
        reports: Vec<String>,
        /// Model the paired differences are taken from (model − reference, per seed).
        #[arg(long, default_value = "scratch")]
        reference: String,
        /// Output TSV table.
        #[arg(short, long, value_name = "TSV")]
        output: PathBuf,
        /// Also write the JSON report (schemas/scores.v1.schema.json).
        #[arg(long, value_name = "JSON")]
        json: Option<PathBuf>,
    },
    /// TF-MoDISco patterns named by Tomtom (workflows/scripts/gkd_tomtom.py) against the motifs a
    /// synthetic split embedded: per motif, whether a pattern matches it (q below --q) and the
    /// seqlets behind it; decoy, other and unmatched (false) patterns. Label inputs MODEL.METHOD.
    Motifs {
        /// Synthetic split (gkd-synth) whose manifest lists the embedded motifs.
        #[arg(long, value_name = "NPZ", required_unless_present = "motifs")]
        data: Option<PathBuf>,
        /// The true motifs ("ID" or "ID NAME", database ids as in the patterns file) instead of
        /// the split's; repeat.
        #[arg(long = "motif", value_name = "ID")]
        motifs: Vec<String>,
        #[command(flatten)]
        io: Io,
        /// Tomtom q-value below which a pattern matches a motif.
        #[arg(long, default_value_t = 0.05)]
        q: f64,
    },
    /// Model directories' size and prediction speed: stored parameters, compression ratio against
    /// --reference, weights-file bytes (raw and gzipped) and, from gkd-predict --stats files,
    /// milliseconds per 1,000 rows and the early-exit fraction.
    Cost {
        /// Model directory as NAME=DIR; repeat.
        #[arg(long = "input", short = 'i', value_name = "NAME=DIR", required = true)]
        inputs: Vec<String>,
        /// gkd-predict --stats JSON of a model, as NAME=JSON (NAME as in --input); repeat.
        #[arg(long = "timing", value_name = "NAME=JSON")]
        timings: Vec<String>,
        /// The dataset split the timings were measured on (recorded; gkd-score sweep takes it as
        /// the report's seed).
        #[arg(long, value_name = "NPZ")]
        data: Option<PathBuf>,
        /// Model whose parameters the ratios divide [default: the first input].
        #[arg(long, value_name = "NAME")]
        reference: Option<String>,
        /// Output TSV table.
        #[arg(short, long, value_name = "TSV")]
        output: PathBuf,
        /// Also write the JSON report (schemas/scores.v1.schema.json).
        #[arg(long, value_name = "JSON")]
        json: Option<PathBuf>,
    },
    /// Variant effects (gkd-variant tables) of several models: per model and class, Spearman's ρ
    /// and top-k overlap of |effect| against --reference, and with --truth (gkd-synth variants)
    /// the AUROC of |effect| for the class's motif-breaking variants against background ones.
    Variants {
        /// A gkd-variant TSV, as TSV (its models keep their names) or NAME=TSV (a table of one
        /// model, relabelled NAME); repeat.
        #[arg(short, long = "input", value_name = "[NAME=]TSV", required = true)]
        inputs: Vec<String>,
        /// Model whose ranking the others are compared with (e.g. the teacher).
        #[arg(long, value_name = "MODEL")]
        reference: Option<String>,
        /// gkd-synth variants' truth table (motif-breaking or background, and the site's class).
        #[arg(long, value_name = "TSV")]
        truth: Option<PathBuf>,
        /// The effect column ranked by its absolute value: logit_diff, prob_diff or log_odds_ratio.
        #[arg(long, default_value = "logit_diff")]
        effect: String,
        /// Size of the top sets compared.
        #[arg(long, default_value_t = 100)]
        top_k: usize,
        /// Name of the variant set (e.g. synthetic, gwas); gkd-score sweep's metric names carry it,
        /// so that the reports of several sets of one seed can be summarised together.
        #[arg(long = "set", value_name = "NAME")]
        set_name: Option<String>,
        /// Output TSV table.
        #[arg(short, long, value_name = "TSV")]
        output: PathBuf,
        /// Also write the JSON report (schemas/scores.v1.schema.json).
        #[arg(long, value_name = "JSON")]
        json: Option<PathBuf>,
    },
    /// Adversarial robustness (gkd-attack sidecars, one per model): per model and attack, the
    /// success rate, median substitutions, robust fraction at each budget and where the
    /// substitutions fell; with --detection, the detector's AUROC.
    Robustness {
        #[command(flatten)]
        io: Io,
        /// A `gkd-attack detect` sidecar of the model labelled NAME (repeat).
        #[arg(long = "detection", value_name = "NAME=JSON")]
        detections: Vec<String>,
    },
    /// Attribution maps of several models for the same rows: per-sequence RMSE to a reference map
    /// and across-model variability √(Σ var) (DEGU).
    Consistency {
        #[command(flatten)]
        io: Io,
        /// Reference map (gkd-attribute NPZ) [default: the mean of the inputs' maps].
        #[arg(long, value_name = "NPZ")]
        reference: Option<PathBuf>,
    },
}
