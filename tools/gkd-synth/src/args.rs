//! The command line of `gkd-synth`: its arguments and their help.

use clap::{Args as ClapArgs, Parser, Subcommand};
use gkd_cli::{CommonArgs, StorageArgs};
use gkd_genomics::synth::KOO_COUNT_PROBS;
use std::path::PathBuf;

use crate::TOOL;

/// Examples shown after the options in `--help`.
pub const EXAMPLES: &str = "\
Examples:
  # Task 1: 30,000 sequences, 12 JASPAR 2016 TFs as multi-label classes, 70/10/20 split:
  gkd-synth task1 --motifs koo_eddy_12tf_jaspar2016.jaspar -o data/task1.{split}.npz
  # Task 3: SP1, Gabpa, CEBPB, MAX, YY1 positives vs. 50 JASPAR decoys:
  gkd-synth task3 --motifs koo_eddy_12tf_jaspar2016.jaspar \\
            --decoys core_vertebrates_nonredundant_jaspar2016.meme -o data/task3.{split}.npz
  # Histone marks: real Roadmap profiles resampled; promoter H3K4me3 activates, gene-body
  # H3K27me3 represses; truth = those cells:
  gkd-synth histone --background train.csv --background valid.csv \\
            --rule H3K4me3:40-60:+,H3K27me3:60-100:- -o data/histone.{split}.npz
  # Variants with known effect on a task-1 test split: its rows as contigs of v.fa (+ .fai),
  # one motif-breaking SNV per site and one background SNV per motif SNV in v.vcf, v.truth.tsv:
  gkd-synth variants --data data/task1.test.npz -o v";

/// Synthetic motif benchmarks with ground truth.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub task: Task,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum Task {
    /// Multi-label: each sequence carries 1–5 motifs of the given TFs; labels = TFs present.
    Task1 {
        #[command(flatten)]
        recipe: RecipeArgs,
        /// Number of sequences.
        #[arg(long, default_value_t = 30_000)]
        n: usize,
        /// Smallest number of motifs per sequence.
        #[arg(long, default_value_t = 1)]
        min_motifs: usize,
    },
    /// Binary: positives carry 3–7 motifs of the positive TFs; negatives draw from those plus decoys.
    Task3 {
        #[command(flatten)]
        recipe: RecipeArgs,
        /// Motif names or ids (from --motifs) that make a sequence positive.
        #[arg(long, value_delimiter = ',', default_value = "SP1,Gabpa,CEBPB,MAX,YY1")]
        positive_tfs: Vec<String>,
        /// Motif file to draw decoys from (JASPAR or MEME); motifs named like a positive TF are skipped.
        #[arg(long, value_name = "FILE")]
        decoys: PathBuf,
        /// Number of decoy motifs drawn (seeded) from --decoys.
        #[arg(long, default_value_t = 50)]
        n_decoys: usize,
        /// Number of positive sequences.
        #[arg(long, default_value_t = 10_000)]
        n_positive: usize,
        /// Number of negative sequences.
        #[arg(long, default_value_t = 10_000)]
        n_negative: usize,
        /// Smallest number of motifs per sequence.
        #[arg(long, default_value_t = 3)]
        min_motifs: usize,
    },
    /// Histone marks: genes × marks × bins resampled from real profiles; the label follows a rule
    /// over chosen marks and bins, recorded as a `truth` array (marks × bins per gene).
    Histone(HistoneArgs),
    /// Variants with known effect on a synthetic split: its rows as a reference genome (one
    /// contig per row between random flanks, PREFIX.fa + .fai), one motif-breaking SNV per
    /// embedded site (its most informative position, to the motif's least likely base) and
    /// background SNVs away from every site (PREFIX.vcf), and which is which (PREFIX.truth.tsv).
    Variants(VariantsArgs),
}

/// Variants written into a synthetic split (docs/science.md §5b).
#[derive(Debug, ClapArgs)]
pub struct VariantsArgs {
    /// A gkd-synth split (task1 or task3 NPZ, with its `truth` array).
    #[arg(long, value_name = "NPZ")]
    pub data: PathBuf,
    /// Its sites table [default: NAME.sites.tsv beside the NPZ].
    #[arg(long, value_name = "TSV")]
    pub sites: Option<PathBuf>,
    /// Only the first N rows.
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,
    /// Background variants per motif-breaking variant of a row.
    #[arg(long, default_value_t = 1)]
    pub background_per_site: usize,
    /// Smallest distance in bases between a background variant and any site.
    #[arg(long, default_value_t = 5)]
    pub min_distance: usize,
    /// Random bases either side of each row's contig, so that a model's window centred on any
    /// variant lies inside the contig [default: half the row length].
    #[arg(long, value_name = "BASES")]
    pub flank: Option<usize>,
    /// Probabilities of A, C, G, T in the flanks.
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.25, 0.25, 0.25, 0.25])]
    pub background: Vec<f64>,
    /// Seed of the background variants and the flanks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output prefix: PREFIX.fa, PREFIX.fa.fai, PREFIX.vcf, PREFIX.truth.tsv.
    #[arg(short, long, value_name = "PREFIX")]
    pub output: PathBuf,
}

/// Synthetic histone-mark data (docs/science.md §1).
#[derive(Debug, ClapArgs)]
pub struct HistoneArgs {
    /// DeepChrome CSV whose genes' mark profiles are resampled as background (real signal);
    /// repeat to pool several.
    #[arg(long = "background", value_name = "CSV", required = true)]
    pub backgrounds: Vec<PathBuf>,
    /// Mark names, in column order [default: DeepChrome's five for five marks, else mark1..].
    #[arg(long, value_delimiter = ',')]
    pub marks: Vec<String>,
    /// The label rule: MARK:START-END:+ (activating) or :- (repressing) terms, comma-separated;
    /// bins 0-based, END exclusive.
    #[arg(long, default_value = "H3K4me3:40-60:+,H3K27me3:60-100:-")]
    pub rule: String,
    /// Number of genes.
    #[arg(long, default_value_t = 10_000)]
    pub n: usize,
    /// Probability that a gene's label is flipped.
    #[arg(long, default_value_t = 0.0)]
    pub label_noise: f64,
    #[command(flatten)]
    pub out: SplitArgs,
}

/// How the splits are made and written (every gkd-synth task).
#[derive(Debug, ClapArgs)]
pub struct SplitArgs {
    /// Split fractions over a seeded permutation.
    #[arg(long, default_value = "train=0.7,valid=0.1,test=0.2")]
    pub split: String,
    /// Seed for everything random.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output NPZ template containing {split}; rows TSV and manifest (and, for motif tasks, the
    /// sites TSV) go beside it.
    #[arg(short, long, value_name = "NPZ")]
    pub output: PathBuf,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, ClapArgs)]
pub struct RecipeArgs {
    /// Motif file (JASPAR or MEME); for task 1 every motif is a class, in file order.
    #[arg(long, value_name = "FILE")]
    pub motifs: PathBuf,
    /// Sequence length.
    #[arg(long, default_value_t = 200)]
    pub length: usize,
    /// P(number of motifs = min, min+1, ...).
    #[arg(long, value_delimiter = ',', default_values_t = KOO_COUNT_PROBS.to_vec())]
    pub count_probs: Vec<f64>,
    /// Background probabilities of A, C, G, T.
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.25, 0.25, 0.25, 0.25])]
    pub background: Vec<f64>,
    #[command(flatten)]
    pub out: SplitArgs,
}
