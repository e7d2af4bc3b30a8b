//! The attribution methods a run can ask for, run over the selected maps in chunks (so progress
//! can be followed), each giving `attr` (maps, channels, positions) and its extra arrays.

use burn::tensor::{Device, Tensor, TensorData};
use gkd_engine::Runner;
use gkd_io::error::{Error, Result};
use gkd_io::manifest::DatasetKind;
use gkd_io::progress::Progress;
use gkd_nn::loss::{Head, probabilities};
use gkd_nn::model::Network;
use ndarray::{Array1, Array2, Array3, ArrayD, Axis, s};

use crate::baselines::{Baseline, baselines};
use crate::classopt::{self, ClassOptimization};
use crate::gradients::{self, Target};
use crate::{deeplift, fast_ism, ism, temporal};

/// An attribution method (gkd-io's, so that every tool reading maps names methods the same way).
pub use gkd_io::attributions::AttributionMethod as Method;

/// How a method runs: what it reads and the maps it computes together.
pub trait MethodRun {
    /// Whether the maps explain dataset rows (all but class optimization).
    fn reads_rows(self) -> bool;
    /// Maps computed together: the unit of chunking and of sharding, so that a shard computes
    /// every map exactly as one run does.
    fn block(self, batch: usize) -> usize;
    /// The reference inputs the method uses unless told otherwise: (kind, count per row).
    fn default_baselines(self) -> (Baseline, usize);
    /// Whether the method reads --baseline / --baselines.
    fn uses_baselines(self) -> bool;
}

impl MethodRun for Method {
    fn reads_rows(self) -> bool {
        self != Method::Classopt
    }

    fn block(self, batch: usize) -> usize {
        match self {
            Method::Ism | Method::IsmFast => ISM_ROWS_PER_BLOCK,
            // Each map's references are seeded by its row: any split computes the same maps.
            Method::Ig | Method::Deeplift | Method::Deepshap | Method::Classopt => 1,
            _ => batch.max(1),
        }
    }

    fn default_baselines(self) -> (Baseline, usize) {
        match self {
            Method::Deepshap => (Baseline::Dinucleotide, 20),
            _ => (Baseline::Zeros, 1),
        }
    }

    fn uses_baselines(self) -> bool {
        matches!(self, Method::Ig | Method::Deeplift | Method::Deepshap)
    }
}

/// Rows whose mutants fast ISM may mix in its batches.
const ISM_ROWS_PER_BLOCK: usize = 8;

/// The settings of every method (each reads what applies to it).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Inputs (or mutants, or path points) per forward pass.
    pub batch: usize,
    /// Subtract each position's channel mean from gradients (saliency, grad × input).
    pub gradient_correction: bool,
    /// IG path intervals.
    pub steps: usize,
    /// IG / DeepLIFT reference kind.
    pub baseline: Baseline,
    /// IG / DeepLIFT references per row.
    pub baselines: usize,
    /// Seed of shuffled references.
    pub seed: u64,
    /// DeepLIFT: keep each map's references in the output (`references`, maps × K × C × L).
    pub keep_references: bool,
    /// DeepLIFT: warn about maps whose |convergence delta| exceeds this.
    pub delta_threshold: f32,
    /// DeepLIFT: the inputs are one-hot DNA, so the maps are hypothetical contributions (else
    /// contributions).
    pub hypothetical: bool,
}

/// What a method produced (channel names: [`attr_channels`]; ISM engine: [`engine`]).
pub struct Computed {
    /// (maps, channels, positions).
    pub attr: Array3<f32>,
    /// Further arrays, maps along axis 0.
    pub extra: Vec<(String, ArrayD<f32>)>,
}

impl Computed {
    fn maps(attr: Array3<f32>) -> Self {
        Self { attr, extra: Vec::new() }
    }
}

