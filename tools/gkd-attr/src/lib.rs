//! Attribution methods for gkd models (DESIGN §4.4): gradient maps ([`gradients`]) with IG
//! reference inputs ([`baselines`]), and in-silico
//! mutagenesis, naive ([`ism`]) and windowed ([`fast_ism`]), and DeepMotif's temporal output
//! scores ([`temporal`]) and class optimization ([`classopt`]).

pub mod baselines;
pub mod classopt;
pub mod fast_ism;
pub mod gradients;
pub mod ism;
pub mod temporal;
