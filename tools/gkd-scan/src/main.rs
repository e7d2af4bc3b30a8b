//! `gkd-scan`: a model directory + a FASTA (whole sequences, or regions from a BED) → one bigWig
//! track per class of the model's predictions over every window, at a stride (and, optionally,
//! per-base saliency or ISM tracks); `gkd-scan merge` joins the tracks of a sharded scan.

use std::path::PathBuf;

use burn::tensor::Device;
use clap::{Parser, Subcommand};
use gkd_cli::{Bar, CommonArgs, MergeArgs, choice, run_main};
use gkd_explain::scan::{ScanRequest, TrackAttribution, TrackValue, merge, scan};
use gkd_io::atomic::commit_all;
use gkd_io::error::{Error, Result};
use gkd_io::scan_manifest::ShardOf;
use gkd_nn::store;

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

  # Saliency and ISM tracks too (one value per base, averaged over the windows covering it):
  gkd-scan --model models/teacher --fasta genome.fa --bed peaks.bed --stride 50 \\
           --attribution saliency --attribution ism -o tracks/peaks
  # Scatter/gather: four shards (run anywhere, in any order), then one merge:
  for i in 1 2 3 4; do gkd-scan --model models/teacher --fasta genome.fa --shard $i/4 -o parts/s$i; done
  gkd-scan merge -o tracks/genome parts/s1 parts/s2 parts/s3 parts/s4

Each window's value covers the `stride` bases at its centre, so consecutive windows tile the
region; the first and last half-window of each region get no value. PREFIX.scan.json lists
the tracks written.";

/// Scan a FASTA with a trained sequence model: a bigWig of predictions per class.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Model directory written by gkd-train (a convolutional sequence model).
    #[arg(long, value_name = "DIR", required = true)]
    model: Option<PathBuf>,
    /// FASTA file (plain, or bgzip with .fai and .gzi); a .fai beside it is used when present.
    #[arg(long, value_name = "FASTA", required = true)]
    fasta: Option<PathBuf>,
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
    /// Also write a per-base attribution track per class, averaged over the windows covering
    /// each base: PREFIX.<class>.<attribution>.bw; repeat for both.
    #[arg(long = "attribution", value_parser = choice::<TrackAttribution>(), value_name = "ATTRIBUTION")]
    attributions: Vec<TrackAttribution>,
    /// Scan only shard I of N (contiguous runs of windows, in region order); `gkd-scan merge`
    /// joins the shards' tracks into the tracks of one whole scan.
    #[arg(long, value_name = "I/N", value_parser = gkd_cli::parse_shard)]
    shard: Option<ShardOf>,
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
    /// Output prefix: PREFIX.<class>.bw per class, PREFIX.scan.json.
    #[arg(short, long, value_name = "PREFIX", required = true)]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Join the tracks of a sharded scan (`--shard I/N`, every shard once) into one scan's
    /// tracks.
    Merge(MergeArgs),
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || match &args.command {
        Some(Command::Merge(m)) => {
            m.common.init(TOOL)?;
            let prefix = m.prefix();
            commit_all(merge(&m.parts, &prefix, &Bar::new())?)?;
            log::info!("{} shard(s) merged -> {prefix}.*.bw", m.parts.len());
            Ok(())
        }
        None => {
            args.common.init(TOOL)?;
            run(&args)
        }
    })
}

fn run(args: &Args) -> Result<()> {
    let (Some(model_dir), Some(fasta), Some(output)) = (&args.model, &args.fasta, &args.output) else {
        return Err(Error::usage("--model, --fasta and --output are required"));
    };
    if args.stride == 0 {
        return Err(Error::usage("--stride must be at least 1"));
    }
    if !(0.0..=1.0).contains(&args.n_value) {
        return Err(Error::usage("--n-value must be between 0 and 1"));
    }
    let model = store::load_model(model_dir, &Device::flex())?;
    let classes = model.card.class_indices(&args.classes, model_dir)?;
    let prefix = output.to_string_lossy().into_owned();
    let request = ScanRequest {
        fasta: fasta.clone(),
        bed: args.bed.clone(),
        stride: args.stride,
        classes,
        value: args.value,
        attributions: args.attributions.iter().fold(Vec::new(), |mut unique, a| {
            if !unique.contains(a) {
                unique.push(*a);
            }
            unique
        }),
        n_value: args.n_value,
        windows_per_chunk: args.windows_per_chunk,
        shared_layers: !args.per_window,
        shard: args.shard,
        prefix: prefix.clone(),
    };
    let files = scan(&request, &model, model_dir, &Bar::new())?;
    log::info!("{} track(s) -> {prefix}.*.bw", files.len() - 1);
    commit_all(files)
}
