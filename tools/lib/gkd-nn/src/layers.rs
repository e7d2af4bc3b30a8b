//! Building blocks shared by the architectures: convolution blocks (conv → BatchNorm →
//! activation → dropout → max-pool, the order of the Koo lab's Keras models, or pool before
//! dropout as in DeepChrome), dense blocks, a bidirectional LSTM stored in PyTorch's `nn.LSTM`
//! layout, and soft-attention pooling.

use std::sync::{Arc, Mutex};

use burn::module::{Flag, Initializer, Module, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig1d};
use burn::tensor::activation::{relu, sigmoid, softmax, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use gkd_genomics::rng::SeededRng;
use rayon::prelude::*;

use crate::factorized::{DenseMapSpec, Mpo};
use crate::init::WeightInit;
use crate::norm::{BatchNorm, NormSpec};

crate::setting::setting_enum! {
/// The non-linearity after a layer.
pub enum Activation {
    /// max(0, x).
    Relu,
    /// exp(x): Koo & Ploenzke's first-layer activation that makes filters more interpretable.
    Exponential,
    /// No non-linearity.
    #[strum(props(cli = "hidden"))]
    Identity,
}
}

crate::setting::setting_enum! {
/// Where a pooled convolution block applies its dropout (`gkd-train --dropout-placement`,
/// model.json `spec.dropout_placement`).
pub enum DropoutPlacement {
    /// activation → dropout → max-pool (the Koo lab's tfomics layers, the exponential-activation code).
    BeforePool,
    /// activation → max-pool → dropout (Koo & Eddy 2019's own script, DeepChrome).
    AfterPool,
}
}

impl Activation {
    /// Apply to a tensor.
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => relu(x),
            Activation::Exponential => x.exp(),
            Activation::Identity => x,
        }
    }

    /// Name as written in model.json and on the command line.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The stream a network's dropout masks are drawn from. A network has one, shared by its dropout
/// layers in the order they run (copies of the network share it too). The trainer reseeds it at
/// the start of every epoch from the run's seed and the epoch, so a run resumed from a
/// checkpoint draws the same masks as one that never stopped.
#[derive(Debug, Clone)]
pub struct DropoutStream(Arc<Mutex<SeededRng>>);

