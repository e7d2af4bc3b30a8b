//! Networks built from an architecture's plan, their forward passes and `--describe` tables.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::arch::{Arch, AttentivePlan, ConvPlan, InputKind, Plan, RecurrentPlan, Reduce};
use crate::factorized::DenseMapSpec;
use crate::init::{InitScheme, WeightInit};
use crate::layers::{
    Activation, AttentionPool, BiLstm, ConvBlock, ConvSpec, DenseBlock, Dropout, DropoutPlacement, DropoutStream,
    LayerContext, linear,
};
use crate::norm::NormSpec;

/// Everything needed to rebuild a network: stored in model.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelSpec {
    /// Architecture name.
    pub arch: Arch,
    /// Input channels: 4 for DNA, the number of marks for histone data.
    pub channels: usize,
    /// Input length: positions or bins.
    pub length: usize,
    /// Output logits.
    pub classes: usize,
    /// First-layer activation (relu or exponential) where the architecture lets it be chosen.
    pub first_activation: Activation,
    /// BatchNorm settings (read as the settings of models written before they were recorded
    /// when absent).
    #[serde(default = "legacy_norm")]
    pub batch_norm: NormSpec,
    /// Weight initialisation when it is not the architecture's source's (`gkd-train --init`);
    /// only training reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitScheme>,
    /// Where every pooled convolution block applies its dropout when it is not where the
    /// architecture's source does (`gkd-train --dropout-placement`); only training reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout_placement: Option<DropoutPlacement>,
    /// Per hidden dense layer, how its matrix is stored (full, low-rank or MPO); empty for the
    /// architecture as published. Written by `gkd-compress`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dense_maps: Vec<DenseMapSpec>,
    /// Per convolution block, the rank of its factorised kernel (`null` = the full kernel);
    /// empty for the architecture as published. Written by `gkd-compress low-rank --convs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conv_ranks: Vec<Option<usize>>,
    /// int8 inference settings (`gkd-compress quantize`): the weights are stored as int8 in
    /// model.int8.safetensors and the CPU engine computes logits in integer arithmetic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8: Option<Int8Spec>,
    /// An early exit (a conditionally deep network): a second output after an early convolution
    /// block, trained with the network (`gkd-train --early-exit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_exit: Option<EarlyExit>,
}

/// An exit head after convolution block `after` (0-based): global max over positions, then a
/// linear map to the logits. Training adds `weight` × its loss (the same hard and distillation
/// loss as the final output) to the objective. At prediction time (`gkd-predict
/// --exit-threshold`), rows whose exit is confident skip the deeper blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyExit {
    /// The convolution block after which the exit reads (0-based).
    pub after: usize,
    /// Weight of the exit's loss in training.
    pub weight: f64,
}

/// Calibrated input quantisation of each layer of an int8 model, in engine order (convolution
/// blocks, then dense layers, then the output layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Int8Spec {
    /// The step of one integer level of each layer's input.
    pub input_scales: Vec<f32>,
    /// Whether each layer's input takes negative values (levels −127..127; else 0..255).
    pub input_signed: Vec<bool>,
}

fn legacy_norm() -> NormSpec {
    NormSpec::LEGACY
}

/// A problem with fitting an architecture to an input shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeMismatch(pub String);

impl ModelSpec {
    /// A spec with the architecture's own BatchNorm settings.
    pub fn new(arch: Arch, channels: usize, length: usize, classes: usize, first_activation: Activation) -> Self {
        Self {
            arch,
            channels,
            length,
            classes,
            first_activation,
            batch_norm: arch.batch_norm(),
            init: None,
            dropout_placement: None,
            dense_maps: Vec::new(),
            conv_ranks: Vec::new(),
            int8: None,
            early_exit: None,
        }
    }

    /// How the weights start: `init` when set, else the architecture's source's scheme.
    pub fn weight_init(&self) -> WeightInit {
        self.init.map_or_else(|| self.arch.weight_init(), WeightInit::from)
    }

