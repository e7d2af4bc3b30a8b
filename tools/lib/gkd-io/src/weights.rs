//! Checks on a safetensors weights file before any tool uses it: every floating-point tensor
//! (weights, BatchNorm statistics, factors, int8 scales) must be finite, and every tensor must have
//! the shape the architecture in model.json needs. A model directory is input like any other file:
//! a colleague's model, a compressed one, or a checkpoint left by a job that diverged or was killed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};

/// The first non-finite element of one tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// Tensor name as stored.
    pub tensor: String,
    /// Position in row-major order.
    pub element: usize,
    /// The same position as one index per axis.
    pub index: Vec<usize>,
    /// The value (NaN, inf or -inf).
    pub value: f64,
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index: Vec<String> = self.index.iter().map(usize::to_string).collect();
        write!(
            f,
            "tensor {} holds {} at element {} (index [{}])",
            self.tensor,
            self.value,
            self.element,
            index.join(", ")
        )
    }
}

/// Read `bytes` as safetensors, naming `source` when they are not.
pub fn parse<'a>(bytes: &'a [u8], source: &Path) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| Error::in_file(source, format!("is not a safetensors file: {e}")))
}

/// The first non-finite element of the floating-point tensors in `tensors` (in name order, so the
/// answer does not depend on the file's layout), or `None` when all are finite.
pub fn first_non_finite(tensors: &SafeTensors<'_>) -> Option<NonFinite> {
    let mut names = tensors.names();
    names.sort();
    names.into_iter().find_map(|name| {
        let view = tensors.tensor(name).ok()?;
        let element = first_bad_element(view.dtype(), view.data())?;
        Some(NonFinite {
            tensor: name.to_owned(),
            element: element.0,
            index: unravel(element.0, view.shape()),
            value: element.1,
        })
    })
}

/// Refuse `bytes` (read from `source`) when a floating-point tensor holds NaN or an infinity.
pub fn check_finite(bytes: &[u8], source: &Path) -> Result<()> {
    match first_non_finite(&parse(bytes, source)?) {
        None => Ok(()),
        Some(bad) => Err(Error::in_file(
            source,
            format!(
                "{bad}; a model's weights, BatchNorm statistics and scales must be finite (was the file damaged, or did training diverge?)"
            ),
        )),
    }
}

/// The values of a float32 tensor (the caller has checked its dtype).
pub fn f32_values(view: &TensorView<'_>) -> Vec<f32> {
    view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// safetensors bytes of float32 tensors given as (name, shape, values), with `metadata`.
pub fn serialize_f32(
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), data)| {
            (name.clone(), TensorView::new(Dtype::F32, shape.clone(), data).expect("shape fits the values"))
        })
        .collect();
    safetensors::serialize(views, metadata).map_err(|e| Error::runtime(format!("cannot serialise tensors: {e}")))
}

/// Name → shape of every tensor in `tensors`.
pub fn shapes(tensors: &SafeTensors<'_>) -> BTreeMap<String, Vec<usize>> {
    tensors.tensors().into_iter().map(|(name, view)| (name, view.shape().to_vec())).collect()
}

/// Refuse `bytes` (read from `source`) when a tensor that `expected` also names has another shape.
/// Tensors only one side has are left to the caller (a partial load may want them).
pub fn check_shapes(bytes: &[u8], source: &Path, expected: &BTreeMap<String, Vec<usize>>) -> Result<()> {
    let found = shapes(&parse(bytes, source)?);
    for (name, shape) in &found {
        if let Some(needed) = expected.get(name)
            && needed != shape
        {
            return Err(Error::in_file(
                source,
                format!("tensor {name} has shape {shape:?}; the architecture in model.json needs {needed:?}"),
            ));
        }
    }
    Ok(())
}

