//! Neural models, losses, training and inference for gkd, on burn 0.22.
//!
//! [`arch`] names the architectures and writes each as its paper's layer plan; [`layers`] holds
//! the building blocks; [`model`] builds networks from a [`model::ModelSpec`]; [`loss`] holds the
//! hard and distillation losses; [`data`] loads dataset splits; [`train`] is the training loop
//! with checkpoints, driving burn or a [`learner`] back end ([`finite`] refuses non-finite gradients and weights in it); [`teacher`] gives a student its teacher's logits; [`predict`] runs batched
//! inference; [`store`] reads and writes model directories; [`device`] picks the back end.

pub mod arch;
pub mod data;
pub mod device;
pub mod factorized;
pub mod finite;
pub mod init;
pub mod layers;
pub mod learner;
pub mod loss;
pub mod model;
pub mod norm;
pub mod path_sgd;
pub mod predict;
pub mod recipe;
mod setting;
pub mod store;
pub mod teacher;
pub mod train;
