//! `gkd-compress`: a trained model directory in, a compressed model directory out, which
//! gkd-predict, gkd-attribute, gkd-scan and gkd-score read like any other (docs/compression.md).
//! The methods live in the gkd-compression library; this binary parses the flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use gkd_cli::{Bar, CommonArgs, choice, run_main};
use gkd_compression::{Factorisation, FineTune, PruneMethod, PruneSettings};
use gkd_io::error::{Error, Result};
use gkd_nn::device::DeviceChoice;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-compress";

const EXAMPLES: &str = "\
Examples:
  # 10x fewer parameters by magnitude pruning, then 5 epochs of masked retraining:
  gkd-compress prune --model models/teacher --ratio 10 --train d.train.npz --valid d.valid.npz \\
               --epochs 5 -o models/teacher-prune10
  # The same by ADMM in 3 progressive stages, fine-tuned with the distillation loss:
  gkd-compress prune --method admm --stages 3 --model models/teacher --ratio 10 \\
               --train d.train.npz --valid d.valid.npz --epochs 5 --teacher models/teacher -o models/admm10
  # Dense layers as rank-r products, or as matrix product operators, at 5x fewer parameters:
  gkd-compress low-rank --model models/student --ratio 5 --train d.train.npz --valid d.valid.npz -o models/lr5
  gkd-compress mpo --model models/student --ratio 5 --train d.train.npz --valid d.valid.npz -o models/mpo5
  # int8 weights and activations for the CPU engine, calibrated on 1,000 training rows:
  gkd-compress quantize --model models/teacher --calibration d.train.npz -o models/teacher-int8
  # Layers, parameter counts and what was compressed:
  gkd-compress describe --model models/lr5";

/// Compress a trained model: pruning, low-rank/MPO factorisation or int8 quantisation, with
/// optional (distillation) fine-tuning.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Zero the smallest weights (one magnitude threshold over all layers), by magnitude or ADMM.
    Prune(PruneArgs),
    /// Replace each hidden dense matrix (and with --convs each convolution but the first) by a
    /// rank-r product (truncated SVD).
    LowRank(FactorArgs),
    /// Replace each hidden dense matrix by a matrix product operator (tensor-train SVD).
    Mpo(MpoArgs),
    /// int8 weights (per output channel) and activations (calibrated per layer) for the CPU engine.
    Quantize(QuantizeArgs),
    /// Print a model directory's layers with their parameter counts (factorised layers by their
    /// factors) and, for a compressed model, what was done to each layer.
    Describe {
        /// Model directory.
        #[arg(long, value_name = "DIR")]
        model: PathBuf,
    },
}

/// The model in, the model out.
#[derive(Debug, clap::Args)]
struct Io {
    /// Model directory to compress.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Compressed model directory to write.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

/// The pruning methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PruneChoice {
    /// Cut once at the target, then masked retraining.
    Magnitude,
    /// ADMM epochs pull the weights towards the sparse set, then cut and masked retraining, in
    /// stages of growing sparsity.
    Admm,
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    #[command(flatten)]
    io: Io,
    /// Stored parameters before / after (non-zero weights plus the unpruned biases and BatchNorm).
    #[arg(long)]
    ratio: f64,
    /// How to prune.
    #[arg(long, value_enum, default_value = "magnitude")]
    method: PruneChoice,
    /// ADMM: stages of growing sparsity (kept fraction f^(s/S) at stage s of S).
    #[arg(long, default_value_t = 3)]
    stages: usize,
    /// ADMM: epochs with the ADMM penalty before each stage's cut.
    #[arg(long, default_value_t = 3)]
    admm_epochs: usize,
    /// ADMM: rho of the augmented Lagrangian.
    #[arg(long, default_value_t = 1e-3)]
    rho: f64,
    /// No layer keeps fewer than this fraction of its weights.
    #[arg(long, default_value_t = 0.01)]
    min_keep: f64,
    #[command(flatten)]
    tune: FineTuneArgs,
}

#[derive(Debug, clap::Args)]
struct FactorArgs {
    #[command(flatten)]
    io: Io,
    /// Stored parameters before / after; the dense layers take all of the reduction.
    #[arg(long, conflicts_with = "rank", required_unless_present = "rank")]
    ratio: Option<f64>,
    /// The rank of every factorised layer instead of --ratio.
    #[arg(long)]
    rank: Option<usize>,
    /// Factorise the convolutions too (each but the first, whose filters are the motif detectors):
    /// rank-r filters of the full width, then a width-1 convolution.
    #[arg(long)]
    convs: bool,
    #[command(flatten)]
    tune: FineTuneArgs,
}

