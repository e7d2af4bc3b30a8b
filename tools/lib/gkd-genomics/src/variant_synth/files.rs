//! The files of `gkd-synth variants`: a synthetic split's rows as a reference genome (one contig
//! per row, between random background flanks) and a VCF of motif-breaking and background SNVs on
//! it, with the truth of which is which (docs/science.md §5b, docs/data-contracts.md).

use std::collections::HashMap;
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::num::NonZero;
use std::path::{Path, PathBuf};

use super::{PlannedVariant, SiteSpan, VariantPlan};
use crate::rng::SeededRng;
use gkd_io::atomic::{AtomicFile, commit_all};
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::{self, DatasetKind, DatasetManifest};
use ndarray::s;
use noodles::core::Position;
use noodles::fasta;
use noodles::vcf::{
    self,
    header::record::value::{
        Map,
        map::{Contig, Info},
    },
    variant::io::Write as _,
    variant::record_buf::info::field::Value,
};

/// What `gkd-synth variants` writes, from which split.
#[derive(Debug, Clone)]
pub struct VariantSynthRequest {
    /// A gkd-synth split (NPZ with its `truth` array).
    pub data: PathBuf,
    /// Its sites table (default: NAME.sites.tsv beside the NPZ).
    pub sites: Option<PathBuf>,
    /// Only the first N rows.
    pub rows: Option<usize>,
    /// Background variants per motif variant, and their distance from the sites.
    pub plan: VariantPlan,
    /// Random bases either side of each contig (default: half the row length).
    pub flank: Option<usize>,
    /// Probabilities of A, C, G, T in the flanks.
    pub background: Vec<f64>,
    /// Seed of the background variants and the flanks.
    pub seed: u64,
    /// Output prefix: PREFIX.fa, PREFIX.fa.fai, PREFIX.vcf, PREFIX.truth.tsv.
    pub output: PathBuf,
    /// The tool named in the VCF's `##source`.
    pub tool: String,
}

/// Rows read from the split at a time.
const CHUNK: usize = 1024;
/// FASTA line width.
const LINE_BASES: usize = 60;

/// The class of the dataset a site's motif stands for: its own class where the dataset has it
/// (task 1: a class per motif), else the dataset's one class where the motif is one of the
/// positive motifs the manifest lists (task 3), else none (a decoy).
fn dataset_class(manifest: &DatasetManifest, class: &str, motif_id: &str) -> Option<String> {
    if manifest.classes.iter().any(|c| c == class) {
        return Some(class.to_owned());
    }
    let positives = manifest.parameters.get("positive_motifs")?.as_array()?;
    let positive = positives.iter().filter_map(|p| p.as_str()).any(|p| p.split_whitespace().next() == Some(motif_id));
    (positive && manifest.classes.len() == 1).then(|| manifest.classes[0].clone())
}

/// The sites table of a split, by row id; each site's class is the dataset class its motif stands
/// for (`None` for decoys).
fn read_sites(path: &Path, manifest: &DatasetManifest) -> Result<HashMap<String, Vec<SiteSpan>>> {
    let mut sites: HashMap<String, Vec<SiteSpan>> = HashMap::new();
    for row in gkd_io::sites::read_sites(path)? {
        let (Some(motif_id), Some(motif)) = (row.motif_id, row.motif_name) else {
            return Err(Error::at_line(
                path,
                row.line,
                "empty motif_id or motif_name (gkd-synth's sites table has both)",
            ));
        };
        let class = dataset_class(manifest, &row.class, &motif_id);
        sites.entry(row.id).or_default().push(SiteSpan { start: row.start, end: row.end, motif, class });
    }
    Ok(sites)
}

/// Background bases drawn with the given A, C, G, T probabilities.
fn flank(rng: &mut SeededRng, n: usize, background: &[f64]) -> Vec<u8> {
    (0..n).map(|_| b"ACGT"[rng.categorical(background)]).collect()
}

/// One variant as written: its contig, 1-based position and truth.
struct Written {
    chrom: String,
    pos: usize,
    variant: PlannedVariant,
    site: Option<SiteSpan>,
}

impl Written {
    fn id(&self) -> String {
        format!("{}:{}", self.chrom, self.pos)
    }

    /// `motif`, `decoy` (a motif that stands for no class of the dataset) or `background`.
    fn kind(&self) -> &'static str {
        match &self.site {
            Some(SiteSpan { class: None, .. }) => "decoy",
            _ => self.variant.kind.as_str(),
        }
    }
}

