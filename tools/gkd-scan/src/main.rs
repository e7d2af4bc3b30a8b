//! `gkd-scan`: a model directory + a FASTA (whole sequences, or regions from a BED) → one bigWig
//! track per class of the model's predictions over every window, at a stride.

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Parser;
use gkd_cli::{Bar, CommonArgs, choice, run_main};
use gkd_explain::scan::{ScanRequest, TrackValue, scan};
use gkd_io::atomic::commit_all;
use gkd_io::error::{Error, Result};
use gkd_nn::store::{self, CARD_FILE};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-scan";

const EXAMPLES: &str = "\
Examples:
  # Every window of every sequence, one base apart: tracks/chr2L_scan.<class>.bw
  gkd-scan --model models/teacher --fasta test-data/fasta/dm3_chr2L_1-10050.fa -o tracks/chr2L_scan
  # Regions of a BED, every 10 bases, two classes, logits instead of probabilities:
  gkd-scan --model models/teacher --fasta genome.fa --bed peaks.bed --stride 10 \\
           --class CTCF --class GATA1 --value logit -o tracks/peaks

Each window's value covers the `stride` bases at its centre, so consecutive windows tile the
region; the first and last half-window of each region get no value.";

/// Scan a FASTA with a trained sequence model: a bigWig of predictions per class.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    /// Model directory written by gkd-train (a convolutional sequence model).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// FASTA file (plain, or bgzip with .fai and .gzi); a .fai beside it is used when present.
    #[arg(long, value_name = "FASTA")]
    fasta: PathBuf,
    /// Scan only these regions (BED; overlapping regions are merged) [default: every sequence].
    #[arg(long, value_name = "BED")]
    bed: Option<PathBuf>,
    /// Bases between consecutive windows (the window is the model's input length).
    #[arg(long, default_value_t = 1)]
    stride: usize,
    /// A class to write a track for, by name or index; repeat [default: every class].
    #[arg(long = "class", value_name = "CLASS")]
    classes: Vec<String>,
    /// What the tracks hold.
    #[arg(long, value_parser = choice::<TrackValue>(), default_value = "probability")]
    value: TrackValue,
    /// One-hot value of N and other ambiguous bases; use the value the model's data was made with
    /// (gkd-onehot --n-value).
    #[arg(long, default_value_t = 0.0, value_name = "V")]
    n_value: f32,
    /// Windows per chunk: memory holds one chunk's sequence and layers.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    windows_per_chunk: usize,
    /// Compute each window on its own instead of sharing layers along the sequence (the same
    /// values, slower: for checking and benchmarking).
    #[arg(long)]
    per_window: bool,
    /// Output prefix: PREFIX.<class>.bw per class.
    #[arg(short, long, value_name = "PREFIX")]
    output: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        run(&args)
    })
}

fn run(args: &Args) -> Result<()> {
    if args.stride == 0 {
        return Err(Error::usage("--stride must be at least 1"));
    }
    if !(0.0..=1.0).contains(&args.n_value) {
        return Err(Error::usage("--n-value must be between 0 and 1"));
    }
    let model = store::load_model(&args.model, &Device::flex())?;
    let names = &model.card.classes;
    let classes = if args.classes.is_empty() {
        (0..names.len()).collect()
    } else {
        args.classes
            .iter()
            .map(|c| {
                names
                    .iter()
                    .position(|n| n == c)
                    .or_else(|| c.parse::<usize>().ok().filter(|&i| i < names.len()))
                    .ok_or_else(|| {
                        Error::in_file(
                            args.model.join(CARD_FILE),
                            format!("has no class '{c}' (classes: {})", names.join(", ")),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?
    };
    let prefix = args.output.to_string_lossy().into_owned();
    let paths: Vec<PathBuf> =
        classes.iter().map(|&k| PathBuf::from(format!("{prefix}.{}.bw", file_safe(&names[k])))).collect();
    let request = ScanRequest {
        fasta: args.fasta.clone(),
        bed: args.bed.clone(),
        stride: args.stride,
        classes,
        value: args.value,
        n_value: args.n_value,
        windows_per_chunk: args.windows_per_chunk,
        shared_layers: !args.per_window,
    };
    let files = scan(&request, &model, &args.model, &paths, &Bar::new())?;
    commit_all(files)?;
    log::info!("{} track(s) -> {prefix}.*.bw", paths.len());
    Ok(())
}

/// A class name as part of a file name (path separators and spaces replaced).
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || "-_.+".contains(c) { c } else { '_' }).collect()
}