    /// The layer plan, with the factorised dense layers of `dense_maps` and the dropout
    /// placement of `dropout_placement` (pooled blocks only: without a pool both orders agree).
    pub fn plan(&self) -> Plan {
        let mut plan = self.arch.plan(self.first_activation);
        if let (Plan::Conv(ConvPlan { convs, .. }) | Plan::Recurrent(RecurrentPlan { convs, .. }), Some(placement)) =
            (&mut plan, self.dropout_placement)
        {
            for spec in convs.iter_mut().filter(|c| c.pool > 1) {
                spec.dropout_after_pool = placement == DropoutPlacement::AfterPool;
            }
        }
        if let Plan::Conv(conv) = &mut plan {
            for (spec, map) in conv.dense.iter_mut().zip(&self.dense_maps) {
                spec.map = map.clone();
            }
            for (spec, rank) in conv.convs.iter_mut().zip(&self.conv_ranks) {
                spec.rank = *rank;
            }
        }
        plan
    }

    /// Whether some layer is stored factorised (low-rank or MPO).
    pub fn is_factorised(&self) -> bool {
        self.conv_ranks.iter().any(Option::is_some) || self.dense_maps.iter().any(|m| *m != DenseMapSpec::Full)
    }

    /// Check that the input shape fits the architecture; returns the describe table's rows.
    pub fn layers(&self) -> Result<Vec<LayerRow>, ShapeMismatch> {
        let name = self.arch.name();
        if self.classes == 0 {
            return Err(ShapeMismatch(format!("{name} needs at least one class (label column)")));
        }
        if self.arch.input_kind() == InputKind::Sequence && self.channels != 4 {
            return Err(ShapeMismatch(format!(
                "{name} reads one-hot DNA with 4 channels (A, C, G, T), but the data has {} channels",
                self.channels
            )));
        }
        if self.first_activation != Activation::Relu && !self.arch.has_selectable_first_activation() {
            return Err(ShapeMismatch(format!("{name} has no selectable first-layer activation")));
        }
        let mut rows = vec![LayerRow::new("input", "", vec![self.channels, self.length])];
        if !self.dense_maps.is_empty() || !self.conv_ranks.is_empty() {
            let hidden = match self.arch.plan(self.first_activation) {
                Plan::Conv(plan) => plan.dense.len(),
                _ => 0,
            };
            let blocks = match self.arch.plan(self.first_activation) {
                Plan::Conv(plan) => plan.convs.len(),
                _ => 0,
            };
            if self.conv_ranks.len() > blocks || self.conv_ranks.contains(&Some(0)) {
                return Err(ShapeMismatch(format!(
                    "{name} has {blocks} convolution blocks; conv_ranks {:?} does not fit them (ranks >= 1)",
                    self.conv_ranks
                )));
            }
            if self.dense_maps.len() > hidden {
                return Err(ShapeMismatch(format!(
                    "{name} has {hidden} hidden dense layers; model.json lists {} factorised maps",
                    self.dense_maps.len()
                )));
            }
        }
        match self.plan() {
            Plan::Conv(plan) => {
                let (mut c, mut l) = (self.channels, self.length);
                for (i, spec) in plan.convs.iter().enumerate() {
                    l = spec.output_length(l).ok_or_else(|| {
                        ShapeMismatch(format!(
                            "{name}: input length {} is too short (conv{} k{} with pool {} leaves no positions)",
                            self.length,
                            i + 1,
                            spec.kernel,
                            spec.pool
                        ))
                    })?;
                    c = spec.filters;
                    let mut what = format!("conv {} k{} {:?}", spec.filters, spec.kernel, spec.padding).to_lowercase();
                    if let Some(rank) = spec.rank {
                        what += &format!(" (rank {rank})");
                    }
                    if spec.batch_norm {
                        what += " + batchnorm";
                    }
                    what += &format!(" + {}", spec.activation.name());
                    let pool = if spec.pool > 1 { format!(" + maxpool {}", spec.pool) } else { String::new() };
                    let dropout =
                        if spec.dropout > 0.0 { format!(" + dropout {}", spec.dropout) } else { String::new() };
                    if spec.dropout_after_pool {
                        what += &(pool + &dropout);
                    } else {
                        what += &(dropout + &pool);
                    }
                    rows.push(LayerRow::new(&format!("blocks.{i}"), &what, vec![c, l]));
                }
                if let Some(exit) = &self.early_exit {
                    let Some(block) = plan.convs.get(exit.after).filter(|_| exit.after + 1 < plan.convs.len()) else {
                        return Err(ShapeMismatch(format!(
                            "{name}: an early exit needs a convolution block after the one it reads; --early-exit must be below {}",
                            plan.convs.len().saturating_sub(1)
                        )));
                    };
                    rows.push(LayerRow::new(
                        "exit",
                        &format!("after blocks.{}: global max + linear (early-exit logits)", exit.after),
                        vec![block.filters],
                    ));
                }
                let mut width = match plan.reduce {
                    Reduce::Flatten => c * l,
                    Reduce::GlobalMax => c,
                };
                let what = match plan.reduce {
                    Reduce::Flatten => "flatten".to_owned(),
                    Reduce::GlobalMax => "global max over positions".to_owned(),
                };
                let what =
                    if plan.reduce_dropout > 0.0 { format!("{what} + dropout {}", plan.reduce_dropout) } else { what };
                rows.push(LayerRow::new("reduce", &what, vec![width]));
                for (i, spec) in plan.dense.iter().enumerate() {
                    if let Some(why) = spec.map.mismatch(width, spec.units) {
                        return Err(ShapeMismatch(format!("{name}: dense.{i}: {why}")));
                    }
                    width = spec.units;
                    let mut what = format!("dense {}", spec.units);
                    if let Some(map) = spec.map.describe() {
                        what += &format!(" ({map})");
                    }
                    if spec.batch_norm {
                        what += " + batchnorm";
                    }
                    what += " + relu";
                    if spec.dropout > 0.0 {
                        what += &format!(" + dropout {}", spec.dropout);
                    }
                    rows.push(LayerRow::new(&format!("dense.{i}"), &what, vec![width]));
                }
            }
            Plan::Recurrent(plan) => {
                let mut l = self.length;
                for (i, spec) in plan.convs.iter().enumerate() {
                    l = spec
                        .output_length(l)
                        .ok_or_else(|| ShapeMismatch(format!("{name}: input length {} is too short", self.length)))?;
                    rows.push(LayerRow::new(
                        &format!("blocks.{i}"),
                        &format!("conv {} k{} same + relu", spec.filters, spec.kernel),
                        vec![spec.filters, l],
                    ));
                }
                rows.push(LayerRow::new(
                    "lstm",
                    &format!("bidirectional LSTM {} per direction", plan.hidden),
                    vec![l, 2 * plan.hidden],
                ));
                rows.push(LayerRow::new("reduce", "mean over positions", vec![2 * plan.hidden]));
            }
            Plan::Attentive(plan) => {
                let bins = 2 * plan.bin_hidden;
                rows.push(LayerRow::new(
                    "bin_encoders",
                    &format!("per mark: BiLSTM {} per direction over bins + bin attention α", plan.bin_hidden),
                    vec![self.channels, bins],
                ));
                rows.push(LayerRow::new(
                    "mark_encoder",
                    &format!("BiLSTM {} per direction over marks + mark attention β", plan.mark_hidden),
                    vec![2 * plan.mark_hidden],
                ));
            }
        }
        rows.push(LayerRow::new("output", "linear (logits)", vec![self.classes]));
        Ok(rows)
    }

