//! Path-SGD (Neyshabur, Salakhutdinov & Srebro, NeurIPS 2015): stochastic gradient descent whose
//! step for each weight is divided by that weight's path-norm scale
//!
//! ```text
//! κ(e) = Σ over input→output paths p through e of Π_{e' ∈ p, e' ≠ e} w(e')²  =  ∂γ(w)/∂(w(e)²),
//! γ(w) = Σ over paths p of Π_{e ∈ p} w(e)²        (the squared path norm)
//! ```
//!
//! so that `w ← w − η·∂L/∂w / κ`. The update is invariant to rescaling a unit's incoming weights
//! by c and its outgoing weights by 1/c, which plain SGD is not. For an edge u → v of a
//! fully connected network, κ = γ_in(u)·γ_out(v), the squared path norms into u and out of v.
//!
//! γ is the output of the *squared network*: every convolution and dense weight squared, biases
//! removed, activations replaced by the identity, fed an all-ones input and summed over its
//! outputs. κ is its gradient with respect to the squared weights (automatic differentiation
//! gives the sum over shared positions of a convolution for free). Conventions for what the
//! paper does not cover, written down so that the hand check in the tests can follow them:
//! - a max-pool unit is connected to every position of its window (the pool is a sum in the
//!   squared network), and a global max to every position;
//! - a bias is an edge from a constant unit: its κ is γ_out of the unit it feeds;
//! - BatchNorm's γ and β and the first layer's exponential are not path edges: BatchNorm
//!   parameters take plain SGD steps (κ = 1), and an exponential counts as the identity.
//!
//! κ below [`MIN_SCALE`] is raised to it, so that a weight with (near) dead paths does not take
//! an unbounded step.

use burn::module::{Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use crate::arch::Plan;
use crate::model::{ModelSpec, Network};

/// The smallest path-norm scale a step is divided by.
pub const MIN_SCALE: f64 = 1e-6;

/// κ for every convolution kernel, dense matrix and bias of a network, by parameter id.
#[derive(Debug, Default)]
pub struct PathScales {
    /// Convolution kernels (filters, channels, width).
    pub kernels: Vec<(ParamId, Tensor<3>)>,
    /// Dense matrices (inputs, outputs), burn's layout.
    pub matrices: Vec<(ParamId, Tensor<2>)>,
    /// Biases.
    pub biases: Vec<(ParamId, Tensor<1>)>,
}

/// A squared parameter as a leaf of its own graph.
fn squared<const D: usize>(param: &Param<Tensor<D>>) -> Tensor<D> {
    param.val().powi_scalar(2).detach().require_grad()
}

/// The path-norm scales of a feed-forward convolutional network (`None` for the recurrent and
/// attention architectures, where the path norm of Neyshabur et al. is not defined, and for
/// factorised layers). The network must be on an autodiff device.
pub fn path_scales(spec: &ModelSpec, network: &Network) -> Option<PathScales> {
    let (Network::Conv(net), Plan::Conv(plan)) = (network, spec.plan()) else { return None };
    let device: Device = net.output.weight.val().device();
    let mut kernels = Vec::new();
    let mut matrices = Vec::new();
    let mut biases = Vec::new();
    let mut x: Tensor<3> = Tensor::ones([1, spec.channels, spec.length], &device);
    for (block, conv_spec) in net.blocks.iter().zip(&plan.convs) {
        if block.factor.is_some() {
            return None;
        }
        let v = squared(&block.conv.weight);
        let mut conv = block.conv.clone();
        conv.weight = Param::from_tensor(v.clone());
        conv.bias = None;
        let mut z = conv.forward(x);
        let [_, filters, length] = z.dims();
        if let Some(bias) = &block.conv.bias {
            let c = Tensor::<1>::zeros([filters], &device).require_grad();
            z = z + c.clone().reshape([1, filters, 1]);
            biases.push((bias.id, c));
        }
        kernels.push((block.conv.weight.id, v));
        let pool = conv_spec.pool.max(1);
        x = if pool > 1 {
            let pooled = length / pool;
            z.slice([0..1, 0..filters, 0..pooled * pool])
                .reshape([1, filters, pooled, pool])
                .sum_dim(3)
                .reshape([1, filters, pooled])
        } else {
            z
        };
    }
    let [_, channels, length] = x.dims();
    let mut h: Tensor<2> =
        if net.global_max { x.sum_dim(2).reshape([1, channels]) } else { x.reshape([1, channels * length]) };
    let mut linear = |h: Tensor<2>, layer: &burn::nn::Linear| {
        let v = squared(&layer.weight);
        let mut out = h.matmul(v.clone());
        if let Some(bias) = &layer.bias {
            let c = Tensor::<1>::zeros([out.dims()[1]], &device).require_grad();
            out = out + c.clone().unsqueeze();
            biases.push((bias.id, c));
        }
        matrices.push((layer.weight.id, v));
        out
    };
    for block in &net.dense {
        if let Some(factor) = &block.factor {
            h = linear(h, factor);
        }
        // An MPO's cores are not path edges of one matrix: no Path-SGD for MPO layers.
        h = linear(h, block.linear.as_ref()?);
    }
    let gamma = linear(h, &net.output).sum();
    let grads = gamma.backward();
    let scales = PathScales {
        kernels: kernels.into_iter().map(|(id, v)| (id, v.grad(&grads).expect("kernel is a leaf"))).collect(),
        matrices: matrices.into_iter().map(|(id, v)| (id, v.grad(&grads).expect("matrix is a leaf"))).collect(),
        biases: biases.into_iter().map(|(id, c)| (id, c.grad(&grads).expect("bias is a leaf"))).collect(),
    };
    Some(scales)
}

/// Divide each path edge's gradient by its κ (at least [`MIN_SCALE`]); other gradients
/// (BatchNorm) are left as they are.
pub fn precondition(scales: &PathScales, mut grads: GradientsParams) -> GradientsParams {
    fn divide<const D: usize>(grads: &mut GradientsParams, id: ParamId, kappa: &Tensor<D>) {
        if let Some(g) = grads.remove::<D>(id) {
            let kappa = kappa.clone().to_device(&g.device()).clamp_min(MIN_SCALE);
            grads.register(id, g / kappa);
        }
    }
    scales.kernels.iter().for_each(|(id, k)| divide(&mut grads, *id, k));
    scales.matrices.iter().for_each(|(id, k)| divide(&mut grads, *id, k));
    scales.biases.iter().for_each(|(id, k)| divide(&mut grads, *id, k));
    grads
}