/// Refuse a method the model or data cannot take; `card` is the model's model.json path.
pub fn check_applicable(
    method: Method,
    network: &Network,
    kind: DatasetKind,
    arch: &str,
    card: &std::path::Path,
) -> Result<()> {
    let refuse = |why: String| Err(Error::in_file(card, why));
    match method {
        Method::Ism | Method::IsmFast if kind != DatasetKind::Sequence => {
            refuse(format!("--method {} mutates one-hot DNA; this {arch} model reads histone marks", method.name()))
        }
        Method::Temporal if !matches!(network, Network::Recurrent(_)) => refuse(format!(
            "--method temporal needs a recurrent model reading prefixes of any length (demo-rnn, demo-cnn-rnn); this model is {arch}"
        )),
        Method::Attention if !matches!(network, Network::Attentive(_)) => {
            refuse(format!("--method attention needs an attention model (attentivechrome); this model is {arch}"))
        }
        Method::Gkmexplain => {
            refuse(format!("--method gkmexplain explains gkm-SVMs (gkd-kmer train); this model is {arch}"))
        }
        _ => Ok(()),
    }
}

/// The ISM engine `method` runs on this network and input length: fast (windowed) where fast ISM
/// supports the architecture, else naive; `None` for the other methods.
pub fn engine(method: Method, network: &Network, length: usize) -> Option<&'static str> {
    match method {
        Method::IsmFast if fast_ism::supports(network, length) => Some("fast"),
        Method::Ism | Method::IsmFast => Some("naive"),
        _ => None,
    }
}

/// The channels of `method`'s maps when they are not the input's (temporal scores: forward and
/// reverse).
pub fn attr_channels(method: Method) -> Option<Vec<String>> {
    (method == Method::Temporal).then(|| vec!["forward".into(), "reverse".into()])
}

/// Run `method` on `x` (one input per map) explaining `classes[i]` for map i. `dataset_rows`
/// seeds each row's shuffled references, so a row's map does not depend on the other rows.
#[allow(clippy::too_many_arguments)]
pub fn attribute(
    method: Method,
    runner: &Runner<'_>,
    head: Head,
    x: &Array3<f32>,
    classes: &[usize],
    dataset_rows: &[usize],
    settings: &Settings,
    bar: &dyn Progress,
) -> Result<Computed> {
    let batch = settings.batch.max(1);
    let (network, device) = (runner.network(), runner.device());
    match method {
        Method::Saliency | Method::Gradxinput => {
            let mut attr = in_chunks(x, method.block(batch), bar, |part, start| {
                let t = Target::PerRow(classes[start..start + part.shape()[0]].to_vec());
                gradients::saliency(runner, part, &t, batch)
            });
            if settings.gradient_correction {
                gradients::gradient_correction(&mut attr);
            }
            if method == Method::Gradxinput {
                attr *= x;
            }
            Ok(Computed::maps(attr))
        }
        Method::Ig => Ok(integrated_gradients(runner, x, classes, dataset_rows, settings, bar)),
        Method::Deeplift | Method::Deepshap => deeplift::maps(runner, x, classes, dataset_rows, settings, bar),
        Method::Ism | Method::IsmFast => {
            let attr = in_chunks(x, method.block(batch), bar, |part, start| {
                let t = Target::PerRow(classes[start..start + part.shape()[0]].to_vec());
                match method {
                    Method::IsmFast => ism::ism_best(runner, part, &t, batch),
                    _ => ism::ism_naive(runner, part, &t, batch),
                }
            });
            Ok(Computed::maps(attr))
        }
        Method::Temporal => {
            let (n, _, l) = x.dim();
            let mut attr = Array3::zeros((n, 2, l));
            let mut start = 0;
            for part in x.axis_chunks_iter(Axis(0), method.block(batch)) {
                let (forward, reverse) =
                    temporal::temporal_logits(network, &part.to_owned(), device).expect("checked: recurrent model");
                for (direction, logits) in [forward, reverse].into_iter().enumerate() {
                    let (rows, length, k) = logits.dim();
                    let flat = Tensor::<2>::from_data(
                        TensorData::new(logits.iter().copied().collect::<Vec<_>>(), [rows * length, k]),
                        device,
                    );
                    let p: Vec<f32> = probabilities(head, flat, 1.0).into_data().try_to_vec::<f32>().expect("float32");
                    for row in 0..rows {
                        for i in 0..length {
                            attr[[start + row, direction, i]] = p[(row * length + i) * k + classes[start + row]];
                        }
                    }
                }
                start += part.shape()[0];
                bar.advance(part.shape()[0] as u64);
            }
            Ok(Computed::maps(attr))
        }
        Method::Attention => {
            let Network::Attentive(net) = network else { unreachable!("checked: attention model") };
            let (n, m, _) = x.dim();
            let mut beta = Array2::zeros((n, m));
            let mut start = 0;
            let attr = in_chunks(x, method.block(batch), bar, |part, _| {
                let (b, c, l) = part.dim();
                let input = Tensor::<3>::from_data(
                    TensorData::new(part.iter().copied().collect::<Vec<_>>(), [b, c, l]),
                    device,
                );
                let (_, alpha, beta_part) = net.forward_with_attention(input);
                let values: Vec<f32> = beta_part.into_data().try_to_vec::<f32>().expect("float32");
                beta.slice_mut(s![start..start + b, ..])
                    .assign(&Array2::from_shape_vec((b, m), values).expect("B x M"));
                start += b;
                Array3::from_shape_vec((b, c, l), alpha.into_data().try_to_vec::<f32>().expect("float32"))
                    .expect("B x M x T")
            });
            Ok(Computed { extra: vec![("beta".into(), beta.into_dyn())], attr })
        }
        Method::Classopt => unreachable!("class optimization explains classes, not rows: see class_optimization"),
        Method::Gkmexplain => unreachable!("checked: gkmexplain runs on gkm-SVMs (see crate::kmer)"),
    }
}

