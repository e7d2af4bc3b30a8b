//! `gkd-attribute`: a model directory + a dataset split → attribution maps (docs/data-contracts.md, docs/science.md §4):
//! NPZ `attr` (maps, channels, positions) with the inputs `x`, a rows TSV and a JSON sidecar;
//! optional long-form TSV, JSON export and bigWig track. `--shard i/n` splits the maps across
//! jobs and `--merge` joins the shards into exactly the files one run would have written.

use std::path::PathBuf;

use clap::Parser;
use gkd_cli::{Bar, CommonArgs, choice, run_main};
use gkd_engine::EngineChoice;
use gkd_explain::baselines::Baseline;
use gkd_explain::method::{Method, MethodRun, Settings};
use gkd_explain::run::{ClassOptimizationRequest, Request, RowSelection, RunOutputs};
use gkd_explain::selection::Shard;
use gkd_io::atomic::commit_all;
use gkd_io::attributions::{self, AttributionOutputs};
use gkd_io::error::{Error, Result};
use gkd_nn::device::DeviceChoice;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-attribute";

const EXAMPLES: &str = "\
Examples:
  # Saliency and ISM (fast) of the first 500 positive test sequences, Koo & Ploenzke style:
  gkd-attribute --model models/cnn --data task3.test.npz --positives positive --first 500 \\
                --method saliency -o attr/saliency.npz
  gkd-attribute --model models/cnn --data task3.test.npz --positives positive --first 500 \\
                --method ism-fast -o attr/ism.npz --tsv attr/ism.tsv
  # Integrated gradients from 10 dinucleotide shuffles x 20 steps, every class of a multi-label model:
  gkd-attribute --model models/teacher --data task1.test.npz --rows 0:100 --target all \\
                --method ig --baseline dinucleotide --baselines 10 --steps 20 -o attr/ig.npz
  # On a cluster: 8 jobs, then one merge (byte-identical to a single run):
  gkd-attribute ... --method ism --shard 3/8 -o attr/ism.3.npz
  gkd-attribute --merge attr/ism.{1..8}.npz -o attr/ism.npz
  # GkmExplain on a gapped k-mer SVM (gkd-kmer train), hypothetical scores for TF-MoDISco:
  gkd-attribute --model models/gkmsvm --data task3.test.npz --positives positive \\
                --method gkmexplain -o attr/gkmexplain.npz --modisco attr/gkmexplain.modisco
  # A genome-browser track of rows cut from a reference (gkd-onehot --bed):
  gkd-attribute --model m --data peaks.npz --method gradxinput -o a.npz --bigwig a.bw --chrom-sizes hg38.sizes";

