//! A loaded model ready to run: the CPU engine where it applies, burn everywhere else (GPU
//! devices, recurrent and attention models, or when asked to with `--engine burn`).

use burn::tensor::{Device, Tensor, TensorData};
use gkd_io::Result;
use gkd_io::dataset::Dataset;
use gkd_io::progress::{Progress, Silent};
use gkd_nn::model::{ModelSpec, Network};
use ndarray::{Array2, Array3, ArrayView3};

use crate::CnnEngine;
use crate::int8::{InputQuant, Int8Network, Mode};

/// Which implementation runs a convolutional model on the CPU (`--engine`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum EngineChoice {
    /// gkd's CPU engine for the convolutional models on the CPU device; burn otherwise.
    #[default]
    Auto,
    /// burn for every model (the reference the engine is checked against).
    Burn,
}

/// A network with the means to run it.
pub struct Runner<'a> {
    network: &'a Network,
    device: Device,
    engine: Option<CnnEngine>,
    /// The integer path of an int8 model: its logits (gradients and attribution maps run on
    /// the dequantised weights).
    int8: Option<Int8Network>,
}

impl<'a> Runner<'a> {
    /// Run `network` (in evaluation mode) on `device`, with the engine where `choice` allows
    /// it and the model and device suit it.
    pub fn new(spec: &ModelSpec, network: &'a Network, device: &Device, choice: EngineChoice) -> Self {
        let cpu = !device.is_autodiff() && *device == Device::flex();
        let engine = (choice == EngineChoice::Auto && cpu).then(|| CnnEngine::new(spec, network)).flatten();
        let int8 = match (&engine, &spec.int8) {
            (Some(engine), Some(q)) => {
                let inputs =
                    q.input_scales.iter().zip(&q.input_signed).map(|(&scale, &signed)| InputQuant { scale, signed });
                Int8Network::new(engine.layers().clone(), inputs.collect())
            }
            _ => None,
        };
        Self { network, device: device.clone(), engine, int8 }
    }

    /// Run `network` on `device` with burn only.
    pub fn burn(network: &'a Network, device: &Device) -> Self {
        Self { network, device: device.clone(), engine: None, int8: None }
    }

