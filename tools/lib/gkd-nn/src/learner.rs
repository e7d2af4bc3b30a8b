//! Training back ends other than burn's autodiff (gkd-engine's CPU trainer for the convolutional
//! models). The trainer ([`crate::train`]) keeps the epoch logic — batch order, the dropout
//! stream's seeds, validation, the learning-rate schedule, early stopping, the kept epoch and
//! checkpoints — and hands a [`BatchLearner`] one batch at a time.

use std::path::Path;

use burn::tensor::Device;
use gkd_io::error::Result;
use ndarray::{Array2, Array3};

use crate::layers::DropoutStream;
use crate::loss::{Distillation, Head};
use crate::model::{ModelSpec, Network};
use crate::train::TrainConfig;

/// The rows of one mini-batch, as indices into the training split.
pub struct Batch<'a> {
    /// Inputs of the whole split (N, C, L).
    pub x: &'a Array3<f32>,
    /// Labels of the whole split (N, K).
    pub y: &'a Array2<f32>,
    /// Teacher logits of the whole split and the distillation settings.
    pub teacher: Option<(&'a Array2<f32>, Distillation)>,
    /// This batch's rows.
    pub rows: &'a [usize],
}

/// The losses of one batch, before the update it led to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchLosses {
    /// What was minimised (kernel penalty included).
    pub total: f64,
    /// The hard term.
    pub hard: f64,
    /// The soft term (without T²); NaN without distillation.
    pub soft: f64,
}

/// Why a batch was not applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Diverged {
    /// The loss was not finite.
    Loss(f64),
    /// The gradient of this parameter (named as in model.safetensors) was not finite.
    Gradient {
        /// The parameter.
        parameter: String,
        /// The batch's (finite) loss.
        loss: f64,
    },
}

/// A network being trained by a back end that computes its own gradients.
pub trait BatchLearner: Send {
    /// Forward, loss, backward and one optimiser step at learning rate `lr` on `batch`; the
    /// weights are left as they were when the loss or a gradient is not finite.
    fn step(&mut self, batch: &Batch<'_>, lr: f64) -> std::result::Result<BatchLosses, Diverged>;
    /// The current weights and BatchNorm running statistics as a network on `device`.
    fn network(&self, device: &Device) -> Result<Network>;
    /// The stream the dropout masks come from (reseeded by the trainer every epoch).
    fn dropout_stream(&self) -> &DropoutStream;
    /// Write the optimiser's state (moments, step count) to `path`.
    fn save_optimizer(&self, path: &Path) -> Result<()>;
    /// Continue from an optimiser state written by [`save_optimizer`](Self::save_optimizer).
    fn load_optimizer(&mut self, path: &Path) -> Result<()>;
}

/// The file a [`BatchLearner`]'s optimiser state has in a checkpoint (burn's is `optim.bpk`).
pub const OPTIMIZER_FILE: &str = "optim.safetensors";

/// Makes [`BatchLearner`]s for the models its back end trains.
pub trait LearnerFactory: Sync {
    /// The back end's name in logs and model.json.
    fn name(&self) -> &'static str;
    /// A learner starting from `network`'s weights and running statistics, or why this back
    /// end does not train this model with these settings (burn then does).
    fn learner(
        &self,
        spec: &ModelSpec,
        config: &TrainConfig,
        head: Head,
        network: &Network,
    ) -> std::result::Result<Box<dyn BatchLearner>, String>;
}