    /// Build a freshly initialised network (weights drawn from the device's RNG; seed it first).
    pub fn build(&self, device: &Device) -> Result<Network, ShapeMismatch> {
        self.build_with(device, true)
    }

    /// Build a freshly initialised network; `dropout = false` builds every dropout layer with
    /// probability 0 (gkd-train `--no-dropout`).
    pub fn build_with(&self, device: &Device, dropout: bool) -> Result<Network, ShapeMismatch> {
        let rows = self.layers()?;
        let plan = if dropout { self.plan() } else { self.plan().without_dropout() };
        let (norm, weights) = (&self.batch_norm, self.weight_init());
        norm.validate().map_err(ShapeMismatch)?;
        let stream = DropoutStream::new();
        let context = LayerContext { norm, weights, dropout: &stream, device };
        Ok(match plan {
            Plan::Conv(plan) => {
                let reduced = rows.iter().find(|r| r.name == "reduce").map(|r| r.shape[0]).unwrap_or(0);
                let mut net = ConvNet::new(&plan, self.channels, reduced, self.classes, &context);
                if let Some(exit) = &self.early_exit {
                    let width = plan.convs[exit.after].filters;
                    net.exit = Some(linear(width, self.classes, true, weights, true, device));
                    net.exit_after = exit.after;
                }
                Network::Conv(net)
            }
            Plan::Recurrent(plan) => {
                Network::Recurrent(RecurrentNet::new(&plan, self.channels, self.classes, &context))
            }
            Plan::Attentive(plan) => {
                Network::Attentive(AttentiveChrome::new(&plan, self.channels, self.classes, weights, device))
            }
        })
    }
}

