//! Model compression for gkd (the library under gkd-compress; docs/compression.md): pruning by
//! magnitude and by ADMM with masked retraining ([`prune`]), low-rank and MPO factorisation of the
//! hidden dense layers ([`dense`], with the linear algebra in [`factorize`]), int8 post-training
//! quantisation ([`quantize`]), and fine-tuning with the source's recipe and an optional
//! distillation loss ([`finetune`]). Each method reads a model directory and writes one that every
//! gkd tool reads.

pub mod dense;
pub mod factorize;
pub mod finetune;
pub mod prune;
pub mod quantize;
pub mod weights;

use std::path::Path;

use burn::tensor::Device;
use gkd_io::error::{Error, Result};
use gkd_nn::model::Network;
use gkd_nn::store::{self, LoadedModel};

pub use dense::{Factorisation, factorise_model};
pub use finetune::FineTune;
pub use prune::{PruneMethod, PruneSettings, prune_model};
pub use quantize::quantise_model;

/// The source model on the CPU, checked to be one gkd-compress handles.
pub fn load_source(dir: &Path) -> Result<LoadedModel> {
    let model = store::load_model(dir, &Device::flex())?;
    if !matches!(model.network, Network::Conv(_)) {
        return Err(Error::in_file(
            dir.join(store::CARD_FILE),
            format!(
                "describes the {} architecture; gkd-compress handles the feed-forward convolutional architectures (Koo CNNs, demo-cnn, deepchrome)",
                model.card.spec.arch.name()
            ),
        ));
    }
    if model.card.compression.as_ref().is_some_and(|c| c.method == "int8") {
        return Err(Error::in_file(dir.join(store::CARD_FILE), "is already int8-quantised; compress the float model"));
    }
    Ok(model)
}

/// The `gkd-compress describe` text of a model directory: the layer table with parameter counts
/// (gkd-train --describe's), then the compression record, layer by layer.
pub fn describe(dir: &Path) -> Result<String> {
    use std::fmt::Write;
    let card = store::ModelCard::read(dir)?;
    let mut out = card.spec.describe().map_err(|e| Error::in_file(dir.join(store::CARD_FILE), e.0))?;
    if let Some(c) = &card.compression {
        let _ = writeln!(
            out,
            "compressed by {} from {}: {} -> {} stored parameters ({:.2}x)",
            c.method, c.source, c.parameters_before, c.parameters_after, c.ratio
        );
        for layer in &c.layers {
            let _ = writeln!(out, "  {:<24} {:>8} -> {:>8}  {}", layer.name, layer.before, layer.after, layer.detail);
        }
    }
    Ok(out)
}

/// A compression ratio must be a number of at least 1.
pub(crate) fn check_ratio(ratio: f64) -> Result<()> {
    if ratio.is_finite() && ratio >= 1.0 { Ok(()) } else { Err(Error::usage("--ratio must be a number >= 1")) }
}
