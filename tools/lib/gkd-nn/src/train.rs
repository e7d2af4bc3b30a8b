//! The training loop: Adam with L2 weight decay, mini-batches in a seeded order, optional
//! distillation from teacher logits, validation AUROC/AUPR after every epoch, learning-rate
//! reduction on plateau, early stopping that keeps the best epoch's weights, and a checkpoint
//! after every epoch from which `--resume` continues to the same final weights.
//!
//! The kept network is a copy with its own BatchNorm running statistics (`valid()`): burn's
//! `Module::clone` shares them between copies, so a cloned "best" network would carry the
//! statistics of whatever epoch ran last.
//!
//! Determinism: the row order of epoch e is a ChaCha permutation of (seed, e) and the back end's
//! RNG and the dropout-mask stream are reseeded from (seed, e) at the start of each epoch, so an epoch's work
//! depends only on the checkpoint it starts from.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor};
use gkd_genomics::rng::SeededRng;
use gkd_io::atomic::{StagedDir, write_file};
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::progress::{Progress, Silent};
use gkd_io::stop::{StopRequest, signal_name};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::{ResidentDataset, gather2, gather3};
use crate::layers::DropoutStream;
use crate::learner::{Batch, BatchLearner, BatchLosses, Diverged, LearnerFactory, OPTIMIZER_FILE};
use crate::loss::{Distillation, Head, hard_loss, training_loss};
use crate::model::{ModelSpec, Network};
use crate::predict;

crate::setting::setting_enum! {
/// What early stopping and the plateau rule watch on the validation split.
pub enum Monitor {
    /// Macro-averaged average precision (higher is better).
    Aupr,
    /// Macro-averaged AUROC (higher is better).
    Auroc,
    /// Hard loss (lower is better).
    Loss,
}
}

crate::setting::setting_enum! {
/// The optimiser.
pub enum Optimizer {
    /// Adam (β = 0.9, 0.999; ε as `adam_epsilon`), as `torch.optim.Adam`.
    Adam,
    /// Stochastic gradient descent, with `momentum` as `torch.optim.SGD` (no dampening).
    Sgd,
    /// Path-SGD (Neyshabur et al. 2015): SGD with each weight's step divided by its path-norm
    /// scale (crate::path_sgd), for the feed-forward convolutional architectures.
    PathSgd,
}
}

/// What a compression method adds to training (gkd-compress): a penalty on the weights added to
/// the loss, a projection after every optimiser step, and an update after every epoch.
pub trait TrainingHook {
    /// A term added to every batch's objective (computed on the training network).
    fn penalty(&self, _network: &Network) -> Option<Tensor<1>> {
        None
    }
    /// The network after an optimiser step (say, with pruned weights set back to zero).
    fn after_step(&self, network: Network) -> Network {
        network
    }
    /// Called after each epoch's pass over the training rows, before validation.
    fn after_epoch(&self, _network: &Network) {}
}

crate::setting::setting_enum! {
/// Which epoch's weights become the model.
pub enum Keep {
    /// The epoch with the best monitored validation score.
    Best,
    /// The last epoch run (Keras's `EarlyStopping(restore_best_weights=False)`, as in the Koo
    /// lab's scripts).
    Last,
}
}

/// Training settings (recorded in model.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Maximum epochs.
    pub epochs: usize,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// The optimiser.
    pub optimizer: Optimizer,
    /// Adam's ε (added to √v̂, PyTorch's placement).
    pub adam_epsilon: f64,
    /// SGD momentum (0 = plain SGD).
    pub momentum: f64,
    /// L2 penalty added to the gradients of every parameter (coupled weight decay).
    pub weight_decay: f64,
    /// Penalty λ·Σw² on convolution and hidden dense kernels added to the loss (Keras `l2(λ)`).
    pub kernel_l2: f64,
    /// Whether dropout layers are active (`false` = every dropout probability 0).
    pub dropout: bool,
    /// Which epoch's weights are kept.
    pub keep: Keep,
    /// What to watch.
    pub monitor: Monitor,
    /// Stop after this many epochs without improvement (0 = never).
    pub patience: usize,
    /// Multiply the learning rate by `plateau_factor` after this many epochs without
    /// improvement (0 = never).
    pub plateau_patience: usize,
    /// Learning-rate factor on plateau.
    pub plateau_factor: f64,
    /// Lower bound of the learning rate.
    pub min_lr: f64,
    /// Seed of initialisation, batch order and dropout.
    pub seed: u64,
}

/// Teacher logits for every training row, in training-row order, with the loss settings.
pub struct Teacher {
    /// (N_train, K) logits (averaged over an ensemble).
    pub logits: Array2<f32>,
    /// Temperature and α.
    pub distillation: Distillation,
}