impl ModelSpec {
    /// The `--describe` text: the layer table with parameter counts, BatchNorm and
    /// initialisation settings, the source's training defaults and where gkd differs from it.
    pub fn describe(&self) -> Result<String, ShapeMismatch> {
        use std::fmt::Write;
        let arch = self.arch;
        let mut rows = self.layers()?;
        let network = self.build(&Device::flex())?;
        network.fill_params(&mut rows);
        let shape = |s: &[usize]| s.iter().map(usize::to_string).collect::<Vec<_>>().join("x");
        let mut out = String::new();
        let _ = writeln!(out, "{} ({})", arch.name(), arch.source());
        let _ = writeln!(out, "{:<14} {:>10} {:>10}  description", "layer", "output", "params");
        for row in &rows {
            let _ = writeln!(out, "{:<14} {:>10} {:>10}  {}", row.name, shape(&row.shape), row.params, row.description);
        }
        let _ = writeln!(out, "total parameters: {}", trainable_params(&network));
        let norm = &self.batch_norm;
        if rows.iter().any(|r| r.description.contains("batchnorm")) {
            let variance: &'static str = norm.running_variance.into();
            let _ = writeln!(
                out,
                "batchnorm: epsilon {}, momentum {} (PyTorch convention), {variance} running variance",
                norm.epsilon, norm.momentum
            );
        }
        let _ = writeln!(out, "initialisation: {}", self.weight_init().description());
        let _ = writeln!(
            out,
            "training defaults from the source: Adam epsilon {:e}, kernel L2 {:e}",
            arch.adam_epsilon(),
            arch.kernel_l2()
        );
        for note in arch.differences_from_source() {
            let _ = writeln!(out, "differs from the source: {note}");
        }
        Ok(out)
    }
}

/// One row of the `--describe` table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerRow {
    /// Parameter-name prefix in model.safetensors.
    pub name: String,
    /// What the layer does.
    pub description: String,
    /// Output shape per example.
    pub shape: Vec<usize>,
    /// Trainable parameters (filled in from the built module).
    pub params: usize,
}

impl LayerRow {
    fn new(name: &str, description: &str, shape: Vec<usize>) -> Self {
        Self { name: name.to_owned(), description: description.to_owned(), shape, params: 0 }
    }
}

/// A built network of any architecture.
#[derive(Module, Debug)]
pub enum Network {
    /// Convolutional feed-forward (Koo CNNs, DeepMotif CNN, DeepChrome).
    Conv(ConvNet),
    /// DeepMotif RNN and CNN-RNN.
    Recurrent(RecurrentNet),
    /// AttentiveChrome.
    Attentive(AttentiveChrome),
}

