//! The model directory of docs/data-contracts.md: `model.safetensors` in the tensor names and layouts that
//! PyTorch's `load_state_dict` accepts for the equivalent module, `model.json` (architecture,
//! input, classes, training and provenance) and `history.tsv` (one row per epoch).

use std::path::Path;

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::Device;
use gkd_io::atomic::StagedDir;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::{DatasetKind, TaskKind};
use gkd_io::weights;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::loss::{Distillation, Head};
use crate::model::{ModelSpec, Network};
use crate::train::{EpochRecord, TrainResult, TrainState, Trainer};

/// The `$id` of model.json's schema.
pub const MODEL_CARD_SCHEMA: &str = "https://gkd.example/schemas/model.v1.schema.json";
/// Weights file name in a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Weights file of an int8 model (`gkd-compress quantize`), in place of model.safetensors.
pub const INT8_WEIGHTS_FILE: &str = "model.int8.safetensors";
/// Description file name in a model directory.
pub const CARD_FILE: &str = "model.json";
/// Per-epoch history file name in a model directory.
pub const HISTORY_FILE: &str = "history.tsv";
/// File of each epoch's wall-clock seconds in a model directory.
pub const TIMINGS_FILE: &str = "timings.tsv";

/// What a model reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Sequence or histone.
    pub kind: DatasetKind,
    /// Channel names in order (A, C, G, T or the marks).
    pub channels: Vec<String>,
    /// Positions or bins.
    pub length: usize,
}

/// Distillation settings of a distilled model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistillationRecord {
    /// Temperature and α.
    #[serde(flatten)]
    pub loss: Distillation,
    /// Teacher model directories (logits averaged when several).
    pub teachers: Vec<String>,
    /// Cached teacher predictions used instead of (or besides) teacher models.
    pub soft_targets: Vec<String>,
}

/// How training ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingOutcome {
    /// Epochs run.
    pub epochs_run: usize,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Whether early stopping ended training.
    pub stopped_early: bool,
    /// Validation metrics of the kept weights.
    pub valid: serde_json::Map<String, serde_json::Value>,
}

/// Write the model directory `dir` of a finished training run whole: the kept weights, its
/// model.json, and every epoch's history and time. It is staged beside `dir` and renamed into
/// place, replacing an earlier model there.
pub fn write_model_dir(dir: &Path, card: &ModelCard, result: &TrainResult) -> Result<()> {
    write_network_dir(dir, card, &result.network, Some(&result.state), &[])
}

/// Write a model directory `dir` whole (staged, then renamed into place): `network`'s weights,
/// the card, the history and timings of `state` when the network was (re)trained, and `extra`
/// files (name, bytes) such as gkd-compress's pruning masks.
pub fn write_network_dir(
    dir: &Path,
    card: &ModelCard,
    network: &Network,
    state: Option<&TrainState>,
    extra: &[(&str, Vec<u8>)],
) -> Result<()> {
    let bytes = weights_to_safetensors(network)?;
    // Never a model directory that every later tool would have to refuse.
    if let Some(bad) = weights::first_non_finite(&weights::parse(&bytes, dir)?) {
        return Err(Error::runtime(format!(
            "not writing {}: the weights are not finite ({bad}); the last good checkpoint, if any, is kept",
            dir.display()
        )));
    }
    let staged = StagedDir::create(dir, "staging")?;
    staged.write(WEIGHTS_FILE, &bytes)?;
    staged.write(CARD_FILE, (serde_json::to_string_pretty(card).expect("card serialises") + "\n").as_bytes())?;
    if let Some(state) = state {
        let mut history = String::from(EpochRecord::HEADER);
        history.push('\n');
        let mut timings = String::from("epoch\tseconds\n");
        for (record, seconds) in state.history.iter().zip(&state.seconds) {
            history += &record.tsv_line();
            history.push('\n');
            timings += &format!("{}\t{seconds:.3}\n", record.epoch);
        }
        staged.write(HISTORY_FILE, history.as_bytes())?;
        staged.write(TIMINGS_FILE, timings.as_bytes())?;
    }
    for (name, bytes) in extra {
        staged.write(name, bytes)?;
    }
    staged.commit()
}

