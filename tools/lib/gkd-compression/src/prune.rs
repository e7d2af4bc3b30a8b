//! Pruning: how many weights each layer keeps, the magnitude masks, masked retraining, and
//! ADMM (Zhang et al. 2018; progressive: Ye et al. 2018).
//!
//! ADMM prunes by solving min L(W) subject to W_l ∈ S_l (at most k_l non-zero entries) as
//! min L(W) + Σ_l ρ/2·‖W_l − Z_l + U_l‖², alternating: SGD epochs on W with Z and U fixed, then
//! Z_l = Π_{S_l}(W_l + U_l) (keep the k_l largest magnitudes) and U_l = U_l + W_l − Z_l after
//! every epoch. The penalty pulls the weights towards a sparse solution before the hard prune,
//! so the prune loses less than cutting a dense network does; masked retraining then recovers
//! what is left.

use std::path::Path;
use std::sync::Mutex;

use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData};
use gkd_io::error::{Error, Result};
use gkd_nn::model::{Network, trainable_params};
use gkd_nn::store::{CompressionRecord, LayerCompression};
use gkd_nn::train::TrainingHook;

use crate::finetune::{FineTune, Tuned};

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

/// The pruning methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneMethod {
    /// Cut once at the target, then masked retraining.
    Magnitude,
    /// ADMM epochs pull the weights towards the sparse set, then the cut and masked retraining,
    /// in stages of growing sparsity.
    Admm,
}

/// What `prune_model` is asked for.
#[derive(Debug, Clone)]
pub struct PruneSettings {
    /// Stored parameters before / after.
    pub ratio: f64,
    /// Magnitude or ADMM.
    pub method: PruneMethod,
    /// ADMM: stages of growing sparsity.
    pub stages: usize,
    /// ADMM: epochs with the penalty before each stage's cut.
    pub admm_epochs: usize,
    /// ADMM: ρ.
    pub rho: f64,
    /// No layer keeps fewer than this fraction of its weights.
    pub min_keep: f64,
}

/// Prune the model in `source_dir` as `settings` say, fine-tune as `tune` says, and write the
/// model directory `output` (with masks.safetensors); `tool` is named in its model.json.
pub fn prune_model(
    source_dir: &Path,
    output: &Path,
    settings: &PruneSettings,
    tune: &FineTune,
    tool: &str,
) -> Result<()> {
    let args = settings;
    crate::check_ratio(args.ratio)?;
    if !(0.0..=1.0).contains(&args.min_keep) {
        return Err(Error::usage("--min-keep must be in [0, 1]"));
    }
    if args.method == PruneMethod::Admm && (args.stages == 0 || args.admm_epochs == 0 || !tune.trains()) {
        return Err(Error::usage(
            "--method admm needs --stages >= 1, --admm-epochs >= 1 and --train/--valid (it trains with the ADMM penalty)",
        ));
    }
    let source = crate::load_source(source_dir)?;
    let before = trainable_params(&source.network);
    let source_layers = layers(&source.network);
    let prunable: usize = source_layers.iter().map(|l| l.values.len()).sum();
    let fixed = before - prunable;
    let target = (before as f64 / args.ratio).floor() as usize;
    if target <= fixed {
        return Err(Error::usage(format!(
            "--ratio {} leaves {target} parameters, but the biases and BatchNorm parameters that are not pruned already hold {fixed}; the largest ratio pruning reaches is {:.1}",
            args.ratio,
            before as f64 / (fixed + source_layers.len()) as f64
        )));
    }
    let keep = allocate(&source_layers, target - fixed, args.min_keep);
    let tuner = tune.prepare(&source, source_dir)?;
    let spec = source.card.spec.clone();
    let mut network = source.network.valid();
    let mut tuned: Option<Tuned> = None;
    let stages = if args.method == PruneMethod::Admm { args.stages } else { 1 };
    for stage in 1..=stages {
        let current = layers(&network);
        // Kept fraction f^(s/S) of each layer's final keep count.
        let stage_keep: Vec<usize> = current
            .iter()
            .zip(&keep)
            .map(|(l, &k)| {
                let n = l.values.len() as f64;
                ((n * (k as f64 / n).powf(stage as f64 / stages as f64)).round() as usize).clamp(k, l.values.len())
            })
            .collect();
        if args.method == PruneMethod::Admm {
            let hook = AdmmHook::new(&current, &stage_keep, args.rho);
            log::info!("stage {stage}/{stages}: {} ADMM epochs (rho {})", args.admm_epochs, args.rho);
            let (admm, _) = tuner.as_ref().expect("checked above").run(
                &spec,
                &network,
                Some(&hook),
                crate::finetune::Phase::Admm { epochs: args.admm_epochs, stage },
            )?;
            log::info!("stage {stage}: |W - Z| / |W| = {:.4} before the cut", hook.gap(&admm));
            network = admm;
        }
        let current = layers(&network);
        let masks = masks(&current, &stage_keep);
        network = apply_masks(network, &masks);
        if let Some(tuner) = &tuner {
            let hook = MaskHook { masks: masks.clone() };
            let (retrained, record) =
                tuner.run(&spec, &network, Some(&hook), crate::finetune::Phase::Retrain { stage })?;
            network = apply_masks(retrained, &masks);
            tuned = Some(record);
        }
    }
    // The final masks and what each layer kept.
    let final_layers = layers(&network);
    let masks: Vec<(String, Vec<f32>)> = final_layers
        .iter()
        .map(|l| (l.name.clone(), l.values.iter().map(|&v| if v != 0.0 { 1.0 } else { 0.0 }).collect()))
        .collect();
    let zeros: usize = final_layers.iter().map(|l| l.values.iter().filter(|&&v| v == 0.0).count()).sum();
    let after = before - zeros;
    let detail = final_layers
        .iter()
        .map(|l| {
            let kept = l.values.iter().filter(|&&v| v != 0.0).count();
            LayerCompression {
                name: l.name.clone(),
                before: l.values.len(),
                after: kept,
                detail: format!("sparsity {:.4}", 1.0 - kept as f64 / l.values.len() as f64),
            }
        })
        .collect();
    let method = match args.method {
        PruneMethod::Magnitude => "magnitude",
        PruneMethod::Admm => "admm",
    };
    let mask_file = ("masks.safetensors", masks_safetensors(&final_layers, &masks)?);
    let fine_tune = tune.record(args.method == PruneMethod::Admm, args.admm_epochs, args.rho, args.stages);
    let record =
        CompressionRecord::new(method, source_dir, (before, after), detail, fine_tune, vec![mask_file.0.to_owned()]);
    crate::finetune::write(output, &source, spec, network, tuned, record, tune, vec![mask_file], tool)
}

/// The pruning masks in PyTorch's layout, one uint8 tensor (1 = kept) per pruned weight, named
/// as in model.safetensors.
pub fn masks_safetensors(layers: &[Layer], masks: &[(String, Vec<f32>)]) -> Result<Vec<u8>> {
    let converted: Vec<(String, Vec<usize>, Vec<u8>)> = layers
        .iter()
        .zip(masks)
        .map(|(l, (name, m))| {
            let (shape, values) = crate::weights::torch_layout(&l.shape, m);
            (name.clone(), shape, values.iter().map(|&v| v as u8).collect())
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = converted
        .iter()
        .map(|(name, shape, bytes)| {
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::U8, shape.clone(), bytes)
                .expect("shape matches the bytes");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, None).map_err(|e| Error::runtime(format!("cannot serialise the masks: {e}")))
}
