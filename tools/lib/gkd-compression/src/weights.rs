//! The compressible weights of a convolutional network by their model.safetensors names:
//! convolution kernels `blocks.I.conv.weight` (and the low-rank `blocks.I.factor.weight`), dense matrices `dense.I.linear.weight` (and the
//! low-rank `dense.I.factor.weight`) and the output matrix `output.weight`. Values are read and
//! written in burn's layout (a linear weight is inputs × outputs); [`torch_layout`] gives
//! PyTorch's (outputs × inputs) for files users load next to model.safetensors.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use gkd_nn::model::{ConvNet, Network};

/// A weight tensor of the network, with its gradient graph when the network is training.
#[derive(Debug, Clone)]
pub enum WeightTensor {
    /// A convolution kernel (filters, channels, width).
    Kernel(Tensor<3>),
    /// A dense matrix (inputs, outputs).
    Matrix(Tensor<2>),
}

impl WeightTensor {
    /// The values, row-major in burn's layout.
    pub fn values(&self) -> Vec<f32> {
        let data = match self {
            WeightTensor::Kernel(t) => t.to_data(),
            WeightTensor::Matrix(t) => t.to_data(),
        };
        data.convert::<f32>().try_to_vec::<f32>().expect("float weights")
    }

    /// The shape in burn's layout.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            WeightTensor::Kernel(t) => t.dims().to_vec(),
            WeightTensor::Matrix(t) => t.dims().to_vec(),
        }
    }

    /// Σ (w − target)², differentiable in w (target is a constant of the same shape).
    pub fn squared_distance(&self, target: &[f32]) -> Tensor<1> {
        match self {
            WeightTensor::Kernel(t) => {
                let c = Tensor::<3>::from_data(TensorData::new(target.to_vec(), t.dims()), &t.device());
                (t.clone() - c).powi_scalar(2).sum()
            }
            WeightTensor::Matrix(t) => {
                let c = Tensor::<2>::from_data(TensorData::new(target.to_vec(), t.dims()), &t.device());
                (t.clone() - c).powi_scalar(2).sum()
            }
        }
    }
}

/// What to do with each weight parameter when rebuilding a network.
pub trait WeightMap {
    /// A convolution kernel.
    fn kernel(&mut self, name: &str, param: Param<Tensor<3>>) -> Param<Tensor<3>>;
    /// A dense matrix.
    fn matrix(&mut self, name: &str, param: Param<Tensor<2>>) -> Param<Tensor<2>>;
}

/// The network with each compressible weight passed through `map` (other parameters and
/// BatchNorm statistics untouched). Networks that are not convolutional come back unchanged.
pub fn map_weights(network: Network, map: &mut dyn WeightMap) -> Network {
    let Network::Conv(mut net) = network else { return network };
    for (i, block) in net.blocks.iter_mut().enumerate() {
        if let Some(factor) = &mut block.factor {
            factor.weight = map.kernel(&format!("blocks.{i}.factor.weight"), factor.weight.clone());
        }
        block.conv.weight = map.kernel(&format!("blocks.{i}.conv.weight"), block.conv.weight.clone());
    }
    for (i, block) in net.dense.iter_mut().enumerate() {
        if let Some(factor) = &mut block.factor {
            factor.weight = map.matrix(&format!("dense.{i}.factor.weight"), factor.weight.clone());
        }
        if let Some(linear) = &mut block.linear {
            linear.weight = map.matrix(&format!("dense.{i}.linear.weight"), linear.weight.clone());
        }
    }
    net.output.weight = map.matrix("output.weight", net.output.weight.clone());
    Network::Conv(net)
}

/// Every compressible weight of a convolutional network, by name, in network order.
pub fn weight_tensors(net: &ConvNet) -> Vec<(String, WeightTensor)> {
    let mut out = Vec::new();
    for (i, block) in net.blocks.iter().enumerate() {
        if let Some(factor) = &block.factor {
            out.push((format!("blocks.{i}.factor.weight"), WeightTensor::Kernel(factor.weight.val())));
        }
        out.push((format!("blocks.{i}.conv.weight"), WeightTensor::Kernel(block.conv.weight.val())));
    }
    for (i, block) in net.dense.iter().enumerate() {
        if let Some(factor) = &block.factor {
            out.push((format!("dense.{i}.factor.weight"), WeightTensor::Matrix(factor.weight.val())));
        }
        if let Some(linear) = &block.linear {
            out.push((format!("dense.{i}.linear.weight"), WeightTensor::Matrix(linear.weight.val())));
        }
    }
    out.push(("output.weight".to_owned(), WeightTensor::Matrix(net.output.weight.val())));
    out
}

/// Replace named weights' values (burn layout), keeping each parameter's id.
pub struct SetValues<'a> {
    /// (name, values) pairs; names not listed keep their values.
    pub values: &'a [(String, Vec<f32>)],
}

impl SetValues<'_> {
    fn find(&self, name: &str) -> Option<&Vec<f32>> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn replaced<const D: usize>(param: Param<Tensor<D>>, values: &[f32]) -> Param<Tensor<D>> {
    param.map(|t| {
        let device: Device = t.device();
        let fresh = Tensor::<D>::from_data(TensorData::new(values.to_vec(), t.dims()), &device);
        if device.is_autodiff() { fresh.require_grad() } else { fresh }
    })
}

impl WeightMap for SetValues<'_> {
    fn kernel(&mut self, name: &str, param: Param<Tensor<3>>) -> Param<Tensor<3>> {
        match self.find(name) {
            Some(v) => replaced(param, v),
            None => param,
        }
    }
    fn matrix(&mut self, name: &str, param: Param<Tensor<2>>) -> Param<Tensor<2>> {
        match self.find(name) {
            Some(v) => replaced(param, v),
            None => param,
        }
    }
}

/// Values in burn's layout → PyTorch's (a matrix is transposed; a kernel is the same).
pub fn torch_layout(shape: &[usize], values: &[f32]) -> (Vec<usize>, Vec<f32>) {
    match shape {
        [rows, cols] => {
            let mut out = vec![0.0; values.len()];
            for r in 0..*rows {
                for c in 0..*cols {
                    out[c * rows + r] = values[r * cols + c];
                }
            }
            (vec![*cols, *rows], out)
        }
        _ => (shape.to_vec(), values.to_vec()),
    }
}