/// JSON has no NaN: non-finite numbers are written as `null` and read back as NaN.
mod nullable {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_some(v) } else { s.serialize_none() }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    /// The same for the three loss sums of a partial epoch (the soft one is NaN without a teacher).
    pub mod sums {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[f64; 3], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|x| x.is_finite().then_some(*x)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 3], D::Error> {
            Ok(<[Option<f64>; 3]>::deserialize(d)?.map(|x| x.unwrap_or(f64::NAN)))
        }
    }
}

/// One epoch of history.tsv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Mean training loss (what was minimised).
    #[serde(with = "nullable")]
    pub train_loss: f64,
    /// Mean hard term.
    #[serde(with = "nullable")]
    pub train_hard: f64,
    /// Mean soft term (without T²); NaN without distillation.
    #[serde(with = "nullable")]
    pub train_soft: f64,
    /// Validation hard loss.
    #[serde(with = "nullable")]
    pub valid_loss: f64,
    /// Validation macro AUROC (NaN when undefined).
    #[serde(with = "nullable")]
    pub valid_auroc: f64,
    /// Validation macro AUPR (NaN when undefined).
    #[serde(with = "nullable")]
    pub valid_aupr: f64,
}

impl EpochRecord {
    /// Header line of history.tsv.
    pub const HEADER: &'static str =
        "epoch\tlr\ttrain_loss\ttrain_hard\ttrain_soft\tvalid_loss\tvalid_auroc\tvalid_aupr";

    /// One line of history.tsv.
    pub fn tsv_line(&self) -> String {
        let f = |v: f64| if v.is_nan() { "NA".to_owned() } else { format!("{v:.6}") };
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.epoch,
            self.lr,
            f(self.train_loss),
            f(self.train_hard),
            f(self.train_soft),
            f(self.valid_loss),
            f(self.valid_auroc),
            f(self.valid_aupr)
        )
    }

    fn score(&self, monitor: Monitor) -> f64 {
        match monitor {
            Monitor::Aupr => self.valid_aupr,
            Monitor::Auroc => self.valid_auroc,
            Monitor::Loss => -self.valid_loss,
        }
    }
}

/// Progress of training between epochs: what a checkpoint stores besides the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// The architecture (resuming into another one is refused).
    pub spec: ModelSpec,
    /// The settings the run started with (resuming with others is refused, except `epochs`).
    pub config: TrainConfig,
    /// Training rows (a different dataset is refused).
    pub train_rows: usize,
    /// Whether the loss had a distillation term.
    pub distilled: bool,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Current learning rate.
    pub lr: f64,
    /// Best monitored score so far (higher is better); `None` before the first epoch.
    pub best_score: Option<f64>,
    /// Epoch of the best score (0 = none yet).
    pub best_epoch: usize,
    /// Epochs since the best score.
    pub since_best: usize,
    /// Epochs since the last improvement or learning-rate change.
    pub since_plateau: usize,
    /// Whether early stopping has triggered.
    pub stopped_early: bool,
    /// History so far.
    pub history: Vec<EpochRecord>,
    /// Seconds per epoch (kept apart from history: timings are not reproducible).
    pub seconds: Vec<f64>,
    /// The back end that trains (`burn`, or a [`LearnerFactory`]'s name): a run resumes on the
    /// back end it started on.
    #[serde(default = "burn_backend")]
    pub backend: String,
    /// The epoch under way when training was stopped between two of its batches (a checkpoint
    /// taken within an epoch); `None` at an epoch boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialEpoch>,
}

impl TrainState {
    /// The bookkeeping after an epoch scored `score`: a better score becomes the best (and resets
    /// the patience counters); otherwise the plateau schedule may lower the learning rate and
    /// the patience may stop the run. Returns whether the epoch is the new best.
    fn after_epoch(&mut self, score: f64, config: &TrainConfig) -> bool {
        if self.best_score.is_none_or(|best| score > best) {
            self.best_score = Some(score);
            self.best_epoch = self.epochs_done;
            self.since_best = 0;
            self.since_plateau = 0;
            return true;
        }
        self.since_best += 1;
        self.since_plateau += 1;
        if config.plateau_patience > 0 && self.since_plateau >= config.plateau_patience {
            let lowered = (self.lr * config.plateau_factor).max(config.min_lr);
            if lowered < self.lr {
                log::info!("validation plateau: learning rate {} -> {lowered}", self.lr);
                self.lr = lowered;
            }
            self.since_plateau = 0;
        }
        if config.patience > 0 && self.since_best >= config.patience {
            log::info!("early stop: no improvement for {} epochs (best epoch {})", self.since_best, self.best_epoch);
            self.stopped_early = true;
        }
        false
    }
}

fn burn_backend() -> String {
    BURN.to_owned()
}

/// The name of burn's autodiff back end in [`TrainState::backend`].
pub const BURN: &str = "burn";

/// The file of burn's optimiser state in a checkpoint.
const BURN_OPTIMIZER_FILE: &str = "optim.bpk";

