//! One attribution run, as `gkd-attribute` asks for it: load the model and the dataset split,
//! select the rows and the class each is explained for, take this run's shard, compute the maps
//! and describe them in the sidecar (docs/data-contracts.md, attributions).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use gkd_engine::{EngineChoice, Runner};
use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::{
    ATTRIBUTION_SCHEMA, AttributionInfo, AttributionOutputs, AttributionWriter, Attributions, Inputs, MapRow,
    MethodParameters, ModelRef, ReadInputs, merge_shards,
};
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{DatasetKind, rows_path_for};
use gkd_io::progress::Progress;
use gkd_io::table::{RowIdentity, read_row_identities};
use gkd_nn::store::{self, CARD_FILE, LoadedModel};
use ndarray::{ArrayD, Axis};

use crate::baselines::Baseline;
use crate::classopt::ClassOptimization;
use crate::method::{self, Computed, Method, MethodRun, Settings};
use crate::selection::{self, Shard, TargetSpec};
use crate::track::MapTrack;

/// Which dataset rows a run explains (applied in this order: ids or range, positives, first N).
#[derive(Debug, Clone, Default)]
pub struct RowSelection {
    /// Rows with these ids, in this order.
    pub ids: Vec<String>,
    /// Rows with the ids listed in this file (one per line), in file order.
    pub ids_file: Option<PathBuf>,
    /// Rows `START:END` (0-based, END exclusive).
    pub range: Option<String>,
    /// Only rows labelled positive for this class (name or index), or for any class (`any`).
    pub positives: Option<String>,
    /// Only the first N of the selected rows.
    pub first: Option<usize>,
}

impl RowSelection {
    /// Whether any option selects rows.
    pub fn is_given(&self) -> bool {
        !self.ids.is_empty() || self.ids_file.is_some() || self.range.is_some() || self.positives.is_some()
    }
}

/// Class optimization's settings as asked for (the learning rate defaults by input kind).
#[derive(Debug, Clone, Copy)]
pub struct ClassOptimizationRequest {
    /// L2 weight λ.
    pub lambda: f64,
    /// RMSprop learning rate [default: 0.05 for sequences, 0.1 for histone marks].
    pub lr: Option<f64>,
    /// Optimisation steps.
    pub steps: usize,
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Model directory written by gkd-train.
    pub model: PathBuf,
    /// Dataset split (optional for class optimization).
    pub data: Option<PathBuf>,
    /// The rows explained.
    pub rows: RowSelection,
    /// Class explained: a name or index, `all`, `predicted` or `labelled` [default: the
    /// positives class (`labelled` for positives `any`); else the only class; else predicted].
    pub target: Option<String>,
    /// Settings of the row methods.
    pub settings: Settings,
    /// Settings of class optimization.
    pub class_optimization: ClassOptimizationRequest,
    /// The shard of the maps this run computes.
    pub shard: Option<Shard>,
    /// The tool recorded in the sidecar.
    pub tool: &'static str,
    /// Which implementation runs convolutional models on the CPU.
    pub engine: EngineChoice,
}

impl Request {
    /// The `--target` a run explains, as given or by default: the positives class (`labelled`
    /// for positives `any`); else the only class of a one-class model; else `predicted`.
    pub(crate) fn target_text(&self, classes: usize) -> String {
        self.target
            .clone()
            .or_else(|| {
                self.rows.positives.as_ref().map(|c| if c == "any" { "labelled".to_owned() } else { c.clone() })
            })
            .unwrap_or_else(|| if classes == 1 { "0".to_owned() } else { "predicted".to_owned() })
    }

    /// The model a network run explains, as its sidecar names it.
    fn network_ref(&self, card: &store::ModelCard) -> ModelRef {
        ModelRef {
            path: self.model.display().to_string(),
            architecture: card.spec.arch.name().to_owned(),
            classes: card.classes.clone(),
        }
    }

