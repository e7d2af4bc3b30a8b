//! Gapped k-mer support vector machines, the classical baseline of sequence classification
//! (gkm-SVM, Ghandi et al. 2014; LS-GKM, Lee 2016), for `gkd-kmer`:
//!
//! - [`kernel`]: the gapped k-mer kernel between DNA sequences, computed by counting shared
//!   masked l-mers over every set of mismatch positions (GaKCo, Singh et al. 2017), in the
//!   normalised form LS-GKM uses.
//! - [`svm`]: a C-support vector classifier solved by SMO on a precomputed kernel (libsvm's
//!   algorithm).
//! - [`explain`]: GkmExplain's importance of each base to the decision (Shrikumar et al. 2019),
//!   and the hypothetical scores of the other bases, by counting.
//! - [`model`]: a trained gkm-SVM as a model directory (its card and support vectors), and its
//!   decision values on new sequences.

pub mod explain;
pub mod kernel;
pub mod model;
pub mod svm;