/// The model.json of a finished run of `trainer`: what was trained, on what, how it ended, and
/// (for a distilled student) from which teachers; `tool` wrote it.
pub fn card_for(
    trainer: &Trainer<'_>,
    result: &TrainResult,
    distillation: Option<DistillationRecord>,
    tool: &str,
) -> ModelCard {
    let (train, valid, state) = (trainer.train, trainer.valid, &result.state);
    let kept = &state.history[result.kept_epoch.max(1) - 1];
    let mut valid_metrics = serde_json::Map::new();
    valid_metrics.insert("loss".into(), json_number(kept.valid_loss));
    valid_metrics.insert("auroc".into(), json_number(kept.valid_auroc));
    valid_metrics.insert("aupr".into(), json_number(kept.valid_aupr));
    ModelCard {
        schema: MODEL_CARD_SCHEMA.to_owned(),
        parameters: crate::model::trainable_params(&result.network),
        spec: trainer.spec.clone(),
        head: trainer.head,
        task: train.manifest.task,
        input: InputSpec { kind: train.kind(), channels: train.manifest.channels.clone(), length: train.length() },
        classes: train.manifest.classes.clone(),
        training: serde_json::to_value(&trainer.config).expect("config serialises"),
        distillation,
        outcome: TrainingOutcome {
            epochs_run: state.epochs_done,
            best_epoch: result.kept_epoch,
            stopped_early: state.stopped_early,
            valid: valid_metrics,
        },
        compression: None,
        provenance: serde_json::json!({
            "train": train.path.display().to_string(),
            "valid": valid.path.display().to_string(),
            "train_rows": train.len(),
            "valid_rows": valid.len(),
        }),
        tool: tool.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// A JSON number, or null for NaN and infinities (JSON has neither).
fn json_number(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
}

/// model.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The architecture and its sizes.
    pub spec: ModelSpec,
    /// Sigmoid or softmax output.
    pub head: Head,
    /// How the labels were read.
    pub task: TaskKind,
    /// What the model reads.
    pub input: InputSpec,
    /// Class names, one per logit.
    pub classes: Vec<String>,
    /// Trainable parameters.
    pub parameters: usize,
    /// The training settings (gkd-train's flags).
    pub training: serde_json::Value,
    /// Distillation settings; absent for a model trained from scratch.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub distillation: Option<DistillationRecord>,
    /// How training ended.
    pub outcome: TrainingOutcome,
    /// How gkd-compress made this model from another; absent for a model as trained.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compression: Option<CompressionRecord>,
    /// Datasets, seed and tool.
    pub provenance: serde_json::Value,
    /// The tool that wrote it.
    pub tool: String,
    /// Its version.
    pub version: String,
}

/// How a compressed model was made (model.json's `compression`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompressionRecord {
    /// magnitude, admm, low-rank, mpo or int8.
    pub method: String,
    /// The model directory it was made from.
    pub source: String,
    /// Stored parameters of the source (weights and biases; BatchNorm statistics excluded).
    pub parameters_before: usize,
    /// Stored parameters now: non-zero weights after pruning, factor entries after
    /// factorisation (int8 keeps the count and stores each weight in one byte).
    pub parameters_after: usize,
    /// parameters_before / parameters_after.
    pub ratio: f64,
    /// Per compressed layer: its name in model.safetensors and what was done to it.
    pub layers: Vec<LayerCompression>,
    /// The fine-tuning after compression (epochs, learning rate, teacher), or null.
    pub fine_tune: serde_json::Value,
    /// Extra files of the model directory the method needs (pruning masks, int8 weights).
    pub files: Vec<String>,
}

/// One compressed layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerCompression {
    /// Tensor name in model.safetensors (PyTorch layout), say `dense.0.linear.weight`.
    pub name: String,
    /// Parameters before.
    pub before: usize,
    /// Parameters after.
    pub after: usize,
    /// Sparsity, rank, MPO bonds or quantisation scheme.
    pub detail: String,
}

impl CompressionRecord {
    /// A record of `method` applied to the model in `source`, the ratio computed from the counts.
    pub fn new(
        method: &str,
        source: &Path,
        (parameters_before, parameters_after): (usize, usize),
        layers: Vec<LayerCompression>,
        fine_tune: serde_json::Value,
        files: Vec<String>,
    ) -> Self {
        Self {
            method: method.to_owned(),
            source: source.display().to_string(),
            parameters_before,
            parameters_after,
            ratio: parameters_before as f64 / parameters_after.max(1) as f64,
            layers,
            fine_tune,
            files,
        }
    }
}

impl ModelCard {
    /// The indices of `wanted` classes, each given by name or index (every class when `wanted` is
    /// empty); `dir` is the model directory, for the message naming a class it lacks.
    pub fn class_indices(&self, wanted: &[String], dir: &Path) -> Result<Vec<usize>> {
        if wanted.is_empty() {
            return Ok((0..self.classes.len()).collect());
        }
        wanted
            .iter()
            .map(|c| {
                self.classes
                    .iter()
                    .position(|n| n == c)
                    .or_else(|| c.parse::<usize>().ok().filter(|&i| i < self.classes.len()))
                    .ok_or_else(|| {
                        Error::in_file(
                            dir.join(CARD_FILE),
                            format!("has no class '{c}' (classes: {})", self.classes.join(", ")),
                        )
                    })
            })
            .collect()
    }