impl DropoutStream {
    /// A stream seeded with 0 (until [`reseed`](Self::reseed)).
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(Self::rng(0))))
    }

    /// Restart the stream from `seed`.
    pub fn reseed(&self, seed: u64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Self::rng(seed);
    }

    /// How far the stream has been read, for a checkpoint taken within an epoch.
    pub fn position(&self) -> u128 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).position()
    }

    /// Continue from a saved [`position`](Self::position) of the current seed's stream.
    pub fn set_position(&self, words: u128) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).set_position(words);
    }

    fn rng(seed: u64) -> SeededRng {
        SeededRng::new(seed, 0xD0)
    }

    /// The next `n` mask values of inverted dropout with probability `prob`, in the order they
    /// are drawn (row-major over the tensor the layer sees): 0 with probability `prob` (to
    /// 1/65,536), else 1/(1 − prob), from 16 random bits each. Every dropout layer of every training back end
    /// draws its masks here, so burn and gkd-engine see the same masks. Long masks are drawn in
    /// parallel pieces from the stream's positions (ChaCha seeks), the same values as one pass.
    pub fn mask(&self, n: usize, prob: f64) -> Vec<f32> {
        let mut mask = Vec::new();
        self.mask_into(&mut mask, n, prob);
        mask
    }

    /// [`mask`](Self::mask) into a buffer kept by the caller.
    pub fn mask_into(&self, mask: &mut Vec<f32>, n: usize, prob: f64) {
        const PIECE: usize = 1 << 16;
        mask.resize(n, 0.0);
        self.draw(mask, PIECE, prob, None);
    }

    /// The mask of a (rows, channels, positions) tensor, drawn in burn's order (row-major) and
    /// stored position-major, (rows, positions, channels): the layout of gkd-engine's
    /// activations.
    pub fn mask_position_major(
        &self,
        mask: &mut Vec<f32>,
        (rows, channels, positions): (usize, usize, usize),
        prob: f64,
    ) {
        mask.resize(rows * channels * positions, 0.0);
        self.draw(mask, channels * positions, prob, Some((channels, positions)));
    }

    /// Fill `out` piece by piece (`piece` values each, the last shorter), each piece from its
    /// own position of the stream, in parallel; with `transpose` = (channels, positions) each
    /// piece is one row, drawn channel-major and stored position-major. Each value takes 16
    /// random bits: value j of the mask is half j % 2 (the low half first) of word j / 2, and the
    /// stream then stands ⌈len/2⌉ words further on.
    fn draw(&self, out: &mut [f32], piece: usize, prob: f64, transpose: Option<(usize, usize)>) {
        let piece = piece.max(1);
        let keep = 1.0 - prob;
        let threshold = (keep * 65_536.0) as u32;
        let scale = (1.0 / keep) as f32;
        // Value j of the whole mask is half j % 2 of word j / 2 after `start`, whichever piece
        // draws it.
        let mut rng = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let start = rng.position();
        out.par_chunks_mut(piece).enumerate().for_each(|(i, values)| {
            let first = i * piece;
            let mut local = rng.clone();
            local.set_position(start + (first / 2) as u128);
            let mut words = vec![0u32; (first + values.len()).div_ceil(2) - first / 2];
            local.fill_u32(&mut words);
            let value = |j: usize| {
                let at = first + j;
                let bits = (words[at / 2 - first / 2] >> (16 * (at % 2))) & 0xFFFF;
                if bits < threshold { scale } else { 0.0 }
            };
            match transpose {
                None => values.iter_mut().enumerate().for_each(|(j, v)| *v = value(j)),
                Some((channels, positions)) => {
                    for c in 0..channels {
                        for p in 0..positions {
                            values[p * channels + c] = value(c * positions + p);
                        }
                    }
                }
            }
        });
        rng.set_position(start + out.len().div_ceil(2) as u128);
    }
}

impl Default for DropoutStream {
    fn default() -> Self {
        Self::new()
    }
}

/// Inverted dropout whose masks come from a ChaCha8 stream (16 random bits per element) instead
/// of the back end's float sampler, which took ~8% of a koo-cnn-deep training step on `flex`;
/// the masks are also the same on every back end. Active only while training: the module's
/// training flag is on (`valid()` turns it off) and the input is on an autodiff device.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    #[module(skip)]
    pub prob: f64,
    /// Training flag, switched off by `valid()`.
    pub training: Param<Flag>,
    /// The network's mask stream.
    #[module(skip)]
    pub stream: DropoutStream,
}

impl Dropout {
    /// Dropout with probability `prob` in [0, 1), drawing its masks from `stream`.
    pub fn new(prob: f64, stream: &DropoutStream) -> Self {
        assert!((0.0..1.0).contains(&prob), "dropout probability {prob} outside [0, 1)");
        Self { prob, training: Param::from_bool(true), stream: stream.clone() }
    }

    /// Zero each element with probability p and scale the rest by 1/(1 − p) while training.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if self.prob == 0.0 || !self.training.is_enabled() || !x.device().is_autodiff() {
            return x;
        }
        let shape = x.shape();
        let mask = self.stream.mask(shape.num_elements(), self.prob);
        let mask = Tensor::<D>::from_data(TensorData::new(mask, shape), &x.device());
        x * mask
    }
}

/// Convolution padding: `same` keeps the length, `valid` shrinks it by kernel − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Output length = input length.
    Same,
    /// Output length = input length − kernel + 1.
    Valid,
}

