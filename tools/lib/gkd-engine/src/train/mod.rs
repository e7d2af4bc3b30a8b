//! Training on the engine: a hand-written training step for the convolutional models
//! (koo-cnn-deep, koo-cnn-shallow, koo-cnn-local, koo-cnn-dist, demo-cnn, deepchrome), driven by
//! gkd-nn's trainer (gkd_nn::train), which keeps the epoch logic for every back end.
//!
//! The step is the burn model's: the same layer plan (gkd_nn::arch), the same loss definition
//! (gkd_nn::loss, evaluated on the logits), the same dropout masks (gkd_nn::layers::DropoutStream)
//! and burn's optimiser arithmetic; only the gradients are computed by hand ([`step`]).

mod net;
mod optim;
mod step;

use std::path::Path;

use burn::tensor::Device;
use gkd_io::error::{Error, Result};
use gkd_io::weights;
use gkd_nn::layers::DropoutStream;
use gkd_nn::learner::{Batch, BatchLearner, BatchLosses, Diverged, LearnerFactory};
use gkd_nn::loss::{Head, loss_and_logit_gradient};
use gkd_nn::model::{ModelSpec, Network};
use gkd_nn::store;
use gkd_nn::train::TrainConfig;
use safetensors::tensor::Dtype;

use net::{Net, Store};
use optim::Optim;
use step::Tape;

/// The engine's training back end (`gkd-train --engine auto` on the CPU).
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineTrainer;

impl LearnerFactory for EngineTrainer {
    fn name(&self) -> &'static str {
        "gkd-engine"
    }

    fn learner(
        &self,
        spec: &ModelSpec,
        config: &TrainConfig,
        head: Head,
        network: &Network,
    ) -> std::result::Result<Box<dyn BatchLearner>, String> {
        Ok(Box::new(EngineLearner::new(spec, config, head, network)?))
    }
}

/// A convolutional network being trained on the engine.
pub struct EngineLearner {
    spec: ModelSpec,
    dropout: bool,
    head: Head,
    kernel_l2: f64,
    net: Net,
    params: Vec<f32>,
    stats: Vec<f32>,
    grads: Vec<f32>,
    optim: Optim,
    stream: DropoutStream,
    tape: Tape,
}

impl EngineLearner {
    /// A learner starting from `network`'s weights and running statistics, or why the engine
    /// does not train this model with these settings.
    pub fn new(
        spec: &ModelSpec,
        config: &TrainConfig,
        head: Head,
        network: &Network,
    ) -> std::result::Result<Self, String> {
        let net = Net::new(spec, config.dropout)?;
        let optim = Optim::new(config, net.params)?;
        let bytes = store::weights_to_safetensors(network).map_err(|e| e.to_string())?;
        let tensors = weights::parse(&bytes, Path::new("network")).map_err(|e| e.to_string())?;
        let mut names: Vec<String> = tensors.names().into_iter().map(str::to_owned).collect();
        names.sort();
        let mut ours: Vec<String> = net.slots.iter().map(|s| s.name.clone()).collect();
        ours.sort();
        if names != ours {
            return Err(format!(
                "the network's tensors [{}] are not the plan's [{}]",
                names.join(", "),
                ours.join(", ")
            ));
        }
        let (mut params, mut stats) = (vec![0f32; net.params], vec![0f32; net.stats]);
        for slot in &net.slots {
            let view = tensors.tensor(&slot.name).map_err(|e| e.to_string())?;
            if view.dtype() != Dtype::F32 || view.shape() != slot.shape.as_slice() {
                return Err(format!(
                    "{} is {:?} {:?}, not F32 {:?}",
                    slot.name,
                    view.dtype(),
                    view.shape(),
                    slot.shape
                ));
            }
            let torch = weights::f32_values(&view);
            let target = match slot.store {
                Store::Params => &mut params,
                Store::Stats => &mut stats,
            };
            target[slot.range.clone()].copy_from_slice(&slot.to_engine(&torch));
        }
        Ok(Self {
            spec: spec.clone(),
            dropout: config.dropout,
            head,
            kernel_l2: config.kernel_l2,
            grads: vec![0.0; net.params],
            net,
            params,
            stats,
            optim,
            stream: DropoutStream::new(),
            tape: Tape::default(),
        })
    }

