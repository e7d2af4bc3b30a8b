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
    /// CUDA when this build has it and a device is present, otherwise the CPU (with a warning).
    Auto,
}

impl DeviceChoice {
    /// The burn device (without autodiff).
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            Self::Wgpu => wgpu_device(),
            Self::Cuda => cuda_device(),
            Self::Auto => Ok(cuda_device().unwrap_or_else(|e| {
                log::warn!("--device auto: using the CPU ({e})");
                Device::flex()
            })),
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
    let no_device = |why: String| Error::runtime(format!("--device cuda: no CUDA device: {why}"));
    cuda_device_count().map_err(no_device).and_then(|count| match count {
        0 => Err(no_device("the NVIDIA driver reports no GPU".into())),
        _ => Ok(Device::cuda(0)),
    })
}

/// The number of CUDA devices, asked of the driver directly. burn's own enumeration panics when
/// `libcuda.so` cannot be loaded, so the driver library is looked for first.
#[cfg(feature = "cuda")]
fn cuda_device_count() -> std::result::Result<i32, String> {
    use cudarc::driver::{DriverError, result, sys};
    let explain = |e: DriverError| match e.error_string() {
        Ok(text) => format!("{:?}: {}", e.0, text.to_string_lossy()),
        Err(_) => format!("{:?}", e.0),
    };
    // SAFETY: only tries to dlopen the driver library (libloading), calling nothing in it.
    if !unsafe { sys::is_culib_present() } {
        return Err("the NVIDIA driver library (libcuda.so) is not installed or not on the loader path".into());
    }
    result::init().map_err(|e| format!("the NVIDIA driver did not start ({})", explain(e)))?;
    result::device::get_count().map_err(|e| format!("the NVIDIA driver could not count GPUs ({})", explain(e)))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device> {
    Err(Error::usage("--device cuda: this build has no CUDA support (rebuild with `--features cuda`)"))
}