/// One convolution layer of an architecture's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvSpec {
    /// Number of filters.
    pub filters: usize,
    /// Filter width.
    pub kernel: usize,
    /// Same or valid padding.
    pub padding: Padding,
    /// BatchNorm after the convolution.
    pub batch_norm: bool,
    /// Non-linearity.
    pub activation: Activation,
    /// Max-pool size (stride = size); 1 = none.
    pub pool: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// Dropout after the max-pool (DeepChrome) instead of before it (the Koo lab's layers).
    pub dropout_after_pool: bool,
    /// Rank of a factorised convolution (`rank` filters of the full width, then a width-1
    /// convolution to `filters`; gkd-compress low-rank); `None` for the full kernel.
    pub rank: Option<usize>,
}

/// A convolution layer with Koo-lab defaults: same padding, BatchNorm, ReLU, no pool, no dropout.
pub fn conv(filters: usize, kernel: usize) -> ConvSpec {
    ConvSpec {
        filters,
        kernel,
        padding: Padding::Same,
        batch_norm: true,
        activation: Activation::Relu,
        pool: 1,
        dropout: 0.0,
        dropout_after_pool: false,
        rank: None,
    }
}

impl ConvSpec {
    /// Valid (no) padding.
    pub fn valid(mut self) -> Self {
        self.padding = Padding::Valid;
        self
    }
    /// Max-pool of this size after the activation.
    pub fn pool(mut self, size: usize) -> Self {
        self.pool = size;
        self
    }
    /// Dropout after the activation, before the max-pool.
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    /// Dropout after the max-pool.
    pub fn dropout_after_pool(mut self, p: f64) -> Self {
        self.dropout = p;
        self.dropout_after_pool = true;
        self
    }
    /// Activation of the block.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// No BatchNorm (the convolution then has a bias).
    pub fn no_norm(mut self) -> Self {
        self.batch_norm = false;
        self
    }

    /// Output length for an input of `length` positions; `None` when the input is too short.
    pub fn output_length(&self, length: usize) -> Option<usize> {
        let conv = match self.padding {
            Padding::Same => length,
            Padding::Valid => length.checked_sub(self.kernel - 1)?,
        };
        let pooled = conv / self.pool;
        (pooled > 0).then_some(pooled)
    }
}

/// One hidden dense layer of an architecture's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseSpec {
    /// Units.
    pub units: usize,
    /// BatchNorm after the linear map.
    pub batch_norm: bool,
    /// Dropout after the activation.
    pub dropout: f64,
    /// How the linear map is stored (full, or factorised by gkd-compress).
    pub map: DenseMapSpec,
}

/// A hidden dense layer: linear → BatchNorm → ReLU, no dropout.
pub fn dense(units: usize) -> DenseSpec {
    DenseSpec { units, batch_norm: true, dropout: 0.0, map: DenseMapSpec::Full }
}

impl DenseSpec {
    /// Dropout after the activation.
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    /// No BatchNorm (the linear map then has a bias).
    pub fn no_norm(mut self) -> Self {
        self.batch_norm = false;
        self
    }
}

/// What every layer of one network is built with.
#[derive(Debug, Clone, Copy)]
pub struct LayerContext<'a> {
    /// BatchNorm settings.
    pub norm: &'a NormSpec,
    /// Weight initialisation scheme.
    pub weights: WeightInit,
    /// The network's dropout mask stream.
    pub dropout: &'a DropoutStream,
    /// Where the parameters live.
    pub device: &'a Device,
}

/// conv → (BatchNorm) → activation → (dropout) → (max-pool), or pool before dropout. A
/// factorised (low-rank) convolution is `factor` (rank filters of the full width, no bias) then
/// `conv` (width 1, rank → filters).
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// The rank-r first factor of a low-rank convolution.
    pub factor: Option<Conv1d>,
    /// The convolution (no bias when BatchNorm follows: it would be cancelled by the mean).
    pub conv: Conv1d,
    /// BatchNorm over channels.
    pub norm: Option<BatchNorm>,
    /// Max-pool, stride = size.
    pub pool: Option<MaxPool1d>,
    /// Dropout.
    pub dropout: Dropout,
    /// The non-linearity.
    #[module(skip)]
    pub activation: Activation,
    /// Dropout after the pool instead of before it.
    #[module(skip)]
    pub dropout_after_pool: bool,
}

