//! The attribution methods, by the names gkd-attribute takes and every attribution sidecar
//! records: one type that the tools reading maps match on instead of strings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An attribution method.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum AttributionMethod {
    /// ∂(target logit)/∂x, signed, every channel at every position.
    Saliency,
    /// Saliency × input.
    Gradxinput,
    /// Integrated gradients from --baseline references (--steps intervals).
    Ig,
    /// DeepLIFT (rescale rule) against one --baseline reference per row [default: zeros]:
    /// hypothetical contributions, with each map's convergence delta.
    Deeplift,
    /// DeepSHAP: DeepLIFT averaged over --baselines references [default: 20 dinucleotide
    /// shuffles]: hypothetical contributions, with the convergence deltas.
    Deepshap,
    /// In-silico mutagenesis, every single-base mutant through the whole model.
    Ism,
    /// In-silico mutagenesis recomputing only the windows a mutation changes (fastISM); runs
    /// naive ISM, with a warning, on models it does not support.
    IsmFast,
    /// DeepMotif temporal output scores: P(target) on every prefix and suffix (recurrent models).
    Temporal,
    /// Class optimization: the input that maximises P(target), as a PWM-like logo.
    Classopt,
    /// AttentiveChrome's bin attention α (marks × bins); mark attention β in `beta`.
    Attention,
    /// GkmExplain on gkm-SVMs (gkd-kmer models): hypothetical importance of every base, summing
    /// over the observed bases to the decision value + ρ.
    Gkmexplain,
}

/// What the maps of a method hold, which decides how they are scored, drawn and exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// Gradients of the target: saliency, grad × input, integrated gradients.
    Gradient,
    /// DeepLIFT / DeepSHAP / GkmExplain (hypothetical) contributions.
    Contribution,
    /// Effects of substitutions: ISM, fast ISM.
    Mutagenesis,
    /// Prefix and suffix output scores (not importances of positions).
    Temporal,
    /// An input made to maximise a class.
    ClassOptimization,
    /// Attention weights over bins (and marks).
    Attention,
}

impl AttributionMethod {
    /// The name on the command line and in sidecars.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// What its maps hold.
    pub fn map_kind(self) -> MapKind {
        match self {
            AttributionMethod::Saliency | AttributionMethod::Gradxinput | AttributionMethod::Ig => MapKind::Gradient,
            AttributionMethod::Deeplift | AttributionMethod::Deepshap | AttributionMethod::Gkmexplain => {
                MapKind::Contribution
            }
            AttributionMethod::Ism | AttributionMethod::IsmFast => MapKind::Mutagenesis,
            AttributionMethod::Temporal => MapKind::Temporal,
            AttributionMethod::Classopt => MapKind::ClassOptimization,
            AttributionMethod::Attention => MapKind::Attention,
        }
    }

    /// Whether the maps score the input's positions (gradients, contributions, mutagenesis):
    /// what motif recovery, bigWig tracks and TF-MoDISco read.
    pub fn scores_positions(self) -> bool {
        matches!(self.map_kind(), MapKind::Gradient | MapKind::Contribution | MapKind::Mutagenesis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn names_round_trip_on_the_command_line_and_in_json() {
        for &m in AttributionMethod::VARIANTS {
            assert_eq!(m.name().parse::<AttributionMethod>().unwrap(), m);
            assert_eq!(serde_json::to_value(m).unwrap(), m.name());
        }
        assert_eq!(AttributionMethod::IsmFast.name(), "ism-fast");
        let positional: Vec<&str> =
            AttributionMethod::VARIANTS.iter().filter(|m| m.scores_positions()).map(|m| m.name()).collect();
        assert_eq!(
            positional,
            ["saliency", "gradxinput", "ig", "deeplift", "deepshap", "ism", "ism-fast", "gkmexplain"]
        );
    }
}
