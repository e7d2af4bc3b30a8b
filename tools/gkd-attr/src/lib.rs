//! Attribution methods for gkd models (DESIGN §4.4): gradient maps ([`gradients`]) and in-silico
//! mutagenesis, naive ([`ism`]) and windowed ([`fast_ism`]).

pub mod fast_ism;
pub mod gradients;
pub mod ism;