    /// The weights as model.safetensors bytes (PyTorch's names and layouts).
    pub fn safetensors(&self) -> Result<Vec<u8>> {
        let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = self
            .net
            .slots
            .iter()
            .map(|slot| {
                let values = match slot.store {
                    Store::Params => &self.params[slot.range.clone()],
                    Store::Stats => &self.stats[slot.range.clone()],
                };
                (slot.name.clone(), slot.shape.clone(), slot.to_torch(values))
            })
            .collect();
        weights::serialize_f32(&tensors, None)
    }

    /// The training-mode forward pass of `batch` (dropout and batch statistics, running
    /// statistics updated), and the loss with its gradient with respect to the logits.
    fn forward_and_loss(&mut self, batch: &Batch<'_>) -> gkd_nn::loss::LogitLoss {
        let rows = batch.rows;
        let logits =
            step::forward(&self.net, &self.params, &mut self.stats, batch.x, rows, &self.stream, &mut self.tape);
        let targets = gather_rows(batch.y, rows);
        let teacher = batch.teacher.map(|(t, kd)| (gather_rows(t, rows), kd));
        let teacher = teacher.as_ref().map(|(t, kd)| (t.as_slice(), *kd));
        loss_and_logit_gradient(self.head, &logits, &targets, self.net.classes(), teacher)
    }

    /// λ·Σw² over the convolution and hidden dense kernels.
    fn penalty(&self) -> f64 {
        if self.kernel_l2 == 0.0 {
            return 0.0;
        }
        let squares: f64 =
            self.net.penalised.iter().map(|r| self.params[r.clone()].iter().map(|w| (w * w) as f64).sum::<f64>()).sum();
        self.kernel_l2 * squares
    }

    /// The gradients of the last [`step`](BatchLearner::step) (in the engine's layout), for tests.
    #[cfg(test)]
    fn gradient_of(&self, name: &str) -> Vec<f32> {
        let slot = self.net.slots.iter().find(|s| s.name == name).expect("a slot");
        slot.to_torch(&self.grads[slot.range.clone()])
    }
}

/// Rows of an (N, K) array end to end.
fn gather_rows(y: &ndarray::Array2<f32>, rows: &[usize]) -> Vec<f32> {
    rows.iter().flat_map(|&r| y.row(r).to_vec()).collect()
}

impl BatchLearner for EngineLearner {
    fn step(&mut self, batch: &Batch<'_>, lr: f64) -> std::result::Result<BatchLosses, Diverged> {
        let loss = self.forward_and_loss(batch);
        let total = loss.total + self.penalty();
        if !total.is_finite() {
            return Err(Diverged::Loss(total));
        }
        step::backward(&self.net, &self.params, &mut self.tape, batch.rows.len(), &loss.gradient, &mut self.grads);
        if self.kernel_l2 > 0.0 {
            let twice = (2.0 * self.kernel_l2) as f32;
            for range in &self.net.penalised {
                let (g, w) = (&mut self.grads[range.clone()], &self.params[range.clone()]);
                g.iter_mut().zip(w).for_each(|(g, w)| *g += twice * w);
            }
        }
        if let Some(slot) = self
            .net
            .slots
            .iter()
            .filter(|s| s.store == Store::Params)
            .find(|s| self.grads[s.range.clone()].iter().any(|g| !g.is_finite()))
        {
            return Err(Diverged::Gradient { parameter: slot.name.clone(), loss: total });
        }
        self.optim.step(&mut self.params, &self.grads, lr);
        Ok(BatchLosses { total, hard: loss.hard, soft: loss.soft })
    }

    fn network(&self, device: &Device) -> Result<Network> {
        let network = self.spec.build_with(device, self.dropout).map_err(|e| Error::usage(e.0))?;
        store::weights_from_safetensors(network, self.safetensors()?, Path::new("the engine's weights"))
    }

    fn dropout_stream(&self) -> &DropoutStream {
        &self.stream
    }

    fn save_optimizer(&self, path: &Path) -> Result<()> {
        self.optim.save(path)
    }

    fn load_optimizer(&mut self, path: &Path) -> Result<()> {
        self.optim.load(path)
    }
}

#[cfg(test)]
mod tests;
