//! `gkd-train`: train a teacher or a student network on a dataset split, from scratch or
//! distilled from teachers' softened logits, into a model directory (docs/data-contracts.md).

mod args;

use args::*;

use std::path::Path;

use clap::Parser;
use gkd_cli::{Bar, run_main};
use gkd_engine::{EngineChoice, Runner};
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::DatasetKind;
use gkd_io::progress::Progress;
use gkd_nn::arch::InputKind;
use gkd_nn::data::{Dataset, ResidentDataset};
use gkd_nn::loss::{Distillation, Head};
use gkd_nn::model::{EarlyExit, ModelSpec};
use gkd_nn::norm::NormSpec;
use gkd_nn::store::{self, DistillationRecord};
use gkd_nn::train::{Monitor, StepRecord, Teacher, TrainConfig, Trainer};
use ndarray::Array2;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-train";

fn main() {
    let args = Args::parse().with_recipe();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        if args.describe { describe(&args) } else { train(&args) }
    })
}

fn describe(args: &Args) -> Result<()> {
    let arch = args.arch;
    let spec = match &args.train {
        Some(path) => {
            let data = Dataset::load(path)?;
            spec_for(args, &data)?
        }
        None => {
            let (c, l) = match arch.input_kind() {
                InputKind::Sequence => (4, 200),
                InputKind::Histone => (5, 100),
            };
            with_spec_flags(
                ModelSpec::new(
                    arch,
                    args.channels.unwrap_or(c),
                    args.length.unwrap_or(l),
                    args.classes,
                    args.first_activation,
                ),
                args,
            )
        }
    };
    print!("{}", spec.describe().map_err(|e| Error::usage(e.0))?);
    Ok(())
}

impl Args {
    /// The training loop's settings from the flags (the architecture's defaults where a flag is
    /// not given).
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            optimizer: self.optimizer,
            adam_epsilon: self.adam_epsilon.unwrap_or(self.arch.adam_epsilon()),
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            kernel_l2: self.kernel_l2.unwrap_or(self.arch.kernel_l2()),
            dropout: !self.no_dropout,
            keep: self.keep,
            monitor: self.monitor,
            patience: self.patience,
            plateau_patience: self.plateau_patience,
            plateau_factor: self.plateau_factor,
            min_lr: self.min_lr,
            seed: self.seed,
        }
    }

    /// Fill the settings not given explicitly from --recipe.
    fn with_recipe(mut self) -> Self {
        let r = self.recipe.settings();
        self.init = self.init.or(r.init);
        self.dropout_placement = self.dropout_placement.or(r.dropout_placement);
        self.kernel_l2 = self.kernel_l2.or(r.kernel_l2);
        self.adam_epsilon = self.adam_epsilon.or(r.adam_epsilon);
        if let Some(norm) = r.batch_norm {
            self.bn_epsilon = self.bn_epsilon.or(Some(norm.epsilon));
            self.bn_momentum = self.bn_momentum.or(Some(norm.momentum));
            self.bn_running_variance = self.bn_running_variance.or(Some(norm.running_variance));
        }
        self
    }
}

/// The architecture's spec with the --bn-*, --init, --dropout-placement and --early-exit flags applied.
fn with_spec_flags(mut spec: ModelSpec, args: &Args) -> ModelSpec {
    spec.early_exit = args.early_exit.map(|after| EarlyExit { after, weight: args.exit_weight });
    let NormSpec { epsilon, momentum, running_variance } = spec.batch_norm;
    spec.batch_norm = NormSpec {
        epsilon: args.bn_epsilon.unwrap_or(epsilon),
        momentum: args.bn_momentum.unwrap_or(momentum),
        running_variance: args.bn_running_variance.unwrap_or(running_variance),
    };
    spec.init = args.init;
    spec.dropout_placement = args.dropout_placement;
    spec
}

/// The model spec for an architecture on a dataset, or a clear error when they do not fit.
fn spec_for(args: &Args, data: &Dataset) -> Result<ModelSpec> {
    let (arch, first) = (args.arch, args.first_activation);
    let wanted = match arch.input_kind() {
        InputKind::Sequence => DatasetKind::Sequence,
        InputKind::Histone => DatasetKind::Histone,
    };
    if data.kind() != wanted {
        return Err(Error::in_file(
            &data.path,
            format!("holds {} data but {} reads {} data", data.kind().name(), arch.name(), wanted.name()),
        ));
    }
    let spec = with_spec_flags(ModelSpec::new(arch, data.channels(), data.length(), data.y.ncols(), first), args);
    spec.layers().map_err(|e| Error::in_file(&data.path, format!("does not fit the architecture: {}", e.0)))?;
    Ok(spec)
}