impl Network {
    /// (B, C, L) → logits (B, K).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        match self {
            Network::Conv(net) => net.forward(x),
            Network::Recurrent(net) => net.forward(x),
            Network::Attentive(net) => net.forward_with_attention(x).0,
        }
    }

    /// The stream the network's dropout layers draw from (`None` without dropout layers).
    pub fn dropout_stream(&self) -> Option<&DropoutStream> {
        match self {
            Network::Conv(net) => Some(&net.reduce_dropout.stream),
            Network::Recurrent(net) => net.blocks.first().map(|b| &b.dropout.stream),
            Network::Attentive(_) => None,
        }
    }

    /// Σw² over the convolution kernels and hidden dense kernels (not biases, BatchNorm or the
    /// output layer): what Keras's `kernel_regularizer=l2(λ)` adds to the loss, times λ.
    /// `None` for networks without such layers.
    pub fn kernel_sum_of_squares(&self) -> Option<Tensor<1>> {
        let (convs, dense): (Vec<Tensor<3>>, Vec<Tensor<1>>) = match self {
            Network::Conv(net) => (
                net.blocks
                    .iter()
                    .flat_map(|b| b.factor.iter().map(|f| f.weight.val()).chain([b.conv.weight.val()]))
                    .collect(),
                net.dense.iter().map(DenseBlock::kernel_sum_of_squares).collect(),
            ),
            Network::Recurrent(net) => (net.blocks.iter().map(|b| b.conv.weight.val()).collect(), Vec::new()),
            Network::Attentive(_) => (Vec::new(), Vec::new()),
        };
        let squares = convs.into_iter().map(|w| w.powi_scalar(2).sum()).chain(dense);
        squares.reduce(|a, b| a + b)
    }

    /// Trainable parameters per top-level layer, matched to the describe rows by name.
    pub fn fill_params(&self, rows: &mut [LayerRow]) {
        let counts: Vec<(String, usize)> = match self {
            Network::Conv(net) => {
                let mut v: Vec<(String, usize)> =
                    net.blocks.iter().enumerate().map(|(i, b)| (format!("blocks.{i}"), trainable_params(b))).collect();
                v.extend(net.exit.iter().map(|e| ("exit".to_owned(), trainable_params(e))));
                v.extend(net.dense.iter().enumerate().map(|(i, d)| (format!("dense.{i}"), trainable_params(d))));
                v.push(("output".into(), trainable_params(&net.output)));
                v
            }
            Network::Recurrent(net) => {
                let mut v: Vec<(String, usize)> =
                    net.blocks.iter().enumerate().map(|(i, b)| (format!("blocks.{i}"), trainable_params(b))).collect();
                v.push(("lstm".into(), trainable_params(&net.lstm)));
                v.push(("output".into(), trainable_params(&net.output)));
                v
            }
            Network::Attentive(net) => vec![
                ("bin_encoders".into(), trainable_params(&net.bin_encoders)),
                ("mark_encoder".into(), trainable_params(&net.mark_encoder)),
                ("output".into(), trainable_params(&net.output)),
            ],
        };
        for row in rows {
            if let Some((_, n)) = counts.iter().find(|(name, _)| *name == row.name) {
                row.params = *n;
            }
        }
    }
}

/// The convolution blocks of a plan and the channels they output.
fn conv_blocks(specs: &[ConvSpec], channels: usize, context: &LayerContext<'_>) -> (Vec<ConvBlock>, usize) {
    let mut blocks = Vec::with_capacity(specs.len());
    let mut c = channels;
    for spec in specs {
        blocks.push(ConvBlock::new(spec, c, context));
        c = spec.filters;
    }
    (blocks, c)
}