#[derive(Debug, clap::Args)]
struct MpoArgs {
    #[command(flatten)]
    io: Io,
    /// Stored parameters before / after; the dense layers take all of the reduction.
    #[arg(long, conflicts_with = "bond", required_unless_present = "bond")]
    ratio: Option<f64>,
    /// The bond dimension of every hidden dense layer instead of --ratio.
    #[arg(long)]
    bond: Option<usize>,
    /// Modes per matrix side (each side's width split into this many near-equal factors).
    #[arg(long, default_value_t = 3)]
    modes: usize,
    #[command(flatten)]
    tune: FineTuneArgs,
}

/// Flags of `gkd-compress quantize`.
#[derive(Debug, clap::Args)]
struct QuantizeArgs {
    #[command(flatten)]
    io: Io,
    /// Split whose rows calibrate the activation scales (the training split is the usual choice).
    #[arg(long, value_name = "NPZ")]
    calibration: PathBuf,
    /// Calibration rows, spread evenly over the split.
    #[arg(long, default_value_t = 1000)]
    rows: usize,
    /// Validation split: metrics of the int8 model in model.json.
    #[arg(long, value_name = "NPZ")]
    valid: Option<PathBuf>,
}

/// Fine-tuning flags shared by the subcommands.
#[derive(Debug, Clone, clap::Args)]
struct FineTuneArgs {
    /// Training split for fine-tuning (without it the compressed model is written untuned).
    #[arg(long, value_name = "NPZ", requires = "valid")]
    train: Option<PathBuf>,
    /// Validation split: early stopping while fine-tuning, and the metrics in model.json.
    #[arg(long, value_name = "NPZ")]
    valid: Option<PathBuf>,
    /// Fine-tuning epochs (per stage for ADMM; 0 = none).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Fine-tuning learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Stop fine-tuning after this many epochs without improvement (0 = never).
    #[arg(long, default_value_t = 5)]
    patience: usize,
    /// Seed of the batch order and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Teacher model directory for the distillation loss (repeat for an ensemble); the
    /// uncompressed model itself is a natural choice.
    #[arg(long, value_name = "DIR")]
    teacher: Vec<PathBuf>,
    /// Distillation temperature T.
    #[arg(long, default_value_t = 15.0)]
    temperature: f64,
    /// Weight of the hard loss; the soft loss gets 1 - alpha.
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    /// Compute device for fine-tuning.
    #[arg(long, value_parser = choice::<DeviceChoice>(), default_value = "cpu")]
    device: DeviceChoice,
}

impl FineTuneArgs {
    /// The library's settings, with a progress bar for the epochs.
    fn settings(&self) -> Result<FineTune> {
        Ok(FineTune {
            train: self.train.clone(),
            valid: self.valid.clone(),
            epochs: self.epochs,
            lr: self.lr,
            patience: self.patience,
            seed: self.seed,
            teacher: self.teacher.clone(),
            temperature: self.temperature,
            alpha: self.alpha,
            device: self.device.device()?,
            // One bar for the whole run, alive until the process exits.
            progress: Box::leak(Box::new(Bar::new())),
        })
    }
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        match &args.command {
            Command::Prune(a) => {
                let method = match a.method {
                    PruneChoice::Magnitude => PruneMethod::Magnitude,
                    PruneChoice::Admm => PruneMethod::Admm,
                };
                let settings = PruneSettings {
                    ratio: a.ratio,
                    method,
                    stages: a.stages,
                    admm_epochs: a.admm_epochs,
                    rho: a.rho,
                    min_keep: a.min_keep,
                };
                gkd_compression::prune_model(&a.io.model, &a.io.output, &settings, &a.tune.settings()?, TOOL)
            }
            Command::LowRank(a) => {
                let how = Factorisation::LowRank { ratio: a.ratio, rank: a.rank };
                gkd_compression::factorise_model(&a.io.model, &a.io.output, how, a.convs, &a.tune.settings()?, TOOL)
            }
            Command::Mpo(a) => {
                if a.modes < 2 {
                    return Err(Error::usage("--modes must be at least 2"));
                }
                let how = Factorisation::Mpo { ratio: a.ratio, bond: a.bond, modes: a.modes };
                gkd_compression::factorise_model(&a.io.model, &a.io.output, how, false, &a.tune.settings()?, TOOL)
            }
            Command::Describe { model } => {
                print!("{}", gkd_compression::describe(model)?);
                Ok(())
            }
            Command::Quantize(a) => gkd_compression::quantise_model(
                &a.io.model,
                &a.io.output,
                &a.calibration,
                a.rows,
                a.valid.as_deref(),
                TOOL,
            ),
        }
    })
}