fn train(args: &Args) -> Result<()> {
    let (train_path, valid_path, output) = (
        args.train.as_deref().expect("required"),
        args.valid.as_deref().expect("required"),
        args.output.as_deref().expect("required"),
    );
    args.check_settings()?;
    if output.is_file() {
        return Err(Error::usage(format!("--output {} is a file; expected a directory path", output.display())));
    }
    let device = args.device.device()?;

    let (train, valid, spec, head) = load_splits(args, train_path, valid_path)?;
    let distillation = Distillation { temperature: args.temperature, alpha: args.alpha };
    // Teacher logits as gkd-predict computes them (the CPU engine where it applies).
    let logits_of = |model: &store::LoadedModel, data: &Dataset, progress: &dyn Progress| {
        Runner::new(&model.card.spec, &model.network, &device, args.engine).dataset_logits(data, 256, progress)
    };
    let teacher =
        gkd_nn::teacher::teacher_logits(&args.teacher, &args.soft_targets, &train, &device, &logits_of, &Bar::new())?
            .map(|logits| Teacher { logits, distillation });

    let config = args.train_config();
    let initial = initial_weights(args, &spec, &device)?;
    let work = gkd_io::atomic::sibling(output, "partial");
    let _lock = lock_work_dir(&work, output)?;
    log::info!(
        "training {} ({} parameters) on {} rows, validating on {} rows{}",
        spec.arch.name(),
        spec.build(&device).map(|n| gkd_nn::model::trainable_params(&n)).unwrap_or(0),
        train.len(),
        valid.len(),
        if teacher.is_some() {
            format!(", distilled at T = {}, alpha = {}", args.temperature, args.alpha)
        } else {
            String::new()
        }
    );
    let on_cpu = !device.is_autodiff() && device == burn::tensor::Device::flex();
    let engine_trainer = (args.engine == EngineChoice::Auto && on_cpu).then_some(gkd_engine::EngineTrainer);
    let trainer = Trainer {
        spec: spec.clone(),
        head,
        config: config.clone(),
        train: &train,
        valid: &valid,
        teacher,
        device,
        checkpoint_dir: work.join("checkpoint"),
        record_steps: args.step_log.is_some(),
        diverge_at_epoch: None,
        progress: &Bar::new(),
        // SIGTERM (a scheduler's time limit) or Ctrl-C: finish the batch, checkpoint, exit.
        stop: Some(gkd_cli::graceful_stop()),
        hook: None,
        learner: engine_trainer.as_ref().map(|t| t as &dyn gkd_nn::learner::LearnerFactory),
    };
    let result = trainer.run(args.resume, initial)?;
    let distilled = !args.teacher.is_empty() || !args.soft_targets.is_empty();
    let record = distilled.then(|| DistillationRecord {
        loss: distillation,
        teachers: args.teacher.iter().map(|p| p.display().to_string()).collect(),
        soft_targets: args.soft_targets.iter().map(|p| p.display().to_string()).collect(),
    });
    store::write_model_dir(output, &store::card_for(&trainer, &result, record, TOOL), &result)?;
    if let Some(path) = &args.step_log {
        write_step_log(path, &result.steps)?;
    }
    std::fs::remove_dir_all(&work).with_path(&work)?;
    let (state, kept_epoch) = (&result.state, result.kept_epoch);
    let best = &state.history[kept_epoch.max(1) - 1];
    log::info!(
        "kept epoch {} of {} (validation AUROC {:.4}, AUPR {:.4}) in {}",
        kept_epoch,
        state.epochs_done,
        best.valid_auroc,
        best.valid_aupr,
        output.display()
    );
    Ok(())
}

/// Both splits, read into memory (training revisits every row each epoch), with the model's
/// spec and head; errors for empty or incompatible splits and for validation metrics that are
/// undefined on the validation split.
fn load_splits(
    args: &Args,
    train_path: &Path,
    valid_path: &Path,
) -> Result<(ResidentDataset, ResidentDataset, ModelSpec, Head)> {
    let (train, valid) = (Dataset::load(train_path)?, Dataset::load(valid_path)?);
    let spec = spec_for(args, &train)?;
    valid.check_compatible_with(&train)?;
    // Training revisits every row each epoch: both splits are read into memory.
    let (train, valid) = (train.into_resident()?, valid.into_resident()?);
    let head = gkd_nn::data::head_for(&train)?;
    if train.is_empty() || valid.is_empty() {
        return Err(Error::in_file(if train.is_empty() { train_path } else { valid_path }, "has no rows"));
    }
    if args.monitor != Monitor::Loss && !has_both_classes(&valid.y) {
        return Err(Error::in_file(
            valid_path,
            "has no class with both positive and negative rows, so validation AUROC/AUPR are undefined; use --monitor loss",
        ));
    }
    Ok((train, valid, spec, head))
}

/// Initial weights (`--init-weights`), read and checked (names, shapes, finite values) before
/// the work directory exists, so a bad file leaves nothing behind.
fn initial_weights(
    args: &Args,
    spec: &ModelSpec,
    device: &burn::tensor::Device,
) -> Result<Option<(Vec<u8>, std::path::PathBuf)>> {
    let Some(path) = &args.init_weights else { return Ok(None) };
    let bytes = std::fs::read(path).with_path(path)?;
    let network = spec.build(device).map_err(|e| Error::usage(e.0))?;
    store::weights_from_safetensors(network, bytes.clone(), path)?;
    Ok(Some((bytes, path.clone())))
}

/// `--step-log`: every optimiser step's record as a TSV.
fn write_step_log(path: &Path, steps: &[StepRecord]) -> Result<()> {
    let mut log = String::from(StepRecord::HEADER);
    log.push('\n');
    for step in steps {
        log += &step.tsv_line();
        log.push('\n');
    }
    gkd_io::atomic::write_file(path, log.as_bytes())
}

/// Hold an exclusive lock on `WORK/lock` for the whole run, so that two runs writing the same
/// model directory (say, two workflow jobs) cannot clobber each other's checkpoints.
fn lock_work_dir(work: &Path, output: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(work).with_path(work)?;
    let path = work.join("lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).with_path(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::runtime(format!(
            "another gkd-train is already writing {} (lock {} is held)",
            output.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

fn has_both_classes(y: &Array2<f32>) -> bool {
    y.columns().into_iter().any(|c| c.iter().any(|&v| v > 0.5) && c.iter().any(|&v| v <= 0.5))
}