    fn check(&self) -> Result<()> {
        let s = &self.settings;
        for (value, flag) in [(s.batch, "--batch-size"), (s.steps, "--steps"), (s.baselines, "--baselines")] {
            if value == 0 {
                return Err(Error::usage(format!("{flag} must be at least 1")));
            }
        }
        if self.rows.first == Some(0) {
            return Err(Error::usage("--first must be at least 1"));
        }
        if self.class_optimization.lr.is_some_and(|lr| !(lr > 0.0 && lr.is_finite())) {
            return Err(Error::usage("--lr must be a positive number"));
        }
        if s.gradient_correction && !matches!(self.method, Method::Saliency | Method::Gradxinput) {
            return Err(Error::usage("--gradient-correction applies to --method saliency and gradxinput"));
        }
        Ok(())
    }
}

/// Where a run's files go: the maps (NPZ, rows TSV, sidecar, optional exports) and an optional
/// bigWig track of their per-position scores.
#[derive(Debug, Clone, Default)]
pub struct RunOutputs {
    /// The attribution files.
    pub maps: AttributionOutputs,
    /// The bigWig to write, and the chromosome sizes to give it.
    pub bigwig: Option<(PathBuf, Option<PathBuf>)>,
}

/// Compute the maps `request` asks for on `device`, reporting to `progress`, writing them as
/// they are computed. Returns the staged files (to commit together) and the run's description.
pub fn run(
    request: &Request,
    outputs: &RunOutputs,
    device: &Device,
    progress: &dyn Progress,
) -> Result<(Vec<AtomicFile>, AttributionInfo)> {
    request.check()?;
    if gkd_gkm::model::is_kmer_model(&request.model) {
        return crate::kmer::explain(request, outputs, progress);
    }
    let model = store::load_model(&request.model, device)?;
    let card = &model.card;
    let target_text = request.target_text(card.classes.len());
    let target = TargetSpec::parse(&target_text, &card.classes, &request.model.join(CARD_FILE))?;
    let mut parameters =
        MethodParameters { target: target_text, batch_size: request.settings.batch, ..Default::default() };
    if request.settings.gradient_correction {
        parameters.gradient_correction = Some(true);
    }
    if request.method.reads_rows() {
        explain_rows(request, outputs, &model, &target, parameters, device, progress)
    } else {
        let attributions = explain_classes(request, &model, &target, parameters, device, progress)?;
        let files = attributions.stage(&outputs.maps)?;
        Ok((files, attributions.info))
    }
}

/// Join the shards of one run (in order 1..n) into the files one run would have written.
pub fn merge(paths: &[PathBuf], outputs: &RunOutputs) -> Result<(Vec<AtomicFile>, AttributionInfo)> {
    let mut track = match (&outputs.bigwig, paths.first()) {
        (Some(_), Some(first)) => {
            let info = gkd_io::attributions::AttributionReader::open(first)?.info;
            Some(MapTrack::new(info.method, info.length)?)
        }
        _ => None,
    };
    let (mut files, info) = merge_shards(paths, &outputs.maps, &mut |attr, x, rows| match &mut track {
        Some(track) => track.add(attr, x, rows),
        None => Ok(()),
    })?;
    if let (Some(track), Some((path, sizes))) = (track, &outputs.bigwig) {
        files.push(track.stage(path, sizes.as_deref())?);
    }
    Ok((files, info))
}

/// Maps computed and written at a time (rounded up to whole blocks of the method, so that every
/// map is computed exactly as in one pass).
const MAPS_PER_CHUNK: usize = 256;