/// Apply `f` to consecutive chunks of at most `chunk` maps and stitch the results together.
fn in_chunks(
    x: &Array3<f32>,
    chunk: usize,
    bar: &dyn Progress,
    mut f: impl FnMut(&Array3<f32>, usize) -> Array3<f32>,
) -> Array3<f32> {
    let mut out = Array3::zeros(x.dim());
    let n = x.shape()[0];
    for start in (0..n).step_by(chunk.max(1)) {
        let end = (start + chunk.max(1)).min(n);
        let part = x.slice(s![start..end, .., ..]).to_owned();
        out.slice_mut(s![start..end, .., ..]).assign(&f(&part, start));
        bar.advance((end - start) as u64);
    }
    out
}

/// Integrated gradients averaged over each row's references; extra arrays `gap` (the mean
/// completeness gap Σattr − (F(x) − F(x′))) and `delta` (mean F(x) − F(x′)).
fn integrated_gradients(
    runner: &Runner<'_>,
    x: &Array3<f32>,
    classes: &[usize],
    dataset_rows: &[usize],
    settings: &Settings,
    bar: &dyn Progress,
) -> Computed {
    let (n, c, l) = x.dim();
    let mut attr = Array3::<f32>::zeros((n, c, l));
    let mut gap = Array1::<f32>::zeros(n);
    let mut delta = Array1::<f32>::zeros(n);
    for i in 0..n {
        let refs = baselines(
            x.index_axis(Axis(0), i),
            settings.baseline,
            settings.baselines,
            settings.seed,
            dataset_rows[i] as u64,
        );
        let xi = x.slice(s![i..i + 1, .., ..]).to_owned();
        let target = Target::Class(classes[i]);
        for reference in &refs {
            let reference = reference.clone().insert_axis(Axis(0));
            let (a, gaps) =
                gradients::integrated_gradients(runner, &xi, &reference, &target, settings.steps, settings.batch);
            let a = a.index_axis_move(Axis(0), 0);
            let sum = a.sum();
            attr.index_axis_mut(Axis(0), i).scaled_add(1.0 / refs.len() as f32, &a);
            gap[i] += gaps[0] / refs.len() as f32;
            delta[i] += (sum - gaps[0]) / refs.len() as f32;
        }
        bar.advance(1);
    }
    Computed { attr, extra: vec![("gap".into(), gap.into_dyn()), ("delta".into(), delta.into_dyn())] }
}

/// Class optimization of each class in `classes`: (logos, raw optimised inputs).
pub fn class_optimization(
    network: &Network,
    head: Head,
    classes: &[usize],
    shape: (usize, usize),
    settings: &ClassOptimization,
    device: &Device,
    bar: &dyn Progress,
) -> Computed {
    let raw = classopt::optimise(network, head, classes, shape, settings, device);
    bar.advance(classes.len() as u64);
    let logo = classopt::to_logo(&raw);
    Computed { attr: logo, extra: vec![("raw".into(), raw.into_dyn())] }
}
