//! `gkd-attribute`: a model directory + a dataset split → attribution maps (docs/design.md §3, §4.4):
//! NPZ `attr` (maps, channels, positions) with the inputs `x`, a rows TSV and a JSON sidecar;
//! optional long-form TSV, JSON export and bigWig track. `--shard i/n` splits the maps across
//! jobs and `--merge` joins the shards into exactly the files one run would have written.

mod methods;
mod selection;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser;
use gkd_attr::baselines::Baseline;
use gkd_attr::classopt::ClassOptimization;
use gkd_genomics::track::{BaseTrack, read_chrom_sizes};
use gkd_io::atomic::{AtomicFile, commit_all};
use gkd_io::attributions::{
    self, ATTRIBUTION_SCHEMA, AttributionInfo, Attributions, MapRow, MethodParameters, ModelRef,
};
use gkd_io::cli::{CommonArgs, run_main};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{DatasetKind, rows_path_for};
use gkd_io::table::{RowIdentity, Strand, read_row_identities};
use gkd_metrics::recovery::{PositionScore, position_scores};
use gkd_nn::data::Dataset;
use gkd_nn::device::DeviceChoice;
use gkd_nn::store::{self, CARD_FILE, LoadedModel};
use ndarray::{Array3, ArrayD, Axis, concatenate};

use crate::methods::{Method, Settings};
use crate::selection::{Shard, TargetSpec};

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
  # A genome-browser track of rows cut from a reference (gkd-onehot --bed):
  gkd-attribute --model m --data peaks.npz --method gradxinput -o a.npz --bigwig a.bw --chrom-sizes hg38.sizes";

/// Explain a trained model's predictions: attribution maps for rows of a dataset split.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    /// Model directory written by gkd-train.
    #[arg(long, value_name = "DIR", required_unless_present = "merge")]
    model: Option<PathBuf>,
    /// Dataset split (NAME.npz with NAME.json and NAME.rows.tsv beside it); optional for classopt.
    #[arg(long, value_name = "NPZ")]
    data: Option<PathBuf>,
    /// Attribution method.
    #[arg(long, value_enum, required_unless_present = "merge")]
    method: Option<Method>,
    /// Output NPZ (`attr`, `x`, method extras); NAME.rows.tsv and NAME.json are written beside it.
    #[arg(short, long, value_name = "NPZ")]
    output: PathBuf,

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
    /// Integrated gradients: reference input.
    #[arg(long, value_enum, default_value = "zeros")]
    baseline: Baseline,
    /// Integrated gradients: references per row for shuffle/dinucleotide (maps are averaged).
    #[arg(long, default_value_t = 1)]
    baselines: usize,
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
    /// Compute device.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        check_distinct_outputs(&args)?;
        let (attributions, shard) = if args.merge.is_empty() { compute(&args)? } else { (merge(&args.merge)?, None) };
        write_outputs(&args, &attributions, shard)
    })
}

fn check_settings(args: &Args) -> Result<()> {
    if args.batch_size == 0 {
        return Err(Error::usage("--batch-size must be at least 1"));
    }
    if args.steps == 0 {
        return Err(Error::usage("--steps must be at least 1"));
    }
    if args.baselines == 0 {
        return Err(Error::usage("--baselines must be at least 1"));
    }
    if args.first == Some(0) {
        return Err(Error::usage("--first must be at least 1"));
    }
    if args.lr.is_some_and(|lr| !(lr > 0.0 && lr.is_finite())) {
        return Err(Error::usage("--lr must be a positive number"));
    }
    Ok(())
}