/// The row methods: one map per selected (row, class) pair, computed and written a chunk at a
/// time.
fn explain_rows(
    request: &Request,
    outputs: &RunOutputs,
    model: &LoadedModel,
    target: &TargetSpec,
    mut parameters: MethodParameters,
    device: &Device,
    progress: &dyn Progress,
) -> Result<(Vec<AtomicFile>, AttributionInfo)> {
    let (method, card) = (request.method, &model.card);
    let runner = Runner::new(&card.spec, &model.network, device, request.engine);
    if runner.uses_engine() {
        log::info!("running {} on gkd's CPU engine", card.spec.arch.name());
    }
    let data_path =
        request.data.as_ref().ok_or_else(|| Error::usage(format!("--method {} needs --data", method.name())))?;
    let data = Dataset::load(data_path)?;
    model.check_fits(&data, &request.model)?;
    method::check_applicable(
        method,
        &model.network,
        data.kind(),
        card.spec.arch.name(),
        &request.model.join(CARD_FILE),
    )?;
    let settings = &Settings { hypothetical: data.kind() == DatasetKind::Sequence, ..request.settings.clone() };
    let rows = select_rows(&request.rows, &data)?;
    let logits = match target {
        TargetSpec::Predicted => Some(predicted_logits(&runner, &data, &rows, settings.batch)?),
        _ => None,
    };
    let all_pairs = selection::pairs(&rows, target, card.classes.len(), logits.as_ref(), &data.y);
    if all_pairs.is_empty() {
        return Err(Error::in_file(
            &data.path,
            "none of the selected rows is labelled positive for any class (--target labelled)",
        ));
    }
    let block = method.block(settings.batch);
    let pairs = match request.shard {
        Some(s) => s.take(&all_pairs, block),
        None => all_pairs.clone(),
    };
    log::info!(
        "{} on {} map(s){} of {} ({} rows selected)",
        method.name(),
        pairs.len(),
        request.shard.map(|s| format!(" (shard {s})")).unwrap_or_default(),
        data_path.display(),
        rows.len()
    );
    match method {
        Method::Ig | Method::Deeplift | Method::Deepshap => {
            if method == Method::Ig {
                parameters.steps = Some(settings.steps);
            }
            parameters.baseline = Some(settings.baseline.name().to_owned());
            let single = matches!(settings.baseline, Baseline::Zeros | Baseline::Uniform);
            parameters.baselines = Some(if single { 1 } else { settings.baselines });
            if !single {
                parameters.seed = Some(settings.seed);
            }
        }
        Method::Temporal => parameters.scores = Some("probability".into()),
        _ => {}
    }
    parameters.engine = method::engine(method, &model.network, data.length()).map(str::to_owned);
    if method == Method::IsmFast && parameters.engine.as_deref() == Some("naive") {
        log::warn!(
            "fast ISM does not support this architecture (it needs convolution/pooling blocks before a dense head); running naive ISM"
        );
    }
    let channels = method::attr_channels(method).unwrap_or_else(|| data.manifest.channels.clone());
    let info =
        info(request, parameters, request.network_ref(card), Some(data_path), channels, data.length(), pairs.len());
    let chunking = Chunking { maps: MAPS_PER_CHUNK.div_ceil(block) * block, delta_threshold: settings.delta_threshold };
    let files = write_maps(outputs, &data, &pairs, &info, chunking, progress, &mut |dataset_rows, classes, x| {
        method::attribute(method, &runner, card.head, x, classes, dataset_rows, settings, progress)
    })?;
    Ok((files, info))
}

/// Computes a chunk's maps: (dataset rows, class of each map, inputs) → maps.
pub(crate) type ComputeMaps<'a> = &'a mut dyn FnMut(&[usize], &[usize], &ndarray::Array3<f32>) -> Result<Computed>;

/// How [`write_maps`] goes: maps per chunk, and the DeepLIFT convergence delta above which maps
/// are reported.
pub(crate) struct Chunking {
    /// Maps computed and written at a time.
    pub maps: usize,
    /// DeepLIFT: warn about maps whose |convergence delta| exceeds this.
    pub delta_threshold: f32,
}