impl ConvBlock {
    /// Build from a spec for `channels_in` input channels.
    pub fn new(spec: &ConvSpec, channels_in: usize, context: &LayerContext<'_>) -> Self {
        let LayerContext { norm, weights, dropout, device } = *context;
        let padding = match spec.padding {
            Padding::Same => PaddingConfig1d::Same,
            Padding::Valid => PaddingConfig1d::Valid,
        };
        let factor = spec.rank.map(|r| {
            Conv1dConfig::new(channels_in, r, spec.kernel).with_padding(padding.clone()).with_bias(false).init(device)
        });
        let (cin, kernel) = match spec.rank {
            Some(r) => (r, 1),
            None => (channels_in, spec.kernel),
        };
        let padding = if spec.rank.is_some() { PaddingConfig1d::Valid } else { padding };
        let mut conv =
            Conv1dConfig::new(cin, spec.filters, kernel).with_padding(padding).with_bias(!spec.batch_norm).init(device);
        if let Some(w) = weights.kernel([spec.filters, cin, kernel], cin * kernel, spec.filters, false, device) {
            conv.weight = w;
        }
        conv.bias = conv.bias.map(|b| weights.bias([spec.filters], device).unwrap_or(b));
        Self {
            factor,
            conv,
            norm: spec.batch_norm.then(|| BatchNorm::new(spec.filters, norm, device)),
            pool: (spec.pool > 1).then(|| MaxPool1dConfig::new(spec.pool).init()),
            dropout: Dropout::new(spec.dropout, dropout),
            activation: spec.activation,
            dropout_after_pool: spec.dropout_after_pool,
        }
    }

    /// The convolution as one kernel (filters, channels, width): the factors' product for a
    /// low-rank block.
    pub fn kernel(&self) -> Tensor<3> {
        match &self.factor {
            Some(factor) => {
                let [filters, rank, _] = self.conv.weight.dims();
                let [_, channels, width] = factor.weight.dims();
                let mixed = self.conv.weight.val().reshape([filters, rank]);
                mixed.matmul(factor.weight.val().reshape([rank, channels * width])).reshape([filters, channels, width])
            }
            None => self.conv.weight.val(),
        }
    }

    /// Pre-activation output of the convolution and its BatchNorm, (B, filters, L').
    pub fn pre_activation(&self, x: Tensor<3>) -> Tensor<3> {
        let x = match &self.factor {
            Some(factor) => factor.forward(x),
            None => x,
        };
        let x = self.conv.forward(x);
        match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }

    /// The max-pool (identity without one).
    pub fn pool(&self, x: Tensor<3>) -> Tensor<3> {
        match &self.pool {
            Some(pool) => pool.forward(x),
            None => x,
        }
    }

    /// (B, C, L) → (B, filters, L').
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.activation.apply(self.pre_activation(x));
        if self.dropout_after_pool { self.dropout.forward(self.pool(x)) } else { self.pool(self.dropout.forward(x)) }
    }
}

/// linear → (BatchNorm) → ReLU → (dropout). The linear map is a full matrix (`linear`), a
/// rank-r product (`factor` then `linear`) or a matrix product operator (`mpo`), as the spec's
/// [`DenseMapSpec`] says.
#[derive(Module, Debug)]
pub struct DenseBlock {
    /// The rank-r first factor (inputs → r, no bias) of a low-rank map.
    pub factor: Option<Linear>,
    /// The linear map (r → units after a factor); absent for an MPO.
    pub linear: Option<Linear>,
    /// The matrix product operator replacing `linear`.
    pub mpo: Option<Mpo>,
    /// BatchNorm over units.
    pub norm: Option<BatchNorm>,
    /// Dropout.
    pub dropout: Dropout,
}

