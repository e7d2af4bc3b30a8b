//! `gkd-compress`: a trained model directory in, a compressed model directory out, which
//! gkd-predict, gkd-attribute, gkd-scan and gkd-score read like any other (docs/compression.md).
//!
//! Methods: magnitude pruning and ADMM progressive pruning (masks stored beside PyTorch-loadable
//! weights), low-rank (truncated SVD) and MPO (tensor-train) factorisation of the hidden dense
//! layers, and int8 post-training quantisation for the CPU engine. Every method can be followed
//! by fine-tuning, with the distillation loss from a teacher if one is given.

mod factorize;
mod finetune;
mod prune;
mod quantize;
mod weights;

use std::path::{Path, PathBuf};

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use clap::{Parser, Subcommand};
use gkd_cli::{CommonArgs, run_main};
use gkd_engine::EngineChoice;
use gkd_io::error::{Error, Result};
use gkd_nn::factorized::DenseMapSpec;
use gkd_nn::model::{ModelSpec, Network, trainable_params};
use gkd_nn::store::{self, CompressionRecord, LayerCompression, LoadedModel};

use crate::finetune::{FineTune, Tuned};
use crate::weights::SetValues;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-compress";

const EXAMPLES: &str = "\
Examples:
  # 10x fewer parameters by magnitude pruning, then 5 epochs of masked retraining:
  gkd-compress prune --model models/teacher --ratio 10 --train d.train.npz --valid d.valid.npz \\
               --epochs 5 -o models/teacher-prune10
  # The same by ADMM in 3 progressive stages, fine-tuned with the distillation loss:
  gkd-compress prune --method admm --stages 3 --model models/teacher --ratio 10 \\
               --train d.train.npz --valid d.valid.npz --epochs 5 --teacher models/teacher -o models/admm10
  # Dense layers as rank-r products, or as matrix product operators, at 5x fewer parameters:
  gkd-compress low-rank --model models/student --ratio 5 --train d.train.npz --valid d.valid.npz -o models/lr5
  gkd-compress mpo --model models/student --ratio 5 --train d.train.npz --valid d.valid.npz -o models/mpo5
  # int8 weights and activations for the CPU engine, calibrated on 1,000 training rows:
  gkd-compress quantize --model models/teacher --calibration d.train.npz -o models/teacher-int8";

/// Compress a trained model: pruning, low-rank/MPO factorisation or int8 quantisation, with
/// optional (distillation) fine-tuning.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Zero the smallest weights (one magnitude threshold over all layers), by magnitude or ADMM.
    Prune(PruneArgs),
    /// Replace each hidden dense matrix by a rank-r product (truncated SVD).
    LowRank(FactorArgs),
    /// Replace each hidden dense matrix by a matrix product operator (tensor-train SVD).
    Mpo(MpoArgs),
    /// int8 weights (per output channel) and activations (calibrated per layer) for the CPU engine.
    Quantize(quantize::QuantizeArgs),
}

/// The model in, the model out.
#[derive(Debug, clap::Args)]
struct Io {
    /// Model directory to compress.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Compressed model directory to write.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

/// The pruning methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PruneMethod {
    /// Cut once at the target, then masked retraining.
    Magnitude,
    /// ADMM epochs pull the weights towards the sparse set, then cut and masked retraining, in
    /// stages of growing sparsity.
    Admm,
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    #[command(flatten)]
    io: Io,
    /// Stored parameters before / after (non-zero weights plus the unpruned biases and BatchNorm).
    #[arg(long)]
    ratio: f64,
    /// How to prune.
    #[arg(long, value_enum, default_value = "magnitude")]
    method: PruneMethod,
    /// ADMM: stages of growing sparsity (kept fraction f^(s/S) at stage s of S).
    #[arg(long, default_value_t = 3)]
    stages: usize,
    /// ADMM: epochs with the ADMM penalty before each stage's cut.
    #[arg(long, default_value_t = 3)]
    admm_epochs: usize,
    /// ADMM: rho of the augmented Lagrangian.
    #[arg(long, default_value_t = 1e-3)]
    rho: f64,
    /// No layer keeps fewer than this fraction of its weights.
    #[arg(long, default_value_t = 0.01)]
    min_keep: f64,
    #[command(flatten)]
    tune: FineTune,
}

