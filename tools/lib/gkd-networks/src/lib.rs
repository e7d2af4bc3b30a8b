//! Sparse Gaussian graphical models by elementary estimators (docs/science.md §9): K related
//! networks (one per condition, e.g. cell type) with what they share — FASJEM, JEEK — their
//! difference (DIFFEE), and the single-task estimator; λ by stability selection. gkd-ggm is its
//! command line.

pub mod covariance;
pub mod data;
pub mod estimators;
pub mod graph;
pub mod run;
pub mod selection;