/// The network being trained, on burn's autodiff or on a [`BatchLearner`] (one per run: the
/// variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Model {
    /// burn: the network on the autodiff device and its optimiser.
    Burn(Network, ModuleOptimizer),
    /// Another back end.
    Learner(Box<dyn BatchLearner>),
}

impl Model {
    /// The current weights as a network (the training network itself on burn).
    fn network(&self, device: &Device) -> Result<Network> {
        match self {
            Model::Burn(network, _) => Ok(network.clone()),
            Model::Learner(learner) => learner.network(device),
        }
    }

    fn dropout_stream(&self) -> Option<&DropoutStream> {
        match self {
            Model::Burn(network, _) => network.dropout_stream(),
            Model::Learner(learner) => Some(learner.dropout_stream()),
        }
    }
}

/// How far into an epoch training was when it stopped: enough to continue it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialEpoch {
    /// Mini-batches of the epoch already trained.
    pub batches_done: usize,
    /// Their summed losses (total, hard, soft), each weighted by its batch's rows.
    #[serde(with = "nullable::sums")]
    pub sums: [f64; 3],
    /// Position of the dropout mask stream (32-bit words into the epoch's stream).
    pub dropout_position: u128,
    /// Seconds spent on the epoch so far.
    pub seconds: f64,
}

/// How an epoch ended.
enum EpochEnd {
    /// Every batch trained: the mean losses (total, hard, soft).
    Done([f64; 3]),
    /// Stopped between batches on request.
    Stopped(PartialEpoch, i32),
}

/// One optimiser step (gkd-train `--step-log`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the run.
    pub step: usize,
    /// Learning rate of the step.
    pub lr: f64,
    /// Loss minimised by the step (before the update), kernel penalty included.
    pub loss: f64,
    /// Hard term.
    pub hard: f64,
    /// Soft term (without T²); NaN without distillation.
    pub soft: f64,
    /// Training rows of the batch (0-based, in batch order).
    pub rows: Vec<usize>,
}

impl StepRecord {
    /// Header line of a step log.
    pub const HEADER: &'static str = "epoch\tstep\tlr\tloss\thard\tsoft\trows";

    /// One line of a step log (losses in exponent form with 9 decimals, rows comma-separated).
    pub fn tsv_line(&self) -> String {
        let f = |v: f64| if v.is_nan() { "NA".to_owned() } else { format!("{v:.9e}") };
        let rows: Vec<String> = self.rows.iter().map(usize::to_string).collect();
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.epoch,
            self.step,
            self.lr,
            f(self.loss),
            f(self.hard),
            f(self.soft),
            rows.join(",")
        )
    }
}

/// The end of training.
pub struct TrainResult {
    /// The best epoch's network, in evaluation mode on the plain device.
    pub network: Network,
    /// The final training state.
    pub state: TrainState,
    /// The epoch whose weights `network` holds (1-based): the best or the last, as `keep` says.
    pub kept_epoch: usize,
    /// Every optimiser step this run made when `record_steps` (not those before a `--resume`).
    pub steps: Vec<StepRecord>,
}

/// Directory layout of checkpoints under a work directory.
struct Checkpoints {
    dir: PathBuf,
}

impl Checkpoints {
    fn latest_file(&self) -> PathBuf {
        self.dir.join("latest")
    }

    fn dir_for(&self, state: &TrainState) -> PathBuf {
        match &state.partial {
            None => self.dir.join(format!("epoch-{:04}", state.epochs_done)),
            Some(p) => self.dir.join(format!("epoch-{:04}-batch-{:06}", state.epochs_done, p.batches_done)),
        }
    }

    /// The newest complete checkpoint, if any.
    fn latest(&self) -> Result<Option<PathBuf>> {
        let path = self.latest_file();
        if !path.exists() {
            return Ok(None);
        }
        let name = std::fs::read_to_string(&path).with_path(&path)?;
        let dir = self.dir.join(name.trim());
        if !dir.join("state.json").exists() {
            return Err(Error::in_file(
                &path,
                format!("points to {} which is not a complete checkpoint", dir.display()),
            ));
        }
        Ok(Some(dir))
    }

    /// What is left for --resume, for messages when training stops on an error.
    fn kept_message(&self) -> Result<String> {
        Ok(match self.latest()? {
            Some(dir) => format!("the last good checkpoint ({}) is kept for --resume", dir.display()),
            None => "no epoch had completed, so there is no checkpoint".to_owned(),
        })
    }

