//! Adversarial robustness of sequence models (gkd-attack, docs/science.md §8): attacks that turn
//! one-hot DNA rows into adversarial rows under a budget of base substitutions ([`attack`]), the
//! objective they push ([`objective`]), the run that writes the adversarial splits, table and
//! sidecar ([`run`]), and a feature-squeezing detector ([`detect`]).

pub mod attack;
pub mod detect;
pub mod objective;
pub mod run;