#[derive(Debug, clap::Args)]
struct FactorArgs {
    #[command(flatten)]
    io: Io,
    /// Stored parameters before / after; the dense layers take all of the reduction.
    #[arg(long, conflicts_with = "rank", required_unless_present = "rank")]
    ratio: Option<f64>,
    /// The rank of every hidden dense layer instead of --ratio.
    #[arg(long)]
    rank: Option<usize>,
    #[command(flatten)]
    tune: FineTune,
}

#[derive(Debug, clap::Args)]
struct MpoArgs {
    #[command(flatten)]
    io: Io,
    /// Stored parameters before / after; the dense layers take all of the reduction.
    #[arg(long, conflicts_with = "bond", required_unless_present = "bond")]
    ratio: Option<f64>,
    /// The bond dimension of every hidden dense layer instead of --ratio.
    #[arg(long)]
    bond: Option<usize>,
    /// Modes per matrix side (each side's width split into this many near-equal factors).
    #[arg(long, default_value_t = 3)]
    modes: usize,
    #[command(flatten)]
    tune: FineTune,
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        match &args.command {
            Command::Prune(a) => prune_command(a),
            Command::LowRank(a) => {
                factor_command(&a.io, &a.tune, Factorisation::LowRank { ratio: a.ratio, rank: a.rank })
            }
            Command::Mpo(a) => {
                if a.modes < 2 {
                    return Err(Error::usage("--modes must be at least 2"));
                }
                factor_command(&a.io, &a.tune, Factorisation::Mpo { ratio: a.ratio, bond: a.bond, modes: a.modes })
            }
            Command::Quantize(a) => quantize::run(a, TOOL),
        }
    })
}

/// The source model on the CPU, checked to be one gkd-compress handles.
fn load_source(dir: &Path) -> Result<LoadedModel> {
    let model = store::load_model(dir, &Device::flex())?;
    if !matches!(model.network, Network::Conv(_)) {
        return Err(Error::in_file(
            dir.join(store::CARD_FILE),
            format!(
                "is a {} model; gkd-compress handles the feed-forward convolutional architectures (Koo CNNs, demo-cnn, deepchrome)",
                model.card.spec.arch.name()
            ),
        ));
    }
    if model.card.compression.as_ref().is_some_and(|c| c.method == "int8") {
        return Err(Error::in_file(dir.join(store::CARD_FILE), "is already int8-quantised; compress the float model"));
    }
    Ok(model)
}

fn check_ratio(ratio: f64) -> Result<()> {
    if ratio.is_finite() && ratio >= 1.0 { Ok(()) } else { Err(Error::usage("--ratio must be a number >= 1")) }
}

