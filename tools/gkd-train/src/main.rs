//! `gkd-train`: train a teacher or a student network on a dataset split, from scratch or
//! distilled from teachers' softened logits, into a model directory (docs/data-contracts.md).

use std::path::{Path, PathBuf};

use clap::Parser;
use gkd_cli::{Bar, CommonArgs, choice, run_main};
use gkd_engine::{EngineChoice, Runner};
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::DatasetKind;
use gkd_io::progress::Progress;
use gkd_nn::arch::{Arch, InputKind};
use gkd_nn::data::Dataset;
use gkd_nn::device::DeviceChoice;
use gkd_nn::init::InitScheme;
use gkd_nn::layers::{Activation, DropoutPlacement};
use gkd_nn::loss::Distillation;
use gkd_nn::model::{EarlyExit, ModelSpec};
use gkd_nn::norm::{NormSpec, RunningVariance};
use gkd_nn::recipe::Recipe;
use gkd_nn::store::{self, DistillationRecord};
use gkd_nn::train::{Keep, Monitor, Optimizer, StepRecord, Teacher, TrainConfig, Trainer};
use ndarray::Array2;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-train";

const EXAMPLES: &str = "\
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
struct Args {
    /// Architecture (docs/science.md §2).
    #[arg(long, value_parser = choice::<Arch>())]
    arch: Arch,
    /// Print the layers and parameter counts and exit (shape from --train, or --channels/--length/--classes).
    #[arg(long)]
    describe: bool,
    /// Training split (NAME.npz with NAME.json and NAME.rows.tsv beside it).
    #[arg(long, value_name = "NPZ", required_unless_present = "describe")]
    train: Option<PathBuf>,
    /// Validation split (early stopping, learning-rate plateau, reported metrics).
    #[arg(long, value_name = "NPZ", required_unless_present = "describe")]
    valid: Option<PathBuf>,
    /// Model directory to write (model.safetensors, model.json, history.tsv, timings.tsv).
    #[arg(short, long, value_name = "DIR", required_unless_present = "describe")]
    output: Option<PathBuf>,
    /// First-layer activation (Koo & Ploenzke: exponential gives more interpretable filters).
    #[arg(long, value_parser = choice::<Activation>(), default_value = "relu")]
    first_activation: Activation,
    /// Maximum epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Optimiser.
    #[arg(long, value_parser = choice::<Optimizer>(), default_value = "adam")]
    optimizer: Optimizer,
    /// Adam's epsilon [default: the architecture's source: 1e-7 (Keras) for the Koo CNNs, 1e-8 otherwise].
    #[arg(long)]
    adam_epsilon: Option<f64>,
    /// SGD momentum (with --optimizer sgd; 0 = plain SGD).
    #[arg(long, default_value_t = 0.0)]
    momentum: f64,
    /// L2 weight decay on every parameter (added to the gradients).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Penalty lambda * sum(w^2) on convolution and hidden dense kernels, added to the loss
    /// [default: the source's: 1e-6 for the Koo CNNs, 0 otherwise].
    #[arg(long)]
    kernel_l2: Option<f64>,
    /// Which epoch's weights become the model: the best validation epoch, or the last one run.
    #[arg(long, value_parser = choice::<Keep>(), default_value = "best")]
    keep: Keep,
    /// Turn every dropout layer off (ablations; step-for-step comparisons with another framework).
    #[arg(long)]
    no_dropout: bool,
    /// BatchNorm epsilon [default: the source's: 1e-3 (Keras) for the Koo CNNs].
    #[arg(long)]
    bn_epsilon: Option<f64>,
    /// BatchNorm momentum, PyTorch's convention (Keras momentum m is 1 - m here) [default: 0.01 for the Koo CNNs].
    #[arg(long)]
    bn_momentum: Option<f64>,
    /// Batch variance folded into the BatchNorm running variance [default: biased (Keras) for the Koo CNNs; PyTorch uses unbiased].
    #[arg(long, value_parser = choice::<RunningVariance>())]
    bn_running_variance: Option<RunningVariance>,
    /// Training defaults: the architecture's source's, or PyTorch's (PyTorch initialisation,
    /// BatchNorm momentum 0.1 / epsilon 1e-5 / unbiased running variance, no kernel L2, Adam
    /// epsilon 1e-8, dropout after each max-pool); the flags below override it.
    #[arg(long, value_parser = choice::<Recipe>(), default_value = "source")]
    recipe: Recipe,
    /// Weight initialisation [default: the source's: keras (he_normal kernels, glorot_uniform output, zero biases) for the Koo CNNs, torch otherwise].
    #[arg(long, value_parser = choice::<InitScheme>())]
    init: Option<InitScheme>,
    /// Where pooled convolution blocks apply dropout [default: the source's: before-pool for the Koo CNNs, after-pool for DeepChrome].
    #[arg(long, value_parser = choice::<DropoutPlacement>())]
    dropout_placement: Option<DropoutPlacement>,
    /// Add an early exit after this convolution block (0-based; global max + linear), trained
    /// with the network; gkd-predict --exit-threshold then skips the deeper blocks for rows whose
    /// exit is confident.
    #[arg(long, value_name = "BLOCK")]
    early_exit: Option<usize>,
    /// Weight of the early exit's loss (hard, plus the distillation loss with --teacher).
    #[arg(long, default_value_t = 1.0, requires = "early_exit")]
    exit_weight: f64,
    /// Start from these weights instead of random ones (model.safetensors of a model directory,
    /// or a PyTorch state_dict saved with safetensors in the same layout).
    #[arg(long, value_name = "SAFETENSORS")]
    init_weights: Option<PathBuf>,
    /// Write every optimiser step (epoch, step, lr, loss, hard and soft terms, batch rows) to this TSV.
    #[arg(long, value_name = "TSV")]
    step_log: Option<PathBuf>,
    /// Validation quantity for early stopping and the plateau rule.
    #[arg(long, value_parser = choice::<Monitor>(), default_value = "aupr")]
    monitor: Monitor,
    /// Stop after this many epochs without improvement (0 = never).
    #[arg(long, default_value_t = 20)]
    patience: usize,
    /// Lower the learning rate after this many epochs without improvement (0 = never).
    #[arg(long, default_value_t = 5)]
    plateau_patience: usize,
    /// Learning-rate factor on a plateau.
    #[arg(long, default_value_t = 0.2)]
    plateau_factor: f64,
    /// Smallest learning rate.
    #[arg(long, default_value_t = 1e-7)]
    min_lr: f64,
    /// Seed for initialisation, batch order and dropout (same seed → same weights on CPU).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Teacher model directory; repeat for an ensemble (logits averaged).
    #[arg(long, value_name = "DIR")]
    teacher: Vec<PathBuf>,
    /// Teacher predictions on the training rows (gkd-predict's TSV, or its NPZ); matched by id.
    #[arg(long, value_name = "FILE")]
    soft_targets: Vec<PathBuf>,
    /// Distillation temperature T.
    #[arg(long, default_value_t = 15.0)]
    temperature: f64,
    /// Weight of the hard loss; the soft loss gets 1 - alpha.
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    /// Continue from the newest checkpoint in OUTPUT.partial (after an interruption).
    #[arg(long)]
    resume: bool,
    /// Compute device.
    #[arg(long, value_parser = choice::<DeviceChoice>(), default_value = "cpu")]
    device: DeviceChoice,
    /// What trains and computes --teacher models' logits on the CPU: gkd's engine for the
    /// convolutional models (auto; burn for the recurrent and attention models, Path-SGD and
    /// early exits) or burn for everything.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    engine: EngineChoice,
    /// With --describe and no --train: input channels [default: 4 for DNA, 5 for histone].
    #[arg(long)]
    channels: Option<usize>,
    /// With --describe and no --train: input length [default: 200 for DNA, 100 for histone].
    #[arg(long)]
    length: Option<usize>,
    /// With --describe and no --train: number of classes.
    #[arg(long, default_value_t = 1)]
    classes: usize,
    #[command(flatten)]
    common: CommonArgs,
}

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
    check_settings(args)?;
    if output.is_file() {
        return Err(Error::usage(format!("--output {} is a file; expected a directory path", output.display())));
    }
    let device = args.device.device()?;

    let (train, valid) = (Dataset::load(train_path)?, Dataset::load(valid_path)?);
    let spec = spec_for(args, &train)?;
    valid.check_compatible_with(&train)?;
    // Training revisits every row each epoch: both splits are read into memory.
    let (train, valid) = (train.into_resident()?, valid.into_resident()?);
    let head = gkd_nn::data::head_for(&train)?;
    if train.is_empty() || valid.is_empty() {
        return Err(Error::in_file(if train.is_empty() { train_path } else { valid_path }, "has no rows"));
    }
    let monitor = args.monitor;
    if monitor != Monitor::Loss && !has_both_classes(&valid.y) {
        return Err(Error::in_file(
            valid_path,
            "has no class with both positive and negative rows, so validation AUROC/AUPR are undefined; use --monitor loss",
        ));
    }
    let distillation = Distillation { temperature: args.temperature, alpha: args.alpha };
    // Teacher logits as gkd-predict computes them (the CPU engine where it applies).
    let logits_of = |model: &store::LoadedModel, data: &Dataset, progress: &dyn Progress| {
        Runner::new(&model.card.spec, &model.network, &device, args.engine).dataset_logits(data, 256, progress)
    };
    let teacher =
        gkd_nn::teacher::teacher_logits(&args.teacher, &args.soft_targets, &train, &device, &logits_of, &Bar::new())?
            .map(|logits| Teacher { logits, distillation });

    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        optimizer: args.optimizer,
        adam_epsilon: args.adam_epsilon.unwrap_or(args.arch.adam_epsilon()),
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        kernel_l2: args.kernel_l2.unwrap_or(args.arch.kernel_l2()),
        dropout: !args.no_dropout,
        keep: args.keep,
        monitor,
        patience: args.patience,
        plateau_patience: args.plateau_patience,
        plateau_factor: args.plateau_factor,
        min_lr: args.min_lr,
        seed: args.seed,
    };
    // Initial weights are read and checked (names, shapes, finite values) before the work
    // directory exists, so a bad file leaves nothing behind.
    let initial = match &args.init_weights {
        Some(path) => {
            let bytes = std::fs::read(path).with_path(path)?;
            let network = spec.build(&device).map_err(|e| Error::usage(e.0))?;
            store::weights_from_safetensors(network, bytes.clone(), path)?;
            Some((bytes, path.clone()))
        }
        None => None,
    };
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
        let mut log = String::from(StepRecord::HEADER);
        log.push('\n');
        for step in &result.steps {
            log += &step.tsv_line();
            log.push('\n');
        }
        gkd_io::atomic::write_file(path, log.as_bytes())?;
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

