//! The command line of `gkd-train`: its arguments and their help.

use clap::Parser;
use gkd_cli::{CommonArgs, choice};
use gkd_engine::EngineChoice;
use gkd_nn::arch::Arch;
use gkd_nn::device::DeviceChoice;
use gkd_nn::init::InitScheme;
use gkd_nn::layers::{Activation, DropoutPlacement};
use gkd_nn::norm::RunningVariance;
use gkd_nn::recipe::Recipe;
use gkd_nn::train::{Keep, Monitor, Optimizer};
use std::path::PathBuf;

use gkd_io::error::{Error, Result};

use crate::TOOL;

/// Examples shown after the options in `--help`.
pub const EXAMPLES: &str = "\
Examples:
  # Layers and parameter count of an architecture:
  gkd-train --arch koo-cnn-deep --describe --classes 12
  # Teacher:
  gkd-train --arch koo-cnn-deep --train task1.train.npz --valid task1.valid.npz -o models/teacher
  # Student distilled from the teacher (T = 15, alpha = 0.5), or from its cached predictions:
  gkd-train --arch koo-cnn-shallow --train task1.train.npz --valid task1.valid.npz \\
            --teacher models/teacher --temperature 15 --alpha 0.5 -o models/distilled
  gkd-train --arch koo-cnn-shallow --train task1.train.npz --valid task1.valid.npz \\
            --soft-targets preds/teacher.train.tsv -o models/distilled
  # Continue after an interruption (same command plus --resume):
  gkd-train --arch koo-cnn-deep --train task1.train.npz --valid task1.valid.npz -o models/teacher --resume";