fn prune_command(args: &PruneArgs) -> Result<()> {
    check_ratio(args.ratio)?;
    if !(0.0..=1.0).contains(&args.min_keep) {
        return Err(Error::usage("--min-keep must be in [0, 1]"));
    }
    if args.method == PruneMethod::Admm && (args.stages == 0 || args.admm_epochs == 0 || !args.tune.trains()) {
        return Err(Error::usage(
            "--method admm needs --stages >= 1, --admm-epochs >= 1 and --train/--valid (it trains with the ADMM penalty)",
        ));
    }
    let source = load_source(&args.io.model)?;
    let before = trainable_params(&source.network);
    let layers = prune::layers(&source.network);
    let prunable: usize = layers.iter().map(|l| l.values.len()).sum();
    let fixed = before - prunable;
    let target = (before as f64 / args.ratio).floor() as usize;
    if target <= fixed {
        return Err(Error::usage(format!(
            "--ratio {} leaves {target} parameters, but the biases and BatchNorm parameters that are not pruned already hold {fixed}; the largest ratio pruning reaches is {:.1}",
            args.ratio,
            before as f64 / (fixed + layers.len()) as f64
        )));
    }
    let keep = prune::allocate(&layers, target - fixed, args.min_keep);
    let tuner = args.tune.prepare(&source, &args.io.model)?;
    let spec = source.card.spec.clone();
    let mut network = source.network.valid();
    let mut tuned: Option<Tuned> = None;
    let stages = if args.method == PruneMethod::Admm { args.stages } else { 1 };
    for stage in 1..=stages {
        let current = prune::layers(&network);
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
            let hook = prune::AdmmHook::new(&current, &stage_keep, args.rho);
            log::info!("stage {stage}/{stages}: {} ADMM epochs (rho {})", args.admm_epochs, args.rho);
            let (admm, _) = tuner.as_ref().expect("checked above").run(
                &spec,
                &network,
                Some(&hook),
                finetune::Phase::Admm { epochs: args.admm_epochs, stage },
            )?;
            log::info!("stage {stage}: |W - Z| / |W| = {:.4} before the cut", hook.gap(&admm));
            network = admm;
        }
        let current = prune::layers(&network);
        let masks = prune::masks(&current, &stage_keep);
        network = prune::apply_masks(network, &masks);
        if let Some(tuner) = &tuner {
            let hook = prune::MaskHook { masks: masks.clone() };
            let (retrained, record) = tuner.run(&spec, &network, Some(&hook), finetune::Phase::Retrain { stage })?;
            network = prune::apply_masks(retrained, &masks);
            tuned = Some(record);
        }
    }
    // The final masks and what each layer kept.
    let final_layers = prune::layers(&network);
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
    let record = CompressionRecord {
        method: method.to_owned(),
        source: args.io.model.display().to_string(),
        parameters_before: before,
        parameters_after: after,
        ratio: before as f64 / after as f64,
        layers: detail,
        fine_tune: args.tune.record(args.method == PruneMethod::Admm, args.admm_epochs, args.rho, args.stages),
        files: vec![mask_file.0.to_owned()],
    };
    finetune::write(&args.io.output, &source, spec, network, tuned, record, &args.tune, vec![mask_file], TOOL)
}