    /// The burn network.
    pub fn network(&self) -> &'a Network {
        self.network
    }

    /// The burn device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the CPU engine runs this model.
    pub fn uses_engine(&self) -> bool {
        self.engine.is_some()
    }

    /// Whether logits come from the int8 path.
    pub fn uses_int8(&self) -> bool {
        self.int8.is_some()
    }

    /// Logits (N, K) of the rows of `x` (N, C, L), `batch` rows per burn forward pass.
    pub fn logits(&self, x: ArrayView3<'_, f32>, batch: usize) -> Array2<f32> {
        if let Some(int8) = &self.int8 {
            return int8.logits(x, Mode::Int8);
        }
        match &self.engine {
            Some(engine) => engine.logits(x),
            None => gkd_nn::predict::logits(self.network, &x.to_owned(), batch, &self.device, &Silent),
        }
    }

    /// Logits (N, K) of the rows of `x`, and the gradient of each row's logit `class_of(row)`
    /// with respect to that row's input (N, C, L). Rows are independent in evaluation mode, so
    /// burn's one backward pass of Σ_rows logit[row, class_of(row)] gives every row's gradient.
    pub fn logits_and_gradients(
        &self,
        x: ArrayView3<'_, f32>,
        class_of: &(dyn Fn(usize) -> usize + Sync),
    ) -> (Array2<f32>, Array3<f32>) {
        if let Some(engine) = &self.engine {
            return engine.logits_and_gradients(x, class_of);
        }
        let (n, c, l) = x.dim();
        let autodiff = self.device.clone().autodiff();
        let input =
            Tensor::<3>::from_data(TensorData::new(x.iter().copied().collect::<Vec<_>>(), [n, c, l]), &autodiff)
                .require_grad();
        let logits = self.network.forward(input.clone());
        let k = logits.dims()[1];
        let mut mask = vec![0f32; n * k];
        (0..n).for_each(|row| mask[row * k + class_of(row)] = 1.0);
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [n, k]), &autodiff);
        let grads = (logits.clone() * mask).sum().backward();
        let gradient = input.grad(&grads).expect("the input requires a gradient");
        let z: Vec<f32> = logits.into_data().try_to_vec::<f32>().expect("float32");
        let g: Vec<f32> = gradient.into_data().try_to_vec::<f32>().expect("float32");
        (Array2::from_shape_vec((n, k), z).expect("N x K"), Array3::from_shape_vec((n, c, l), g).expect("N x C x L"))
    }

    /// Logits of the rows of `x` and of their single-base substitutions `mutants[row]` (position,
    /// base), computed incrementally on the engine (see [`CnnEngine::substitutions`]); `None`
    /// when the engine does not run this model or its logits come from the int8 path.
    pub fn substitution_logits(
        &self,
        x: ArrayView3<'_, f32>,
        mutants: &[Vec<(usize, usize)>],
    ) -> Option<(Array2<f32>, Array2<f32>)> {
        if self.int8.is_some() {
            return None;
        }
        self.engine.as_ref().map(|engine| engine.substitutions(x, mutants))
    }

    /// Fast ISM maps (N, 4, L) of one-hot rows on the engine (see [`CnnEngine::ism`]), or
    /// `None` when the engine does not run this model.
    pub fn ism_fast(&self, x: ArrayView3<'_, f32>, class_of: &(dyn Fn(usize) -> usize + Sync)) -> Option<Array3<f32>> {
        self.engine.as_ref().map(|engine| engine.ism(x, class_of))
    }

    /// DeepLIFT multipliers of each row of `x` against the same row of `references` (see
    /// [`CnnEngine::deeplift`]), or `None` when the engine does not run this model.
    pub fn deeplift(
        &self,
        x: ArrayView3<'_, f32>,
        references: ArrayView3<'_, f32>,
        class_of: &(dyn Fn(usize) -> usize + Sync),
    ) -> Option<crate::DeepLift> {
        self.engine.as_ref().map(|engine| engine.deeplift(x, references, class_of))
    }

    /// Logits of every row of a dataset split with the model's early exit taken where
    /// `confident` accepts its logits, and how many rows exited; `None` when the model has no
    /// exit. On burn (no engine) both heads are computed for every row, so only the engine saves
    /// time.
    pub fn dataset_logits_with_exit(
        &self,
        data: &Dataset,
        batch: usize,
        confident: &(dyn Fn(&[f32]) -> bool + Sync),
        progress: &dyn Progress,
    ) -> Result<Option<(Array2<f32>, usize)>> {
        let Network::Conv(net) = self.network else { return Ok(None) };
        if net.exit.is_none() {
            return Ok(None);
        }
        let (n, batch) = (data.len(), batch.max(1));
        let mut out: Option<Array2<f32>> = None;
        let mut exited = 0;
        for start in (0..n).step_by(batch) {
            let x = data.read_x(start..(start + batch).min(n))?;
            let (logits, done) = match &self.engine {
                Some(engine) => engine.logits_with_exit(x.view(), confident).expect("the model has an exit"),
                None => {
                    let (b, c, l) = x.dim();
                    let input = Tensor::<3>::from_data(
                        TensorData::new(x.iter().copied().collect::<Vec<_>>(), [b, c, l]),
                        &self.device,
                    );
                    let (last, early) = net.forward_with_exit(input);
                    let to_array = |t: Tensor<2>| {
                        let [r, k] = t.dims();
                        Array2::from_shape_vec((r, k), t.into_data().try_to_vec::<f32>().expect("float32"))
                            .expect("rows x classes")
                    };
                    let (mut last, early) = (to_array(last), to_array(early.expect("the model has an exit")));
                    let done: Vec<bool> = (0..b).map(|r| confident(&early.row(r).to_vec())).collect();
                    for (r, _) in done.iter().enumerate().filter(|(_, d)| **d) {
                        last.row_mut(r).assign(&early.row(r));
                    }
                    (last, done)
                }
            };
            exited += done.iter().filter(|&&d| d).count();
            let out = out.get_or_insert_with(|| Array2::zeros((n, logits.ncols())));
            out.slice_mut(ndarray::s![start..start + logits.nrows(), ..]).assign(&logits);
            progress.advance(logits.nrows() as u64);
        }
        Ok(out.map(|o| (o, exited)))
    }

    /// Logits (N, K) of every row of a dataset split, reading `batch` rows at a time (memory
    /// holds one batch of inputs, whatever the size of the split).
    pub fn dataset_logits(&self, data: &Dataset, batch: usize, progress: &dyn Progress) -> Result<Array2<f32>> {
        let Some(engine) = &self.engine else {
            return gkd_nn::predict::dataset_logits(self.network, data, batch, &self.device, progress);
        };
        let (n, batch) = (data.len(), batch.max(1));
        let mut out = Array2::zeros((n, engine.layers().classes()));
        for start in (0..n).step_by(batch) {
            let x = data.read_x(start..(start + batch).min(n))?;
            let logits = match &self.int8 {
                Some(int8) => int8.logits(x.view(), Mode::Int8),
                None => engine.logits(x.view()),
            };
            out.slice_mut(ndarray::s![start..start + x.shape()[0], ..]).assign(&logits);
            progress.advance(x.shape()[0] as u64);
        }
        Ok(out)
    }
}
