//! Factorising a model's hidden dense layers (gkd-compress low-rank and mpo): the factors from
//! the trained matrices, a network of the factorised spec carrying every other parameter and the
//! BatchNorm statistics of the source, then fine-tuning.

use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use gkd_io::error::{Error, Result};
use gkd_nn::factorized::DenseMapSpec;
use gkd_nn::model::{ModelSpec, Network, trainable_params};
use gkd_nn::store::{self, CompressionRecord, LayerCompression, LoadedModel};

use crate::finetune::FineTune;

/// What a factorisation subcommand was asked for.
pub enum Factorisation {
    /// Truncated SVD at a rank, or within a ratio.
    LowRank {
        /// Stored parameters before / after.
        ratio: Option<f64>,
        /// The rank of every hidden dense layer.
        rank: Option<usize>,
    },
    /// Tensor-train SVD at a bond dimension, or within a ratio.
    Mpo {
        /// Stored parameters before / after.
        ratio: Option<f64>,
        /// Every inner bond at most this.
        bond: Option<usize>,
        /// Modes per matrix side.
        modes: usize,
    },
}

/// Where a factorised matrix lives.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Hidden dense layer I: W (inputs × units) = factor · linear.
    Dense(usize),
    /// Convolution block I: W (filters × channels·width) = conv (width 1) · factor.
    Conv(usize),
}

/// A matrix to factorise: rows × cols, row-major.
struct Factorable {
    slot: Slot,
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

impl Factorable {
    /// The model.safetensors name the layer's weight had.
    fn name(&self) -> String {
        match self.slot {
            Slot::Dense(i) => format!("dense.{i}.linear.weight"),
            Slot::Conv(i) => format!("blocks.{i}.conv.weight"),
        }
    }
}

fn values_of<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32")
}

