//! Pruning: how many weights each layer keeps, the magnitude masks, masked retraining, and
//! ADMM (Zhang et al. 2018; progressive: Ye et al. 2018).
//!
//! ADMM prunes by solving min L(W) subject to W_l ∈ S_l (at most k_l non-zero entries) as
//! min L(W) + Σ_l ρ/2·‖W_l − Z_l + U_l‖², alternating: SGD epochs on W with Z and U fixed, then
//! Z_l = Π_{S_l}(W_l + U_l) (keep the k_l largest magnitudes) and U_l = U_l + W_l − Z_l after
//! every epoch. The penalty pulls the weights towards a sparse solution before the hard prune,
//! so the prune loses less than cutting a dense network does; masked retraining then recovers
//! what is left.

use std::sync::Mutex;

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use gkd_nn::model::Network;
use gkd_nn::train::TrainingHook;

use crate::weights::{WeightMap, WeightTensor, map_weights, weight_tensors};

/// A layer's weights: name, values (burn layout) and shape.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Tensor name in model.safetensors.
    pub name: String,
    /// Values, burn's layout.
    pub values: Vec<f32>,
    /// Shape, burn's layout.
    pub shape: Vec<usize>,
}

/// The compressible layers of a convolutional network (empty for other networks).
pub fn layers(network: &Network) -> Vec<Layer> {
    let Network::Conv(net) = network else { return Vec::new() };
    weight_tensors(net).into_iter().map(|(name, t)| Layer { name, values: t.values(), shape: t.shape() }).collect()
}

/// Weights each layer keeps when `keep_total` of all their weights are kept: one magnitude
/// threshold over every layer (large-fan-in layers, whose weights are smaller, give up more),
/// but no layer keeps fewer than `min_keep` of its weights (at least one), so that no layer is
/// cut off.
pub fn allocate(layers: &[Layer], keep_total: usize, min_keep: f64) -> Vec<usize> {
    let floors: Vec<usize> =
        layers.iter().map(|l| ((l.values.len() as f64 * min_keep).ceil() as usize).clamp(1, l.values.len())).collect();
    let sorted: Vec<Vec<f32>> = layers
        .iter()
        .map(|l| {
            let mut m: Vec<f32> = l.values.iter().map(|v| v.abs()).collect();
            m.sort_by(|a, b| b.total_cmp(a));
            m
        })
        .collect();
    // Kept per layer at threshold t: max(floor, #{|w| > t}).
    let kept_at = |t: f32, sorted: &[Vec<f32>]| -> Vec<usize> {
        sorted.iter().zip(&floors).map(|(m, &f)| m.partition_point(|&v| v > t).max(f)).collect()
    };
    let mut all: Vec<f32> = sorted.iter().flatten().copied().collect();
    all.sort_by(|a, b| b.total_cmp(a));
    all.dedup();
    // The smallest threshold (most kept) whose total stays within keep_total.
    let (mut lo, mut hi) = (0usize, all.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let total: usize = kept_at(all[mid], &sorted).iter().sum();
        if total <= keep_total { lo = mid + 1 } else { hi = mid }
    }
    let threshold = if lo == 0 { f32::INFINITY } else { all[lo - 1] };
    kept_at(threshold, &sorted)
}

/// 1 for the `keep` largest magnitudes of `values`, 0 elsewhere (ties broken by position, so
/// exactly `keep` ones).
pub fn top_k_mask(values: &[f32], keep: usize) -> Vec<f32> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
    let mut mask = vec![0.0; values.len()];
    for &i in order.iter().take(keep) {
        mask[i] = 1.0;
    }
    mask
}

/// Per layer (name, mask) for keep counts `keep`.
pub fn masks(layers: &[Layer], keep: &[usize]) -> Vec<(String, Vec<f32>)> {
    layers.iter().zip(keep).map(|(l, &k)| (l.name.clone(), top_k_mask(&l.values, k))).collect()
}

/// Elementwise product.
pub fn apply(values: &[f32], mask: &[f32]) -> Vec<f32> {
    values.iter().zip(mask).map(|(v, m)| v * m).collect()
}

/// Multiplies named weights by their masks; in training the product becomes a fresh leaf.
struct MaskMap<'a>(&'a [(String, Vec<f32>)]);