    /// The JSON Schema of model.json.
    pub fn json_schema() -> serde_json::Value {
        let mut schema = serde_json::to_value(schemars::schema_for!(ModelCard)).expect("schema serialises");
        if let Some(o) = schema.as_object_mut() {
            o.insert("$id".into(), MODEL_CARD_SCHEMA.into());
        }
        schema
    }

    /// Read a model directory's model.json.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(CARD_FILE);
        if !dir.is_dir() {
            return Err(Error::in_file(dir, "is not a model directory (expected a directory written by gkd-train)"));
        }
        let text = std::fs::read_to_string(&path).with_path(&path)?;
        serde_json::from_str(&text).map_err(|e| Error::in_file(&path, format!("is not a gkd model description: {e}")))
    }
}

/// The network's weights as safetensors bytes in PyTorch's names and layouts.
pub fn weights_to_safetensors(network: &Network) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .clear_metadata()
        .metadata("format", "pt");
    network.save_into(&mut store).map_err(|e| Error::runtime(format!("cannot serialise the weights: {e}")))?;
    store.get_bytes().map_err(|e| Error::runtime(format!("cannot serialise the weights: {e}")))
}

/// Load safetensors bytes (PyTorch layout) into a network built from its spec: every tensor of
/// the network must be there, and nothing else.
pub fn weights_from_safetensors(network: Network, bytes: Vec<u8>, source: &Path) -> Result<Network> {
    load_safetensors(network, bytes, source, true)
}

/// Load the tensors of safetensors `bytes` (PyTorch layout) that `network` has, by name, leaving
/// its other parameters as they are (gkd-compress: a factorised network takes its unchanged
/// layers from the source model). Tensors of the right name and wrong shape are an error.
pub fn matching_weights_from_safetensors(network: Network, bytes: Vec<u8>, source: &Path) -> Result<Network> {
    load_safetensors(network, bytes, source, false)
}

fn load_safetensors(mut network: Network, bytes: Vec<u8>, source: &Path, whole: bool) -> Result<Network> {
    // Shapes first (a clear message naming the tensor instead of burn's), then values: a NaN in a
    // model file would otherwise flow silently into every prediction and map.
    let expected = weights_to_safetensors(&network)?;
    weights::check_shapes(&bytes, source, &weights::shapes(&weights::parse(&expected, source)?))?;
    weights::check_finite(&bytes, source)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter)
        .skip_enum_variants(true)
        .allow_partial(true);
    let result =
        network.load_from(&mut store).map_err(|e| Error::in_file(source, format!("cannot read weights: {e}")))?;
    let incomplete = whole && (!result.missing.is_empty() || !result.unused.is_empty());
    if incomplete || !result.errors.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|(name, _)| name.as_str()).collect();
        return Err(Error::in_file(
            source,
            format!(
                "does not fit the architecture in model.json: missing tensors [{}], unexpected [{}]{}",
                missing.join(", "),
                result.unused.join(", "),
                if result.errors.is_empty() { String::new() } else { format!(", errors: {:?}", result.errors) }
            ),
        ));
    }
    Ok(network)
}

/// A trained model read from its directory.
pub struct LoadedModel {
    /// model.json.
    pub card: ModelCard,
    /// The network on the requested device, in evaluation mode.
    pub network: Network,
}