/// Compute the maps of `pairs` a chunk at a time and write them (with their inputs, extra arrays
/// and the optional bigWig track) as `info` describes them. Returns the staged files.
pub(crate) fn write_maps(
    outputs: &RunOutputs,
    data: &Dataset,
    pairs: &[selection::Pair],
    info: &AttributionInfo,
    chunking: Chunking,
    progress: &dyn Progress,
    compute: ComputeMaps<'_>,
) -> Result<Vec<AtomicFile>> {
    let Chunking { maps: chunk, delta_threshold } = chunking;
    let method = info.method;
    let identities = read_row_identities(&rows_path_for(&data.path))?;
    let mut writer = AttributionWriter::create(&outputs.maps, info.clone())?;
    let mut track = outputs.bigwig.as_ref().map(|_| MapTrack::new(method, data.length())).transpose()?;
    let mut extra: Vec<(String, Vec<ArrayD<f32>>)> = Vec::new();
    progress.start(method.name(), Some(pairs.len() as u64));
    for chunk in pairs.chunks(chunk.max(1)) {
        let dataset_rows: Vec<usize> = chunk.iter().map(|p| p.row).collect();
        let classes: Vec<usize> = chunk.iter().map(|p| p.class).collect();
        let x = data.gather_x(&dataset_rows)?;
        let computed = compute(&dataset_rows, &classes, &x)?;
        let map_rows: Vec<MapRow> = chunk
            .iter()
            .map(|p| {
                let RowIdentity { id, chrom, start, end, strand } = identities[p.row].clone();
                MapRow {
                    id,
                    dataset_row: Some(p.row),
                    class: info.model.classes[p.class].clone(),
                    chrom,
                    start,
                    end,
                    strand,
                }
            })
            .collect();
        if let Some(track) = &mut track {
            track.add(&computed.attr, Some(&x), &map_rows)?;
        }
        writer.write(computed.attr.view(), &map_rows)?;
        for (name, array) in computed.extra {
            match extra.iter_mut().find(|(n, _)| *n == name) {
                Some((_, parts)) => parts.push(array),
                None => extra.push((name, vec![array])),
            }
        }
    }
    progress.finish();
    let extra: Vec<(String, ArrayD<f32>)> = extra
        .into_iter()
        .map(|(name, parts)| {
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            ndarray::concatenate(Axis(0), &views).map(|a| (name, a)).expect("chunks of one array")
        })
        .collect();
    log_completeness(&extra);
    log_convergence(&extra, delta_threshold);
    let mut read_inputs = |range: std::ops::Range<usize>| {
        let rows: Vec<usize> = pairs[range].iter().map(|p| p.row).collect();
        data.gather_x(&rows)
    };
    // The inputs go into the NPZ in the dataset's own type (uint8 stays uint8).
    let inputs = (method != Method::Attention).then(|| Inputs {
        channels: data.channels(),
        dtype: data.x_dtype(),
        read: &mut read_inputs as ReadInputs<'_>,
    });
    let mut files = writer.finish(inputs, &extra)?;
    if let (Some(track), Some((path, sizes))) = (track, &outputs.bigwig) {
        files.push(track.stage(path, sizes.as_deref())?);
    }
    Ok(files)
}

