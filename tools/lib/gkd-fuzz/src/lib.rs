//! Fuzz entry points: one function per input format the tools read. Each writes the fuzzer's bytes
//! to the file (or files) the reader expects and calls the reader exactly as a tool does. Errors are
//! the expected outcome for most inputs; a panic, a hang or an abort is a defect. The same
//! functions replay the committed corpora in `cargo test` (tests/fuzz_corpora.rs), so every crash
//! found once stays fixed. Targets that read several files take their parts separated by
//! [`PART_SEPARATOR`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gkd_genomics::genes::{AnnotationOptions, Gene};
use gkd_genomics::signal::{Binning, CountPoint, Missing, ReadFilter, StatisticChoice, WindowSpec};
use gkd_io::progress::Silent;
use gkd_io::table::{Strand, TextTable};

/// Separates the files of a multi-file input (dataset split, model directory, attributions).
pub const PART_SEPARATOR: &[u8] = b"\n--gkd-fuzz-part--\n";

/// A fuzz entry point: the input's bytes in, whether the reader accepted them out.
pub type Target = fn(&[u8]) -> bool;

/// Every target by name, as cargo-fuzz and the corpus replay know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("fasta", fasta),
    ("indexed_fasta", indexed_fasta),
    ("bed", bed),
    ("genes_gtf", genes_gtf),
    ("genes_gff3", genes_gff3),
    ("motifs", motifs),
    ("deepchrome_csv", deepchrome_csv),
    ("sequence_table", sequence_table),
    ("labels_tsv", labels_tsv),
    ("bigwig", bigwig),
    ("bam", bam),
    ("dataset", dataset),
    ("model_dir", model_dir),
    ("attributions", attributions),
    ("predictions_tsv", predictions_tsv),
];

/// A scratch directory for this process (fuzzers run one input at a time per process).
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::Builder::new().prefix("gkd-fuzz-").tempdir().expect("a scratch directory")).path()
}

/// Write `bytes` to `name` in the scratch directory.
fn put(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("scratch file is writable");
    path
}