impl LoadedModel {
    /// Check that `data` is what the model reads: the same kind, channels and length, and (when
    /// the dataset has labels) as many label columns as the model has classes. `model_dir` is
    /// named in the message.
    pub fn check_fits(&self, data: &crate::data::Dataset, model_dir: &Path) -> Result<()> {
        let input = &self.card.input;
        if data.kind() != input.kind || data.channels() != input.channels.len() || data.length() != input.length {
            return Err(Error::in_file(
                &data.path,
                format!(
                    "holds {} x {} inputs; the model {} reads {} x {} ({})",
                    data.channels(),
                    data.length(),
                    model_dir.display(),
                    input.channels.len(),
                    input.length,
                    input.channels.join(", ")
                ),
            ));
        }
        let labels = data.y.ncols();
        if labels != 0 && labels != self.card.classes.len() {
            return Err(Error::in_file(
                &data.path,
                format!(
                    "has {labels} label columns ({}); the model {} predicts {} classes ({})",
                    data.manifest.classes.join(", "),
                    model_dir.display(),
                    self.card.classes.len(),
                    self.card.classes.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Read a model directory onto `device` (an int8 model's weights dequantised to float32).
pub fn load_model(dir: &Path, device: &Device) -> Result<LoadedModel> {
    let card = ModelCard::read(dir)?;
    let network = card.spec.build(device).map_err(|e| Error::in_file(dir.join(CARD_FILE), e.0))?;
    let int8 = card.spec.int8.is_some();
    let weights_path = dir.join(if int8 { INT8_WEIGHTS_FILE } else { WEIGHTS_FILE });
    let mut bytes = std::fs::read(&weights_path).with_path(&weights_path)?;
    if int8 {
        weights::check_finite(&bytes, &weights_path)?;
        bytes = dequantized_weights(&bytes, &weights_path)?;
    }
    let network = weights_from_safetensors(network, bytes, &weights_path)?;
    Ok(LoadedModel { card, network: network.valid() })
}

/// Suffix of the per-row float32 scales stored beside each int8 tensor.
pub const INT8_SCALE_SUFFIX: &str = ".scale";

/// float32 safetensors (PyTorch layout) → the same with each tensor in `names` stored as int8,
/// symmetric per first-axis row (an output channel, in PyTorch's layout): `NAME` (I8) and
/// `NAME.scale` (F32, one per row, w ≈ scale·q, q ∈ [−127, 127]). Other tensors stay float32.
pub fn int8_weights(bytes: &[u8], names: &[String]) -> Result<Vec<u8>> {
    use safetensors::tensor::TensorView;
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::runtime(format!("cannot read the float weights: {e}")))?;
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in tensors.tensors() {
        let shape = view.shape().to_vec();
        if !names.contains(&name) {
            owned.push((name, view.dtype(), shape, view.data().to_vec()));
            continue;
        }
        let values = weights::f32_values(&view);
        let rows = shape.first().copied().unwrap_or(1).max(1);
        let width = values.len() / rows;
        let mut levels = Vec::with_capacity(values.len());
        let mut scales = Vec::with_capacity(rows * 4);
        for row in values.chunks(width.max(1)) {
            let scale = row.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
            scales.extend_from_slice(&scale.to_le_bytes());
            levels.extend(row.iter().map(|&v| {
                let q = if scale > 0.0 { (v / scale).round().clamp(-127.0, 127.0) } else { 0.0 };
                (q as i8) as u8
            }));
        }
        owned.push((format!("{name}{INT8_SCALE_SUFFIX}"), safetensors::Dtype::F32, vec![rows], scales));
        owned.push((name, safetensors::Dtype::I8, shape, levels));
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(name, dtype, shape, data)| {
            (name.clone(), TensorView::new(*dtype, shape.clone(), data).expect("shape matches the data"))
        })
        .collect();
    safetensors::serialize(views, None).map_err(|e| Error::runtime(format!("cannot serialise the int8 weights: {e}")))
}

/// int8 safetensors written by [`int8_weights`] → float32 safetensors (each int8 tensor times
/// its row scales).
pub fn dequantized_weights(bytes: &[u8], source: &Path) -> Result<Vec<u8>> {
    use safetensors::tensor::TensorView;
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::in_file(source, format!("is not a safetensors file: {e}")))?;
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>, safetensors::Dtype)> = Vec::new();
    for (name, view) in tensors.tensors() {
        if name.ends_with(INT8_SCALE_SUFFIX) {
            continue;
        }
        let shape = view.shape().to_vec();
        if view.dtype() != safetensors::Dtype::I8 {
            owned.push((name, shape, view.data().to_vec(), view.dtype()));
            continue;
        }
        let scale_name = format!("{name}{INT8_SCALE_SUFFIX}");
        let scales = tensors
            .tensor(&scale_name)
            .map_err(|_| Error::in_file(source, format!("int8 tensor {name} has no {scale_name}")))?;
        let scales = weights::f32_values(&scales);
        let levels = view.data();
        let width = levels.len() / scales.len().max(1);
        if scales.is_empty() || width * scales.len() != levels.len() {
            return Err(Error::in_file(source, format!("{scale_name} does not have one scale per row of {name}")));
        }
        let mut data = Vec::with_capacity(levels.len() * 4);
        for (i, &q) in levels.iter().enumerate() {
            data.extend_from_slice(&((q as i8) as f32 * scales[i / width]).to_le_bytes());
        }
        owned.push((name, shape, data, safetensors::Dtype::F32));
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(name, shape, data, dtype)| {
            (name.clone(), TensorView::new(*dtype, shape.clone(), data).expect("shape matches the data"))
        })
        .collect();
    safetensors::serialize(views, Some(std::collections::HashMap::from([("format".to_owned(), "pt".to_owned())])))
        .map_err(|e| Error::runtime(format!("cannot rebuild the float weights: {e}")))
}