fn check_settings(args: &Args) -> Result<()> {
    let checks = [
        (args.epochs >= 1, "--epochs must be at least 1"),
        (args.batch_size >= 1, "--batch-size must be at least 1"),
        (args.lr > 0.0 && args.lr.is_finite(), "--lr must be a positive number"),
        (args.weight_decay >= 0.0, "--weight-decay must not be negative"),
        (args.adam_epsilon.is_none_or(|e| e > 0.0 && e.is_finite()), "--adam-epsilon must be a positive number"),
        ((0.0..1.0).contains(&args.momentum), "--momentum must be in [0, 1)"),
        (args.kernel_l2.is_none_or(|l| l >= 0.0 && l.is_finite()), "--kernel-l2 must not be negative"),
        (args.bn_epsilon.is_none_or(|e| e > 0.0 && e.is_finite()), "--bn-epsilon must be a positive number"),
        (args.bn_momentum.is_none_or(|m| (0.0..=1.0).contains(&m)), "--bn-momentum must be in [0, 1]"),
        (args.temperature > 0.0 && args.temperature.is_finite(), "--temperature must be a positive number"),
        ((0.0..=1.0).contains(&args.alpha), "--alpha must be between 0 and 1"),
        (args.plateau_factor > 0.0 && args.plateau_factor <= 1.0, "--plateau-factor must be in (0, 1]"),
        (args.exit_weight >= 0.0 && args.exit_weight.is_finite(), "--exit-weight must not be negative"),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, message)) => Err(Error::usage(*message)),
        None => Ok(()),
    }
}

fn has_both_classes(y: &Array2<f32>) -> bool {
    y.columns().into_iter().any(|c| c.iter().any(|&v| v > 0.5) && c.iter().any(|&v| v <= 0.5))
}
