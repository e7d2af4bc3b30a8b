//! Finiteness of a network's gradients and weights during training: a step whose gradient holds
//! NaN or an infinity is refused before the optimizer applies it, and no checkpoint or model
//! directory is written from weights that are not finite.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use gkd_io::error::Result;
use gkd_io::weights::{self, NonFinite};

use crate::model::Network;

/// The module path (burn's names) of the first parameter whose gradient in `grads` holds a
/// non-finite element, or `None` when every gradient is finite.
pub fn non_finite_gradient(network: &Network, grads: &GradientsParams) -> Option<String> {
    struct Finder<'a> {
        grads: &'a GradientsParams,
        path: Vec<String>,
        found: Option<String>,
    }
    impl ModuleVisitor for Finder<'_> {
        fn enter_module(&mut self, name: &str, container: &str) {
            // An enum's variant is not part of a parameter's name.
            if !container.starts_with("Enum:") {
                self.path.push(name.to_owned());
            }
        }
        fn exit_module(&mut self, _name: &str, container: &str) {
            if !container.starts_with("Enum:") {
                self.path.pop();
            }
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.found.is_some() {
                return;
            }
            // One reduction per parameter: a NaN or an infinity anywhere makes the sum of
            // magnitudes non-finite.
            if let Some(g) = self.grads.get::<D>(param.id)
                && !g.abs().sum().into_scalar::<f32>().is_finite()
            {
                self.found = Some(self.path.join("."));
            }
        }
    }
    let mut finder = Finder { grads, path: Vec::new(), found: None };
    network.visit(&mut finder);
    finder.found
}

/// The first non-finite weight or BatchNorm statistic of `network`, named as in model.safetensors.
pub fn non_finite_weight(network: &Network) -> Result<Option<NonFinite>> {
    let bytes = crate::store::weights_to_safetensors(network)?;
    Ok(weights::first_non_finite(&weights::parse(&bytes, std::path::Path::new("network"))?))
}
