//! The engine's layers, built from a trained gkd network: BatchNorm folded into the weights in
//! front of it, convolution weights laid out for position-major GEMMs, and the first dense
//! layer's rows reordered for a position-major flatten.

use burn::tensor::Tensor;
use gkd_nn::arch::{InputKind, Plan, Reduce};
use gkd_nn::layers::{Activation, ConvBlock, DenseBlock, Padding};
use gkd_nn::model::{ModelSpec, Network};
use gkd_nn::norm::BatchNorm;

/// A convolution block in evaluation mode: conv (+ folded BatchNorm) → activation → max-pool.
#[derive(Debug, Clone)]
pub struct ConvLayer {
    /// Input channels.
    pub cin: usize,
    /// Filters.
    pub cout: usize,
    /// Filter width.
    pub kernel: usize,
    /// Zero positions added before the input ('same' padding; 0 for 'valid').
    pub pad_left: usize,
    /// Zero positions added after the input.
    pub pad_right: usize,
    /// (kernel · cin) × cout: row `k · cin + c` holds W[·, c, k] (BatchNorm's scale folded in).
    pub forward: Vec<f32>,
    /// (kernel · cout) × cin: row `k · cout + f` holds W[f, ·, kernel − 1 − k], the flipped
    /// kernel the input gradient is a convolution with.
    pub backward: Vec<f32>,
    /// Per filter: the convolution's bias, or BatchNorm's β − μ·γ/√(σ² + ε).
    pub bias: Vec<f32>,
    /// The non-linearity.
    pub activation: Activation,
    /// Max-pool size (stride = size, output length rounded down); 1 = none.
    pub pool: usize,
    /// Input positions.
    pub length_in: usize,
}

impl ConvLayer {
    /// Input positions with the padding.
    pub fn padded_length(&self) -> usize {
        self.length_in + self.pad_left + self.pad_right
    }
    /// Positions out of the convolution.
    pub fn conv_length(&self) -> usize {
        self.padded_length() + 1 - self.kernel
    }
    /// Positions out of the pool.
    pub fn pooled_length(&self) -> usize {
        self.conv_length() / self.pool
    }
}

/// A dense layer in evaluation mode: linear (+ folded BatchNorm) → ReLU, or the output layer.
#[derive(Debug, Clone)]
pub struct DenseLayer {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// inputs × outputs, row-major.
    pub weight: Vec<f32>,
    /// Per output.
    pub bias: Vec<f32>,
    /// ReLU after (hidden layers) or not (the logits).
    pub relu: bool,
}

/// A convolutional network as the engine runs it.
#[derive(Debug, Clone)]
pub struct Layers {
    /// Input channels (4 for DNA).
    pub channels: usize,
    /// Input positions.
    pub length: usize,
    /// Whether the input is one-hot DNA (the first layer then runs as a gather-add).
    pub one_hot: bool,
    /// Convolution blocks in order.
    pub convs: Vec<ConvLayer>,
    /// Global max over positions (else flatten).
    pub global_max: bool,
    /// Hidden dense layers, then the output layer.
    pub dense: Vec<DenseLayer>,
    /// The early exit, if the model has one.
    pub exit: Option<ExitLayer>,
}

/// An early exit: global max over the positions of block `after`'s output, then `head`.
#[derive(Debug, Clone)]
pub struct ExitLayer {
    /// The convolution block it reads (0-based).
    pub after: usize,
    /// The linear map to the logits.
    pub head: DenseLayer,
}

impl Layers {
    /// The layers of `network`, or `None` when it is not a convolutional network the engine
    /// runs (recurrent and attention models).
    pub fn from_network(spec: &ModelSpec, network: &Network) -> Option<Self> {
        let (Plan::Conv(plan), Network::Conv(net)) = (spec.plan(), network) else { return None };
        if plan.convs.len() != net.blocks.len() || plan.dense.len() != net.dense.len() {
            return None;
        }
        let mut convs = Vec::new();
        let (mut channels, mut length) = (spec.channels, spec.length);
        for (block_spec, block) in plan.convs.iter().zip(&net.blocks) {
            let (pad_left, pad_right) = padding(block_spec.padding, block_spec.kernel);
            let layer =
                conv_layer(block, channels, length, pad_left, pad_right, block_spec.activation, block_spec.pool)?;
            channels = layer.cout;
            length = layer.pooled_length();
            convs.push(layer);
        }
        let global_max = plan.reduce == Reduce::GlobalMax;
        let mut dense = Vec::new();
        for (i, block) in net.dense.iter().enumerate() {
            let mut layer = dense_layer(block)?;
            if i == 0 && !global_max {
                layer.weight = position_major_rows(&layer.weight, channels, length, layer.outputs);
            }
            dense.push(layer);
        }
        let (w, b) = linear(&net.output.weight.val(), net.output.bias.as_ref().map(|b| b.val()));
        let (inputs, outputs) = (w.len() / b.len().max(1), b.len());
        let mut output = DenseLayer { inputs, outputs, weight: w, bias: b, relu: false };
        if dense.is_empty() && !global_max {
            output.weight = position_major_rows(&output.weight, channels, length, outputs);
        }
        dense.push(output);
        let one_hot = spec.arch.input_kind() == InputKind::Sequence && spec.channels == 4;
        let exit = net.exit.as_ref().map(|head| {
            let (weight, bias) = linear(&head.weight.val(), head.bias.as_ref().map(|b| b.val()));
            let outputs = bias.len();
            let inputs = weight.len() / outputs.max(1);
            ExitLayer { after: net.exit_after, head: DenseLayer { inputs, outputs, weight, bias, relu: false } }
        });
        Some(Self { channels: spec.channels, length: spec.length, one_hot, convs, global_max, dense, exit })
    }