/// Position and value of the first non-finite element of raw little-endian data, for the
/// floating-point dtypes; `None` for integer and boolean tensors, which cannot hold one.
fn first_bad_element(dtype: Dtype, data: &[u8]) -> Option<(usize, f64)> {
    fn scan<const N: usize>(data: &[u8], decode: impl Fn([u8; N]) -> f64) -> Option<(usize, f64)> {
        data.chunks_exact(N)
            .map(|c| decode(c.try_into().expect("chunk of N bytes")))
            .enumerate()
            .find(|(_, v)| !v.is_finite())
    }
    match dtype {
        Dtype::F32 => scan::<4>(data, |b| f32::from_le_bytes(b) as f64),
        Dtype::F64 => scan::<8>(data, f64::from_le_bytes),
        Dtype::F16 => scan::<2>(data, |b| half::f16::from_le_bytes(b).to_f64()),
        Dtype::BF16 => scan::<2>(data, |b| half::bf16::from_le_bytes(b).to_f64()),
        _ => None,
    }
}

/// Row-major flat position → one index per axis.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (axis, &size) in shape.iter().enumerate().rev() {
        let size = size.max(1);
        index[axis] = flat % size;
        flat /= size;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(name, dtype, shape, data)| {
                (name.to_string(), TensorView::new(*dtype, shape.clone(), data).expect("consistent"))
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    fn f32s(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn the_first_bad_element_is_named_with_its_index() {
        let mut values = vec![0.5f32; 2 * 3 * 4];
        values[12 + 2 * 4 + 3] = f32::NAN; // [1, 2, 3] = element 1·12 + 2·4 + 3 = 23
        values[0] = 1.0;
        let bytes = file(&[
            ("b.weight", Dtype::F32, vec![2, 3, 4], f32s(&values)),
            ("a.bias", Dtype::F32, vec![2], f32s(&[1.0, 2.0])),
            ("c.levels", Dtype::I8, vec![3], vec![0x80, 0x7f, 0]),
        ]);
        let bad = first_non_finite(&parse(&bytes, Path::new("m")).unwrap()).unwrap();
        assert_eq!((bad.tensor.as_str(), bad.element, bad.index.as_slice()), ("b.weight", 23, &[1usize, 2, 3][..]));
        assert!(bad.value.is_nan());
        let message = check_finite(&bytes, Path::new("dir/model.safetensors")).unwrap_err().to_string();
        assert!(
            message.contains("dir/model.safetensors")
                && message.contains("b.weight holds NaN at element 23 (index [1, 2, 3])"),
            "{message}"
        );
    }

    #[test]
    fn infinities_in_every_float_dtype_are_found_and_integers_are_not_read_as_floats() {
        let inf16 = half::f16::INFINITY.to_le_bytes().to_vec();
        let ninf_bf16 = half::bf16::NEG_INFINITY.to_le_bytes().to_vec();
        let inf64 = f64::INFINITY.to_le_bytes().to_vec();
        for (dtype, data, value) in [
            (Dtype::F16, inf16, f64::INFINITY),
            (Dtype::BF16, ninf_bf16, f64::NEG_INFINITY),
            (Dtype::F64, inf64, f64::INFINITY),
        ] {
            let bytes = file(&[("t", dtype, vec![1], data)]);
            let bad = first_non_finite(&parse(&bytes, Path::new("m")).unwrap()).unwrap();
            assert_eq!((bad.element, bad.value), (0, value), "{dtype:?}");
        }
        // 0xff 0xff 0xff 0x7f would be NaN as float32, but these are four uint8 mask entries.
        let bytes = file(&[("mask", Dtype::U8, vec![4], vec![0xff, 0xff, 0xff, 0x7f])]);
        assert_eq!(check_finite(&bytes, Path::new("m")).ok(), Some(()));
    }

    #[test]
    fn a_shape_other_than_the_architectures_is_refused_by_name() {
        let bytes = file(&[("dense.weight", Dtype::F32, vec![2, 3], f32s(&[0.0; 6]))]);
        let expected = BTreeMap::from([("dense.weight".to_owned(), vec![3, 2]), ("other".to_owned(), vec![1])]);
        let message = check_shapes(&bytes, Path::new("m.safetensors"), &expected).unwrap_err().to_string();
        assert!(
            message.contains("tensor dense.weight has shape [2, 3]; the architecture in model.json needs [3, 2]"),
            "{message}"
        );
        let right = BTreeMap::from([("dense.weight".to_owned(), vec![2, 3])]);
        assert!(check_shapes(&bytes, Path::new("m"), &right).is_ok());
    }
}
