//! The trainable network: the layer plan of gkd-nn's architecture with every parameter in one
//! flat vector (so that the optimiser is one pass) and the BatchNorm running statistics in
//! another, each tensor a named slot that maps between the engine's layout and PyTorch's
//! (model.safetensors).

use std::ops::Range;

use gkd_nn::arch::{InputKind, Plan, Reduce};
use gkd_nn::layers::Activation;
use gkd_nn::model::ModelSpec;
use gkd_nn::norm::NormSpec;

/// How a slot's values are laid out in the engine, against PyTorch's layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Layout {
    /// The same order (vectors).
    Same,
    /// A convolution kernel: PyTorch (filters, channels, width), the engine (width · channels) ×
    /// filters, row `t · channels + c` holding W[·, c, t].
    ConvKernel { cout: usize, cin: usize, kernel: usize },
    /// A linear map: PyTorch (outputs, inputs), the engine inputs × outputs. After a flatten,
    /// the engine's input `l · channels + c` is PyTorch's `c · length + l`.
    Linear { inputs: usize, outputs: usize, flattened: Option<(usize, usize)> },
}

/// Which vector a slot lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// Trainable parameters.
    Params,
    /// BatchNorm running statistics.
    Stats,
}

/// One named tensor of model.safetensors.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// PyTorch name.
    pub name: String,
    /// PyTorch shape.
    pub shape: Vec<usize>,
    /// Where its values are.
    pub store: Store,
    /// Their range in that vector.
    pub range: Range<usize>,
    /// The engine's layout.
    pub layout: Layout,
}

impl Slot {
    /// The engine's index of each PyTorch-layout element, in PyTorch's order.
    fn engine_indices(&self) -> Vec<usize> {
        match self.layout {
            Layout::Same => (0..self.range.len()).collect(),
            Layout::ConvKernel { cout, cin, kernel } => (0..cout * cin * kernel)
                .map(|i| ((i % kernel) * cin + (i / kernel) % cin) * cout + i / (kernel * cin))
                .collect(),
            Layout::Linear { inputs, outputs, flattened } => {
                (0..outputs * inputs).map(|i| engine_input(i % inputs, flattened) * outputs + i / inputs).collect()
            }
        }
    }

    /// PyTorch-layout values → the engine's layout.
    pub fn to_engine(&self, torch: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; torch.len()];
        self.engine_indices().into_iter().zip(torch).for_each(|(e, v)| out[e] = *v);
        out
    }

    /// The engine's values → PyTorch's layout.
    pub fn to_torch(&self, engine: &[f32]) -> Vec<f32> {
        self.engine_indices().into_iter().map(|e| engine[e]).collect()
    }
}

/// The engine's row for PyTorch's input `i` of a linear map (position-major after a flatten of
/// (channels, length)).
fn engine_input(i: usize, flattened: Option<(usize, usize)>) -> usize {
    match flattened {
        Some((channels, length)) => (i % length) * channels + i / length,
        None => i,
    }
}

/// Training-mode BatchNorm of one layer.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    /// γ in the parameters.
    pub gamma: Range<usize>,
    /// β in the parameters.
    pub beta: Range<usize>,
    /// Running mean in the statistics.
    pub mean: Range<usize>,
    /// Running variance in the statistics.
    pub var: Range<usize>,
    /// The settings (ε, momentum, running-variance convention).
    pub spec: NormSpec,
}

/// One convolution block: conv → (BatchNorm) → activation → (dropout) → (max-pool), or the
/// pool before the dropout.
#[derive(Debug, Clone)]
pub(crate) struct Conv {
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub length_in: usize,
    pub pool: usize,
    pub activation: Activation,
    pub dropout: f64,
    pub dropout_after_pool: bool,
    /// (kernel · cin) × cout in the parameters.
    pub weight: Range<usize>,
    /// The convolution's bias (without BatchNorm).
    pub bias: Option<Range<usize>>,
    pub norm: Option<Norm>,
}