/// Explain a trained model's predictions: attribution maps for rows of a dataset split.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    /// Model directory written by gkd-train (or by gkd-kmer train: --method gkmexplain).
    #[arg(long, value_name = "DIR", required_unless_present_any = ["merge", "maps"])]
    model: Option<PathBuf>,
    /// Dataset split (NAME.npz with NAME.json and NAME.rows.tsv beside it); optional for classopt.
    #[arg(long, value_name = "NPZ")]
    data: Option<PathBuf>,
    /// Attribution method.
    #[arg(long, value_parser = choice::<Method>(), required_unless_present_any = ["merge", "maps"])]
    method: Option<Method>,
    /// Output NPZ (`attr`, `x`, method extras); NAME.rows.tsv and NAME.json are written beside it.
    #[arg(short, long, value_name = "NPZ", required_unless_present = "maps")]
    output: Option<PathBuf>,

    /// Rows with these ids (comma-separated), in this order.
    #[arg(long, value_name = "ID,...", value_delimiter = ',', conflicts_with_all = ["ids_file", "rows"])]
    ids: Vec<String>,
    /// Rows with the ids listed in this file (one per line), in file order.
    #[arg(long, value_name = "FILE", conflicts_with = "rows")]
    ids_file: Option<PathBuf>,
    /// Rows START:END (0-based, END exclusive).
    #[arg(long, value_name = "START:END")]
    rows: Option<String>,
    /// Keep only rows labelled positive for this class (name or index), or for any class (`any`).
    #[arg(long, value_name = "CLASS")]
    positives: Option<String>,
    /// Keep only the first N of the selected rows.
    #[arg(long, value_name = "N")]
    first: Option<usize>,
    /// Class explained: a name or 0-based index, `all` (one map per class), `predicted` or
    /// `labelled` (one map per class the row is labelled positive for) [default: the --positives
    /// class (`labelled` for --positives any); else the only class; else predicted].
    #[arg(long)]
    target: Option<String>,

    /// Inputs (ISM: mutants; IG: path points) per forward pass.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Subtract each position's mean over channels from the gradient (Majdandzic et al. 2023;
    /// saliency and gradxinput).
    #[arg(long)]
    gradient_correction: bool,
    /// Integrated gradients: intervals of the straight path (trapezoidal rule).
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Integrated gradients and DeepLIFT: reference input [default: zeros; deepshap:
    /// dinucleotide].
    #[arg(long, value_parser = choice::<Baseline>())]
    baseline: Option<Baseline>,
    /// Integrated gradients and DeepLIFT: references per row for shuffle/dinucleotide (maps are
    /// averaged) [default: 1; deepshap: 20].
    #[arg(long)]
    baselines: Option<usize>,
    /// DeepLIFT/DeepSHAP: also write each map's references (`references`, maps × K × C × L).
    #[arg(long)]
    keep_references: bool,
    /// DeepLIFT/DeepSHAP: warn about maps whose |Σ contributions − (F(x) − F(x′))| exceeds this.
    #[arg(long, default_value_t = 1e-3, value_name = "D")]
    delta_threshold: f32,
    /// Seed of shuffled references and of class optimization's random start.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Class optimization: L2 weight λ.
    #[arg(long, default_value_t = 0.009)]
    lambda: f64,
    /// Class optimization: RMSprop learning rate [default: 0.05 for sequences, 0.1 for histone marks].
    #[arg(long)]
    lr: Option<f64>,
    /// Class optimization: optimisation steps.
    #[arg(long, default_value_t = 1000)]
    optimisation_steps: usize,

    /// Also write the long form (id, class, position, channel, score); shards after the first
    /// leave out the header line, so `cat` of the shards equals one run's file.
    #[arg(long, value_name = "TSV")]
    tsv: Option<PathBuf>,
    /// Also write a JSON export (schemas/attributions.v1.schema.json): the sidecar plus every map.
    #[arg(long, value_name = "JSON")]
    json: Option<PathBuf>,
    /// Also write a bigWig of the per-position score (Σ channels attr·x; ISM: L2 norm over bases)
    /// on the reference coordinates of the rows (rows cut from a reference by gkd-onehot --bed).
    #[arg(long, value_name = "BW")]
    bigwig: Option<PathBuf>,
    /// Chromosome sizes for --bigwig (name<TAB>size, e.g. a .fai) [default: each chromosome ends
    /// at its last scored position].
    #[arg(long, value_name = "FILE", requires = "bigwig")]
    chrom_sizes: Option<PathBuf>,

    /// Compute only shard i of n (1-based) of the maps; join shards with --merge.
    #[arg(long, value_name = "i/n")]
    shard: Option<String>,
    /// Join the shards of one run (in order 1..n) instead of computing.
    #[arg(long, value_name = "NPZ", num_args = 1.., conflicts_with_all = ["model", "data", "method"])]
    merge: Vec<PathBuf>,
    /// Also write the maps as TF-MoDISco reads them: DIR/sequences.npz and DIR/attributions.npz
    /// (`arr_0`, maps × 4 × positions; ISM maps mean-centred over the bases) and DIR/rows.tsv.
    #[arg(long, value_name = "DIR", conflicts_with = "shard")]
    modisco: Option<PathBuf>,
    /// With --modisco: export these existing maps instead of computing or merging.
    #[arg(long, value_name = "NPZ", requires = "modisco", conflicts_with_all = ["model", "data", "method", "merge", "output"])]
    maps: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_parser = choice::<DeviceChoice>(), default_value = "cpu")]
    device: DeviceChoice,
    /// What runs convolutional models on the CPU: gkd's engine (auto) or burn.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    engine: EngineChoice,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        if let (Some(maps), Some(dir)) = (&args.maps, &args.modisco) {
            return commit_all(gkd_explain::modisco::export(maps, dir)?);
        }
        check_distinct_outputs(&args)?;
        let output = args.output.clone().expect("clap: --output");
        if args.modisco.is_some() && args.method.is_some_and(|m| !gkd_explain::modisco::exports(m)) {
            return Err(Error::usage(
                "--modisco needs saliency, gradxinput, ig, ism, ism-fast, deeplift, deepshap or gkmexplain maps of DNA",
            ));
        }
        let (files, info) = if args.merge.is_empty() {
            let request = request(&args)?;
            let device = args.device.device()?;
            let outputs = outputs(&args, request.shard);
            gkd_explain::run::run(&request, &outputs, &device, &Bar::new())?
        } else {
            gkd_explain::run::merge(&args.merge, &outputs(&args, None))?
        };
        commit_all(files)?;
        if let Some(dir) = &args.modisco {
            // Read back from the committed maps (complete files whatever happens next).
            commit_all(gkd_explain::modisco::export(&output, dir)?)?;
        }
        log::info!("{} map(s) x {} x {} -> {}", info.count, info.channels.len(), info.length, output.display());
        Ok(())
    })
}