impl DenseBlock {
    /// Build from a spec for `inputs` features.
    pub fn new(spec: &DenseSpec, inputs: usize, context: &LayerContext<'_>) -> Self {
        let LayerContext { norm, weights, dropout, device } = *context;
        let bias = !spec.batch_norm;
        let (factor, linear, mpo) = match &spec.map {
            DenseMapSpec::Full => (None, Some(linear(inputs, spec.units, bias, weights, false, device)), None),
            DenseMapSpec::LowRank { rank } => (
                Some(LinearConfig::new(inputs, *rank).with_bias(false).init(device)),
                Some(linear(*rank, spec.units, bias, weights, false, device)),
                None,
            ),
            DenseMapSpec::Mpo { inputs: i, outputs: o, bonds } => {
                (None, None, Some(Mpo::new(i, o, bonds, bias, device)))
            }
        };
        Self {
            factor,
            linear,
            mpo,
            norm: spec.batch_norm.then(|| BatchNorm::new(spec.units, norm, device)),
            dropout: Dropout::new(spec.dropout, dropout),
        }
    }

    /// The linear map as one matrix (inputs, units), burn's layout.
    pub fn weight_matrix(&self) -> Tensor<2> {
        match (&self.mpo, &self.factor, &self.linear) {
            (Some(mpo), _, _) => mpo.matrix(),
            (None, Some(factor), Some(linear)) => factor.weight.val().matmul(linear.weight.val()),
            (None, None, Some(linear)) => linear.weight.val(),
            _ => unreachable!("a dense block has a linear map or an MPO"),
        }
    }

    /// The linear map's bias (absent when BatchNorm follows).
    pub fn bias(&self) -> Option<Tensor<1>> {
        match (&self.mpo, &self.linear) {
            (Some(mpo), _) => mpo.bias.as_ref().map(Param::val),
            (None, Some(linear)) => linear.bias.as_ref().map(Param::val),
            (None, None) => None,
        }
    }

    /// Σw² over the map's stored weights (factors, or MPO cores): its kernel L2 penalty.
    pub fn kernel_sum_of_squares(&self) -> Tensor<1> {
        let mut sums: Vec<Tensor<1>> = Vec::new();
        sums.extend(self.factor.iter().chain(&self.linear).map(|l| l.weight.val().powi_scalar(2).sum()));
        if let Some(mpo) = &self.mpo {
            sums.extend(mpo.cores.iter().map(|c| c.val().powi_scalar(2).sum()));
        }
        sums.into_iter().reduce(|a, b| a + b).expect("a dense block has weights")
    }

    /// (B, inputs) → (B, units).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = match &self.factor {
            Some(factor) => factor.forward(x),
            None => x,
        };
        let x = match (&self.mpo, &self.linear) {
            (Some(mpo), _) => mpo.forward(x),
            (None, Some(linear)) => linear.forward(x),
            (None, None) => unreachable!("a dense block has a linear map or an MPO"),
        };
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        self.dropout.forward(relu(x))
    }
}

/// A linear map `inputs` → `outputs` initialised as `weights` says; `output` marks the logits
/// layer (Keras: `glorot_uniform` there, `he_normal` in hidden layers).
pub fn linear(inputs: usize, outputs: usize, bias: bool, weights: WeightInit, output: bool, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(inputs, outputs).with_bias(bias).init(device);
    if let Some(w) = weights.kernel([inputs, outputs], inputs, outputs, output, device) {
        layer.weight = w;
    }
    layer.bias = layer.bias.map(|b| weights.bias([outputs], device).unwrap_or(b));
    layer
}