/// The parts of a multi-file input; missing parts are empty.
fn parts<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for part in out.iter_mut().take(N - 1) {
        match rest.windows(PART_SEPARATOR.len()).position(|w| w == PART_SEPARATOR) {
            Some(at) => {
                *part = &rest[..at];
                rest = &rest[at + PART_SEPARATOR.len()..];
            }
            None => {
                *part = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out[N - 1] = rest;
    out
}

/// FASTA (plain, gzip or BGZF: the reader tells them apart by their first bytes).
pub fn fasta(data: &[u8]) -> bool {
    gkd_genomics::fasta::read_all(&put("in.fa", data), true).is_ok()
}

/// A FASTA read by region (gkd-scan): the FASTA, then optionally its `.fai` (else the index is
/// built in memory). Every sequence is read whole and by its second half, as a scan's chunks are.
pub fn indexed_fasta(data: &[u8]) -> bool {
    let [fa, fai] = parts::<2>(data);
    let path = put("indexed.fa", fa);
    let index = scratch().join("indexed.fa.fai");
    if fai.is_empty() {
        let _ = std::fs::remove_file(&index);
    } else {
        std::fs::write(&index, fai).expect("scratch file is writable");
    }
    let Ok(mut reader) = gkd_genomics::fasta::IndexedFasta::open(&path) else { return false };
    let sizes = reader.sizes().to_vec();
    sizes.iter().filter(|(_, n)| *n > 0).all(|(chrom, n)| {
        reader.fetch(chrom, 0, *n).is_ok_and(|s| s.len() as u64 == *n) && reader.fetch(chrom, n / 2, *n).is_ok()
    })
}

/// BED intervals.
pub fn bed(data: &[u8]) -> bool {
    gkd_genomics::bed::read_bed(&put("in.bed", data)).is_ok()
}

/// gkd-histone's default gene records.
fn gene_records() -> AnnotationOptions {
    AnnotationOptions { feature: "gene".to_owned(), id_attribute: None }
}

/// GTF genes (or BED: the reader tells them apart by their lines).
pub fn genes_gtf(data: &[u8]) -> bool {
    gkd_genomics::genes::read_genes(&put("in.gtf", data), &gene_records()).is_ok()
}

/// GFF3 genes.
pub fn genes_gff3(data: &[u8]) -> bool {
    gkd_genomics::genes::read_genes(&put("in.gff3", data), &gene_records()).is_ok()
}

/// JASPAR or MEME motifs (the reader tells them apart by content).
pub fn motifs(data: &[u8]) -> bool {
    gkd_genomics::motif::read_motifs(&put("in.motifs", data)).is_ok()
}

/// DeepChrome's CSV (gene id, bin, marks, label).
pub fn deepchrome_csv(data: &[u8]) -> bool {
    gkd_genomics::deepchrome::read(&put("in.csv", data)).is_ok()
}

/// A sequence table (CSV) with a `seq` column, as gkd-onehot --table reads it.
pub fn sequence_table(data: &[u8]) -> bool {
    TextTable::read(&put("in.table.csv", data), None)
        .is_ok_and(|table| gkd_genomics::sequences::load_table(&table, "seq", None).is_ok())
}

/// A labels TSV (id, then one column per class) for three known sequences.
pub fn labels_tsv(data: &[u8]) -> bool {
    let fasta = put("labelled.fa", b">s1\nACGT\n>s2\nGGCC\n>s3\nTTAA\n");
    let set = gkd_genomics::sequences::load_fasta(&fasta, false).expect("a fixed FASTA");
    gkd_genomics::sequences::labels_by_id(&put("labels.tsv", data), &set).is_ok()
}

/// Genes on the chromosomes of the seed tracks (dm3 chr2L, hg-style chr1) to bin a track around.
fn genes() -> Vec<Gene> {
    [("chr2L", 6_000u64), ("chr2L", 21_000), ("chr2L", 1_500_000), ("chr1", 10_000), ("2L", 8_000)]
        .into_iter()
        .enumerate()
        .map(|(i, (chrom, tss))| Gene {
            id: format!("g{i}"),
            chrom: chrom.to_owned(),
            tss,
            start: tss,
            end: tss + 2_000,
            strand: if i % 2 == 0 { Strand::Forward } else { Strand::Reverse },
            line: i as u64 + 1,
        })
        .collect()
}

fn bin_track(name: &str, data: &[u8]) -> bool {
    let binning = Binning {
        spec: WindowSpec { flank: 5_000, bin_size: 100 },
        stat: StatisticChoice::Auto,
        missing: Missing::Nan,
        point: CountPoint::FragmentCentre,
        filter: ReadFilter { min_mapq: 0, exclude_flags: 0 },
    };
    let path = put(name, data);
    let genes = genes();
    let binned = gkd_genomics::signal::bin_mark(&path, "mark", &genes, &binning, &Silent).is_ok();
    let means = gkd_genomics::signal::gene_body_means(&path, &genes).is_ok();
    binned && (means || name.ends_with(".bam"))
}

/// A bigWig track (through gkd's reader on bigtools).
pub fn bigwig(data: &[u8]) -> bool {
    bin_track("in.bw", data)
}

/// A BAM (noodles), counted around genes.
pub fn bam(data: &[u8]) -> bool {
    bin_track("in.bam", data)
}

/// A dataset split: NPZ, manifest JSON and rows TSV.
pub fn dataset(data: &[u8]) -> bool {
    let [npz, manifest, rows] = parts::<3>(data);
    put("d.json", manifest);
    put("d.rows.tsv", rows);
    let Ok(split) = gkd_io::dataset::Dataset::load(&put("d.npz", npz)) else { return false };
    // Inputs are read by rows, as predict and attribute read them, then all at once.
    let n = split.len();
    let rows_read = split.read_x(n / 2..n).is_ok() && split.gather_x(&[n.saturating_sub(1), 0][..n.min(2)]).is_ok();
    // Only gkd-synth's splits carry a ground truth.
    let truth = split.read_truth().is_ok() || !split.manifest.tool.contains("synth");
    rows_read && truth && split.into_resident().is_ok()
}

/// A model directory: model.json and model.safetensors.
pub fn model_dir(data: &[u8]) -> bool {
    model_dir_error(data).is_none()
}

/// Why the model directory of `data` (model.json and model.safetensors) is refused, or `None`
/// when it loads.
pub fn model_dir_error(data: &[u8]) -> Option<String> {
    let [card, weights] = parts::<2>(data);
    let dir = scratch().join("model");
    std::fs::create_dir_all(&dir).expect("scratch model directory");
    std::fs::write(dir.join(gkd_nn::store::CARD_FILE), card).expect("scratch file is writable");
    std::fs::write(dir.join(gkd_nn::store::WEIGHTS_FILE), weights).expect("scratch file is writable");
    gkd_nn::store::load_model(&dir, &gkd_nn::device::DeviceChoice::Cpu.device().expect("the CPU"))
        .err()
        .map(|e| e.to_string())
}

/// Attribution maps: NPZ, JSON sidecar and rows TSV.
pub fn attributions(data: &[u8]) -> bool {
    let [npz, sidecar, rows] = parts::<3>(data);
    put("a.json", sidecar);
    put("a.rows.tsv", rows);
    gkd_io::attributions::Attributions::read(&put("a.npz", npz)).is_ok()
}

/// A predictions long TSV (id, class, logit, probability).
pub fn predictions_tsv(data: &[u8]) -> bool {
    gkd_io::predictions::read(&put("p.tsv", data)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_on_the_separator_and_pad_with_empty_parts() {
        let joined = [b"one".as_slice(), PART_SEPARATOR, b"two"].concat();
        assert_eq!(parts::<3>(&joined), [b"one".as_slice(), b"two", b""]);
        assert_eq!(parts::<2>(b"only"), [b"only".as_slice(), b""]);
    }
}