/// The pruning masks in PyTorch's layout, one uint8 tensor (1 = kept) per pruned weight, named
/// as in model.safetensors.
fn masks_safetensors(layers: &[prune::Layer], masks: &[(String, Vec<f32>)]) -> Result<Vec<u8>> {
    let converted: Vec<(String, Vec<usize>, Vec<u8>)> = layers
        .iter()
        .zip(masks)
        .map(|(l, (name, m))| {
            let (shape, values) = weights::torch_layout(&l.shape, m);
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

/// What a factorisation subcommand was asked for.
enum Factorisation {
    LowRank { ratio: Option<f64>, rank: Option<usize> },
    Mpo { ratio: Option<f64>, bond: Option<usize>, modes: usize },
}

/// A hidden dense layer to factorise.
struct DenseMatrix {
    index: usize,
    inputs: usize,
    units: usize,
    values: Vec<f32>,
}

fn factor_command(io: &Io, tune: &FineTune, how: Factorisation) -> Result<()> {
    let source = load_source(&io.model)?;
    let Network::Conv(net) = &source.network else { unreachable!("checked by load_source") };
    let card_path = io.model.join(store::CARD_FILE);
    if net.dense.is_empty() {
        return Err(Error::in_file(
            &card_path,
            format!("{} has no hidden dense layer to factorise", source.card.spec.arch.name()),
        ));
    }
    if source.card.spec.dense_maps.iter().any(|m| *m != DenseMapSpec::Full) {
        return Err(Error::in_file(&card_path, "is already factorised; factorise the original model"));
    }
    let matrices: Vec<DenseMatrix> = net
        .dense
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let w = block.weight_matrix();
            let [inputs, units] = w.dims();
            DenseMatrix {
                index,
                inputs,
                units,
                values: w.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32"),
            }
        })
        .collect();
    let before = trainable_params(&source.network);
    let dense_total: usize = matrices.iter().map(|m| m.inputs * m.units).sum();
    // Entries the factors may hold, shared out in proportion to each matrix's size.
    let share = |ratio: f64| -> Result<Vec<usize>> {
        check_ratio(ratio)?;
        let target = (before as f64 / ratio).floor() as usize;
        let fixed = before - dense_total;
        let budget = target.saturating_sub(fixed);
        Ok(matrices.iter().map(|m| budget * (m.inputs * m.units) / dense_total).collect())
    };
    let unreachable = |ratio: f64, what: &str| {
        Error::usage(format!(
            "--ratio {ratio}: the layers that are not factorised hold {} of the {before} parameters, so no {what} of the dense layers reaches it; the largest ratio is about {:.1}",
            before - dense_total,
            before as f64 / (before - dense_total + matrices.len()) as f64
        ))
    };
    let mut maps = Vec::new();
    let mut values: Vec<(String, Vec<f32>)> = Vec::new();
    let mut cores: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
    let mut detail = Vec::new();
    match how {
        Factorisation::LowRank { ratio, rank } => {
            let ranks: Vec<usize> = match (ratio, rank) {
                (_, Some(r)) if r >= 1 => matrices.iter().map(|m| r.min(m.inputs.min(m.units))).collect(),
                (_, Some(_)) => return Err(Error::usage("--rank must be at least 1")),
                (Some(ratio), None) => {
                    let budgets = share(ratio)?;
                    let ranks: Vec<usize> = matrices
                        .iter()
                        .zip(&budgets)
                        .map(|(m, &b)| factorize::rank_for_budget(m.inputs, m.units, b))
                        .collect();
                    if ranks.contains(&0) {
                        return Err(unreachable(ratio, "rank"));
                    }
                    ranks
                }
                (None, None) => unreachable!("clap requires --ratio or --rank"),
            };
            for (m, &r) in matrices.iter().zip(&ranks) {
                let (a, b) = factorize::low_rank(&m.values, m.inputs, m.units, r);
                values.push((format!("dense.{}.factor.weight", m.index), a));
                values.push((format!("dense.{}.linear.weight", m.index), b));
                maps.push(DenseMapSpec::LowRank { rank: r });
                detail.push(LayerCompression {
                    name: format!("dense.{}.linear.weight", m.index),
                    before: m.inputs * m.units,
                    after: r * (m.inputs + m.units),
                    detail: format!("rank {r}"),
                });
            }
        }
        Factorisation::Mpo { ratio, bond, modes } => {
            for (k, m) in matrices.iter().enumerate() {
                let (inputs, outputs) = (factorize::modes(m.inputs, modes), factorize::modes(m.units, modes));
                let bond = match (ratio, bond) {
                    (_, Some(b)) if b >= 1 => b,
                    (_, Some(_)) => return Err(Error::usage("--bond must be at least 1")),
                    (Some(ratio), None) => {
                        let budget = share(ratio)?[k];
                        let mut best = 0;
                        for b in 1..=m.inputs.max(m.units) {
                            if factorize::mpo_parameters(&inputs, &outputs, b) > budget {
                                break;
                            }
                            best = b;
                        }
                        if best == 0 {
                            return Err(unreachable(ratio, "MPO"));
                        }
                        best
                    }
                    (None, None) => unreachable!("clap requires --ratio or --bond"),
                };
                let tt = factorize::tensor_train(&m.values, &inputs, &outputs, bond);
                detail.push(LayerCompression {
                    name: format!("dense.{}.linear.weight", m.index),
                    before: m.inputs * m.units,
                    after: tt.parameters(),
                    detail: format!("MPO modes {inputs:?} x {outputs:?}, bonds {:?}", tt.bonds),
                });
                maps.push(DenseMapSpec::Mpo {
                    inputs: tt.inputs.clone(),
                    outputs: tt.outputs.clone(),
                    bonds: tt.bonds.clone(),
                });
                cores.push((m.index, tt.cores));
            }
        }
    }
    let method = if cores.is_empty() { "low-rank" } else { "mpo" };
    let spec = ModelSpec { dense_maps: maps, ..source.card.spec.clone() };
    let network = transplant(&spec, &source, &values, &cores, &card_path)?;
    let tuner = tune.prepare(&source, &io.model)?;
    let (network, tuned) = match &tuner {
        Some(tuner) => {
            let (tuned_network, record) = tuner.run(&spec, &network, None, finetune::Phase::Retrain { stage: 1 })?;
            (tuned_network, Some(record))
        }
        None => (network, None),
    };
    let after = trainable_params(&network);
    let record = CompressionRecord {
        method: method.to_owned(),
        source: io.model.display().to_string(),
        parameters_before: before,
        parameters_after: after,
        ratio: before as f64 / after as f64,
        layers: detail,
        fine_tune: tune.record(false, 0, 0.0, 0),
        files: Vec::new(),
    };
    finetune::write(&io.output, &source, spec, network, tuned, record, tune, Vec::new(), TOOL)
}

/// A network of `spec` (factorised dense layers) carrying the source's other parameters and
/// BatchNorm statistics, with the factors' values.
fn transplant(
    spec: &ModelSpec,
    source: &LoadedModel,
    values: &[(String, Vec<f32>)],
    cores: &[(usize, Vec<Vec<f32>>)],
    card_path: &Path,
) -> Result<Network> {
    let device = Device::flex();
    let built = spec.build(&device).map_err(|e| Error::in_file(card_path, e.0))?;
    // Unchanged tensors keep their names, so the source's weights load with only the new
    // factors missing; the factors are then set.
    let bytes = store::weights_to_safetensors(&source.network)?;
    let replaced: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    let network = load_partial(built, without(&bytes, &replaced)?, card_path)?;
    let mut network = weights::map_weights(network, &mut SetValues { values });
    if let Network::Conv(net) = &mut network {
        for (index, layer_cores) in cores {
            let mpo = net.dense[*index].mpo.as_mut().expect("spec makes an MPO here");
            for (param, values) in mpo.cores.iter_mut().zip(layer_cores) {
                let dims: [usize; 4] = param.val().dims();
                *param = Param::from_tensor(Tensor::from_data(TensorData::new(values.clone(), dims), &device));
            }
        }
    }
    Ok(network.valid())
}

/// Safetensors bytes without the tensors named in `names` (the full matrices being factorised).
fn without(bytes: &[u8], names: &[&str]) -> Result<Vec<u8>> {
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::runtime(format!("cannot read the model's weights: {e}")))?;
    let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        tensors.tensors().into_iter().filter(|(name, _)| !names.contains(&name.as_str())).collect();
    safetensors::serialize(kept, None).map_err(|e| Error::runtime(format!("cannot serialise the weights: {e}")))
}