impl Conv {
    /// Input positions with the padding.
    pub fn padded(&self) -> usize {
        self.length_in + self.pad_left + self.pad_right
    }
    /// Positions out of the convolution.
    pub fn conv_length(&self) -> usize {
        self.padded() + 1 - self.kernel
    }
    /// Positions out of the pool.
    pub fn pooled(&self) -> usize {
        self.conv_length() / self.pool
    }
}

/// A dense layer: linear → (BatchNorm) → ReLU → (dropout), or the output layer (linear only).
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    /// inputs × outputs in the parameters.
    pub weight: Range<usize>,
    pub bias: Option<Range<usize>>,
    pub norm: Option<Norm>,
    pub relu: bool,
    pub dropout: f64,
}

/// A feed-forward convolutional network as the engine trains it.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    pub channels: usize,
    /// One-hot DNA input: the first layer runs as a gather-add.
    pub one_hot: bool,
    pub convs: Vec<Conv>,
    pub global_max: bool,
    pub reduce_dropout: f64,
    /// Hidden dense layers, then the output layer.
    pub dense: Vec<Dense>,
    /// Every tensor, in model.safetensors' names.
    pub slots: Vec<Slot>,
    /// The parameter ranges of the kernel L2 penalty (convolution and hidden dense kernels).
    pub penalised: Vec<Range<usize>>,
    /// Parameters.
    pub params: usize,
    /// Running statistics.
    pub stats: usize,
}

/// Allocates slots in the two vectors.
struct Builder {
    slots: Vec<Slot>,
    params: usize,
    stats: usize,
}

impl Builder {
    fn slot(&mut self, name: String, shape: Vec<usize>, store: Store, layout: Layout) -> Range<usize> {
        let n: usize = shape.iter().product();
        let next = match store {
            Store::Params => &mut self.params,
            Store::Stats => &mut self.stats,
        };
        let range = *next..*next + n;
        *next += n;
        self.slots.push(Slot { name, shape, store, range: range.clone(), layout });
        range
    }

    fn vector(&mut self, name: String, n: usize, store: Store) -> Range<usize> {
        self.slot(name, vec![n], store, Layout::Same)
    }

    fn norm(&mut self, prefix: &str, n: usize, spec: NormSpec) -> Norm {
        Norm {
            gamma: self.vector(format!("{prefix}.norm.weight"), n, Store::Params),
            beta: self.vector(format!("{prefix}.norm.bias"), n, Store::Params),
            mean: self.vector(format!("{prefix}.norm.running_mean"), n, Store::Stats),
            var: self.vector(format!("{prefix}.norm.running_var"), n, Store::Stats),
            spec,
        }
    }
}