/// Factorise the hidden dense layers (and with `convs` every convolution but the first) of the
/// model in `source_dir` as `how` says, fine-tune as `tune` says, and write the model directory
/// `output`; `tool` is named in its model.json.
pub fn factorise_model(
    source_dir: &Path,
    output: &Path,
    how: Factorisation,
    convs: bool,
    tune: &FineTune,
    tool: &str,
) -> Result<()> {
    let source = crate::load_source(source_dir)?;
    let Network::Conv(net) = &source.network else { unreachable!("checked by load_source") };
    let card_path = source_dir.join(store::CARD_FILE);
    if net.dense.is_empty() && !convs {
        return Err(Error::in_file(
            &card_path,
            format!(
                "{} has no hidden dense layer to factorise (--convs factorises its convolutions)",
                source.card.spec.arch.name()
            ),
        ));
    }
    if source.card.spec.is_factorised() {
        return Err(Error::in_file(&card_path, "is already factorised; factorise the original model"));
    }
    if convs && matches!(how, Factorisation::Mpo { .. }) {
        return Err(Error::usage("--convs is for low-rank factorisation; MPO factorises the dense layers"));
    }
    let mut matrices: Vec<Factorable> = net
        .dense
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let w = block.weight_matrix();
            let [rows, cols] = w.dims();
            Factorable { slot: Slot::Dense(index), rows, cols, values: values_of(w) }
        })
        .collect();
    if convs {
        // The first layer's filters are the motif detectors attribution reads; it stays whole.
        for (index, block) in net.blocks.iter().enumerate().skip(1) {
            let w = block.kernel();
            let [filters, channels, width] = w.dims();
            matrices.push(Factorable {
                slot: Slot::Conv(index),
                rows: filters,
                cols: channels * width,
                values: values_of(w),
            });
        }
    }
    let before = trainable_params(&source.network);
    let factorised_total: usize = matrices.iter().map(|m| m.rows * m.cols).sum();
    // Entries the factors may hold, shared out in proportion to each matrix's size.
    let share = |ratio: f64| -> Result<Vec<usize>> {
        crate::check_ratio(ratio)?;
        let target = (before as f64 / ratio).floor() as usize;
        let fixed = before - factorised_total;
        let budget = target.saturating_sub(fixed);
        Ok(matrices.iter().map(|m| budget * (m.rows * m.cols) / factorised_total).collect())
    };
    let unreachable = |ratio: f64, what: &str| {
        Error::usage(format!(
            "--ratio {ratio}: the layers that are not factorised hold {} of the {before} parameters, so no {what} of the others reaches it; the largest ratio is about {:.1}{}",
            before - factorised_total,
            before as f64 / (before - factorised_total + matrices.len()) as f64,
            if convs { "" } else { " (--convs factorises the convolutions too)" }
        ))
    };
    let mut maps = vec![DenseMapSpec::Full; net.dense.len()];
    let mut conv_ranks: Vec<Option<usize>> = if convs { vec![None; net.blocks.len()] } else { Vec::new() };
    let mut values: Vec<(String, Vec<f32>)> = Vec::new();
    let mut cores: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
    let mut detail = Vec::new();
    match how {
        Factorisation::LowRank { ratio, rank } => {
            let ranks: Vec<usize> = match (ratio, rank) {
                (_, Some(r)) if r >= 1 => matrices.iter().map(|m| r.min(m.rows.min(m.cols))).collect(),
                (_, Some(_)) => return Err(Error::usage("--rank must be at least 1")),
                (Some(ratio), None) => {
                    let budgets = share(ratio)?;
                    let ranks: Vec<usize> = matrices
                        .iter()
                        .zip(&budgets)
                        .map(|(m, &b)| crate::factorize::rank_for_budget(m.rows, m.cols, b))
                        .collect();
                    if ranks.contains(&0) {
                        return Err(unreachable(ratio, "rank"));
                    }
                    ranks
                }
                (None, None) => unreachable!("clap requires --ratio or --rank"),
            };
            for (m, &r) in matrices.iter().zip(&ranks) {
                let (a, b) = crate::factorize::low_rank(&m.values, m.rows, m.cols, r, &m.name())?;
                match m.slot {
                    Slot::Dense(i) => {
                        values.push((format!("dense.{i}.factor.weight"), a));
                        values.push((format!("dense.{i}.linear.weight"), b));
                        maps[i] = DenseMapSpec::LowRank { rank: r };
                    }
                    Slot::Conv(i) => {
                        values.push((format!("blocks.{i}.conv.weight"), a));
                        values.push((format!("blocks.{i}.factor.weight"), b));
                        conv_ranks[i] = Some(r);
                    }
                }
                detail.push(LayerCompression {
                    name: m.name(),
                    before: m.rows * m.cols,
                    after: r * (m.rows + m.cols),
                    detail: format!("rank {r}"),
                });
            }
        }
        Factorisation::Mpo { ratio, bond, modes } => {
            for (k, m) in matrices.iter().enumerate() {
                let Slot::Dense(index) = m.slot else { unreachable!("MPO factorises dense layers only") };
                let (inputs, outputs) =
                    (crate::factorize::modes(m.rows, modes), crate::factorize::modes(m.cols, modes));
                let bond = match (ratio, bond) {
                    (_, Some(b)) if b >= 1 => b,
                    (_, Some(_)) => return Err(Error::usage("--bond must be at least 1")),
                    (Some(ratio), None) => {
                        let budget = share(ratio)?[k];
                        let mut best = 0;
                        for b in 1..=m.rows.max(m.cols) {
                            if crate::factorize::mpo_parameters(&inputs, &outputs, b) > budget {
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
                let tt = crate::factorize::tensor_train(&m.values, &inputs, &outputs, bond, &m.name())?;
                detail.push(LayerCompression {
                    name: m.name(),
                    before: m.rows * m.cols,
                    after: tt.parameters(),
                    detail: format!("MPO modes {inputs:?} x {outputs:?}, bonds {:?}", tt.bonds),
                });
                maps[index] = DenseMapSpec::Mpo {
                    inputs: tt.inputs.clone(),
                    outputs: tt.outputs.clone(),
                    bonds: tt.bonds.clone(),
                };
                cores.push((index, tt.cores));
            }
        }
    }
    // Dense layers left whole are not recorded (an all-full list is the published architecture).
    if maps.iter().all(|m| *m == DenseMapSpec::Full) {
        maps.clear();
    }
    let method = if cores.is_empty() { "low-rank" } else { "mpo" };
    let spec = ModelSpec { dense_maps: maps, conv_ranks, ..source.card.spec.clone() };
    let network = transplant(&spec, &source, &values, &cores, &card_path)?;
    let tuner = tune.prepare(&source, source_dir)?;
    let (network, tuned) = match &tuner {
        Some(tuner) => {
            let (tuned_network, record) =
                tuner.run(&spec, &network, None, crate::finetune::Phase::Retrain { stage: 1 })?;
            (tuned_network, Some(record))
        }
        None => (network, None),
    };
    let after = trainable_params(&network);
    let record =
        CompressionRecord::new(method, source_dir, (before, after), detail, tune.record(false, 0, 0.0, 0), Vec::new());
    crate::finetune::write(output, &source, spec, network, tuned, record, tune, Vec::new(), tool)
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
    // The source's full matrices of the factorised layers (their names now hold a factor).
    let replaced: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    let network = store::matching_weights_from_safetensors(built, without(&bytes, &replaced)?, card_path)?;
    let mut network = crate::weights::map_weights(network, &mut crate::weights::SetValues { values });
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

#[cfg(test)]
mod tests {
    use gkd_nn::factorized::Mpo;

    use super::*;

    #[test]
    fn burn_mpo_contracts_to_the_tensor_train_matrix() {
        let (inputs, outputs) = ([3usize, 2, 2], [2usize, 4, 1]);
        let w: Vec<f32> = (0..12 * 8).map(|i| ((i * 31 % 17) as f32 - 8.0) / 7.0).collect();
        let tt = crate::factorize::tensor_train(&w, &inputs, &outputs, 100, "w").unwrap();
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
