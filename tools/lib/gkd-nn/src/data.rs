//! A dataset split (read by gkd-io, docs/data-contracts.md) as tensors for a model: the rows of a batch
//! and the output head its task calls for.

use burn::tensor::{Device, Tensor, TensorData};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::TaskKind;
use ndarray::{Array2, Array3, Axis};

pub use gkd_io::dataset::{Dataset, ResidentDataset, index_ids};

use crate::loss::Head;

/// The output head a dataset's task calls for (an error for tasks gkd-train cannot fit).
pub fn head_for(data: &Dataset) -> Result<Head> {
    match data.manifest.task {
        TaskKind::Binary | TaskKind::Multilabel => Ok(Head::Sigmoid),
        TaskKind::Multiclass => Ok(Head::Softmax),
        other => Err(Error::in_file(
            &data.path,
            format!(
                "task '{}' cannot be trained: gkd-train fits binary, multilabel and multiclass labels",
                serde_json::to_value(other).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            ),
        )),
    }
}

/// Rows of a (N, C, L) array as a tensor.
pub fn gather3(x: &Array3<f32>, rows: &[usize], device: &Device) -> Tensor<3> {
    let (_, c, l) = x.dim();
    let mut data: Vec<f32> = Vec::with_capacity(rows.len() * c * l);
    for &r in rows {
        data.extend(x.index_axis(Axis(0), r).iter());
    }
    Tensor::from_data(TensorData::new(data, [rows.len(), c, l]), device)
}

/// Rows of a (N, K) array as a tensor.
pub fn gather2(y: &Array2<f32>, rows: &[usize], device: &Device) -> Tensor<2> {
    let k = y.ncols();
    let mut data: Vec<f32> = Vec::with_capacity(rows.len() * k);
    for &r in rows {
        data.extend(y.row(r).iter());
    }
    Tensor::from_data(TensorData::new(data, [rows.len(), k]), device)
}
