//! Named sets of training defaults (`gkd-train --recipe`): the architecture's source's, or
//! PyTorch's. RESULTS.md ("Why does the scratch student learn slowly?") compares the two on task 1.

use crate::init::InitScheme;
use crate::layers::DropoutPlacement;
use crate::norm::NormSpec;

crate::setting::setting_enum! {
/// Where the training defaults come from; a flag given explicitly overrides its recipe's value.
pub enum Recipe {
    /// The architecture's source (for the Koo CNNs: Keras initialisation and BatchNorm, kernel
    /// L2 1e-6, Adam ε 1e-7, dropout before each max-pool as tfomics' layers do).
    Source,
    /// PyTorch's defaults: PyTorch initialisation, BatchNorm momentum 0.1 and ε 1e-5 with the
    /// unbiased running variance, no kernel L2, Adam ε 1e-8, dropout after each max-pool (Koo &
    /// Eddy 2019's own script). Patience and the plateau rule stay as given.
    Pytorch,
}
}

/// The settings a recipe decides; `None` leaves the architecture's own.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RecipeSettings {
    /// Weight initialisation.
    pub init: Option<InitScheme>,
    /// Dropout placement in pooled blocks.
    pub dropout_placement: Option<DropoutPlacement>,
    /// BatchNorm settings.
    pub batch_norm: Option<NormSpec>,
    /// L2 penalty on the kernels.
    pub kernel_l2: Option<f64>,
    /// Adam's ε.
    pub adam_epsilon: Option<f64>,
}

impl Recipe {
    /// What the recipe sets.
    pub fn settings(self) -> RecipeSettings {
        match self {
            Recipe::Source => RecipeSettings::default(),
            Recipe::Pytorch => RecipeSettings {
                init: Some(InitScheme::Torch),
                dropout_placement: Some(DropoutPlacement::AfterPool),
                batch_norm: Some(NormSpec::PYTORCH),
                kernel_l2: Some(0.0),
                adam_epsilon: Some(1e-8),
            },
        }
    }
}