/// The run the options ask for.
fn request(args: &Args) -> Result<Request> {
    let method = args.method.expect("clap: --method");
    if method == Method::Classopt && args.bigwig.is_some() {
        return Err(Error::usage(
            "--method classopt makes inputs from scratch: row selection and --bigwig do not apply",
        ));
    }
    Ok(Request {
        method,
        model: args.model.clone().expect("clap: --model"),
        data: args.data.clone(),
        rows: RowSelection {
            ids: args.ids.clone(),
            ids_file: args.ids_file.clone(),
            range: args.rows.clone(),
            positives: args.positives.clone(),
            first: args.first,
        },
        target: args.target.clone(),
        settings: Settings {
            batch: args.batch_size,
            gradient_correction: args.gradient_correction,
            steps: args.steps,
            baseline: args.baseline.unwrap_or(method.default_baselines().0),
            baselines: args.baselines.unwrap_or(method.default_baselines().1),
            seed: args.seed,
            keep_references: args.keep_references,
            delta_threshold: args.delta_threshold,
            // Not the caller's choice: the run sets it from the data kind (sequence maps are
            // hypothetical scores, every base at every position).
            hypothetical: false,
        },
        class_optimization: ClassOptimizationRequest {
            lambda: args.lambda,
            lr: args.lr,
            steps: args.optimisation_steps,
        },
        shard: args.shard.as_deref().map(str::parse::<Shard>).transpose().map_err(Error::usage)?,
        tool: TOOL,
        engine: args.engine,
    })
}

/// Refuse output paths that would overwrite each other (e.g. --json OUT.json, the sidecar).
fn check_distinct_outputs(args: &Args) -> Result<()> {
    let output = args.output.clone().expect("clap: --output");
    let mut seen: Vec<(PathBuf, &str)> = vec![
        (attributions::sidecar_path_for(&output), "the sidecar"),
        (attributions::rows_path_for(&output), "the rows TSV"),
        (output, "-o"),
    ];
    for (path, flag) in [(&args.tsv, "--tsv"), (&args.json, "--json"), (&args.bigwig, "--bigwig")] {
        if let Some(path) = path {
            if let Some((_, other)) = seen.iter().find(|(p, _)| p == path) {
                return Err(Error::usage(format!("{flag} {} is also {other}; give it another name", path.display())));
            }
            seen.push((path.clone(), flag));
        }
    }
    Ok(())
}

/// Where the run's files go; a shard after the first writes its long TSV without a header.
fn outputs(args: &Args, shard: Option<Shard>) -> RunOutputs {
    RunOutputs {
        maps: AttributionOutputs {
            npz: args.output.clone().expect("clap: --output"),
            long_tsv: args.tsv.clone(),
            long_tsv_header: shard.is_none_or(|s| s.index == 1),
            json: args.json.clone(),
        },
        bigwig: args.bigwig.clone().map(|path| (path, args.chrom_sizes.clone())),
    }
}