/// The logits of the selected rows (to explain each row's predicted class), a batch at a time.
fn predicted_logits(runner: &Runner<'_>, data: &Dataset, rows: &[usize], batch: usize) -> Result<ndarray::Array2<f32>> {
    let mut parts = Vec::new();
    for chunk in rows.chunks(batch.max(1)) {
        let x = data.gather_x(chunk)?;
        parts.push(runner.logits(x.view(), batch));
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(Axis(0), &views).map_err(|e| Error::runtime(format!("joining logits: {e}")))
}

/// Integrated gradients: log how far Σattr is from F(x) − F(x′) (the completeness gap).
fn log_completeness(extra: &[(String, ArrayD<f32>)]) {
    let find = |name: &str| extra.iter().find(|(n, _)| n == name).map(|(_, a)| a);
    let (Some(gap), Some(delta)) = (find("gap"), find("delta")) else { return };
    let mut relative: Vec<f32> = gap.iter().zip(delta.iter()).map(|(g, d)| g.abs() / d.abs().max(1e-12)).collect();
    if relative.is_empty() {
        return;
    }
    relative.sort_by(f32::total_cmp);
    log::info!(
        "integrated gradients: completeness gap |Σattr − (F(x) − F(x′))| / |F(x) − F(x′)|: median {:.3}%, largest {:.3}% (more --steps shrinks it)",
        100.0 * relative[relative.len() / 2],
        100.0 * relative[relative.len() - 1]
    );
}

/// DeepLIFT / DeepSHAP: warn about maps whose convergence delta |Σ contributions − (F(x) −
/// F(x′))| exceeds `threshold` for any of their references (an operation without a DeepLIFT rule
/// would show here), and log the largest.
fn log_convergence(extra: &[(String, ArrayD<f32>)], threshold: f32) {
    let Some((_, deltas)) = extra.iter().find(|(n, _)| n == "convergence_delta") else { return };
    let maps = deltas.shape()[0];
    let above = deltas.outer_iter().filter(|row| row.iter().any(|d| d.abs() > threshold)).count();
    let largest = deltas.iter().fold(0f32, |m, d| m.max(d.abs()));
    if above > 0 {
        log::warn!("{above} of {maps} map(s) have a convergence delta above {threshold} (largest {largest:.2e})");
    } else {
        log::info!("DeepLIFT convergence deltas: largest {largest:.2e} over {maps} map(s)");
    }
}

/// Class optimization: one logo per target class; no dataset rows.
fn explain_classes(
    request: &Request,
    model: &LoadedModel,
    target: &TargetSpec,
    mut parameters: MethodParameters,
    device: &Device,
    progress: &dyn Progress,
) -> Result<Attributions> {
    let card = &model.card;
    let classes: Vec<usize> = match target {
        TargetSpec::Class(k) => vec![*k],
        TargetSpec::All => (0..card.classes.len()).collect(),
        TargetSpec::Predicted | TargetSpec::Labelled => {
            return Err(Error::usage("--method classopt explains classes, not rows: give --target CLASS or all"));
        }
    };
    if request.rows.is_given() {
        return Err(Error::usage(
            "--method classopt makes inputs from scratch: row selection and --bigwig do not apply",
        ));
    }
    if let Some(path) = &request.data {
        model.check_fits(&Dataset::load(path)?, &request.model)?;
    }
    let classes = match request.shard {
        Some(s) => s.take(&classes, 1),
        None => classes,
    };
    let asked = request.class_optimization;
    let default_lr = if card.input.kind == DatasetKind::Histone { 0.1 } else { 0.05 };
    let settings = ClassOptimization {
        lambda: asked.lambda,
        lr: asked.lr.unwrap_or(default_lr),
        steps: asked.steps,
        seed: request.settings.seed,
    };
    parameters.lambda = Some(settings.lambda);
    parameters.lr = Some(settings.lr);
    parameters.optimisation_steps = Some(settings.steps);
    parameters.seed = Some(settings.seed);
    progress.start("classopt", Some(classes.len() as u64));
    let shape = (card.input.channels.len(), card.input.length);
    let computed = method::class_optimization(&model.network, card.head, &classes, shape, &settings, device, progress);
    progress.finish();
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
    let (channels, length) = (card.input.channels.clone(), card.input.length);
    let info =
        info(request, parameters, request.network_ref(card), request.data.as_deref(), channels, length, classes.len());
    Ok(Attributions { info, rows, arrays })
}

/// The sidecar of a run.
pub(crate) fn info(
    request: &Request,
    parameters: MethodParameters,
    model: ModelRef,
    data: Option<&Path>,
    channels: Vec<String>,
    length: usize,
    count: usize,
) -> AttributionInfo {
    AttributionInfo {
        schema: ATTRIBUTION_SCHEMA.to_owned(),
        method: request.method,
        parameters,
        model,
        dataset: data.map(|p| p.display().to_string()),
        channels,
        length,
        count,
        shard: request.shard.map(|s| s.to_string()),
        tool: request.tool.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// The dataset rows a selection picks, in order.
pub fn select_rows(selection: &RowSelection, data: &Dataset) -> Result<Vec<usize>> {
    let mut rows: Vec<usize> = if !selection.ids.is_empty() {
        selection::rows_by_id(&selection.ids, &data.ids, &data.path)?
    } else if let Some(file) = &selection.ids_file {
        let text =
            String::from_utf8(gkd_io::input::read_all(file)?).map_err(|_| Error::in_file(file, "is not UTF-8 text"))?;
        let wanted: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        if wanted.is_empty() {
            return Err(Error::in_file(file, "lists no ids"));
        }
        selection::rows_by_id(&wanted, &data.ids, &data.path)?
    } else if let Some(range) = &selection.range {
        selection::parse_range(range, data.len())?.collect()
    } else {
        (0..data.len()).collect()
    };
    if selection.positives.as_deref() == Some("any") && !data.manifest.classes.iter().any(|c| c == "any") {
        rows.retain(|&r| data.y.row(r).iter().any(|&v| v > 0.5));
    } else if let Some(class) = &selection.positives {
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
    if let Some(n) = selection.first {
        rows.truncate(n);
    }
    if rows.is_empty() {
        return Err(Error::in_file(&data.path, "no rows match the selection (--ids/--rows/--positives/--first)"));
    }
    Ok(rows)
}