/// A one-layer bidirectional LSTM whose parameters carry PyTorch's `nn.LSTM` names and shapes
/// (`weight_ih_l0` (4H, in), `weight_hh_l0` (4H, H), `bias_ih_l0`, `bias_hh_l0`, and the same
/// with `_reverse`; gates in PyTorch's order input, forget, cell, output), so the safetensors load
/// into `nn.LSTM(in, H, batch_first=True, bidirectional=True)` as they are. The input projection
/// of every time step is one matrix product; only the recurrent product runs step by step.
#[derive(Module, Debug)]
pub struct BiLstm {
    /// Forward direction, input weights.
    pub weight_ih_l0: Param<Tensor<2>>,
    /// Forward direction, recurrent weights.
    pub weight_hh_l0: Param<Tensor<2>>,
    /// Forward direction, input bias.
    pub bias_ih_l0: Param<Tensor<1>>,
    /// Forward direction, recurrent bias.
    pub bias_hh_l0: Param<Tensor<1>>,
    /// Reverse direction, input weights.
    pub weight_ih_l0_reverse: Param<Tensor<2>>,
    /// Reverse direction, recurrent weights.
    pub weight_hh_l0_reverse: Param<Tensor<2>>,
    /// Reverse direction, input bias.
    pub bias_ih_l0_reverse: Param<Tensor<1>>,
    /// Reverse direction, recurrent bias.
    pub bias_hh_l0_reverse: Param<Tensor<1>>,
    /// Hidden units per direction.
    #[module(skip)]
    pub hidden: usize,
}

impl BiLstm {
    /// Every weight and bias ~ U(−a, a): PyTorch's a = 1/√H unless `weights` says otherwise.
    pub fn new(inputs: usize, hidden: usize, weights: WeightInit, device: &Device) -> Self {
        let bound = weights.lstm_bound(hidden);
        let init = Initializer::Uniform { min: -bound, max: bound };
        let g = 4 * hidden;
        Self {
            weight_ih_l0: init.init([g, inputs], device),
            weight_hh_l0: init.init([g, hidden], device),
            bias_ih_l0: init.init([g], device),
            bias_hh_l0: init.init([g], device),
            weight_ih_l0_reverse: init.init([g, inputs], device),
            weight_hh_l0_reverse: init.init([g, hidden], device),
            bias_ih_l0_reverse: init.init([g], device),
            bias_hh_l0_reverse: init.init([g], device),
            hidden,
        }
    }

    /// (B, T, inputs) → (B, T, 2H): forward states then reverse states at each time step.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let forward = self.direction(
            x.clone(),
            &self.weight_ih_l0,
            &self.weight_hh_l0,
            &self.bias_ih_l0,
            &self.bias_hh_l0,
            false,
        );
        let reverse = self.direction(
            x,
            &self.weight_ih_l0_reverse,
            &self.weight_hh_l0_reverse,
            &self.bias_ih_l0_reverse,
            &self.bias_hh_l0_reverse,
            true,
        );
        Tensor::cat(vec![forward, reverse], 2)
    }

    fn direction(
        &self,
        x: Tensor<3>,
        w_ih: &Param<Tensor<2>>,
        w_hh: &Param<Tensor<2>>,
        b_ih: &Param<Tensor<1>>,
        b_hh: &Param<Tensor<1>>,
        reverse: bool,
    ) -> Tensor<3> {
        let [batch, steps, inputs] = x.dims();
        let h = self.hidden;
        let bias = (b_ih.val() + b_hh.val()).unsqueeze_dim::<2>(0);
        let projected = x.reshape([batch * steps, inputs]).matmul(w_ih.val().transpose()) + bias;
        let projected = projected.reshape([batch, steps, 4 * h]);
        let w_hh_t = w_hh.val().transpose();
        let device = projected.device();
        let mut hidden = Tensor::<2>::zeros([batch, h], &device);
        let mut cell = Tensor::<2>::zeros([batch, h], &device);
        let mut outputs: Vec<Tensor<2>> = Vec::with_capacity(steps);
        let order: Box<dyn Iterator<Item = usize>> =
            if reverse { Box::new((0..steps).rev()) } else { Box::new(0..steps) };
        for t in order {
            let gates = projected.clone().narrow(1, t, 1).reshape([batch, 4 * h]) + hidden.matmul(w_hh_t.clone());
            let input_gate = sigmoid(gates.clone().narrow(1, 0, h));
            let forget_gate = sigmoid(gates.clone().narrow(1, h, h));
            let cell_gate = tanh(gates.clone().narrow(1, 2 * h, h));
            let output_gate = sigmoid(gates.narrow(1, 3 * h, h));
            cell = forget_gate * cell + input_gate * cell_gate;
            hidden = output_gate * tanh(cell.clone());
            outputs.push(hidden.clone());
        }
        if reverse {
            outputs.reverse();
        }
        Tensor::stack(outputs, 1)
    }
}