fn masked<const D: usize>(param: Param<Tensor<D>>, mask: &[f32]) -> Param<Tensor<D>> {
    param.map(|t| {
        let device = t.device();
        let m = Tensor::<D>::from_data(TensorData::new(mask.to_vec(), t.dims()), &device);
        let product = (t * m).detach();
        if device.is_autodiff() { product.require_grad() } else { product }
    })
}

impl WeightMap for MaskMap<'_> {
    fn kernel(&mut self, name: &str, param: Param<Tensor<3>>) -> Param<Tensor<3>> {
        match self.0.iter().find(|(n, _)| n == name) {
            Some((_, m)) => masked(param, m),
            None => param,
        }
    }
    fn matrix(&mut self, name: &str, param: Param<Tensor<2>>) -> Param<Tensor<2>> {
        match self.0.iter().find(|(n, _)| n == name) {
            Some((_, m)) => masked(param, m),
            None => param,
        }
    }
}

/// The network with every masked weight multiplied by its mask.
pub fn apply_masks(network: Network, masks: &[(String, Vec<f32>)]) -> Network {
    map_weights(network, &mut MaskMap(masks))
}

/// Masked retraining: pruned weights are set back to zero after every optimiser step.
pub struct MaskHook {
    /// (name, mask) per pruned layer.
    pub masks: Vec<(String, Vec<f32>)>,
}

impl TrainingHook for MaskHook {
    fn after_step(&self, network: Network) -> Network {
        apply_masks(network, &self.masks)
    }
}

/// ADMM's state for one stage: per layer the keep count, Z and U.
pub struct AdmmHook {
    /// ρ of the augmented Lagrangian.
    pub rho: f64,
    state: Mutex<Vec<AdmmLayer>>,
}

struct AdmmLayer {
    name: String,
    keep: usize,
    z: Vec<f32>,
    u: Vec<f32>,
}

impl AdmmHook {
    /// Start from the network's weights: Z = Π(W), U = 0.
    pub fn new(layers: &[Layer], keep: &[usize], rho: f64) -> Self {
        let state = layers
            .iter()
            .zip(keep)
            .map(|(l, &k)| AdmmLayer {
                name: l.name.clone(),
                keep: k,
                z: apply(&l.values, &top_k_mask(&l.values, k)),
                u: vec![0.0; l.values.len()],
            })
            .collect();
        Self { rho, state: Mutex::new(state) }
    }

    /// ‖W − Z‖ / ‖W‖ summed over layers: how far the weights still are from the sparse set.
    pub fn gap(&self, network: &Network) -> f64 {
        let Network::Conv(net) = network else { return f64::NAN };
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let tensors = weight_tensors(net);
        let (mut diff, mut norm) = (0.0f64, 0.0f64);
        for layer in state.iter() {
            if let Some((_, t)) = tensors.iter().find(|(n, _)| *n == layer.name) {
                let w = t.values();
                diff += w.iter().zip(&layer.z).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>();
                norm += w.iter().map(|a| (*a as f64).powi(2)).sum::<f64>();
            }
        }
        (diff / norm.max(f64::MIN_POSITIVE)).sqrt()
    }
}

impl TrainingHook for AdmmHook {
    fn penalty(&self, network: &Network) -> Option<Tensor<1>> {
        let Network::Conv(net) = network else { return None };
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let tensors = weight_tensors(net);
        let terms = state.iter().filter_map(|layer| {
            let (_, t): &(String, WeightTensor) = tensors.iter().find(|(n, _)| *n == layer.name)?;
            let target: Vec<f32> = layer.z.iter().zip(&layer.u).map(|(z, u)| z - u).collect();
            Some(t.squared_distance(&target))
        });
        terms.reduce(|a, b| a + b).map(|sum| sum.mul_scalar(self.rho / 2.0))
    }

    fn after_epoch(&self, network: &Network) {
        let Network::Conv(net) = network else { return };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let tensors = weight_tensors(net);
        for layer in state.iter_mut() {
            let Some((_, t)) = tensors.iter().find(|(n, _)| *n == layer.name) else { continue };
            let w = t.values();
            let shifted: Vec<f32> = w.iter().zip(&layer.u).map(|(w, u)| w + u).collect();
            layer.z = apply(&shifted, &top_k_mask(&shifted, layer.keep));
            for ((u, w), z) in layer.u.iter_mut().zip(&w).zip(&layer.z) {
                *u += w - z;
            }
        }
    }
}
