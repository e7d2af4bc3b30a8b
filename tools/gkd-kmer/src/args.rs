//! The command line of `gkd-kmer`: its subcommands, arguments and their help.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};
use gkd_cli::CommonArgs;

use crate::TOOL;

/// Examples shown after the options in `--help`.
pub const EXAMPLES: &str = "\
Examples:
  # A gkm-SVM with LS-GKM's defaults (l 11, k 7, d 3, C 1) on a binary split:
  gkd-kmer train --data task3.train.npz -o models/gkmsvm
  # One class of a multi-label split, other kernel sizes:
  gkd-kmer train --data task1.train.npz --class CEBPB -l 10 -k 6 -d 2 -c 0.5 -o models/cebpb.gkmsvm
  # Decision values (logits) of a split, as gkd-predict writes them:
  gkd-kmer predict --model models/gkmsvm --data task3.test.npz -o preds/gkmsvm.test.npz
  # The kernel of the test rows against the training rows (scikit-learn's precomputed kernels):
  gkd-kmer kernel --data task3.test.npz --against task3.train.npz -o test_x_train.npz";

/// Gapped k-mer SVMs.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
    /// Options every tool has.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a gkm-SVM (LS-GKM's kernel, by counting) on a one-hot DNA split.
    Train(TrainArgs),
    /// Decision values of a split's rows (logits of the model's one class; probabilities σ(z)).
    Predict(PredictArgs),
    /// The normalised gkm kernel of a split's rows (against another split's with --against), as an
    /// NPZ array `kernel` (float32): for scikit-learn's precomputed-kernel models, or to inspect.
    Kernel(KernelArgs),
}

/// `gkd-kmer kernel`.
#[derive(Debug, ClapArgs)]
pub struct KernelArgs {
    /// The split whose rows are the kernel's rows.
    #[arg(long, value_name = "NPZ")]
    pub data: PathBuf,
    /// The split whose rows are the columns [default: --data's].
    #[arg(long, value_name = "NPZ")]
    pub against: Option<PathBuf>,
    #[command(flatten)]
    pub kernel: KernelParams,
    /// Output NPZ (array `kernel`, rows × columns).
    #[arg(short, long, value_name = "NPZ")]
    pub output: PathBuf,
}

/// The gkm kernel's parameters, as LS-GKM names them.
#[derive(Debug, ClapArgs)]
pub struct KernelParams {
    /// Word length l.
    #[arg(short = 'l', long = "word-length", default_value_t = 11)]
    pub l: usize,
    /// Informative columns k.
    #[arg(short = 'k', long = "informative", default_value_t = 7)]
    pub k: usize,
    /// Most mismatches d.
    #[arg(short = 'd', long = "mismatches", default_value_t = 3)]
    pub d: usize,
    /// Count the forward strand only (LS-GKM counts both).
    #[arg(long)]
    pub no_reverse_complement: bool,
}

/// `gkd-kmer train`.
#[derive(Debug, ClapArgs)]
pub struct TrainArgs {
    /// Training split (one-hot DNA NPZ with its manifest).
    #[arg(long, value_name = "NPZ")]
    pub data: PathBuf,
    /// The class learned (positives: label > 0.5) [default: the split's only class].
    #[arg(long, value_name = "NAME")]
    pub class: Option<String>,
    #[command(flatten)]
    pub kernel: KernelParams,
    /// The SVM's cost C.
    #[arg(short = 'c', long = "cost", default_value_t = 1.0)]
    pub c: f64,
    /// SMO stopping tolerance (LS-GKM's -e).
    #[arg(long, default_value_t = 0.001)]
    pub tolerance: f64,
    /// Output model directory.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

/// `gkd-kmer predict`.
#[derive(Debug, ClapArgs)]
pub struct PredictArgs {
    /// A gkd-kmer model directory.
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// The split to predict (one-hot DNA NPZ).
    #[arg(long, value_name = "NPZ")]
    pub data: PathBuf,
    /// Output predictions NPZ (`logits`, `probabilities`); the long TSV goes beside it.
    #[arg(short, long, value_name = "NPZ")]
    pub output: PathBuf,
}

impl KernelParams {
    /// The kernel parameters, checked.
    pub fn params(&self) -> Result<gkd_gkm::kernel::GkmParams, gkd_io::error::Error> {
        let p = gkd_gkm::kernel::GkmParams {
            l: self.l,
            k: self.k,
            d: self.d,
            reverse_complement: !self.no_reverse_complement,
        };
        p.check().map_err(gkd_io::error::Error::usage)?;
        Ok(p)
    }
}
