//! Genomics parsing and sequence data for gkd.
//!
//! - [`onehot`]: the DNA alphabet, IUPAC handling and one-hot encoding into (N, 4, L) tensors.
//! - [`fasta`]: FASTA records (plain, gzip, BGZF) with checked headers and ids.
//! - [`chroms`]: chromosome name matching across naming styles.
//! - [`bed`]: BED intervals, chromosome aliases, and cutting fixed-length windows from a FASTA.
//! - [`motif`]: JASPAR and MEME motif files as position probability matrices.
//! - [`synth`]: the Koo & Eddy / Koo & Ploenzke synthetic motif benchmarks with ground truth.
//! - [`histone_synth`]: synthetic histone-mark data whose label follows a rule over marks and bins.
//! - [`sequences`]: sequence sets with row identities from FASTA, BED or tables, and their labels.
//! - [`genes`], [`signal`], [`deepchrome`], [`expression`]: TSS windows, bigWig/BAM binning, DeepChrome CSV
//!   and expression labels for histone data.
//! - [`split`]: seeded and by-chromosome train/valid/test splits.
//! - [`shuffle`]: dinucleotide shuffles (attribution baselines).
//! - [`track`]: per-base score tracks written as bigWig.
//! - [`vcf`]: variants from a VCF (multi-allelic records split) and their reference and alternative
//!   windows for a model, REF checked against the FASTA.
//! - [`variant_synth`]: motif-breaking and background variants written into synthetic rows, with
//!   their truth.
//! - [`synth_tasks`]: task 1 and task 3 built from the synthetic draws, with labels and site tables.
//! - [`rng`]: the seeded random stream everything above draws from.

pub mod bed;
pub mod chroms;
pub mod deepchrome;
pub mod expression;
pub mod fasta;
pub mod genes;
pub mod histone_synth;
pub mod motif;
pub mod onehot;
pub mod region_ids;
pub mod rng;
pub mod sequences;
pub mod shuffle;
pub mod signal;
pub mod split;
pub mod synth;
pub mod synth_tasks;
pub mod track;
pub mod variant_synth;
pub mod vcf;