/// Load the tensors of `bytes` that `network` has (by name and shape), leaving the others.
fn load_partial(mut network: Network, bytes: Vec<u8>, source: &Path) -> Result<Network> {
    use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter)
        .skip_enum_variants(true)
        .allow_partial(true);
    let result =
        network.load_from(&mut store).map_err(|e| Error::in_file(source, format!("cannot read weights: {e}")))?;
    if !result.errors.is_empty() {
        return Err(Error::in_file(source, format!("weights do not fit the factorised model: {:?}", result.errors)));
    }
    Ok(network)
}

#[cfg(test)]
mod tests {
    use gkd_nn::factorized::Mpo;

    use super::*;

    #[test]
    fn burn_mpo_contracts_to_the_tensor_train_matrix() {
        let (inputs, outputs) = ([3usize, 2, 2], [2usize, 4, 1]);
        let w: Vec<f32> = (0..12 * 8).map(|i| ((i * 31 % 17) as f32 - 8.0) / 7.0).collect();
        let tt = factorize::tensor_train(&w, &inputs, &outputs, 100);
        let device = Device::flex();
        let mut mpo = Mpo::new(&inputs, &outputs, &tt.bonds, false, &device);
        for (param, values) in mpo.cores.iter_mut().zip(&tt.cores) {
            let dims: [usize; 4] = param.val().dims();
            *param = Param::from_tensor(Tensor::from_data(TensorData::new(values.clone(), dims), &device));
        }
        let got: Vec<f32> = mpo.matrix().into_data().convert::<f32>().try_to_vec::<f32>().expect("f32");
        for (e, (g, want)) in got.iter().zip(&w).enumerate() {
            assert!((g - want).abs() < 1e-4, "entry {e}: {g} vs {want}");
        }
    }
}

/// The engine choice for computing logits of compressed models (the CPU engine where it runs).
pub(crate) const ENGINE: EngineChoice = EngineChoice::Auto;