impl Net {
    /// The network of `spec` (every dropout probability 0 without `dropout`, as gkd-train
    /// `--no-dropout` builds it), or why the engine does not train it.
    pub fn new(spec: &ModelSpec, dropout: bool) -> Result<Self, String> {
        let name = spec.arch.name();
        let plan = if dropout { spec.plan() } else { spec.plan().without_dropout() };
        let Plan::Conv(plan) = plan else {
            return Err(format!("{name} is recurrent or attention-based"));
        };
        if spec.is_factorised() {
            return Err("factorised (low-rank or MPO) layers train on burn".to_owned());
        }
        if spec.early_exit.is_some() {
            return Err("early-exit heads train on burn".to_owned());
        }
        if spec.int8.is_some() {
            return Err("int8 models are not trained".to_owned());
        }
        let mut b = Builder { slots: Vec::new(), params: 0, stats: 0 };
        let mut penalised = Vec::new();
        let (mut channels, mut length) = (spec.channels, spec.length);
        let mut convs = Vec::new();
        for (i, c) in plan.convs.iter().enumerate() {
            let (pad_left, pad_right) = crate::layers::padding(c.padding, c.kernel);
            let prefix = format!("blocks.{i}");
            let layout = Layout::ConvKernel { cout: c.filters, cin: channels, kernel: c.kernel };
            let weight =
                b.slot(format!("{prefix}.conv.weight"), vec![c.filters, channels, c.kernel], Store::Params, layout);
            penalised.push(weight.clone());
            let bias = (!c.batch_norm).then(|| b.vector(format!("{prefix}.conv.bias"), c.filters, Store::Params));
            let norm = c.batch_norm.then(|| b.norm(&prefix, c.filters, spec.batch_norm));
            let conv = Conv {
                cin: channels,
                cout: c.filters,
                kernel: c.kernel,
                pad_left,
                pad_right,
                length_in: length,
                pool: c.pool.max(1),
                activation: c.activation,
                dropout: c.dropout,
                dropout_after_pool: c.dropout_after_pool,
                weight,
                bias,
                norm,
            };
            if conv.pool > 256 {
                return Err(format!("{name}: max-pools wider than 256 positions train on burn"));
            }
            if conv.padded() < conv.kernel || conv.pooled() == 0 {
                return Err(format!("{name}: input length {} is too short", spec.length));
            }
            channels = conv.cout;
            length = conv.pooled();
            convs.push(conv);
        }
        let global_max = plan.reduce == Reduce::GlobalMax;
        let mut width = if global_max { channels } else { channels * length };
        let mut flattened = (!global_max).then_some((channels, length));
        let mut dense = Vec::new();
        for (j, d) in plan.dense.iter().enumerate() {
            let prefix = format!("dense.{j}");
            let layout = Layout::Linear { inputs: width, outputs: d.units, flattened };
            let weight = b.slot(format!("{prefix}.linear.weight"), vec![d.units, width], Store::Params, layout);
            penalised.push(weight.clone());
            let bias = (!d.batch_norm).then(|| b.vector(format!("{prefix}.linear.bias"), d.units, Store::Params));
            let norm = d.batch_norm.then(|| b.norm(&prefix, d.units, spec.batch_norm));
            dense.push(Dense { inputs: width, outputs: d.units, weight, bias, norm, relu: true, dropout: d.dropout });
            width = d.units;
            flattened = None;
        }
        let layout = Layout::Linear { inputs: width, outputs: spec.classes, flattened };
        let weight = b.slot("output.weight".to_owned(), vec![spec.classes, width], Store::Params, layout);
        let bias = Some(b.vector("output.bias".to_owned(), spec.classes, Store::Params));
        dense.push(Dense { inputs: width, outputs: spec.classes, weight, bias, norm: None, relu: false, dropout: 0.0 });
        Ok(Self {
            channels: spec.channels,
            one_hot: spec.arch.input_kind() == InputKind::Sequence && spec.channels == 4,
            convs,
            global_max,
            reduce_dropout: plan.reduce_dropout,
            dense,
            slots: b.slots,
            penalised,
            params: b.params,
            stats: b.stats,
        })
    }

    /// Logits per row.
    pub fn classes(&self) -> usize {
        self.dense.last().map_or(0, |d| d.outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_go_there_and_back() {
        let conv = Slot {
            name: "c".into(),
            shape: vec![3, 2, 4],
            store: Store::Params,
            range: 0..24,
            layout: Layout::ConvKernel { cout: 3, cin: 2, kernel: 4 },
        };
        let torch: Vec<f32> = (0..24).map(|i| i as f32).collect();
        let engine = conv.to_engine(&torch);
        // W[f = 1, c = 0, t = 2] is PyTorch's element (1·2 + 0)·4 + 2 = 10; the engine's row t·cin + c = 4,
        // column f = 1.
        assert_eq!(engine[4 * 3 + 1], 10.0);
        assert_eq!(conv.to_torch(&engine), torch);
        let linear = Slot {
            name: "l".into(),
            shape: vec![2, 6],
            store: Store::Params,
            range: 0..12,
            layout: Layout::Linear { inputs: 6, outputs: 2, flattened: Some((3, 2)) },
        };
        let torch: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let engine = linear.to_engine(&torch);
        // Output 1, PyTorch input c·L + l = 1·2 + 1 = 3 (element 6 + 3 = 9) is the engine's row
        // l·C + c = 1·3 + 1 = 4.
        assert_eq!(engine[4 * 2 + 1], 9.0);
        assert_eq!(linear.to_torch(&engine), torch);
    }
}
