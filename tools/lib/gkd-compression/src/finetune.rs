//! Fine-tuning a compressed network with the source model's training recipe (optimiser, batch
//! size, BatchNorm and L2 settings from its model.json), a smaller learning rate, and the
//! distillation loss when teachers are given; and writing the compressed model directory.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use gkd_engine::{EngineChoice, Runner};
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::progress::{Progress, Silent};

use gkd_nn::data::{Dataset, ResidentDataset};
use gkd_nn::loss::{Distillation, Head};
use gkd_nn::model::{ModelSpec, Network, trainable_params};
use gkd_nn::store::{self, CompressionRecord, LoadedModel, ModelCard, TrainingOutcome};
use gkd_nn::train::{Keep, Teacher, TrainConfig, TrainState, Trainer, TrainingHook, validation_metrics};

/// Fine-tuning after compression (gkd-compress's flags).
#[derive(Clone)]
pub struct FineTune {
    /// Training split (without it the compressed model is written untuned).
    pub train: Option<PathBuf>,
    /// Validation split: early stopping, and the metrics in model.json.
    pub valid: Option<PathBuf>,
    /// Epochs (per stage for ADMM; 0 = none).
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// Stop after this many epochs without improvement (0 = never).
    pub patience: usize,
    /// Seed of the batch order and dropout.
    pub seed: u64,
    /// Teacher model directories for the distillation loss (an ensemble when several).
    pub teacher: Vec<PathBuf>,
    /// Distillation temperature T.
    pub temperature: f64,
    /// Weight of the hard loss.
    pub alpha: f64,
    /// Compute device for fine-tuning.
    pub device: Device,
    /// Where each epoch's progress goes.
    pub progress: &'static dyn Progress,
}

impl FineTune {
    /// Whether there is fine-tuning to do.
    pub fn trains(&self) -> bool {
        self.train.is_some() && self.epochs > 0
    }

    /// Read the splits and teacher logits, or `None` without --train.
    pub fn prepare(&self, source: &LoadedModel, model_dir: &Path) -> Result<Option<Tuner>> {
        let (Some(train_path), Some(valid_path)) = (&self.train, &self.valid) else {
            if !self.teacher.is_empty() {
                return Err(Error::usage("--teacher needs --train and --valid (fine-tuning data)"));
            }
            return Ok(None);
        };
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::usage("--lr must be a positive number"));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite() && (0.0..=1.0).contains(&self.alpha)) {
            return Err(Error::usage("--temperature must be positive and --alpha in [0, 1]"));
        }
        let device = self.device.clone();
        let (train, valid) = (Dataset::load(train_path)?, Dataset::load(valid_path)?);
        valid.check_compatible_with(&train)?;
        source.check_fits(&train, model_dir)?;
        let head = gkd_nn::data::head_for(&train)?;
        let logits_of = |model: &LoadedModel, data: &Dataset, progress: &dyn Progress| {
            Runner::new(&model.card.spec, &model.network, &device, EngineChoice::Auto)
                .dataset_logits(data, 256, progress)
        };
        let distillation = Distillation { temperature: self.temperature, alpha: self.alpha };
        let teacher = gkd_nn::teacher::teacher_logits(&self.teacher, &[], &train, &device, &logits_of, &Silent)?
            .map(|logits| Teacher { logits, distillation });
        let base: TrainConfig = serde_json::from_value(source.card.training.clone()).map_err(|e| {
            Error::runtime(format!("the model's training settings in model.json cannot be read for fine-tuning: {e}"))
        })?;
        Ok(Some(Tuner {
            train: train.into_resident()?,
            valid: valid.into_resident()?,
            head,
            teacher,
            base,
            device,
            args: self.clone(),
        }))
    }

    /// The `fine_tune` entry of the compression record.
    pub fn record(&self, admm: bool, admm_epochs: usize, rho: f64, stages: usize) -> serde_json::Value {
        if !self.trains() {
            return serde_json::Value::Null;
        }
        let mut v = serde_json::json!({
            "train": self.train.as_ref().map(|p| p.display().to_string()),
            "valid": self.valid.as_ref().map(|p| p.display().to_string()),
            "epochs": self.epochs,
            "lr": self.lr,
            "patience": self.patience,
            "seed": self.seed,
            "teachers": self.teacher.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        if !self.teacher.is_empty() {
            v["temperature"] = self.temperature.into();
            v["alpha"] = self.alpha.into();
        }
        if admm {
            v["admm"] = serde_json::json!({"stages": stages, "epochs": admm_epochs, "rho": rho});
        }
        v
    }
}

/// Which training a stage runs.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    /// ADMM epochs before stage `stage`'s cut: all of them, the last kept.
    Admm {
        /// Epochs.
        epochs: usize,
        /// Stage number.
        stage: usize,
    },
    /// Fine-tuning (masked retraining) with early stopping, the best epoch kept.
    Retrain {
        /// Stage number.
        stage: usize,
    },
}

/// Fine-tuning data and settings.
pub struct Tuner {
    train: ResidentDataset,
    valid: ResidentDataset,
    head: Head,
    teacher: Option<Teacher>,
    base: TrainConfig,
    device: Device,
    args: FineTune,
}

