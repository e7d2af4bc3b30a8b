//! Attribution methods for gkd models (DESIGN §4.4): gradient maps ([`gradients`]) and in-silico
//! mutagenesis ([`ism`]).

pub mod gradients;
pub mod ism;
