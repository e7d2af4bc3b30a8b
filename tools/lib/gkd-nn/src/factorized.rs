//! Factorised dense maps written by `gkd-compress`: a rank-r product of two matrices, and a
//! matrix product operator (MPO, a tensor train over the matrix's row and column modes; Gao et
//! al. 2019). Either replaces a hidden dense layer's full matrix; both run through burn, so
//! training, gradients and attribution work on them as on the full layer.

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a hidden dense layer's matrix is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DenseMapSpec {
    /// The full matrix.
    #[default]
    Full,
    /// `inputs → rank → units`: two matrices (the first without a bias).
    LowRank {
        /// Inner width r.
        rank: usize,
    },
    /// A matrix product operator: inputs = Π `inputs[k]`, units = Π `outputs[k]`, core k of
    /// shape (bond k−1, `inputs[k]`, `outputs[k]`, bond k), outer bonds 1.
    Mpo {
        /// Row modes (their product is the layer's input width, in row-major order).
        inputs: Vec<usize>,
        /// Column modes (their product is the layer's units).
        outputs: Vec<usize>,
        /// The inner bond dimensions (one fewer than the modes).
        bonds: Vec<usize>,
    },
}

impl DenseMapSpec {
    /// Parameters of the map (without a bias) for `inputs` × `units`.
    pub fn parameters(&self, inputs: usize, units: usize) -> usize {
        match self {
            DenseMapSpec::Full => inputs * units,
            DenseMapSpec::LowRank { rank } => rank * (inputs + units),
            DenseMapSpec::Mpo { inputs: i, outputs: o, bonds } => {
                let edge = |k: usize| if k == 0 || k == i.len() { 1 } else { bonds[k - 1] };
                (0..i.len()).map(|k| edge(k) * i[k] * o[k] * edge(k + 1)).sum()
            }
        }
    }

    /// Why the spec does not fit an `inputs` × `units` layer, or `None` when it does.
    pub fn mismatch(&self, inputs: usize, units: usize) -> Option<String> {
        match self {
            DenseMapSpec::Full => None,
            DenseMapSpec::LowRank { rank } => (*rank == 0).then(|| "a low-rank map needs rank >= 1".to_owned()),
            DenseMapSpec::Mpo { inputs: i, outputs: o, bonds } => {
                let (pi, po) = (i.iter().product::<usize>(), o.iter().product::<usize>());
                if i.len() < 2 || i.len() != o.len() || bonds.len() + 1 != i.len() {
                    Some(format!(
                        "an MPO needs at least 2 modes, as many row as column modes and one bond fewer (got {i:?}, {o:?}, bonds {bonds:?})"
                    ))
                } else if pi != inputs || po != units {
                    Some(format!("MPO modes {i:?} x {o:?} make a {pi} x {po} matrix; the layer is {inputs} x {units}"))
                } else if bonds.contains(&0) || i.contains(&0) || o.contains(&0) {
                    Some("MPO modes and bonds must be at least 1".to_owned())
                } else {
                    None
                }
            }
        }
    }

    /// Words for `--describe`.
    pub fn describe(&self) -> Option<String> {
        match self {
            DenseMapSpec::Full => None,
            DenseMapSpec::LowRank { rank } => Some(format!("rank {rank}")),
            DenseMapSpec::Mpo { inputs, outputs, bonds } => {
                Some(format!("MPO modes {inputs:?} x {outputs:?}, bonds {bonds:?}"))
            }
        }
    }
}

/// A matrix product operator: the matrix W (Π i_k × Π o_k) contracted from cores
/// G_k (r_{k−1}, i_k, o_k, r_k), W[(i_1..i_n), (o_1..o_n)] = G_1[:, i_1, o_1, :] ⋯ G_n[:, i_n, o_n, :].
#[derive(Module, Debug)]
pub struct Mpo {
    /// The cores in order.
    pub cores: Vec<Param<Tensor<4>>>,
    /// The bias (absent when BatchNorm follows).
    pub bias: Option<Param<Tensor<1>>>,
}

impl Mpo {
    /// Cores drawn N(0, σ²) so that the contracted matrix has entries of variance 2/inputs (He);
    /// gkd-compress overwrites them with a trained matrix's tensor-train decomposition.
    pub fn new(inputs: &[usize], outputs: &[usize], bonds: &[usize], bias: bool, device: &Device) -> Self {
        let n = inputs.len();
        let edge = |k: usize| if k == 0 || k == n { 1 } else { bonds[k - 1] };
        let fan_in: usize = inputs.iter().product();
        // Var(W) = Π_k σ² · Π inner bonds; pick σ so that this is 2/fan_in.
        let inner: f64 = bonds.iter().map(|&b| b as f64).product();
        let sd = (2.0 / fan_in as f64 / inner).powf(0.5 / n as f64);
        let cores = (0..n)
            .map(|k| {
                Param::from_tensor(Tensor::random(
                    [edge(k), inputs[k], outputs[k], edge(k + 1)],
                    Distribution::Normal(0.0, sd),
                    device,
                ))
            })
            .collect();
        let units: usize = outputs.iter().product();
        Self { cores, bias: bias.then(|| Param::from_tensor(Tensor::zeros([units], device))) }
    }

    /// The contracted matrix, (inputs, units) in burn's linear layout.
    pub fn matrix(&self) -> Tensor<2> {
        let mut cores = self.cores.iter().map(Param::val);
        let first = cores.next().expect("an MPO has cores");
        let [_, i, o, r] = first.dims();
        // acc: (rows so far, columns so far, bond)
        let mut acc: Tensor<3> = first.reshape([i, o, r]);
        for core in cores {
            let [rows, cols, bond] = acc.dims();
            let [_, i, o, r] = core.dims();
            let product = acc.reshape([rows * cols, bond]).matmul(core.reshape([bond, i * o * r]));
            acc = product.reshape([rows, cols, i, o, r]).swap_dims(1, 2).reshape([rows * i, cols * o, r]);
        }
        let [rows, cols, _] = acc.dims();
        acc.reshape([rows, cols])
    }

    /// (B, inputs) → (B, units).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let y = x.matmul(self.matrix());
        match &self.bias {
            Some(b) => y + b.val().unsqueeze(),
            None => y,
        }
    }
}