    /// Write a complete checkpoint directory, then point `latest` at it, then drop older ones:
    /// `network` (the model's current weights, as [`Model::network`] gives them), the kept
    /// `best` (`None` only within the first epoch) and the model's optimiser state.
    fn save(&self, state: &TrainState, network: &Network, model: &Model, best: Option<&Network>) -> Result<()> {
        let final_dir = self.dir_for(state);
        // A checkpoint is what --resume and the model directory come from: never one of weights
        // that every later tool would refuse.
        if let Some(bad) = crate::finite::non_finite_weight(network)? {
            return Err(Error::runtime(format!(
                "training produced non-finite weights ({bad}) by {}; stopped without writing it, and {}. Try a lower --lr",
                final_dir.file_name().unwrap_or_default().to_string_lossy(),
                self.kept_message()?
            )));
        }
        // burn's RunningState holds a batch's BatchNorm update apart until the statistics are
        // read; `valid()` folds it in (at an epoch's end validation has done so already).
        let _ = network.valid();
        let staged = StagedDir::create(&final_dir, "tmp")?;
        let staging = staged.path();
        let record_error =
            |what: &str, e: &dyn std::fmt::Display| Error::runtime(format!("cannot write checkpoint {what}: {e}"));
        network.clone().save_file(staging.join("model.bpk")).map_err(|e| record_error("model", &e))?;
        if let Some(best) = best {
            best.clone().save_file(staging.join("best.bpk")).map_err(|e| record_error("best model", &e))?;
        }
        match model {
            Model::Burn(_, optim) => {
                optim.save(staging.join(BURN_OPTIMIZER_FILE)).map_err(|e| record_error("optimizer", &e))?
            }
            Model::Learner(learner) => learner.save_optimizer(&staging.join(OPTIMIZER_FILE))?,
        }
        staged.write("state.json", serde_json::to_string_pretty(state).expect("state serialises").as_bytes())?;
        staged.commit()?;
        let name = final_dir.file_name().expect("epoch dir has a name").to_string_lossy().into_owned();
        write_file(self.latest_file(), name.as_bytes())?;
        for entry in std::fs::read_dir(&self.dir).with_path(&self.dir)? {
            let path = entry.with_path(&self.dir)?.path();
            if path.is_dir() && path != final_dir {
                std::fs::remove_dir_all(&path).with_path(&path)?;
            }
        }
        Ok(())
    }
}

/// Everything one training run needs.
pub struct Trainer<'a> {
    /// Architecture and sizes.
    pub spec: ModelSpec,
    /// Output head.
    pub head: Head,
    /// Settings.
    pub config: TrainConfig,
    /// Training split.
    pub train: &'a ResidentDataset,
    /// Validation split.
    pub valid: &'a ResidentDataset,
    /// Teacher logits for distillation.
    pub teacher: Option<Teacher>,
    /// Plain compute device (autodiff is added for training).
    pub device: Device,
    /// Where checkpoints live while training.
    pub checkpoint_dir: PathBuf,
    /// Keep a [`StepRecord`] of every optimiser step (for `--step-log`; off, nothing is kept).
    pub record_steps: bool,
    /// A fault a test injects: from this epoch on, every batch's loss is taken as NaN (`None`
    /// in real runs).
    pub diverge_at_epoch: Option<usize>,
    /// Where each epoch's progress goes.
    pub progress: &'a dyn Progress,
    /// A request to stop (SIGTERM from a scheduler): training stops after the current batch,
    /// writes a checkpoint and returns [`Error::Interrupted`]; `--resume` continues exactly.
    pub stop: Option<&'a StopRequest>,
    /// A compression method's additions to training (`None` for plain training).
    pub hook: Option<&'a dyn TrainingHook>,
    /// A faster back end for the models it trains (gkd-engine on the CPU); burn trains the
    /// others, and every model when `None`.
    pub learner: Option<&'a dyn LearnerFactory>,
}

/// The error of a run stopped on request, naming what was kept.
fn stopped(signal: i32, epoch: usize, batch: Option<usize>, checkpoints: &Checkpoints) -> Error {
    let place = match batch {
        Some(b) => format!("after batch {b} of epoch {epoch}"),
        None => format!("after epoch {epoch}"),
    };
    let kept = checkpoints.latest().ok().flatten().map(|d| d.display().to_string()).unwrap_or_default();
    Error::interrupted(
        signal,
        format!(
            "stopped by {} {place}; checkpoint {kept} written, run again with --resume to continue",
            signal_name(signal)
        ),
    )
}

