//! The command line of `gkd-histone`: its arguments and their help.

use clap::Parser;
use gkd_cli::{CommonArgs, StorageArgs, choice};
use gkd_genomics::signal::{CountPoint, Missing, StatisticChoice};
use std::path::PathBuf;

use crate::TOOL;

/// Examples shown after the options in `--help`.
pub const EXAMPLES: &str = "\
Examples:
  # Five bigWig marks around every gene's TSS (±5 kb, 100 bins), labels = expression above the median:
  gkd-histone --genes genes.gtf --mark H3K27me3=k27.bw --mark H3K36me3=k36.bw --mark H3K4me1=k4me1.bw \\
              --mark H3K4me3=k4me3.bw --mark H3K9me3=k9.bw --expression rpkm.tsv \\
              --split train=0.33,valid=0.33,test=0.34 -o data/E003.{split}.npz
  # Read counts per bin from ChIP-seq alignments, also written as DeepChrome CSV:
  gkd-histone --genes genes.bed --mark H3K4me3=chip.bam --min-mapq 10 -o m.npz --deepchrome-csv m.csv
  # DeepChrome's published CSVs as they are:
  gkd-histone --from-deepchrome E003/classification/train.csv -o data/E003.train.npz";

/// Bin histone-mark signal around gene TSSs into an NPZ dataset (genes × marks × bins).
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
pub struct Args {
    /// Genes: BED (name = id, TSS = start on +, end on −) or GTF/GFF3 (gzip ok).
    #[arg(long, value_name = "FILE", required_unless_present = "from_deepchrome", conflicts_with = "from_deepchrome")]
    pub genes: Option<PathBuf>,
    /// GTF/GFF3 feature type (column 3) whose records are genes.
    #[arg(long, default_value = "gene")]
    pub feature: String,
    /// GTF/GFF3 attribute used as gene id [default: gene_id (GTF), ID (GFF3)].
    #[arg(long, value_name = "NAME")]
    pub id_attribute: Option<String>,
    /// A mark as NAME=FILE, FILE a bigWig or a BAM (told from its bytes); repeat, in channel order.
    #[arg(long = "mark", value_name = "NAME=FILE", value_parser = parse_mark)]
    pub marks: Vec<(String, PathBuf)>,
    /// Read a DeepChrome/AttentiveChrome CSV instead of genes and marks.
    #[arg(long, value_name = "CSV")]
    pub from_deepchrome: Option<PathBuf>,
    /// Mark names of the --from-deepchrome columns [default: the five DeepChrome marks].
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub mark_names: Vec<String>,
    /// Bases either side of the TSS.
    #[arg(long, default_value_t = 5000)]
    pub flank: u64,
    /// Bases per bin.
    #[arg(long, default_value_t = 100)]
    pub bin_size: u64,
    /// Statistic per bin.
    #[arg(long, value_parser = choice::<StatisticChoice>(), default_value = "auto")]
    pub stat: StatisticChoice,
    /// What bases without data count as.
    #[arg(long, value_parser = choice::<Missing>(), default_value = "zero")]
    pub missing: Missing,
    /// BAM marks: which point of each alignment is counted.
    #[arg(long, value_parser = choice::<CountPoint>(), default_value = "starts")]
    pub count: CountPoint,
    /// BAM marks: smallest mapping quality kept.
    #[arg(long, default_value_t = 0)]
    pub min_mapq: u8,
    /// BAM marks: skip reads with any of these flag bits (default: unmapped, secondary, QC fail,
    /// duplicate, supplementary).
    #[arg(long, default_value = "0xF04", value_parser = parse_flags)]
    pub exclude_flags: u16,
    /// Fill genes on chromosomes absent from a mark file with the missing value instead of failing.
    #[arg(long)]
    pub allow_missing_chroms: bool,
    /// Expression TSV (header; first column gene id, second the value) for labels.
    #[arg(long, value_name = "TSV")]
    pub expression: Option<PathBuf>,
    /// Expression from an RNA-seq bigWig instead: the mean signal over each gene's body (bases
    /// without data count as 0), for labels.
    #[arg(long, value_name = "BW", conflicts_with = "expression", requires = "genes")]
    pub expression_bigwig: Option<PathBuf>,
    /// Label = expression above this: "median" (DeepChrome) or a number.
    #[arg(long, default_value = "median")]
    pub threshold: String,
    /// Split by a seeded permutation, e.g. train=0.7,valid=0.1,test=0.2.
    #[arg(long, conflicts_with = "split_chroms")]
    pub split: Option<String>,
    /// Split by chromosome, e.g. test=chr1 (repeatable); other genes go to --rest-split.
    #[arg(long, value_name = "NAME=CHR,...")]
    pub split_chroms: Vec<String>,
    /// Split name for genes on chromosomes not named by --split-chroms.
    #[arg(long, default_value = "train")]
    pub rest_split: String,
    /// Seed of the --split permutation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output NPZ (with a split: a template containing {split}); rows TSV and manifest beside it.
    #[arg(short, long, value_name = "NPZ")]
    pub output: PathBuf,
    /// Also write DeepChrome CSV (may contain {split}); counts are written as integers.
    #[arg(long, value_name = "CSV")]
    pub deepchrome_csv: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--mark NAME=FILE`: a mark and its bigWig or BAM file.
pub fn parse_mark(s: &str) -> std::result::Result<(String, PathBuf), String> {
    let (name, file) = s.split_once('=').ok_or_else(|| format!("'{s}': expected NAME=FILE"))?;
    if name.is_empty() || file.is_empty() {
        return Err(format!("'{s}': expected NAME=FILE"));
    }
    Ok((name.to_owned(), PathBuf::from(file)))
}

/// A SAM flag mask, decimal or 0x-hex.
pub fn parse_flags(s: &str) -> std::result::Result<u16, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    v.map_err(|_| format!("'{s}': expected a flag mask such as 0xF04 or 3844"))
}