/// Compute the maps this run (or shard) is asked for.
fn compute(args: &Args) -> Result<(Attributions, Option<Shard>)> {
    check_settings(args)?;
    let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose().map_err(Error::usage)?;
    let (model_dir, method) = (args.model.as_ref().expect("clap: --model"), args.method.expect("clap: --method"));
    let device = args.device.device()?;
    let model = store::load_model(model_dir, &device)?;
    let card_path = model_dir.join(CARD_FILE);
    let card = &model.card;
    let arch = card.spec.arch.name();
    let target_text = args
        .target
        .clone()
        .or_else(|| args.positives.as_ref().map(|c| if c == "any" { "labelled".to_owned() } else { c.clone() }))
        .unwrap_or_else(|| if card.classes.len() == 1 { "0".to_owned() } else { "predicted".to_owned() });
    let target = TargetSpec::parse(&target_text, &card.classes, &card_path)?;
    let mut parameters =
        MethodParameters { target: target_text.clone(), batch_size: args.batch_size, ..Default::default() };
    if args.gradient_correction {
        if !matches!(method, Method::Saliency | Method::Gradxinput) {
            return Err(Error::usage("--gradient-correction applies to --method saliency and gradxinput"));
        }
        parameters.gradient_correction = Some(true);
    }
    let bar_for = |n: usize| gkd_io::progress::bar(n as u64, method.name());

    if !method.reads_rows() {
        return class_optimization(args, &model, &target, parameters, shard, &device).map(|a| (a, shard));
    }
    let data_path =
        args.data.as_ref().ok_or_else(|| Error::usage(format!("--method {} needs --data", method.name())))?;
    let data = Dataset::load(data_path)?;
    model.check_fits(&data, model_dir)?;
    methods::check_applicable(method, &model.network, data.kind(), arch, &card_path)?;
    let rows = select_rows(args, &data)?;
    let logits = (target == TargetSpec::Predicted).then(|| {
        let x = gather(&data.x, &rows);
        gkd_nn::predict::logits(&model.network, &x, args.batch_size, &device, None)
    });
    let all_pairs = selection::pairs(&rows, &target, card.classes.len(), logits.as_ref(), &data.y);
    if all_pairs.is_empty() {
        return Err(Error::in_file(
            &data.path,
            "none of the selected rows is labelled positive for any class (--target labelled)",
        ));
    }
    let pairs = match shard {
        Some(s) => s.take(&all_pairs, method.block(args.batch_size)),
        None => all_pairs.clone(),
    };
    log::info!(
        "{} on {} map(s){} of {} ({} rows selected)",
        method.name(),
        pairs.len(),
        shard.map(|s| format!(" (shard {s})")).unwrap_or_default(),
        data_path.display(),
        rows.len()
    );
    let dataset_rows: Vec<usize> = pairs.iter().map(|p| p.row).collect();
    let classes: Vec<usize> = pairs.iter().map(|p| p.class).collect();
    let x = gather(&data.x, &dataset_rows);
    let settings = Settings {
        batch: args.batch_size,
        gradient_correction: args.gradient_correction,
        steps: args.steps,
        baseline: args.baseline,
        baselines: args.baselines,
        seed: args.seed,
    };
    match method {
        Method::Ig => {
            parameters.steps = Some(args.steps);
            parameters.baseline = Some(baseline_name(args.baseline).to_owned());
            parameters.baselines =
                Some(if matches!(args.baseline, Baseline::Zeros | Baseline::Uniform) { 1 } else { args.baselines });
            if matches!(args.baseline, Baseline::Shuffle | Baseline::Dinucleotide) {
                parameters.seed = Some(args.seed);
            }
        }
        Method::Temporal => parameters.scores = Some("probability".into()),
        _ => {}
    }
    let bar = bar_for(pairs.len());
    let computed =
        methods::attribute(method, &model.network, card.head, &x, &classes, &dataset_rows, &settings, &device, &bar)?;
    bar.finish_and_clear();
    parameters.engine = computed.engine.map(str::to_owned);
    if let Some(gap) = computed.extra.iter().find(|(n, _)| n == "gap").map(|(_, a)| a) {
        let delta = &computed.extra.iter().find(|(n, _)| n == "delta").expect("ig writes delta").1;
        let mut relative: Vec<f32> = gap.iter().zip(delta.iter()).map(|(g, d)| g.abs() / d.abs().max(1e-12)).collect();
        relative.sort_by(f32::total_cmp);
        log::info!(
            "integrated gradients: completeness gap |Σattr − (F(x) − F(x′))| / |F(x) − F(x′)|: median {:.3}%, largest {:.3}% (more --steps shrinks it)",
            100.0 * relative[relative.len() / 2],
            100.0 * relative[relative.len() - 1]
        );
    }
    let identities = read_row_identities(&rows_path_for(data_path))?;
    let map_rows = pairs
        .iter()
        .map(|p| {
            let RowIdentity { id, chrom, start, end, strand } = identities[p.row].clone();
            MapRow { id, dataset_row: Some(p.row), class: card.classes[p.class].clone(), chrom, start, end, strand }
        })
        .collect();
    let channels = computed.channels.unwrap_or_else(|| data.manifest.channels.clone());
    let mut arrays = vec![("attr".to_owned(), computed.attr.into_dyn())];
    if method != Method::Attention {
        arrays.push(("x".to_owned(), x.into_dyn()));
    }
    arrays.extend(computed.extra);
    let info =
        info(method, parameters, model_dir, &model, Some(data_path), channels, data.length(), pairs.len(), shard);
    Ok((Attributions { info, rows: map_rows, arrays }, shard))
}