/// How fine-tuning ended: its epochs and the kept one.
pub struct Tuned {
    /// Every epoch's record.
    pub state: TrainState,
    /// The epoch whose weights were kept.
    pub kept_epoch: usize,
}

impl Tuner {
    /// Train `network` (of `spec`) for one phase with `hook`; returns the kept network.
    pub fn run(
        &self,
        spec: &ModelSpec,
        network: &Network,
        hook: Option<&dyn TrainingHook>,
        phase: Phase,
    ) -> Result<(Network, Tuned)> {
        let (epochs, keep, patience, name) = match phase {
            Phase::Admm { epochs, stage } => (epochs, Keep::Last, 0, format!("admm-{stage}")),
            Phase::Retrain { stage } => (self.args.epochs, Keep::Best, self.args.patience, format!("retrain-{stage}")),
        };
        let config = TrainConfig {
            epochs,
            lr: self.args.lr,
            keep,
            patience,
            plateau_patience: 0,
            seed: self.args.seed,
            ..self.base.clone()
        };
        let work = std::env::temp_dir().join(format!("gkd-compress-{}-{name}", std::process::id()));
        let trainer = Trainer {
            spec: spec.clone(),
            head: self.head,
            config,
            train: &self.train,
            valid: &self.valid,
            teacher: self.teacher.as_ref().map(|t| Teacher { logits: t.logits.clone(), distillation: t.distillation }),
            device: self.device.clone(),
            checkpoint_dir: work.clone(),
            record_steps: false,
            diverge_at_epoch: None,
            progress: self.args.progress,
            stop: None,
            hook,
            learner: None,
        };
        let initial = store::weights_to_safetensors(network)?;
        let result = trainer.run(false, Some((initial, PathBuf::from("the compressed network"))))?;
        if work.exists() {
            std::fs::remove_dir_all(&work).with_path(&work)?;
        }
        Ok((result.network, Tuned { state: result.state, kept_epoch: result.kept_epoch }))
    }
}

/// Validation loss, AUROC and AUPR of `network` on `valid`, computed as gkd-predict does.
fn metrics(spec: &ModelSpec, network: &Network, valid: &ResidentDataset, head: Head) -> (f64, f64, f64) {
    let device = Device::flex();
    let logits = Runner::new(spec, network, &device, EngineChoice::Auto).logits(valid.x.view(), 256);
    validation_metrics(head, &logits, &valid.y, &device)
}

/// Validation metrics of `network` on the --valid split (empty without one).
pub fn valid_metrics(
    spec: &ModelSpec,
    network: &Network,
    source: &LoadedModel,
    valid: Option<&Path>,
    output: &Path,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut out = serde_json::Map::new();
    if let Some(valid_path) = valid {
        let valid = Dataset::load(valid_path)?;
        source.check_fits(&valid, output)?;
        let head = gkd_nn::data::head_for(&valid)?;
        let valid = valid.into_resident()?;
        let (loss, auroc, aupr) = metrics(spec, network, &valid, head);
        for (k, v) in [("loss", loss), ("auroc", auroc), ("aupr", aupr)] {
            out.insert(k.into(), serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into));
        }
        log::info!("compressed model: validation AUROC {auroc:.4}, AUPR {aupr:.4}");
    }
    Ok(out)
}

/// The compressed model's model.json: the source's, with the new spec, parameter count,
/// outcome (fine-tuning epochs and validation metrics of the written weights) and the record of
/// what was done.
pub fn compressed_card(
    source: &LoadedModel,
    spec: ModelSpec,
    network: &Network,
    tuned: Option<&Tuned>,
    record: CompressionRecord,
    valid: serde_json::Map<String, serde_json::Value>,
    tool: &str,
) -> ModelCard {
    let outcome = match tuned {
        Some(t) => TrainingOutcome {
            epochs_run: t.state.epochs_done,
            best_epoch: t.kept_epoch,
            stopped_early: t.state.stopped_early,
            valid,
        },
        None => TrainingOutcome { epochs_run: 0, best_epoch: 0, stopped_early: false, valid },
    };
    log::info!(
        "{}: {} -> {} parameters ({:.2}x)",
        record.method,
        record.parameters_before,
        record.parameters_after,
        record.ratio
    );
    let mut provenance = source.card.provenance.clone();
    if let Some(map) = provenance.as_object_mut() {
        map.insert("compressed_from".into(), record.source.clone().into());
    }
    ModelCard {
        spec,
        parameters: trainable_params(network),
        outcome,
        compression: Some(record),
        provenance,
        tool: tool.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..source.card.clone()
    }
}

/// Write the compressed model directory: weights, model.json, the fine-tuning history and the
/// method's extra files.
#[allow(clippy::too_many_arguments)]
pub fn write(
    output: &Path,
    source: &LoadedModel,
    spec: ModelSpec,
    network: Network,
    tuned: Option<Tuned>,
    record: CompressionRecord,
    tune: &FineTune,
    extra: Vec<(&str, Vec<u8>)>,
    tool: &str,
) -> Result<()> {
    let valid = valid_metrics(&spec, &network, source, tune.valid.as_deref(), output)?;
    let card = compressed_card(source, spec, &network, tuned.as_ref(), record, valid, tool);
    store::write_network_dir(output, &card, &network, tuned.as_ref().map(|t| &t.state), &extra)
}