/// Convolution blocks → flatten or global max → dense blocks → linear output.
#[derive(Module, Debug)]
pub struct ConvNet {
    /// Convolution blocks.
    pub blocks: Vec<ConvBlock>,
    /// Dropout after the reduction.
    pub reduce_dropout: Dropout,
    /// Hidden dense blocks.
    pub dense: Vec<DenseBlock>,
    /// Output layer (logits).
    pub output: Linear,
    /// Flatten or global max.
    #[module(skip)]
    pub global_max: bool,
    /// The early-exit head (global max over positions → linear), if the spec has one.
    pub exit: Option<Linear>,
    /// The block the exit reads.
    #[module(skip)]
    pub exit_after: usize,
}

impl ConvNet {
    fn new(plan: &ConvPlan, channels: usize, reduced: usize, classes: usize, context: &LayerContext<'_>) -> Self {
        let (blocks, _) = conv_blocks(&plan.convs, channels, context);
        let mut dense = Vec::new();
        let mut width = reduced;
        for spec in &plan.dense {
            dense.push(DenseBlock::new(spec, width, context));
            width = spec.units;
        }
        Self {
            blocks,
            reduce_dropout: Dropout::new(plan.reduce_dropout, context.dropout),
            dense,
            output: linear(width, classes, true, context.weights, true, context.device),
            global_max: plan.reduce == Reduce::GlobalMax,
            exit: None,
            exit_after: 0,
        }
    }

    /// Final logits and, with an early exit, the exit's logits.
    pub fn forward_with_exit(&self, x: Tensor<3>) -> (Tensor<2>, Option<Tensor<2>>) {
        let Some(exit) = &self.exit else { return (self.forward(x), None) };
        let mut x = x;
        let mut exit_logits = None;
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x);
            if i == self.exit_after {
                let [b, c, _] = x.dims();
                exit_logits = Some(exit.forward(x.clone().max_dim(2).reshape([b, c])));
            }
        }
        (self.head(x), exit_logits)
    }

    /// The convolution stack's output (B, C', L').
    pub fn features(&self, x: Tensor<3>) -> Tensor<3> {
        self.blocks.iter().fold(x, |x, block| block.forward(x))
    }

    /// The head: reduction, dense blocks and output, from the convolution stack's output.
    pub fn head(&self, features: Tensor<3>) -> Tensor<2> {
        let x: Tensor<2> = if self.global_max {
            let [b, c, _] = features.dims();
            features.max_dim(2).reshape([b, c])
        } else {
            features.flatten(1, 2)
        };
        let x = self.reduce_dropout.forward(x);
        let x = self.dense.iter().fold(x, |x, block| block.forward(x));
        self.output.forward(x)
    }

    /// (B, C, L) → logits (B, K).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        self.head(self.features(x))
    }
}

/// (Convolutions) → BiLSTM → mean over time → linear output (DeepMotif RNN / CNN-RNN).
#[derive(Module, Debug)]
pub struct RecurrentNet {
    /// Convolution blocks before the LSTM.
    pub blocks: Vec<ConvBlock>,
    /// The bidirectional LSTM.
    pub lstm: BiLstm,
    /// Output layer (logits).
    pub output: Linear,
}

impl RecurrentNet {
    fn new(plan: &RecurrentPlan, channels: usize, classes: usize, context: &LayerContext<'_>) -> Self {
        let (blocks, c) = conv_blocks(&plan.convs, channels, context);
        let (weights, device) = (context.weights, context.device);
        Self {
            blocks,
            lstm: BiLstm::new(c, plan.hidden, weights, device),
            output: linear(2 * plan.hidden, classes, true, weights, true, device),
        }
    }

    /// Hidden states at every position, (B, L, 2H).
    pub fn states(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.blocks.iter().fold(x, |x, block| block.forward(x));
        self.lstm.forward(x.swap_dims(1, 2))
    }

    /// (B, C, L) → logits (B, K).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let states = self.states(x);
        let [b, _, h] = states.dims();
        self.output.forward(states.mean_dim(1).reshape([b, h]))
    }
}

