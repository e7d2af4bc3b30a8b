//! The command line of gkd-variant.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use gkd_cli::{CommonArgs, MergeArgs, choice};
use gkd_engine::EngineChoice;
use gkd_explain::variant::RefMismatch;
use gkd_io::scan_manifest::ShardOf;

const EXAMPLES: &str = "\
Examples:
  # A teacher and two students on a VCF (plain or bgzip) against its reference genome:
  gkd-variant --model teacher=models/teacher --model models/scratch --model models/distilled \\
              --vcf variants.vcf.gz --fasta genome.fa -o effects/study
  #   -> effects/study.tsv (one row per variant x model x class), effects/study.vcf (INFO
  #      GKD_<model>_<class> = alt - ref logit per ALT allele), effects/study.json (sidecar)
  # An ensemble (the mean of three models' logits), both strands, skipping REF mismatches, and
  # the ISM effect of every base within 10 bp of each variant:
  gkd-variant --ensemble teachers=models/t1,models/t2,models/t3 --vcf v.vcf --fasta genome.fa \\
              --both-strands --ref-mismatch skip --ism-flank 10 -o effects/ensemble
  # Scatter/gather: four shards (records 1, 5, 9, ... in shard 1), then one merge:
  for i in 1 2 3 4; do gkd-variant --model models/teacher --vcf v.vcf --fasta genome.fa --shard $i/4 -o parts/s$i; done
  gkd-variant merge -o effects/all parts/s1 parts/s2 parts/s3 parts/s4

Windows are the model's input length with the variant's first REF base at offset L/2; an indel
keeps the left flank and takes or drops bases at the right end (tangermeme's convention,
docs/science.md). gkd-score variants compares the models' rankings.";

/// Score the variants of a VCF with trained sequence models: reference against alternative.
#[derive(Debug, Parser)]
#[command(name = "gkd-variant", version, about, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A model directory to score with, as NAME=DIR or DIR (named by its directory); repeat.
    #[arg(long = "model", value_name = "[NAME=]DIR")]
    pub models: Vec<String>,
    /// An ensemble scored as one model (the mean of its members' logits), as NAME=DIR,DIR[,...];
    /// repeat.
    #[arg(long = "ensemble", value_name = "NAME=DIR,DIR,...")]
    pub ensembles: Vec<String>,
    /// VCF of the variants (plain, gzip or bgzip); multi-allelic records are split.
    #[arg(long, value_name = "VCF", required = true)]
    pub vcf: Option<PathBuf>,
    /// Reference FASTA the VCF was called against (plain, or bgzip with .fai and .gzi).
    #[arg(long, value_name = "FASTA", required = true)]
    pub fasta: Option<PathBuf>,
    /// What a REF allele that is not the FASTA's bases does.
    #[arg(long, value_parser = choice::<RefMismatch>(), default_value = "error")]
    pub ref_mismatch: RefMismatch,
    /// A class to score, by name or index; repeat [default: every class of each model].
    #[arg(long = "class", value_name = "CLASS")]
    pub classes: Vec<String>,
    /// Average each window's logits with its reverse complement's.
    #[arg(long)]
    pub both_strands: bool,
    /// Also write PREFIX.ism.tsv: the ISM effect (mutant − reference logit) of every base at the
    /// positions within W bases of each variant, on its reference window.
    #[arg(long, value_name = "W")]
    pub ism_flank: Option<usize>,
    /// One-hot value of N; use the value the model's data was made with (gkd-onehot --n-value).
    #[arg(long, default_value_t = 0.0, value_name = "V")]
    pub n_value: f32,
    /// VCF records per chunk: memory holds one chunk's windows, whatever the VCF's size.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub records_per_chunk: usize,
    /// Rows per forward pass (models burn runs).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Score only shard I of N (records I, I + N, I + 2N, ...); `gkd-variant merge` joins the
    /// shards' outputs into those of one whole run.
    #[arg(long, value_name = "I/N", value_parser = gkd_cli::parse_shard)]
    pub shard: Option<ShardOf>,
    /// What runs convolutional models on the CPU: gkd's engine (auto) or burn.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    pub engine: EngineChoice,
    /// Output prefix: PREFIX.tsv, PREFIX.vcf, PREFIX.json (and PREFIX.ism.tsv).
    #[arg(short, long, value_name = "PREFIX", required = true)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Join the outputs of a sharded run (`--shard I/N`, every shard once) into one run's outputs.
    Merge(MergeArgs),
}
