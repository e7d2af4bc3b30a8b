//! The scores of a gkd study (docs/science.md §5), computed for `gkd-score`: predictive AUROC /
//! AUPR of several models side by side ([`predictive`]), motif recovery of attribution maps
//! against a synthetic dataset's ground truth ([`recovery`], Koo & Ploenzke 2021), attribution
//! consistency across models ([`consistency`], DEGU), TF-MoDISco patterns against the embedded
//! motifs ([`motifs`]), model size and speed ([`cost`]), variant-effect rankings against a reference
//! model and the synthetic truth ([`variants`]), adversarial robustness from gkd-attack's
//! sidecars ([`robustness`]), and summaries over seeds with paired
//! tests ([`sweep`]). Each returns the typed rows of a [`gkd_io::scores::ScoreReport`].

pub mod consistency;
pub mod cost;
pub mod motifs;
pub mod predictive;
pub mod recovery;
pub mod robustness;
pub mod sweep;
pub mod variants;