/// A BiLSTM followed by attention pooling over its time axis.
#[derive(Module, Debug)]
pub struct AttentiveEncoder {
    /// The bidirectional LSTM.
    pub lstm: BiLstm,
    /// Attention over time steps.
    pub attention: AttentionPool,
}

impl AttentiveEncoder {
    fn new(inputs: usize, hidden: usize, weights: WeightInit, device: &Device) -> Self {
        Self { lstm: BiLstm::new(inputs, hidden, weights, device), attention: AttentionPool::new(2 * hidden, device) }
    }

    /// (B, T, in) → pooled (B, 2H) and attention (B, T).
    pub fn forward(&self, x: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        self.attention.forward(self.lstm.forward(x))
    }
}

/// AttentiveChrome: one bin-level attentive BiLSTM per mark, a mark-level attentive BiLSTM over
/// the marks' summaries, then a linear output.
#[derive(Module, Debug)]
pub struct AttentiveChrome {
    /// One encoder per mark, over its bins (bin attention α).
    pub bin_encoders: Vec<AttentiveEncoder>,
    /// Encoder over marks (mark attention β).
    pub mark_encoder: AttentiveEncoder,
    /// Output layer (logits).
    pub output: Linear,
}

impl AttentiveChrome {
    fn new(plan: &AttentivePlan, marks: usize, classes: usize, weights: WeightInit, device: &Device) -> Self {
        Self {
            bin_encoders: (0..marks).map(|_| AttentiveEncoder::new(1, plan.bin_hidden, weights, device)).collect(),
            mark_encoder: AttentiveEncoder::new(2 * plan.bin_hidden, plan.mark_hidden, weights, device),
            output: linear(2 * plan.mark_hidden, classes, true, weights, true, device),
        }
    }

    /// (B, M, T) → logits (B, K), bin attention α (B, M, T) and mark attention β (B, M).
    pub fn forward_with_attention(&self, x: Tensor<3>) -> (Tensor<2>, Tensor<3>, Tensor<2>) {
        let [b, _, t] = x.dims();
        let mut summaries = Vec::with_capacity(self.bin_encoders.len());
        let mut alphas = Vec::with_capacity(self.bin_encoders.len());
        for (m, encoder) in self.bin_encoders.iter().enumerate() {
            let mark = x.clone().narrow(1, m, 1).reshape([b, t, 1]);
            let (summary, alpha) = encoder.forward(mark);
            summaries.push(summary);
            alphas.push(alpha);
        }
        let (pooled, beta) = self.mark_encoder.forward(Tensor::stack(summaries, 1));
        (self.output.forward(pooled), Tensor::stack(alphas, 1), beta)
    }
}