fn vcf_header(contigs: &[(String, usize)], tool: &str) -> vcf::Header {
    use vcf::header::record::value::map::info::{Number, Type};
    let mut builder = vcf::Header::builder()
        .set_file_format(vcf::header::FileFormat::new(4, 2))
        .add_info(
            "KIND",
            Map::<Info>::new(
                Number::Count(1),
                Type::String,
                "motif: breaks an embedded site of a class's motif; decoy: of a decoy motif; background: outside every site",
            ),
        )
        .add_info("CLASS", Map::<Info>::new(Number::Count(1), Type::String, "Class of the broken site's motif"))
        .add_info("MOTIF", Map::<Info>::new(Number::Count(1), Type::String, "Name of the broken site's motif"))
        .add_info(
            "IC",
            Map::<Info>::new(Number::Count(1), Type::Float, "Information content (bits) of the generating column"),
        );
    for (name, length) in contigs {
        let mut contig = Map::<Contig>::new();
        *contig.length_mut() = Some(*length);
        builder = builder.add_contig(name.as_str(), contig);
    }
    builder
        .insert("source".parse().expect("a header key"), vcf::header::record::Value::from(tool))
        .expect("a string")
        .build()
}

fn vcf_record(w: &Written) -> vcf::variant::RecordBuf {
    let mut info: Vec<(String, Option<Value>)> = vec![
        ("KIND".into(), Some(Value::String(w.kind().into()))),
        ("IC".into(), Some(Value::Float(w.variant.information as f32))),
    ];
    if let Some(site) = &w.site {
        if let Some(class) = &site.class {
            info.push(("CLASS".into(), Some(Value::String(class.clone()))));
        }
        info.push(("MOTIF".into(), Some(Value::String(site.motif.clone()))));
    }
    vcf::variant::RecordBuf::builder()
        .set_reference_sequence_name(w.chrom.as_str())
        .set_variant_start(Position::try_from(w.pos).expect("1-based"))
        .set_ids([w.id()].into_iter().collect())
        .set_reference_bases(char::from(w.variant.reference).to_string())
        .set_alternate_bases(vec![char::from(w.variant.alternative).to_string()].into())
        .set_info(info.into_iter().collect())
        .build()
}

/// Column names of the truth table.
const TRUTH_HEADER: &str = "id\tchrom\tpos\tref\talt\tkind\tclass\tmotif\tsite_start\tsite_end\tinformation";

fn truth_line(w: &Written) -> String {
    let (class, motif, start, end) = match &w.site {
        Some(s) => (s.class.as_deref().unwrap_or(""), s.motif.as_str(), s.start.to_string(), s.end.to_string()),
        None => ("", "", String::new(), String::new()),
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{class}\t{motif}\t{start}\t{end}\t{:.6}",
        w.id(),
        w.chrom,
        w.pos,
        char::from(w.variant.reference),
        char::from(w.variant.alternative),
        w.kind(),
        w.variant.information
    )
}

/// The output files of a prefix.
fn outputs(prefix: &Path) -> [PathBuf; 4] {
    [".fa", ".fa.fai", ".vcf", ".truth.tsv"].map(|suffix| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    })
}

/// The .fai of a FASTA just written (read back from its temporary file by noodles' indexer).
fn index_fasta(file: &mut AtomicFile) -> Result<fasta::fai::Index> {
    let path = file.path().to_path_buf();
    let cannot = |e: std::io::Error| Error::in_file(&path, format!("cannot be indexed: {e}"));
    let handle = file.file();
    handle.seek(SeekFrom::Start(0)).map_err(cannot)?;
    let mut indexer = fasta::io::Indexer::new(BufReader::new(handle));
    let mut records = Vec::new();
    while let Some(record) = indexer.index_record().map_err(|e| cannot(std::io::Error::other(e)))? {
        records.push(record);
    }
    Ok(fasta::fai::Index::from(records))
}