fn classopt_settings(args: &Args, kind: DatasetKind) -> ClassOptimization {
    let default_lr = if kind == DatasetKind::Histone { 0.1 } else { 0.05 };
    ClassOptimization {
        lambda: args.lambda,
        lr: args.lr.unwrap_or(default_lr),
        steps: args.optimisation_steps,
        seed: args.seed,
    }
}

/// Class optimization: one logo per target class; no dataset rows.
fn class_optimization(
    args: &Args,
    model: &LoadedModel,
    target: &TargetSpec,
    mut parameters: MethodParameters,
    shard: Option<Shard>,
    device: &burn::tensor::Device,
) -> Result<Attributions> {
    let card = &model.card;
    let classes: Vec<usize> = match target {
        TargetSpec::Class(k) => vec![*k],
        TargetSpec::All => (0..card.classes.len()).collect(),
        TargetSpec::Predicted | TargetSpec::Labelled => {
            return Err(Error::usage("--method classopt explains classes, not rows: give --target CLASS or all"));
        }
    };
    if args.positives.is_some()
        || args.rows.is_some()
        || !args.ids.is_empty()
        || args.ids_file.is_some()
        || args.bigwig.is_some()
    {
        return Err(Error::usage(
            "--method classopt makes inputs from scratch: row selection and --bigwig do not apply",
        ));
    }
    if let Some(path) = &args.data {
        let data = Dataset::load(path)?;
        model.check_fits(&data, args.model.as_ref().expect("clap: --model"))?;
    }
    let classes = match shard {
        Some(s) => s.take(&classes, 1),
        None => classes,
    };
    let settings = classopt_settings(args, card.input.kind);
    parameters.lambda = Some(settings.lambda);
    parameters.lr = Some(settings.lr);
    parameters.optimisation_steps = Some(settings.steps);
    parameters.seed = Some(settings.seed);
    let bar = gkd_io::progress::bar(classes.len() as u64, "classopt");
    let shape = (card.input.channels.len(), card.input.length);
    let computed = methods::class_optimization(&model.network, card.head, &classes, shape, &settings, device, &bar);
    bar.finish_and_clear();
    let rows = classes
        .iter()
        .map(|&k| MapRow {
            id: format!("classopt:{}", card.classes[k]),
            class: card.classes[k].clone(),
            ..Default::default()
        })
        .collect();
    let mut arrays = vec![("attr".to_owned(), computed.attr.into_dyn())];
    arrays.extend(computed.extra);
    let model_dir = args.model.as_ref().expect("clap: --model");
    let info = info(
        Method::Classopt,
        parameters,
        model_dir,
        model,
        args.data.as_deref(),
        card.input.channels.clone(),
        card.input.length,
        classes.len(),
        shard,
    );
    Ok(Attributions { info, rows, arrays })
}

