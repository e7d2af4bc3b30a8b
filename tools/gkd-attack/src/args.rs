//! The command line of gkd-attack.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use gkd_adversarial::attack::Attack;
use gkd_adversarial::objective::Goal;
use gkd_cli::{CommonArgs, StorageArgs, choice};
use gkd_engine::EngineChoice;

const EXAMPLES: &str = "\
Examples:
  # Every attack on the positive test rows of a binary model, up to 10 substitutions each:
  gkd-attack --model models/teacher --data task3.test.npz --positives positive -o attacks/teacher
  #   -> attacks/teacher.tsv (one line per row and attack), attacks/teacher.ATTACK.npz (+ .rows.tsv,
  #      .json: the adversarial rows, readable by every tool), attacks/teacher.json (the summary)
  # One class of a multi-label model, gradient-free only, counting substitutions in its sites:
  gkd-attack --model models/student --data task1.test.npz --class CEBPB --positives CEBPB \\
             --attack greedy-ism --sites task1.test.sites.tsv --budget 5 -o attacks/student
  # Push a logit down by at least 2 instead of across 0:
  gkd-attack --model models/cnn --data test.npz --goal down --margin 2 -o attacks/cnn
  # Detect the adversarial rows by feature squeezing (reverse complement, two other models,
  # the 50% least-attributed positions blurred):
  gkd-attack detect --model models/teacher --clean task3.test.npz \\
             --adversarial attacks/teacher.greedy-ism.npz --rc --ensemble-model models/t2 \\
             --ensemble-model models/t3 --mask 0.5 -o attacks/teacher.detect
  # Summaries over models (and seeds, with gkd-score sweep):
  gkd-score robustness -i teacher=attacks/teacher.json -i student=attacks/student.json \\
             --detection teacher=attacks/teacher.detect.json -o robustness.tsv --json robustness.json

Substitutions fall at distinct A/C/G/T positions (k substitutions = Hamming distance k). Every score
recorded is the model's on the substituted one-hot row (docs/science.md, adversarial robustness).";

/// Adversarial base substitutions against a trained sequence model, under a budget.
#[derive(Debug, Parser)]
#[command(name = "gkd-attack", version, about, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The model directory to attack.
    #[arg(long, value_name = "DIR", required = true)]
    pub model: Option<PathBuf>,
    /// Dataset split (one-hot DNA) whose rows are attacked.
    #[arg(long, value_name = "NPZ", required = true)]
    pub data: Option<PathBuf>,
    /// The attacked class, by name or index [default: the --positives class; else the only class].
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// Attacks to run, in order (comma-separated).
    #[arg(long = "attack", value_delimiter = ',', value_parser = choice::<Attack>(),
          default_value = "greedy-ism,hotflip,pgd,random")]
    pub attacks: Vec<Attack>,
    /// What a successful attack does to the class's score.
    #[arg(long, value_parser = choice::<Goal>(), default_value = "flip")]
    pub goal: Goal,
    /// The score change the down / up goals need.
    #[arg(long, default_value_t = 1.0, value_name = "M")]
    pub margin: f32,
    /// The flip goal's decision threshold on the class's score.
    #[arg(long, default_value_t = 0.0, value_name = "T", conflicts_with = "threshold_from")]
    pub threshold: f32,
    /// Set the flip goal's threshold on this split (e.g. the validation split): the score above
    /// which the model calls as many rows positive as are labelled positive.
    #[arg(long, value_name = "NPZ")]
    pub threshold_from: Option<PathBuf>,
    /// Most substitutions per row.
    #[arg(long, default_value_t = 10, value_name = "K")]
    pub budget: usize,
    /// Gradient steps of the pgd attack.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub pgd_steps: usize,
    /// Step size of the pgd attack (per position and base, on the simplex).
    #[arg(long, default_value_t = 0.1, value_name = "ETA")]
    pub pgd_step: f32,
    /// Seed of the random attack.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rows with these ids (comma-separated), in this order.
    #[arg(long, value_name = "ID,...", value_delimiter = ',', conflicts_with_all = ["ids_file", "rows"])]
    pub ids: Vec<String>,
    /// Rows with the ids listed in this file (one per line), in file order.
    #[arg(long, value_name = "FILE", conflicts_with = "rows")]
    pub ids_file: Option<PathBuf>,
    /// Rows START:END (0-based, END exclusive).
    #[arg(long, value_name = "START:END")]
    pub rows: Option<String>,
    /// Keep only rows labelled positive for this class (name or index), or for any class (`any`).
    #[arg(long, value_name = "CLASS")]
    pub positives: Option<String>,
    /// Keep only the first N of the selected rows.
    #[arg(long, value_name = "N")]
    pub first: Option<usize>,
    /// A sites table (gkd-synth NAME.sites.tsv): count the substitutions inside the attacked
    /// class's sites.
    #[arg(long, value_name = "TSV")]
    pub sites: Option<PathBuf>,
    /// Information content (bits) above which a ground-truth column is a motif position.
    #[arg(long, default_value_t = 0.01, value_name = "BITS")]
    pub ic_threshold: f64,
    /// Rows attacked together.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub chunk: usize,
    /// Rows per forward pass (models burn runs).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// What runs convolutional models on the CPU: gkd's engine (auto) or burn.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    pub engine: EngineChoice,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Output prefix: PREFIX.tsv, PREFIX.ATTACK.npz (+ .rows.tsv, .json) per attack, PREFIX.json.
    #[arg(short, long, value_name = "PREFIX", required = true)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score adversarial rows and their clean originals by feature squeezing; AUROC per squeezer.
    Detect(DetectArgs),
}

/// `gkd-attack detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// The model whose predictions are squeezed (the attacked model).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// The clean split the adversarial rows were made from.
    #[arg(long, value_name = "NPZ")]
    pub clean: PathBuf,
    /// An adversarial split written by gkd-attack (its successful rows are scored).
    #[arg(long, value_name = "NPZ")]
    pub adversarial: PathBuf,
    /// The scored class [default: the class the adversarial split's attack targeted].
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// Squeeze by the reverse complement.
    #[arg(long)]
    pub rc: bool,
    /// Squeeze by another model's prediction (repeat: the largest disagreement counts).
    #[arg(long = "ensemble-model", value_name = "DIR")]
    pub ensemble: Vec<PathBuf>,
    /// Squeeze by blurring this fraction of the least-attributed positions (0 < Q < 1).
    #[arg(long, value_name = "Q")]
    pub mask: Option<f32>,
    /// Rows per forward pass (models burn runs).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// What runs convolutional models on the CPU: gkd's engine (auto) or burn.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    pub engine: EngineChoice,
    /// Output prefix: PREFIX.tsv (per row and squeezer), PREFIX.json.
    #[arg(short, long, value_name = "PREFIX")]
    pub output: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}
