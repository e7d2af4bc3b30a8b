//! Choosing the compute device: CPU (burn's `flex` back end, always built), or the GPU back ends
//! compiled in with the `wgpu` / `cuda` features.

use burn::tensor::Device;
use gkd_io::error::{Error, Result};

/// A compute device as named on the command line.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum DeviceChoice {
    /// burn's pure-Rust `flex` CPU back end (default; deterministic for a given seed).
    Cpu,
    /// burn's WebGPU back end (Vulkan, Metal, DX12 or a GL software adapter).
    Wgpu,
    /// burn's CUDA back end.
    Cuda,
}

impl DeviceChoice {
    /// The burn device (without autodiff).
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            Self::Wgpu => wgpu_device(),
            Self::Cuda => cuda_device(),
        }
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    use burn::tensor::DeviceType;
    if Device::enumerate(DeviceType::Wgpu).is_empty() {
        return Err(Error::runtime("--device wgpu: no WebGPU adapter found (no GPU driver and no software adapter)"));
    }
    Ok(Device::wgpu(Default::default()))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    Err(Error::usage("--device wgpu: this build has no wgpu support (rebuild with `--features wgpu`)"))
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device> {
    use burn::tensor::DeviceType;
    let found = std::panic::catch_unwind(|| Device::enumerate(DeviceType::Cuda).len()).unwrap_or(0);
    if found == 0 {
        return Err(Error::runtime("--device cuda: no CUDA device found (is the NVIDIA driver installed?)"));
    }
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device> {
    Err(Error::usage("--device cuda: this build has no CUDA support (rebuild with `--features cuda`)"))
}