/// Train a genomics network (teacher or student; from scratch or distilled) into a model directory.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
pub struct Args {
    /// Architecture (docs/science.md §2).
    #[arg(long, value_parser = choice::<Arch>())]
    pub arch: Arch,
    /// Print the layers and parameter counts and exit (shape from --train, or --channels/--length/--classes).
    #[arg(long)]
    pub describe: bool,
    /// Training split (NAME.npz with NAME.json and NAME.rows.tsv beside it).
    #[arg(long, value_name = "NPZ", required_unless_present = "describe")]
    pub train: Option<PathBuf>,
    /// Validation split (early stopping, learning-rate plateau, reported metrics).
    #[arg(long, value_name = "NPZ", required_unless_present = "describe")]
    pub valid: Option<PathBuf>,
    /// Model directory to write (model.safetensors, model.json, history.tsv, timings.tsv).
    #[arg(short, long, value_name = "DIR", required_unless_present = "describe")]
    pub output: Option<PathBuf>,
    /// First-layer activation (Koo & Ploenzke: exponential gives more interpretable filters).
    #[arg(long, value_parser = choice::<Activation>(), default_value = "relu")]
    pub first_activation: Activation,
    /// Maximum epochs.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Optimiser.
    #[arg(long, value_parser = choice::<Optimizer>(), default_value = "adam")]
    pub optimizer: Optimizer,
    /// Adam's epsilon [default: the architecture's source: 1e-7 (Keras) for the Koo CNNs, 1e-8 otherwise].
    #[arg(long)]
    pub adam_epsilon: Option<f64>,
    /// SGD momentum (with --optimizer sgd; 0 = plain SGD).
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// L2 weight decay on every parameter (added to the gradients).
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Penalty lambda * sum(w^2) on convolution and hidden dense kernels, added to the loss
    /// [default: the source's: 1e-6 for the Koo CNNs, 0 otherwise].
    #[arg(long)]
    pub kernel_l2: Option<f64>,
    /// Which epoch's weights become the model: the best validation epoch, or the last one run.
    #[arg(long, value_parser = choice::<Keep>(), default_value = "best")]
    pub keep: Keep,
    /// Turn every dropout layer off (ablations; step-for-step comparisons with another framework).
    #[arg(long)]
    pub no_dropout: bool,
    /// BatchNorm epsilon [default: the source's: 1e-3 (Keras) for the Koo CNNs].
    #[arg(long)]
    pub bn_epsilon: Option<f64>,
    /// BatchNorm momentum, PyTorch's convention (Keras momentum m is 1 - m here) [default: 0.01 for the Koo CNNs].
    #[arg(long)]
    pub bn_momentum: Option<f64>,
    /// Batch variance folded into the BatchNorm running variance [default: biased (Keras) for the Koo CNNs; PyTorch uses unbiased].
    #[arg(long, value_parser = choice::<RunningVariance>())]
    pub bn_running_variance: Option<RunningVariance>,
    /// Training defaults: the architecture's source's, or PyTorch's (PyTorch initialisation,
    /// BatchNorm momentum 0.1 / epsilon 1e-5 / unbiased running variance, no kernel L2, Adam
    /// epsilon 1e-8, dropout after each max-pool); the flags below override it.
    #[arg(long, value_parser = choice::<Recipe>(), default_value = "source")]
    pub recipe: Recipe,
    /// Weight initialisation [default: the source's: keras (he_normal kernels, glorot_uniform output, zero biases) for the Koo CNNs, torch otherwise].
    #[arg(long, value_parser = choice::<InitScheme>())]
    pub init: Option<InitScheme>,
    /// Where pooled convolution blocks apply dropout [default: the source's: before-pool for the Koo CNNs, after-pool for DeepChrome].
    #[arg(long, value_parser = choice::<DropoutPlacement>())]
    pub dropout_placement: Option<DropoutPlacement>,
    /// Add an early exit after this convolution block (0-based; global max + linear), trained
    /// with the network; gkd-predict --exit-threshold then skips the deeper blocks for rows whose
    /// exit is confident.
    #[arg(long, value_name = "BLOCK")]
    pub early_exit: Option<usize>,
    /// Weight of the early exit's loss (hard, plus the distillation loss with --teacher).
    #[arg(long, default_value_t = 1.0, requires = "early_exit")]
    pub exit_weight: f64,
    /// Start from these weights instead of random ones (model.safetensors of a model directory,
    /// or a PyTorch state_dict saved with safetensors in the same layout).
    #[arg(long, value_name = "SAFETENSORS")]
    pub init_weights: Option<PathBuf>,
    /// Write every optimiser step (epoch, step, lr, loss, hard and soft terms, batch rows) to this TSV.
    #[arg(long, value_name = "TSV")]
    pub step_log: Option<PathBuf>,
    /// Validation quantity for early stopping and the plateau rule.
    #[arg(long, value_parser = choice::<Monitor>(), default_value = "aupr")]
    pub monitor: Monitor,
    /// Stop after this many epochs without improvement (0 = never).
    #[arg(long, default_value_t = 20)]
    pub patience: usize,
    /// Lower the learning rate after this many epochs without improvement (0 = never).
    #[arg(long, default_value_t = 5)]
    pub plateau_patience: usize,
    /// Learning-rate factor on a plateau.
    #[arg(long, default_value_t = 0.2)]
    pub plateau_factor: f64,
    /// Smallest learning rate.
    #[arg(long, default_value_t = 1e-7)]
    pub min_lr: f64,
    /// Seed for initialisation, batch order and dropout (same seed → same weights on CPU).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Teacher model directory; repeat for an ensemble (logits averaged).
    #[arg(long, value_name = "DIR")]
    pub teacher: Vec<PathBuf>,
    /// Teacher predictions on the training rows (gkd-predict's TSV, or its NPZ); matched by id.
    #[arg(long, value_name = "FILE")]
    pub soft_targets: Vec<PathBuf>,
    /// Distillation temperature T.
    #[arg(long, default_value_t = 15.0)]
    pub temperature: f64,
    /// Weight of the hard loss; the soft loss gets 1 - alpha.
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f64,
    /// Continue from the newest checkpoint in OUTPUT.partial (after an interruption).
    #[arg(long)]
    pub resume: bool,
    /// Compute device.
    #[arg(long, value_parser = choice::<DeviceChoice>(), default_value = "cpu")]
    pub device: DeviceChoice,
    /// What trains and computes --teacher models' logits on the CPU: gkd's engine for the
    /// convolutional models (auto; burn for the recurrent and attention models, Path-SGD and
    /// early exits) or burn for everything.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    pub engine: EngineChoice,
    /// With --describe and no --train: input channels [default: 4 for DNA, 5 for histone].
    #[arg(long)]
    pub channels: Option<usize>,
    /// With --describe and no --train: input length [default: 200 for DNA, 100 for histone].
    #[arg(long)]
    pub length: Option<usize>,
    /// With --describe and no --train: number of classes.
    #[arg(long, default_value_t = 1)]
    pub classes: usize,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl Args {
    /// A usage error for the first numeric flag outside its range.
    pub fn check_settings(&self) -> Result<()> {
        let checks = [
            (self.epochs >= 1, "--epochs must be at least 1"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.lr > 0.0 && self.lr.is_finite(), "--lr must be a positive number"),
            (self.weight_decay >= 0.0, "--weight-decay must not be negative"),
            (self.adam_epsilon.is_none_or(|e| e > 0.0 && e.is_finite()), "--adam-epsilon must be a positive number"),
            ((0.0..1.0).contains(&self.momentum), "--momentum must be in [0, 1)"),
            (self.kernel_l2.is_none_or(|l| l >= 0.0 && l.is_finite()), "--kernel-l2 must not be negative"),
            (self.bn_epsilon.is_none_or(|e| e > 0.0 && e.is_finite()), "--bn-epsilon must be a positive number"),
            (self.bn_momentum.is_none_or(|m| (0.0..=1.0).contains(&m)), "--bn-momentum must be in [0, 1]"),
            (self.temperature > 0.0 && self.temperature.is_finite(), "--temperature must be a positive number"),
            ((0.0..=1.0).contains(&self.alpha), "--alpha must be between 0 and 1"),
            (self.plateau_factor > 0.0 && self.plateau_factor <= 1.0, "--plateau-factor must be in (0, 1]"),
            (self.exit_weight >= 0.0 && self.exit_weight.is_finite(), "--exit-weight must not be negative"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err(Error::usage(*message)),
            None => Ok(()),
        }
    }
}
