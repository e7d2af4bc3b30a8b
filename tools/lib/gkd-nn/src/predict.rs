//! Batched inference: logits of a network over every row of an (N, C, L) array, or of a dataset
//! split read batch by batch.

use burn::tensor::Device;
use gkd_io::Result;
use gkd_io::dataset::Dataset;
use gkd_io::progress::Progress;
use ndarray::{Array2, Array3};

use crate::data::gather3;
use crate::model::Network;

/// Logits (N, K) of `network` (in evaluation mode, on a plain device) for every row of `x`.
pub fn logits(
    network: &Network,
    x: &Array3<f32>,
    batch_size: usize,
    device: &Device,
    progress: &dyn Progress,
) -> Array2<f32> {
    let n = x.shape()[0];
    let (mut out, mut classes) = (Vec::new(), 0);
    let rows: Vec<usize> = (0..n).collect();
    for chunk in rows.chunks(batch_size.max(1)) {
        let z = network.forward(gather3(x, chunk, device));
        classes = z.dims()[1];
        out.extend(z.into_data().try_to_vec::<f32>().expect("float32 logits"));
        progress.advance(chunk.len() as u64);
    }
    Array2::from_shape_vec((n, classes), out).expect("logits have N x K values")
}

/// Logits (N, K) of `network` for every row of `data`, reading `batch_size` rows at a time:
/// memory holds one batch of inputs, whatever the size of the split.
pub fn dataset_logits(
    network: &Network,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
    progress: &dyn Progress,
) -> Result<Array2<f32>> {
    let (n, batch) = (data.len(), batch_size.max(1));
    let (mut out, mut classes) = (Vec::new(), 0);
    for start in (0..n).step_by(batch) {
        let x = data.read_x(start..(start + batch).min(n))?;
        let rows: Vec<usize> = (0..x.shape()[0]).collect();
        let z = network.forward(gather3(&x, &rows, device));
        classes = z.dims()[1];
        out.extend(z.into_data().try_to_vec::<f32>().expect("float32 logits"));
        progress.advance(rows.len() as u64);
    }
    Ok(Array2::from_shape_vec((n, classes), out).expect("logits have N x K values"))
}

/// The mean of several (N, K) logit matrices: an ensemble teacher.
pub fn average(mut all: Vec<Array2<f32>>) -> Option<Array2<f32>> {
    let count = all.len() as f32;
    let mut sum = all.pop()?;
    for other in all {
        sum += &other;
    }
    Some(sum / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensemble_is_the_elementwise_mean() {
        let a = Array2::from_shape_vec((1, 2), vec![1.0f32, -2.0]).unwrap();
        let b = Array2::from_shape_vec((1, 2), vec![3.0f32, 4.0]).unwrap();
        let c = Array2::from_shape_vec((1, 2), vec![5.0f32, 1.0]).unwrap();
        assert_eq!(average(vec![a, b, c]).unwrap(), Array2::from_shape_vec((1, 2), vec![3.0, 1.0]).unwrap());
        assert!(average(Vec::new()).is_none());
    }
}