/// A 64-bit mix of the seed and an epoch (SplitMix64 finaliser) for reseeding the back end.
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Trainer<'_> {
    fn optimizer(&self) -> ModuleOptimizer {
        let decay = (self.config.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.config.weight_decay as f32));
        match self.config.optimizer {
            Optimizer::Adam => {
                AdamConfig::new().with_epsilon(self.config.adam_epsilon as f32).with_weight_decay(decay).init()
            }
            Optimizer::Sgd | Optimizer::PathSgd => {
                let momentum = (self.config.momentum > 0.0)
                    .then(|| MomentumConfig::new().with_momentum(self.config.momentum).with_dampening(0.0));
                SgdConfig::new().with_weight_decay(decay).with_momentum(momentum).init()
            }
        }
    }

    /// A freshly initialised network on `device` (with dropout as configured).
    fn fresh_network(&self, device: &Device) -> Result<Network> {
        self.spec.build_with(device, self.config.dropout).map_err(|e| Error::usage(e.0))
    }

    /// The state before the first epoch.
    fn fresh_state(&self) -> TrainState {
        TrainState {
            spec: self.spec.clone(),
            config: self.config.clone(),
            train_rows: self.train.len(),
            distilled: self.teacher.is_some(),
            epochs_done: 0,
            lr: self.config.lr,
            best_score: None,
            best_epoch: 0,
            since_best: 0,
            since_plateau: 0,
            stopped_early: false,
            history: Vec::new(),
            seconds: Vec::new(),
            backend: BURN.to_owned(),
            partial: None,
        }
    }

    /// The back end that trains this run and its learner, or `None` for burn (the reason
    /// logged).
    fn choose_learner(&self, network: &Network) -> Option<(&'static str, Box<dyn BatchLearner>)> {
        let factory = self.learner?;
        let why_not = if self.hook.is_some() {
            Err("a compression method's training additions run on burn".to_owned())
        } else if self.config.optimizer == Optimizer::PathSgd {
            Err("Path-SGD runs on burn".to_owned())
        } else {
            factory.learner(&self.spec, &self.config, self.head, network)
        };
        match why_not {
            Ok(learner) => {
                log::info!("training on {}", factory.name());
                Some((factory.name(), learner))
            }
            Err(reason) => {
                log::info!("training on burn: {reason}");
                None
            }
        }
    }

    /// A checkpoint's model on `backend`: `network` (on the autodiff device) with the optimiser
    /// state read from checkpoint directory `dir`.
    fn model_from(&self, network: Network, backend: &str, dir: &Path) -> Result<Model> {
        if backend == BURN {
            let path = dir.join(BURN_OPTIMIZER_FILE);
            let optimizer = self
                .optimizer()
                .load(&path)
                .map_err(|e| Error::in_file(&path, format!("cannot read optimizer state: {e}")))?;
            return Ok(Model::Burn(network, optimizer));
        }
        let factory = self.learner.filter(|f| f.name() == backend).ok_or_else(|| {
            Error::usage(format!("--resume: the checkpoint was trained on {backend}; resume it with --engine auto"))
        })?;
        let mut learner = factory
            .learner(&self.spec, &self.config, self.head, &network)
            .map_err(|e| Error::runtime(format!("{backend} cannot continue this checkpoint: {e}")))?;
        learner.load_optimizer(&dir.join(OPTIMIZER_FILE))?;
        Ok(Model::Learner(learner))
    }

    /// Train; `resume` continues from the newest checkpoint when there is one, and `initial`
    /// (PyTorch-layout safetensors bytes and their path) replaces the random initial weights.
    pub fn run(&self, resume: bool, initial: Option<(Vec<u8>, PathBuf)>) -> Result<TrainResult> {
        self.check_optimizer()?;
        let autodiff = self.device.clone().autodiff();
        let (checkpoints, existing) = self.open_checkpoints(resume)?;
        autodiff.seed(self.config.seed);
        let (mut model, mut best, mut state) = match existing {
            Some(dir) => self.load_checkpoint(&dir, &autodiff)?,
            None => {
                let (model, state) = self.fresh_model(&autodiff, initial)?;
                (model, None, state)
            }
        };
        let mut steps = Vec::new();
        if state.epochs_done > 0 {
            log::info!("resuming after epoch {} (lr {})", state.epochs_done, state.lr);
        }

        while state.epochs_done < self.config.epochs && !state.stopped_early {
            let epoch = state.epochs_done + 1;
            let started = Instant::now();
            let losses = match self.train_epoch(&mut model, &state, &autodiff, &checkpoints, &mut steps)? {
                EpochEnd::Done(losses) => losses,
                EpochEnd::Stopped(partial, signal) => {
                    let batch = partial.batches_done;
                    state.partial = Some(partial);
                    checkpoints.save(&state, &model.network(&self.device)?, &model, best.as_ref())?;
                    return Err(stopped(signal, epoch, Some(batch), &checkpoints));
                }
            };
            let network = model.network(&self.device)?;
            if let Some(hook) = self.hook {
                hook.after_epoch(&network);
            }
            let epoch_seconds = state.partial.take().map_or(0.0, |p| p.seconds);
            let (valid_loss, auroc, aupr) = self.validate(&network.valid());
            let record = EpochRecord {
                epoch,
                lr: state.lr,
                train_loss: losses[0],
                train_hard: losses[1],
                train_soft: losses[2],
                valid_loss,
                valid_auroc: auroc,
                valid_aupr: aupr,
            };
            let score = record.score(self.config.monitor);
            log::info!(
                "epoch {epoch}: train loss {:.4}, valid loss {:.4}, AUROC {:.4}, AUPR {:.4}, lr {}",
                record.train_loss,
                valid_loss,
                auroc,
                aupr,
                state.lr
            );
            state.history.push(record);
            state.seconds.push(epoch_seconds + started.elapsed().as_secs_f64());
            state.epochs_done = epoch;
            if self.config.keep == Keep::Last {
                best = Some(network.valid());
            }
            // A copy with its own BatchNorm running statistics: clone() would share them with
            // `network`, and the kept model would follow every later epoch.
            if state.after_epoch(score, &self.config) && self.config.keep == Keep::Best {
                best = Some(network.valid());
            }
            checkpoints.save(&state, &network, &model, best.as_ref())?;
            if let Some(signal) = self.stop.and_then(StopRequest::requested) {
                return Err(stopped(signal, epoch, None, &checkpoints));
            }
        }
        let best = best.ok_or_else(|| Error::runtime("no epoch was trained (--epochs must be at least 1)"))?;
        let kept_epoch = match self.config.keep {
            Keep::Best => state.best_epoch,
            Keep::Last => state.epochs_done,
        };
        Ok(TrainResult { network: best.valid(), state, kept_epoch, steps })
    }

    /// Path-SGD's preconditions: a feed-forward convolutional plan without factorised layers.
    fn check_optimizer(&self) -> Result<()> {
        if self.config.optimizer == Optimizer::PathSgd && !matches!(self.spec.plan(), crate::arch::Plan::Conv(_)) {
            return Err(Error::usage(format!(
                "--optimizer path-sgd needs a feed-forward convolutional architecture; {} is recurrent or attention-based",
                self.spec.arch.name()
            )));
        }
        if self.config.optimizer == Optimizer::PathSgd && self.spec.is_factorised() {
            return Err(Error::usage("--optimizer path-sgd is defined here for unfactorised layers only"));
        }
        Ok(())
    }

    /// The checkpoint directory, emptied for a new run, and the checkpoint to resume from
    /// (`None` for a new run, or when `--resume` finds none).
    fn open_checkpoints(&self, resume: bool) -> Result<(Checkpoints, Option<PathBuf>)> {
        let checkpoints = Checkpoints { dir: self.checkpoint_dir.clone() };
        let existing = if resume { checkpoints.latest()? } else { None };
        if resume && existing.is_none() {
            log::info!("--resume: no checkpoint in {}; starting from the beginning", checkpoints.dir.display());
        }
        if !resume && checkpoints.dir.exists() {
            std::fs::remove_dir_all(&checkpoints.dir).with_path(&checkpoints.dir)?;
        }
        std::fs::create_dir_all(&checkpoints.dir).with_path(&checkpoints.dir)?;

        Ok((checkpoints, existing))
    }

    /// A new run's model and state: fresh weights (or `initial`), on the engine's learner where
    /// one applies, else on burn with the configured optimiser.
    fn fresh_model(&self, autodiff: &Device, initial: Option<(Vec<u8>, PathBuf)>) -> Result<(Model, TrainState)> {
        let mut network = self.fresh_network(autodiff)?;
        if let Some((bytes, path)) = initial {
            // Read on the plain device, then applied as a record: parameters loaded from
            // safetensors straight onto the autodiff device would not track gradients.
            let plain = crate::store::weights_from_safetensors(self.fresh_network(&self.device)?, bytes, &path)?;
            network = network
                .try_load_record(plain.into_record())
                .map_err(|e| Error::in_file(&path, format!("cannot use as initial weights: {e}")))?;
        }
        // No kept network before the first epoch: `valid()` on a network whose lazily
        // initialised parameters have not been used yet would initialise them, shared with
        // this network, on the plain device, and training could no longer track them.
        let mut state = self.fresh_state();
        // burn draws lazily initialised weights at their first use, in the first batch
        // of epoch 1 after the device is seeded for it: reading them for a learner here
        // draws them from the same seed, in the same (forward) order.
        autodiff.seed(epoch_seed(self.config.seed, 1));
        let model = match self.choose_learner(&network) {
            Some((backend, learner)) => {
                state.backend = backend.to_owned();
                Model::Learner(learner)
            }
            None => Model::Burn(network, self.optimizer()),
        };
        Ok((model, state))
    }

    fn load_checkpoint(&self, dir: &Path, device: &Device) -> Result<(Model, Option<Network>, TrainState)> {
        let state_path = dir.join("state.json");
        let text = std::fs::read_to_string(&state_path).with_path(&state_path)?;
        let state: TrainState = serde_json::from_str(&text)
            .map_err(|e| Error::in_file(&state_path, format!("not a checkpoint state: {e}")))?;
        if state.spec != self.spec {
            return Err(Error::in_file(
                &state_path,
                format!(
                    "--resume: the checkpoint is of {} ({} channels x {}, {} classes, first activation {}), not {} ({} channels x {}, {} classes, first activation {})",
                    state.spec.arch.name(),
                    state.spec.channels,
                    state.spec.length,
                    state.spec.classes,
                    state.spec.first_activation.name(),
                    self.spec.arch.name(),
                    self.spec.channels,
                    self.spec.length,
                    self.spec.classes,
                    self.spec.first_activation.name()
                ),
            ));
        }
        let same_settings = TrainConfig { epochs: self.config.epochs, ..state.config.clone() } == self.config;
        if !same_settings || state.train_rows != self.train.len() || state.distilled != self.teacher.is_some() {
            return Err(Error::in_file(
                &state_path,
                format!(
                    "--resume: the checkpoint was made with other settings or data (then: {} training rows, distilled {}, {}; now: {} rows, distilled {}, {}); only --epochs may change",
                    state.train_rows,
                    state.distilled,
                    serde_json::to_string(&state.config).unwrap_or_default(),
                    self.train.len(),
                    self.teacher.is_some(),
                    serde_json::to_string(&self.config).unwrap_or_default()
                ),
            ));
        }
        // Each network is built on its own: loading into clones would make them share (and
        // overwrite) one set of BatchNorm running statistics.
        let load = |file: &str| {
            let path = dir.join(file);
            let network = self
                .fresh_network(device)?
                .try_load_file(&path)
                .map_err(|e| Error::in_file(&path, format!("cannot read checkpoint: {e}")))?;
            match crate::finite::non_finite_weight(&network)? {
                Some(bad) => Err(Error::in_file(&path, format!("is not a usable checkpoint: {bad}"))),
                None => Ok(network),
            }
        };
        // A checkpoint within the first epoch has no kept network yet.
        let best = if dir.join("best.bpk").exists() { Some(load("best.bpk")?.valid()) } else { None };
        let network = load("model.bpk")?;
        let model = self.model_from(network, &state.backend, dir)?;
        Ok((model, best, state))
    }

    /// One pass over the training rows (epoch `state.epochs_done + 1`), stepping `model`; returns
    /// the mean [total, hard, soft], or where it stopped on request.
    fn train_epoch(
        &self,
        model: &mut Model,
        state: &TrainState,
        autodiff: &Device,
        checkpoints: &Checkpoints,
        steps: &mut Vec<StepRecord>,
    ) -> Result<EpochEnd> {
        let (epoch, lr) = (state.epochs_done + 1, state.lr);
        let started = Instant::now();
        let last_validation = state
            .history
            .last()
            .map(|r| format!(" | epoch {}: valid AUROC {:.4} AUPR {:.4}", r.epoch, r.valid_auroc, r.valid_aupr))
            .unwrap_or_default();
        let n = self.train.len();
        let mut order: Vec<usize> = (0..n).collect();
        SeededRng::new(self.config.seed, epoch as u64).shuffle(&mut order);
        let seed = epoch_seed(self.config.seed, epoch);
        autodiff.seed(seed);
        if let Some(stream) = model.dropout_stream() {
            stream.reseed(seed);
        }
        let batches = n.div_ceil(self.config.batch_size);
        let bar = self.progress;
        bar.start(&format!("epoch {epoch}/{}", self.config.epochs), Some(batches as u64));
        let mut sums = [0.0f64; 3];
        // Continuing an epoch stopped between batches: its losses so far and the dropout stream
        // where it was; the batch order is the epoch's own.
        let (skip, earlier_seconds) = match &state.partial {
            Some(p) => {
                sums = p.sums;
                if let Some(stream) = model.dropout_stream() {
                    stream.set_position(p.dropout_position);
                }
                bar.advance(p.batches_done as u64);
                (p.batches_done, p.seconds)
            }
            None => (0, 0.0),
        };
        let mut last_finite =
            state.history.last().map(|r| format!("{:.6}, the mean of epoch {}", r.train_loss, r.epoch));
        for (b, rows) in order.chunks(self.config.batch_size).enumerate().skip(skip) {
            // Divergence stops training with the place and the last finite loss named.
            let diverged = |what: String| -> Result<EpochEnd> {
                bar.finish();
                Err(Error::runtime(format!(
                    "{what} at epoch {epoch}, batch {} of {batches} (last finite loss: {}); stopped, and {}. Try a lower --lr, a relu first layer, or check the inputs' scale",
                    b + 1,
                    last_finite.as_deref().unwrap_or("none yet"),
                    checkpoints.kept_message()?
                )))
            };
            if self.diverge_at_epoch.is_some_and(|e| epoch >= e) {
                return diverged("training loss became NaN".to_owned());
            }
            let outcome = match model {
                Model::Burn(network, optim) => self.burn_step(network, optim, rows, lr, autodiff),
                Model::Learner(learner) => {
                    let teacher = self.teacher.as_ref().map(|t| (&t.logits, t.distillation));
                    let batch = Batch { x: &self.train.x, y: &self.train.y, teacher, rows };
                    learner.step(&batch, lr)
                }
            };
            let BatchLosses { total, hard, soft } = match outcome {
                Ok(losses) => losses,
                Err(Diverged::Loss(total)) => return diverged(format!("training loss became {total}")),
                Err(Diverged::Gradient { parameter, loss }) => {
                    return diverged(format!("the gradient of {parameter} became non-finite (loss {loss:.6})"));
                }
            };
            last_finite = Some(format!("{total:.6} at epoch {epoch}, batch {}", b + 1));
            let weight = rows.len() as f64;
            sums[0] += total * weight;
            sums[1] += hard * weight;
            sums[2] += soft * weight;
            if self.record_steps {
                steps.push(StepRecord {
                    epoch,
                    step: steps.len() + 1,
                    lr,
                    loss: total,
                    hard,
                    soft,
                    rows: rows.to_vec(),
                });
            }
            let seen = (b * self.config.batch_size + rows.len()) as f64;
            bar.message(format!("loss {:.4}{last_validation}", sums[0] / seen));
            bar.advance(1);
            if let Some(signal) = self.stop.and_then(StopRequest::requested)
                && b + 1 < batches
            {
                bar.finish();
                let dropout_position = model.dropout_stream().map_or(0, |s| s.position());
                let seconds = earlier_seconds + started.elapsed().as_secs_f64();
                let partial = PartialEpoch { batches_done: b + 1, sums, dropout_position, seconds };
                return Ok(EpochEnd::Stopped(partial, signal));
            }
        }
        bar.finish();
        Ok(EpochEnd::Done(sums.map(|s| s / n as f64)))
    }

    /// One step on burn: forward, loss, autodiff backward and the optimiser, in place.
    fn burn_step(
        &self,
        network: &mut Network,
        optim: &mut ModuleOptimizer,
        rows: &[usize],
        lr: f64,
        autodiff: &Device,
    ) -> std::result::Result<BatchLosses, Diverged> {
        let x = gather3(&self.train.x, rows, autodiff);
        let y = gather2(&self.train.y, rows, autodiff);
        let teacher = self.teacher.as_ref().map(|t| (gather2(&t.logits, rows, autodiff), t.distillation));
        let (logits, exit_logits) = match &*network {
            Network::Conv(net) => net.forward_with_exit(x),
            other => (other.forward(x), None),
        };
        let exit_loss = exit_logits.map(|z| training_loss(self.head, z, y.clone(), teacher.clone()).total);
        let parts = training_loss(self.head, logits, y, teacher);
        let mut objective = match network.kernel_sum_of_squares() {
            Some(squares) if self.config.kernel_l2 > 0.0 => {
                parts.total.clone() + squares.mul_scalar(self.config.kernel_l2)
            }
            _ => parts.total.clone(),
        };
        if let (Some(exit), Some(spec)) = (exit_loss, &self.spec.early_exit) {
            objective = objective + exit.mul_scalar(spec.weight);
        }
        if let Some(penalty) = self.hook.and_then(|h| h.penalty(network)) {
            objective = objective + penalty;
        }
        let total = objective.clone().into_scalar::<f32>() as f64;
        if !total.is_finite() {
            return Err(Diverged::Loss(total));
        }
        let hard = parts.hard.into_scalar::<f32>() as f64;
        let soft = parts.soft.map(|s| s.into_scalar::<f32>() as f64).unwrap_or(f64::NAN);
        let mut grads = GradientsParams::from_grads(objective.backward(), &*network);
        if let Some(parameter) = crate::finite::non_finite_gradient(network, &grads) {
            return Err(Diverged::Gradient { parameter, loss: total });
        }
        if self.config.optimizer == Optimizer::PathSgd {
            let scales = crate::path_sgd::path_scales(&self.spec, network).expect("checked before training");
            grads = crate::path_sgd::precondition(&scales, grads);
        }
        let mut stepped = optim.step(lr, network.clone(), grads);
        if let Some(hook) = self.hook {
            stepped = hook.after_step(stepped);
        }
        *network = stepped;
        Ok(BatchLosses { total, hard, soft })
    }

    /// Hard loss, macro AUROC and macro AUPR on the validation split.
    fn validate(&self, network: &Network) -> (f64, f64, f64) {
        let logits = predict::logits(network, &self.valid.x, self.config.batch_size, &self.device, &Silent);
        validation_metrics(self.head, &logits, &self.valid.y, &self.device)
    }
}

/// Hard loss, macro AUROC and macro AUPR (NaN when undefined) of logits against labels.
pub fn validation_metrics(head: Head, logits: &Array2<f32>, labels: &Array2<f32>, device: &Device) -> (f64, f64, f64) {
    let rows: Vec<usize> = (0..logits.nrows()).collect();
    let loss =
        hard_loss(head, gather2(logits, &rows, device), gather2(labels, &rows, device)).into_scalar::<f32>() as f64;
    let (z, y): (Vec<f32>, Vec<f32>) = (logits.iter().copied().collect(), labels.iter().copied().collect());
    let ranks = gkd_metrics::predictive(head.link(), &z, &y, logits.ncols(), 1.0);
    let total = gkd_metrics::macro_ranking(&ranks);
    (loss, total.auroc.unwrap_or(f64::NAN), total.aupr.unwrap_or(f64::NAN))
}
