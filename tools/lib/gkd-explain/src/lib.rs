//! Explaining gkd models: the attribution methods (docs/science.md, attribution) and the runs
//! `gkd-attribute` makes of them.
//!
//! The methods: gradient maps ([`gradients`]) with integrated gradients' reference inputs
//! ([`baselines`]), in-silico mutagenesis, naive ([`ism`]) and windowed ([`fast_ism`]),
//! DeepLIFT / DeepSHAP on the engine ([`deeplift`]), DeepMotif's temporal output scores
//! ([`temporal`]) and class optimization ([`classopt`]); GkmExplain on gkm-SVMs ([`kmer`]);
//! [`method`] runs any of them over many maps. A run ([`run`]) selects rows and classes
//! ([`selection`]), computes its shard of the maps and describes them; [`track`] places the maps
//! on the genome as a bigWig; [`modisco`] writes them as TF-MoDISco reads them; [`scan`] runs a
//! model along whole sequences (gkd-scan).

pub mod baselines;
pub mod classopt;
pub mod deeplift;
pub mod fast_ism;
pub mod gradients;
pub mod ism;
pub mod kmer;
pub mod method;
pub mod modisco;
pub mod run;
pub mod scan;
pub mod selection;
pub mod temporal;
pub mod track;
pub mod variant;

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
