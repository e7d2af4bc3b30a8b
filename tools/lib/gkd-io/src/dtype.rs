//! Element types of stored tensors. Models compute in float32; the inputs `x` may be stored more
//! compactly (`--dtype`): one-hot DNA is exact in uint8 (4× smaller than float32), and histone
//! signal usually keeps enough precision in float16 (2× smaller). Readers accept every type
//! here, plus numpy's default float64, and give float32.
//!
//! The element codecs are written out here because `ndarray-npy` has no float16 and reads whole
//! arrays only; the `.npy` header itself is `ndarray-npy`'s.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the elements of a stored array are encoded (little-endian, as numpy writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantArray, strum::EnumMessage, strum::EnumProperty)]
#[strum(serialize_all = "kebab-case")]
pub enum Dtype {
    /// 4 bytes per value; exact for everything the tools compute.
    #[default]
    Float32,
    /// 2 bytes per value (IEEE half); about 3 significant digits, values up to 65504.
    Float16,
    /// 1 byte per value; integers 0–255 only (one-hot DNA, counts), refused otherwise.
    Uint8,
    /// 8 bytes per value; read (numpy's default) but never written.
    #[strum(props(cli = "hidden"))]
    Float64,
}

impl Dtype {
    /// The name used on the command line and in manifests.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether this is float32 (the default type, which manifests leave unsaid).
    pub fn is_float32(&self) -> bool {
        *self == Dtype::Float32
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::Float32 => 4,
            Dtype::Float16 => 2,
            Dtype::Uint8 => 1,
            Dtype::Float64 => 8,
        }
    }

    /// numpy's type descriptor (`descr` of the `.npy` header).
    pub fn descr(self) -> &'static str {
        match self {
            Dtype::Float32 => "<f4",
            Dtype::Float16 => "<f2",
            Dtype::Uint8 => "|u1",
            Dtype::Float64 => "<f8",
        }
    }

    /// The type a numpy descriptor names, if it is one of these (byte order little or
    /// not applicable; `=` is little on every platform gkd runs on).
    pub fn from_descr(descr: &str) -> Option<Self> {
        let (order, code) = descr.split_at(descr.len().min(1));
        if !matches!(order, "<" | "|" | "=") {
            return None;
        }
        match code {
            "f4" => Some(Dtype::Float32),
            "f2" => Some(Dtype::Float16),
            "u1" => Some(Dtype::Uint8),
            "f8" => Some(Dtype::Float64),
            _ => None,
        }
    }

    /// Decode `bytes` (a whole number of elements) into float32, appending to `out`.
    pub fn decode_into(self, bytes: &[u8], out: &mut Vec<f32>) {
        match self {
            Dtype::Float32 => out.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            Dtype::Float16 => {
                out.extend(bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()))
            }
            Dtype::Uint8 => out.extend(bytes.iter().map(|&b| f32::from(b))),
            Dtype::Float64 => out.extend(
                bytes
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32),
            ),
        }
    }

    /// Encode `values` into this type, appending to `out`. Returns the index of the first value
    /// the type cannot hold (a non-integer or out-of-range value for uint8, a finite value past
    /// float16's range), leaving `out` partly written.
    pub fn encode_into(self, values: &[f32], out: &mut Vec<u8>) -> Result<(), usize> {
        match self {
            Dtype::Float32 => {
                out.reserve(values.len() * 4);
                values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
            }
            Dtype::Float16 => {
                out.reserve(values.len() * 2);
                for (i, &v) in values.iter().enumerate() {
                    let h = half::f16::from_f32(v);
                    if v.is_finite() && !h.is_finite() {
                        return Err(i);
                    }
                    out.extend_from_slice(&h.to_le_bytes());
                }
            }
            Dtype::Uint8 => {
                out.reserve(values.len());
                for (i, &v) in values.iter().enumerate() {
                    if !(0.0..=255.0).contains(&v) || v.fract() != 0.0 {
                        return Err(i);
                    }
                    out.push(v as u8);
                }
            }
            Dtype::Float64 => {
                out.reserve(values.len() * 8);
                values.iter().for_each(|&v| out.extend_from_slice(&f64::from(v).to_le_bytes()));
            }
        }
        Ok(())
    }

    /// What values this type holds, for error messages.
    pub fn holds(self) -> &'static str {
        match self {
            Dtype::Float32 | Dtype::Float64 => "any number",
            Dtype::Float16 => "numbers of magnitude up to 65504",
            Dtype::Uint8 => "whole numbers from 0 to 255",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_what_each_type_holds() {
        let onehot = [0.0f32, 1.0, 0.0, 0.0, 255.0];
        for dtype in [Dtype::Float32, Dtype::Float16, Dtype::Uint8, Dtype::Float64] {
            let mut bytes = Vec::new();
            dtype.encode_into(&onehot, &mut bytes).unwrap();
            assert_eq!(bytes.len(), onehot.len() * dtype.size());
            let mut back = Vec::new();
            dtype.decode_into(&bytes, &mut back);
            assert_eq!(back, onehot, "{dtype:?}");
            assert_eq!(Dtype::from_descr(dtype.descr()), Some(dtype));
        }
        // numpy's float16 of 0.1 is 0x2e66 (np.float16(0.1).view(np.uint16) == 11878).
        let mut bytes = Vec::new();
        Dtype::Float16.encode_into(&[0.1], &mut bytes).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[0], bytes[1]]), 0x2e66);
        let mut back = Vec::new();
        Dtype::Float16.decode_into(&bytes, &mut back);
        assert!((back[0] - 0.1).abs() < 1e-4 && back[0] != 0.1);
    }

    #[test]
    fn refuses_values_a_type_cannot_hold() {
        let mut bytes = Vec::new();
        assert_eq!(Dtype::Uint8.encode_into(&[1.0, 0.25], &mut bytes), Err(1));
        assert_eq!(Dtype::Uint8.encode_into(&[256.0], &mut bytes), Err(0));
        assert_eq!(Dtype::Uint8.encode_into(&[-1.0], &mut bytes), Err(0));
        assert_eq!(Dtype::Uint8.encode_into(&[f32::NAN], &mut bytes), Err(0));
        assert_eq!(Dtype::Float16.encode_into(&[1.0, 70000.0], &mut bytes), Err(1));
        assert!(Dtype::Float16.encode_into(&[65504.0, -65504.0], &mut bytes).is_ok());
        assert_eq!(Dtype::from_descr(">f4"), None);
        assert_eq!(Dtype::from_descr("<i8"), None);
    }
}