/// Write the variants of `args` (every output committed together, or none).
pub fn write_variants(args: &VariantSynthRequest) -> Result<()> {
    let data = Dataset::load(&args.data)?;
    if data.kind() != DatasetKind::Sequence || data.channels() != 4 {
        return Err(Error::in_file(&args.data, "is not one-hot DNA (4 channels); variants need sequence data"));
    }
    if !data.has_truth() {
        return Err(Error::in_file(&args.data, "has no 'truth' array: variants need a gkd-synth task1 or task3 split"));
    }
    let sites_path = args.sites.clone().unwrap_or_else(|| manifest::sibling_with_suffix(&args.data, ".sites.tsv"));
    let sites = read_sites(&sites_path, &data.manifest)?;
    let background: Vec<f64> = args.background.clone();
    if background.len() != 4
        || background.iter().any(|p| !(p.is_finite() && *p >= 0.0))
        || background.iter().sum::<f64>() <= 0.0
    {
        return Err(Error::usage("--background needs 4 non-negative probabilities (A,C,G,T)"));
    }
    let length = data.length();
    let flank_len = args.flank.unwrap_or(length / 2);
    let rows = args.rows.map_or(data.len(), |n| n.min(data.len()));
    let plan = args.plan;
    let mut rng = SeededRng::new(args.seed, 0);

    let [fa_path, fai_path, vcf_path, truth_path] = outputs(&args.output);
    let mut fa_file = AtomicFile::create(&fa_path)?;
    let mut written: Vec<Written> = Vec::new();
    let mut contigs: Vec<(String, usize)> = Vec::with_capacity(rows);
    {
        let mut fasta_writer = fasta::io::writer::Builder::default()
            .set_line_base_count(NonZero::new(LINE_BASES).expect("positive"))
            .build_from_writer(fa_file.buffered());
        for start in (0..rows).step_by(CHUNK) {
            let end = (start + CHUNK).min(rows);
            let x = data.read_x(start..end)?;
            let truth = data.gather_truth(&(start..end).collect::<Vec<_>>())?;
            for r in 0..end - start {
                let id = &data.ids[start + r];
                let bases = super::decode_bases(x.slice(s![r, .., ..]));
                let row_sites = sites.get(id).map(Vec::as_slice).unwrap_or(&[]);
                if let Some(bad) = row_sites.iter().find(|s| s.end > length) {
                    return Err(Error::in_file(
                        &sites_path,
                        format!("site {}-{} of row '{id}' runs past the row's {length} bases", bad.start, bad.end),
                    ));
                }
                let planned = super::plan_row(&bases, truth.slice(s![r, .., ..]), row_sites, plan, &mut rng);
                let mut contig = flank(&mut rng, flank_len, &background);
                contig.extend_from_slice(&bases);
                contig.extend(flank(&mut rng, flank_len, &background));
                let record = fasta::Record::new(
                    fasta::record::Definition::new(id.as_str(), None),
                    fasta::record::Sequence::from(contig.clone()),
                );
                fasta_writer.write_record(&record).with_path(&fa_path)?;
                contigs.push((id.clone(), contig.len()));
                written.extend(planned.into_iter().map(|v| Written {
                    chrom: id.clone(),
                    pos: flank_len + v.offset + 1,
                    // Site coordinates in the contig's, like the variant's.
                    site: v.site.map(|i| SiteSpan {
                        start: flank_len + row_sites[i].start,
                        end: flank_len + row_sites[i].end,
                        ..row_sites[i].clone()
                    }),
                    variant: v,
                }));
            }
        }
        fasta_writer.get_mut().flush().with_path(&fa_path)?;
    }
    let index = index_fasta(&mut fa_file)?;
    let mut fai_file = AtomicFile::create(&fai_path)?;
    fasta::fai::io::Writer::new(fai_file.buffered()).write_index(&index).with_path(&fai_path)?;

    let header = vcf_header(&contigs, &args.tool);
    let mut vcf_file = AtomicFile::create(&vcf_path)?;
    {
        let mut writer = vcf::io::Writer::new(vcf_file.buffered());
        writer.write_header(&header).with_path(&vcf_path)?;
        for w in &written {
            writer.write_variant_record(&header, &vcf_record(w)).with_path(&vcf_path)?;
        }
        writer.get_mut().flush().with_path(&vcf_path)?;
    }
    let mut truth_file = AtomicFile::create(&truth_path)?;
    {
        let mut out = truth_file.buffered();
        writeln!(out, "{TRUTH_HEADER}").with_path(&truth_path)?;
        for w in &written {
            writeln!(out, "{}", truth_line(w)).with_path(&truth_path)?;
        }
        out.flush().with_path(&truth_path)?;
    }
    let count = |kind: &str| written.iter().filter(|w| w.kind() == kind).count();
    log::info!(
        "{rows} rows → {} variants ({} motif-breaking, {} decoy-breaking, {} background) → {}",
        written.len(),
        count("motif"),
        count("decoy"),
        count("background"),
        vcf_path.display()
    );
    commit_all(vec![fa_file, fai_file, vcf_file, truth_file])
}