/// Trainable parameters of a module, as PyTorch counts them: burn's `num_params` also counts the
/// BatchNorm running mean and variance, which are buffers, not parameters.
pub fn trainable_params<M: Module>(module: &M) -> usize {
    struct Counter {
        path: Vec<String>,
        count: usize,
    }
    impl ModuleVisitor for Counter {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_owned());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if !matches!(self.path.last().map(String::as_str), Some("running_mean" | "running_var")) {
                self.count += param.lazy_shape().num_elements();
            }
        }
    }
    let mut counter = Counter { path: Vec::new(), count: 0 };
    module.visit(&mut counter);
    counter.count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
        t.into_data().try_to_vec::<f32>().unwrap().into_iter().map(f64::from).collect()
    }

    fn mean_sd(v: &[f64]) -> (f64, f64) {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (mean, (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt())
    }

    #[test]
    fn init_flag_replaces_the_sources_initialisation() {
        let device = Device::flex();
        let first_conv = |spec: &ModelSpec| {
            device.seed(5);
            let Network::Conv(net) = spec.build(&device).unwrap() else { unreachable!() };
            let bias = net.output.bias.as_ref().map(|b| values(b.val())).unwrap();
            (values(net.blocks[0].conv.weight.val()), bias)
        };
        let keras = ModelSpec::new(Arch::KooCnnShallow, 4, 200, 12, Activation::Relu);
        let torch = ModelSpec { init: Some(InitScheme::Torch), ..keras.clone() };
        let fan_in: f64 = 4.0 * 19.0;
        // Keras (the source): he_normal kernels (sd √(2/fan_in)), zero output biases.
        let (w, bias) = first_conv(&keras);
        assert!((mean_sd(&w).1 / (2.0 / fan_in).sqrt() - 1.0).abs() < 0.05);
        assert!(bias.iter().all(|&b| b == 0.0));
        // PyTorch: U(−1/√fan_in, 1/√fan_in), sd bound/√3; the output bias drawn the same way (fan_in 512).
        let (w, bias) = first_conv(&torch);
        let bound = 1.0 / fan_in.sqrt();
        assert!(w.iter().all(|x| x.abs() <= bound + 1e-7));
        assert!((mean_sd(&w).1 / (bound / 3f64.sqrt()) - 1.0).abs() < 0.05);
        assert!(bias.iter().all(|b| b.abs() <= 1.0 / 512f64.sqrt() + 1e-7) && bias.iter().any(|&b| b != 0.0));
        assert!(torch.describe().unwrap().contains("initialisation: PyTorch/Torch7 defaults"));
    }

    #[test]
    fn dropout_placement_moves_dropout_after_every_pool_and_is_recorded() {
        let source = ModelSpec::new(Arch::KooCnnDeep, 4, 200, 12, Activation::Relu);
        let after = ModelSpec { dropout_placement: Some(DropoutPlacement::AfterPool), ..source.clone() };
        let placements = |spec: &ModelSpec| match spec.plan() {
            Plan::Conv(plan) => plan.convs.iter().map(|c| (c.pool, c.dropout_after_pool)).collect::<Vec<_>>(),
            _ => unreachable!(),
        };
        assert_eq!(placements(&source), [(1, false), (4, false), (4, false), (3, false)]);
        // The unpooled first block keeps its order (both orders are the same function there).
        assert_eq!(placements(&after), [(1, false), (4, true), (4, true), (3, true)]);
        let json = serde_json::to_value(&after).unwrap();
        assert_eq!(json["dropout_placement"], "after-pool");
        assert!(serde_json::to_value(&source).unwrap().get("dropout_placement").is_none());
        assert_eq!(serde_json::from_value::<ModelSpec>(json).unwrap(), after);
        assert!(after.describe().unwrap().contains("conv 48 k7 same + batchnorm + relu + maxpool 4 + dropout 0.2"));
    }

    #[test]
    fn attentivechrome_attention_is_a_distribution_over_bins_and_marks() {
        let device = Device::flex();
        device.seed(6);
        let spec = ModelSpec::new(Arch::Attentivechrome, 3, 12, 1, Activation::Relu);
        let Network::Attentive(net) = spec.build(&device).unwrap() else { panic!("attentive network") };
        let values: Vec<f32> = (0..2 * 3 * 12).map(|i| ((i * 7) % 5) as f32).collect();
        let x = Tensor::<3>::from_data(burn::tensor::TensorData::new(values, [2, 3, 12]), &device);
        let (logits, alpha, beta) = net.valid().forward_with_attention(x);
        assert_eq!(logits.dims(), [2, 1]);
        assert_eq!(alpha.dims(), [2, 3, 12]);
        assert_eq!(beta.dims(), [2, 3]);
        let alpha: Vec<f32> = alpha.into_data().try_to_vec::<f32>().unwrap();
        for sums in alpha.chunks(12) {
            assert!((sums.iter().sum::<f32>() - 1.0).abs() < 1e-5 && sums.iter().all(|&a| a > 0.0));
        }
        let beta: Vec<f32> = beta.into_data().try_to_vec::<f32>().unwrap();
        for sums in beta.chunks(3) {
            assert!((sums.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}
