//! Attribution methods for gkd models (docs/design.md §4.4): gradient maps ([`gradients`]) with IG
//! reference inputs ([`baselines`]), and in-silico
//! mutagenesis, naive ([`ism`]) and windowed ([`fast_ism`]), and DeepMotif's temporal output
//! scores ([`temporal`]) and class optimization ([`classopt`]).

pub mod baselines;
pub mod classopt;
pub mod fast_ism;
pub mod gradients;
pub mod ism;
pub mod temporal;

/// Shared set-up of the unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use burn::module::Module;
    use burn::tensor::Device;
    use gkd_nn::arch::Arch;
    use gkd_nn::layers::Activation;
    use gkd_nn::model::{ModelSpec, Network};

    /// A one-hot-DNA network in evaluation mode on `device`, initialised from `seed`. Seeding and
    /// initialisation happen under one lock: the seeded stream is shared, and tests run in
    /// parallel threads would otherwise interleave their draws (different weights each run).
    pub fn network(
        seed: u64,
        arch: Arch,
        length: usize,
        classes: usize,
        first: Activation,
        device: &Device,
    ) -> Network {
        static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
        device.seed(seed);
        let spec = ModelSpec::new(arch, 4, length, classes, first);
        spec.build(device).expect("architecture fits").valid()
    }
}