    /// Logits per row.
    pub fn classes(&self) -> usize {
        self.dense.last().map_or(0, |d| d.outputs)
    }

    /// Width of the vector the convolution stack is reduced to.
    pub fn features(&self) -> usize {
        let last = self.convs.last().map_or((self.channels, self.length), |c| (c.cout, c.pooled_length()));
        if self.global_max { last.0 } else { last.0 * last.1 }
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("float tensor")
}

/// Per channel (scale γ/√(σ² + ε), shift β − μ·scale) of a BatchNorm in evaluation mode.
fn fold(norm: &BatchNorm) -> (Vec<f32>, Vec<f32>) {
    let gamma = values(norm.gamma.val());
    let beta = values(norm.beta.val());
    let mean = values(norm.running_mean.value());
    let var = values(norm.running_var.value());
    let scale: Vec<f32> =
        gamma.iter().zip(&var).map(|(g, v)| (*g as f64 / (*v as f64 + norm.epsilon).sqrt()) as f32).collect();
    let shift = beta.iter().zip(&mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
    (scale, shift)
}

fn conv_layer(
    block: &ConvBlock,
    cin: usize,
    length_in: usize,
    pad_left: usize,
    pad_right: usize,
    activation: Activation,
    pool: usize,
) -> Option<ConvLayer> {
    // A low-rank block runs as its product (one kernel).
    let weight = block.kernel();
    let [cout, c, kernel] = weight.dims();
    if c != cin || length_in + pad_left + pad_right < kernel {
        return None;
    }
    let w = values(weight);
    let (scale, bias) = match (&block.norm, &block.conv.bias) {
        (Some(norm), _) => fold(norm),
        (None, Some(b)) => (vec![1.0; cout], values(b.val())),
        (None, None) => (vec![1.0; cout], vec![0.0; cout]),
    };
    let mut forward = vec![0.0; kernel * cin * cout];
    for f in 0..cout {
        for c in 0..cin {
            for k in 0..kernel {
                forward[(k * cin + c) * cout + f] = w[(f * cin + c) * kernel + k] * scale[f];
            }
        }
    }
    let backward = flipped_kernel(&forward, cin, cout, kernel);
    Some(ConvLayer {
        cin,
        cout,
        kernel,
        pad_left,
        pad_right,
        forward,
        backward,
        bias,
        activation,
        pool: pool.max(1),
        length_in,
    })
}

/// Zero positions before and after the input of a convolution with this padding and width.
pub(crate) fn padding(padding: Padding, kernel: usize) -> (usize, usize) {
    match padding {
        Padding::Same => ((kernel - 1) / 2, kernel - 1 - (kernel - 1) / 2),
        Padding::Valid => (0, 0),
    }
}

/// The flipped kernel an input gradient is a convolution with: from a forward kernel laid out
/// (kernel · cin) × cout (row `k · cin + c` holds W[·, c, k]) to (kernel · cout) × cin, row
/// `k · cout + f` holding W[f, ·, kernel − 1 − k].
pub(crate) fn flipped_kernel(forward: &[f32], cin: usize, cout: usize, kernel: usize) -> Vec<f32> {
    let mut backward = vec![0.0; kernel * cout * cin];
    for k in 0..kernel {
        for c in 0..cin {
            for f in 0..cout {
                backward[((kernel - 1 - k) * cout + f) * cin + c] = forward[(k * cin + c) * cout + f];
            }
        }
    }
    backward
}

/// (weight inputs × outputs, bias) of a linear map, burn's `[d_input, d_output]` layout.
fn linear(weight: &Tensor<2>, bias: Option<Tensor<1>>) -> (Vec<f32>, Vec<f32>) {
    let [_, outputs] = weight.dims();
    (values(weight.clone()), bias.map(values).unwrap_or_else(|| vec![0.0; outputs]))
}

fn dense_layer(block: &DenseBlock) -> Option<DenseLayer> {
    // A factorised (low-rank or MPO) map runs as its product: the dense layers are a small share
    // of the multiply-adds, so the factors would save memory traffic but hardly any time.
    let (mut weight, mut bias) = linear(&block.weight_matrix(), block.bias());
    let outputs = bias.len();
    let inputs = weight.len() / outputs.max(1);
    if let Some(norm) = &block.norm {
        let (scale, shift) = fold(norm);
        for row in weight.chunks_mut(outputs) {
            row.iter_mut().zip(&scale).for_each(|(w, s)| *w *= s);
        }
        bias = bias.iter().zip(&scale).zip(&shift).map(|((b, s), t)| b * s + t).collect();
    }
    Some(DenseLayer { inputs, outputs, weight, bias, relu: true })
}

/// Rows of a weight matrix reordered from a channel-major flatten (row c·L + l, as PyTorch's
/// `flatten(1)` of (B, C, L)) to the engine's position-major one (row l·C + c).
fn position_major_rows(weight: &[f32], channels: usize, length: usize, outputs: usize) -> Vec<f32> {
    let mut out = vec![0.0; weight.len()];
    for c in 0..channels {
        for l in 0..length {
            let (from, to) = ((c * length + l) * outputs, (l * channels + c) * outputs);
            out[to..to + outputs].copy_from_slice(&weight[from..from + outputs]);
        }
    }
    out
}