/// Soft attention over the time axis: α = softmax_t(h_t · w), pooled = Σ_t α_t h_t
/// (AttentiveChrome's `rec_attention`; the context vector is (D, 1) as there).
#[derive(Module, Debug)]
pub struct AttentionPool {
    /// The context vector w, (D, 1).
    pub context: Param<Tensor<2>>,
}

impl AttentionPool {
    /// A context vector for `dim`-wide states, ~ U(−0.1, 0.1) as in AttentiveChrome.
    pub fn new(dim: usize, device: &Device) -> Self {
        Self { context: Initializer::Uniform { min: -0.1, max: 0.1 }.init([dim, 1], device) }
    }

    /// (B, T, D) → pooled (B, D) and weights α (B, T).
    pub fn forward(&self, states: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        let [batch, steps, dim] = states.dims();
        let scores = states.clone().reshape([batch * steps, dim]).matmul(self.context.val()).reshape([batch, steps]);
        let alpha = softmax(scores, 1);
        let pooled = (states * alpha.clone().unsqueeze_dim::<3>(2)).sum_dim(1).reshape([batch, dim]);
        (pooled, alpha)
    }
}

#[cfg(test)]
mod dropout_tests {
    use super::*;

    /// The definition, one value at a time: 16 bits each, the low half of a word first.
    fn by_hand(seed: u64, n: usize, prob: f64) -> Vec<f32> {
        let mut rng = SeededRng::new(seed, 0xD0);
        let threshold = ((1.0 - prob) * 65_536.0) as u32;
        let scale = (1.0 / (1.0 - prob)) as f32;
        let mut out = Vec::new();
        while out.len() < n {
            let w = rng.next_u32();
            for half in [w & 0xFFFF, w >> 16] {
                if out.len() < n {
                    out.push(if half < threshold { scale } else { 0.0 });
                }
            }
        }
        out
    }

    #[test]
    fn masks_in_parallel_pieces_and_layouts_are_the_sequential_definition() {
        let stream = DropoutStream::new();
        stream.reseed(9);
        // Longer than one parallel piece and odd: two masks in a row continue the stream.
        let (n, m) = ((1 << 16) * 2 + 3, 1001);
        let first = stream.mask(n, 0.3);
        let second = stream.mask(m, 0.3);
        let expected = by_hand(9, n + 1 + m, 0.3); // the odd mask leaves half a word unused
        assert_eq!(first, expected[..n]);
        assert_eq!(second, expected[n + 1..]);
        let dropped = first.iter().filter(|v| **v == 0.0).count() as f64 / n as f64;
        assert!((dropped - 0.3).abs() < 0.01, "{dropped}");
        // Position-major: the same values, transposed within each row.
        let (rows, channels, positions) = (3, 5, 7);
        stream.reseed(4);
        let drawn = stream.mask(rows * channels * positions, 0.5);
        stream.reseed(4);
        let mut placed = Vec::new();
        stream.mask_position_major(&mut placed, (rows, channels, positions), 0.5);
        for r in 0..rows {
            for c in 0..channels {
                for p in 0..positions {
                    let w = channels * positions;
                    assert_eq!(placed[r * w + p * channels + c], drawn[r * w + c * positions + p]);
                }
            }
        }
    }
}