#[allow(clippy::too_many_arguments)]
fn info(
    method: Method,
    parameters: MethodParameters,
    model_dir: &Path,
    model: &LoadedModel,
    data: Option<&Path>,
    channels: Vec<String>,
    length: usize,
    count: usize,
    shard: Option<Shard>,
) -> AttributionInfo {
    AttributionInfo {
        schema: ATTRIBUTION_SCHEMA.to_owned(),
        method: method.name().to_owned(),
        parameters,
        model: ModelRef {
            path: model_dir.display().to_string(),
            architecture: model.card.spec.arch.name().to_owned(),
            classes: model.card.classes.clone(),
        },
        dataset: data.map(|p| p.display().to_string()),
        channels,
        length,
        count,
        shard: shard.map(|s| s.to_string()),
        tool: TOOL.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

fn baseline_name(b: Baseline) -> &'static str {
    match b {
        Baseline::Zeros => "zeros",
        Baseline::Uniform => "uniform",
        Baseline::Shuffle => "shuffle",
        Baseline::Dinucleotide => "dinucleotide",
    }
}

/// Rows `rows` of `x`, in that order.
fn gather(x: &Array3<f32>, rows: &[usize]) -> Array3<f32> {
    x.select(Axis(0), rows)
}

/// The dataset rows the options select, in order.
fn select_rows(args: &Args, data: &Dataset) -> Result<Vec<usize>> {
    let mut rows: Vec<usize> = if !args.ids.is_empty() {
        selection::rows_by_id(&args.ids, &data.ids, &data.path)?
    } else if let Some(file) = &args.ids_file {
        let text =
            String::from_utf8(gkd_io::input::read_all(file)?).map_err(|_| Error::in_file(file, "is not UTF-8 text"))?;
        let wanted: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        if wanted.is_empty() {
            return Err(Error::in_file(file, "lists no ids"));
        }
        selection::rows_by_id(&wanted, &data.ids, &data.path)?
    } else if let Some(range) = &args.rows {
        selection::parse_range(range, data.len())?.collect()
    } else {
        (0..data.len()).collect()
    };
    if args.positives.as_deref() == Some("any") && !data.manifest.classes.iter().any(|c| c == "any") {
        rows.retain(|&r| data.y.row(r).iter().any(|&v| v > 0.5));
    } else if let Some(class) = &args.positives {
        let classes = &data.manifest.classes;
        let k = classes
            .iter()
            .position(|c| c == class)
            .or_else(|| class.parse::<usize>().ok().filter(|&k| k < classes.len()))
            .ok_or_else(|| {
                Error::in_file(
                    &data.path,
                    format!(
                        "--positives '{class}' is not a label of this dataset (labels: {}; or 'any')",
                        classes.join(", ")
                    ),
                )
            })?;
        rows.retain(|&r| data.y[[r, k]] > 0.5);
    }
    if let Some(n) = args.first {
        rows.truncate(n);
    }
    if rows.is_empty() {
        return Err(Error::in_file(&data.path, "no rows match the selection (--ids/--rows/--positives/--first)"));
    }
    Ok(rows)
}

/// Join shards 1..n of one run into the attributions one run would have made.
fn merge(paths: &[PathBuf]) -> Result<Attributions> {
    let shards: Vec<Attributions> = paths.iter().map(|p| Attributions::read(p)).collect::<Result<_>>()?;
    let n = shards.len();
    for (i, (shard, path)) in shards.iter().zip(paths).enumerate() {
        let expected = format!("{}/{n}", i + 1);
        if shard.info.shard.as_deref() != Some(expected.as_str()) {
            return Err(Error::in_file(
                path,
                format!(
                    "is shard {} but is listed as shard {expected}: give the {n} shards of one run, in order",
                    shard.info.shard.as_deref().unwrap_or("(none: not a shard)")
                ),
            ));
        }
        let same = |a: &AttributionInfo, b: &AttributionInfo| {
            a.method == b.method
                && a.parameters == b.parameters
                && a.model == b.model
                && a.dataset == b.dataset
                && a.channels == b.channels
                && a.length == b.length
        };
        if !same(&shard.info, &shards[0].info) {
            return Err(Error::in_file(
                path,
                format!(
                    "comes from another run than {} (method, parameters, model or dataset differ)",
                    paths[0].display()
                ),
            ));
        }
        let names: Vec<&String> = shard.arrays.iter().map(|(n, _)| n).collect();
        if names != shards[0].arrays.iter().map(|(n, _)| n).collect::<Vec<_>>() {
            return Err(Error::in_file(path, "holds other arrays than the first shard"));
        }
    }
    let mut merged = shards[0].clone();
    merged.info.shard = None;
    merged.rows = shards.iter().flat_map(|s| s.rows.clone()).collect();
    merged.info.count = merged.rows.len();
    for (a, (name, _)) in shards[0].arrays.iter().enumerate() {
        let views: Vec<_> = shards.iter().map(|s| s.arrays[a].1.view()).collect();
        let joined: ArrayD<f32> = concatenate(Axis(0), &views)
            .map_err(|e| Error::runtime(format!("joining array '{name}' of the shards: {e}")))?;
        merged.arrays[a].1 = joined;
    }
    Ok(merged)
}

/// Refuse output paths that would overwrite each other (e.g. --json OUT.json, the sidecar).
fn check_distinct_outputs(args: &Args) -> Result<()> {
    let mut seen: Vec<(PathBuf, &str)> = vec![
        (args.output.clone(), "-o"),
        (attributions::sidecar_path_for(&args.output), "the sidecar"),
        (attributions::rows_path_for(&args.output), "the rows TSV"),
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

/// Write the NPZ, rows TSV and sidecar, and the optional exports, all or nothing.
fn write_outputs(args: &Args, a: &Attributions, shard: Option<Shard>) -> Result<()> {
    let mut files: Vec<AtomicFile> = a.stage(&args.output)?;
    if let Some(path) = &args.tsv {
        files.push(a.stage_long_tsv(path, shard.is_none_or(|s| s.index == 1))?);
    }
    if let Some(path) = &args.json {
        files.push(a.stage_json_export(path)?);
    }
    if let Some(path) = &args.bigwig {
        files.push(bigwig(a, path, args.chrom_sizes.as_deref())?);
    }
    commit_all(files)?;
    log::info!("{} map(s) x {} x {} -> {}", a.info.count, a.info.channels.len(), a.info.length, args.output.display());
    Ok(())
}

/// The per-position score of every map placed on its row's reference coordinates.
fn bigwig(a: &Attributions, path: &Path, chrom_sizes: Option<&Path>) -> Result<AtomicFile> {
    let how = PositionScore::for_method(&a.info.method).ok_or_else(|| {
        Error::usage(format!("--bigwig needs per-position scores of the input; --method {} has none", a.info.method))
    })?;
    let (attr, x) = (a.attr(), a.array("x").expect("row methods store x"));
    let channels = a.info.channels.len();
    let mut track = BaseTrack::default();
    for (i, row) in a.rows.iter().enumerate() {
        let (Some(chrom), Some(start), Some(end)) = (&row.chrom, row.start, row.end) else {
            return Err(Error::usage(format!(
                "--bigwig needs rows with reference coordinates; row '{}' has none (make the dataset with gkd-onehot --fasta --bed)",
                row.id
            )));
        };
        let length = a.info.length as u64;
        if end - start != length {
            return Err(Error::usage(format!(
                "row '{}' spans {chrom}:{start}-{end} ({} bp) but its map has {length} positions",
                row.id,
                end - start
            )));
        }
        let flat = |arr: &ArrayD<f32>| arr.index_axis(Axis(0), i).iter().copied().collect::<Vec<f32>>();
        let scores = position_scores(&flat(attr), &flat(x), channels, how);
        for (p, score) in scores.into_iter().enumerate() {
            // Reverse-strand rows were reverse-complemented: position p is end − 1 − p.
            let pos = if row.strand == Strand::Reverse { end - 1 - p as u64 } else { start + p as u64 };
            let pos = u32::try_from(pos)
                .map_err(|_| Error::usage(format!("row '{}': position {pos} is beyond bigWig's 2^32 limit", row.id)))?;
            track.add(chrom, pos, score);
        }
    }
    let sizes: BTreeMap<String, u32> = match chrom_sizes {
        Some(file) => read_chrom_sizes(file)?,
        None => track.extents(),
    };
    track.stage_bigwig(path, &sizes)
}
