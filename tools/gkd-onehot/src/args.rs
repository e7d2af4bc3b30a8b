//! The command line of `gkd-onehot`: its arguments and their help.

use clap::Parser;
use gkd_cli::{CommonArgs, StorageArgs, choice};
use gkd_io::manifest::{Layout, TaskKind};
use std::path::PathBuf;

use crate::TOOL;

/// Examples shown after the options in `--help`.
pub const EXAMPLES: &str = "\
Examples:
  # FASTA whose headers end in the label (DeepMotif '>1'), 80/10/10 split:
  gkd-onehot --fasta seqs.fa --header-labels --split train=0.8,valid=0.1,test=0.1 -o data/seqs.{split}.npz
  # 1-kb windows centred on BED peaks, label from BED column 5, chr8 for validation, chr9 for test:
  gkd-onehot --fasta hg38.fa --bed peaks.bed --length 1000 --label-columns 5 \\
             --split-chroms valid=chr8 --split-chroms test=chr9 -o data/peaks.{split}.npz
  # A CSV with a sequence column (PUM2 eCLIP), TRUE/FALSE labels:
  gkd-onehot --table PUM2_train.csv.gz --seq-column seq --label-columns binding_site -o pum2.train.npz";

/// One-hot encode DNA sequences and their labels into NPZ dataset splits.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
pub struct Args {
    /// FASTA of sequences; with --bed, the reference to cut windows from (plain, gzip or BGZF; `-` = stdin).
    #[arg(long, value_name = "FILE", required_unless_present = "table", conflicts_with = "table")]
    pub fasta: Option<PathBuf>,
    /// BED intervals to cut from --fasta (reverse-complemented on '-' strand; uses FASTA.fai when present).
    #[arg(long, value_name = "FILE", requires = "fasta")]
    pub bed: Option<PathBuf>,
    /// CSV or TSV (gzip ok) with one sequence per row.
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// Column of --table holding the sequences.
    #[arg(long, default_value = "seq", value_name = "NAME")]
    pub seq_column: String,
    /// Column of --table holding row ids [default: row1, row2, ...].
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// Labels are the last word of each FASTA header (comma-separated for several classes).
    #[arg(long, requires = "fasta", conflicts_with_all = ["bed", "labels", "label_columns"])]
    pub header_labels: bool,
    /// Label columns: 1-based column numbers of --bed, or column names of --table.
    #[arg(long, value_delimiter = ',', value_name = "COL")]
    pub label_columns: Vec<String>,
    /// TSV keyed by id: first column ids, every other column one class (header = class names).
    #[arg(long, value_name = "FILE", conflicts_with = "label_columns")]
    pub labels: Option<PathBuf>,
    /// Class names for the label columns [default: the header names, or class0, class1, ...].
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub class_names: Vec<String>,
    /// How the labels are read [default: binary/multilabel when all 0/1, else regression].
    #[arg(long, value_parser = choice::<TaskKind>())]
    pub task: Option<TaskKind>,
    /// Fixed length: BED windows of this size centred on each interval; longer sequences are
    /// centre-cropped and shorter ones padded with N.
    #[arg(long, value_name = "L")]
    pub length: Option<usize>,
    /// Value of every channel at N and other IUPAC codes: 0 or 0.25.
    #[arg(long, default_value = "0", value_parser = parse_n_value, value_name = "V")]
    pub n_value: f32,
    /// Axis order of x.
    #[arg(long, value_parser = choice::<Layout>(), default_value = "ncl")]
    pub layout: Layout,
    /// Add the reverse complement of every row right after it (column `rc` = 1 in the rows TSV).
    #[arg(long)]
    pub revcomp_augment: bool,
    /// Split by a seeded permutation, e.g. train=0.7,valid=0.1,test=0.2.
    #[arg(long, value_name = "NAME=FRAC,...", conflicts_with = "split_chroms")]
    pub split: Option<String>,
    /// Split by chromosome, e.g. valid=chr8 (repeatable); other rows go to --rest-split.
    #[arg(long, value_name = "NAME=CHR,...")]
    pub split_chroms: Vec<String>,
    /// Split name for rows on chromosomes not named by --split-chroms.
    #[arg(long, default_value = "train", value_name = "NAME")]
    pub rest_split: String,
    /// Seed of the --split permutation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output NPZ; with a split, a template containing {split} (e.g. data/x.{split}.npz).
    /// The rows TSV (NAME.rows.tsv) and manifest (NAME.json) are written beside it.
    #[arg(short, long, value_name = "NPZ")]
    pub output: PathBuf,
    /// Also write x alone as .npy (what TF-MoDISco reads with -s); may contain {split}.
    #[arg(long, value_name = "NPY")]
    pub x_npy: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--n-value`: what an N becomes in the one-hot matrix (0 or 0.25 in every channel).
pub fn parse_n_value(s: &str) -> std::result::Result<f32, String> {
    match s {
        "0" | "0.0" => Ok(0.0),
        "0.25" => Ok(0.25),
        _ => Err(format!("'{s}': expected 0 or 0.25")),
    }
}
