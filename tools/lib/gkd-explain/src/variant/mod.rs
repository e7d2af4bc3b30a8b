//! Variant effects (gkd-variant): each VCF variant's reference and alternative windows
//! ([`gkd_genomics::vcf::windows`]) through one or more models, streamed in chunks of records so
//! that memory does not grow with the VCF. Per variant, model and class: both windows' logits and
//! probabilities, alt − ref, the log-odds ratio ([`effects`]); optionally the position-wise effect
//! around the variant by ISM on the reference window. Outputs: a TSV, an annotated copy of the VCF
//! ([`vcf_copy`]), the JSON sidecar ([`gkd_io::variant_effects`]); shards by record and their
//! merge ([`merge`]).

pub mod effects;
pub mod merge;
pub mod vcf_copy;

use std::io::Write;
use std::path::PathBuf;

use gkd_engine::Runner;
use gkd_genomics::fasta::IndexedFasta;
use gkd_genomics::onehot::{encode_batch, reverse_complement};
use gkd_genomics::vcf::{Built, VcfRecord, VcfVariants, Windows};
use gkd_io::atomic::AtomicFile;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::progress::Progress;
use gkd_io::scan_manifest::ShardOf;
use gkd_io::variant_effects::{
    ScoredModel, VARIANT_EFFECTS_SCHEMA, VariantCounts, VariantEffects, VariantFiles, VariantSettings,
};
use gkd_nn::loss::Head;
use ndarray::{Array2, Array3, Axis, concatenate};

use crate::gradients::Target;
use crate::ism::ism_best;
use effects::effect;
use vcf_copy::{InfoField, annotate, info_key};

/// The columns of the effects TSV.
pub const TSV_HEADER: &str = "record\tchrom\tpos\tid\tref\talt\tallele\tmodel\tclass\tref_logit\talt_logit\tref_prob\talt_prob\tlogit_diff\tprob_diff\tlog_odds_ratio";
/// The columns of the ISM TSV.
pub const ISM_HEADER: &str = "record\tchrom\tmodel\tclass\toffset\tpos\tref_base\tA\tC\tG\tT";
/// The window convention, as the sidecar records it.
pub const WINDOWS: &str = "variant's first REF base at offset L/2; left flank kept; ALT then the genome right of REF, cut or extended to L (tangermeme left=False); N beyond the chromosome";

/// What a REF allele that is not the FASTA's bases does (`--ref-mismatch`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum RefMismatch {
    /// Stop with an error naming the record.
    #[default]
    Error,
    /// Skip the record (counted in the sidecar, flagged GKD_REF_MISMATCH in the VCF copy).
    Skip,
}

/// One model as scored: a model directory, or an ensemble whose logits (and ISM maps) are the
/// mean of its members'.
pub struct VariantModel<'a> {
    /// Its name in the outputs.
    pub name: String,
    /// Its model directories.
    pub dirs: Vec<PathBuf>,
    /// One runner per member.
    pub runners: Vec<Runner<'a>>,
    /// Output head (the members share it).
    pub head: Head,
    /// Its class names, one per logit.
    pub classes: Vec<String>,
    /// The classes scored (indices into `classes`).
    pub scored: Vec<usize>,
    /// Input length in bases.
    pub length: usize,
}

/// The one base that turns `w`'s reference window into its alternative window, as (position,
/// channel), when that is all that differs (an SNV) and the new base is A, C, G or T.
fn substitution(w: &Windows) -> Option<(usize, usize)> {
    let mut differ = (0..w.reference.len()).filter(|&i| !w.reference[i].eq_ignore_ascii_case(&w.alternative[i]));
    let (Some(p), None) = (differ.next(), differ.next()) else { return None };
    b"ACGT".iter().position(|b| b.eq_ignore_ascii_case(&w.alternative[p])).map(|c| (p, c))
}

impl VariantModel<'_> {
    /// Mean logits of the members for every window pair, rows laid out as reference windows,
    /// then alternative windows (then both again for the reverse complements with `both`). An
    /// SNV's alternative logits come from the engine's incremental substitution (only what the
    /// base changes is recomputed) where the engine runs the member; other variants' alternative
    /// windows go through whole forward passes.
    fn pair_logits(&self, windows: &[&Windows], n_value: f32, both: bool, batch: usize) -> Array2<f32> {
        let (n, length, k) = (windows.len(), self.length, self.classes.len());
        let strands = if both { 2 } else { 1 };
        let refs: Vec<&[u8]> = windows.iter().map(|w| w.reference.as_slice()).collect();
        let alts: Vec<&[u8]> = windows.iter().map(|w| w.alternative.as_slice()).collect();
        let x_ref = encode(&refs, length, n_value, both);
        let subs: Vec<Option<(usize, usize)>> = windows.iter().map(|w| substitution(w)).collect();
        // Per reference row (forward strand, then reverse complement): its substitution, if any.
        let mutants: Vec<Vec<(usize, usize)>> = (0..strands)
            .flat_map(|s| {
                subs.iter().map(move |sub| sub.map(|(p, c)| if s == 0 { (p, c) } else { (length - 1 - p, 3 - c) }))
            })
            .map(|sub| sub.into_iter().collect())
            .collect();
        let others: Vec<usize> = (0..n).filter(|&i| subs[i].is_none()).collect();
        let mut out = Array2::<f32>::zeros((2 * n * strands, k));
        for runner in &self.runners {
            let fast = crate::fast_ism::supports(runner.network(), length)
                .then(|| runner.substitution_logits(x_ref.view(), &mutants))
                .flatten();
            match fast {
                Some((reference, mutated)) => {
                    let other_alts: Vec<&[u8]> = others.iter().map(|&i| alts[i]).collect();
                    let z_other = if others.is_empty() {
                        Array2::zeros((0, k))
                    } else {
                        runner.logits(encode(&other_alts, length, n_value, both).view(), batch)
                    };
                    let (mut next_mutant, mut next_other) = (0, 0);
                    for s in 0..strands {
                        for (i, sub) in subs.iter().enumerate() {
                            let row = s * n + i;
                            out.row_mut(s * 2 * n + i).scaled_add(1.0, &reference.row(row));
                            let alt = if sub.is_some() {
                                next_mutant += 1;
                                mutated.row(next_mutant - 1)
                            } else {
                                next_other += 1;
                                z_other.row(next_other - 1)
                            };
                            out.row_mut(s * 2 * n + n + i).scaled_add(1.0, &alt);
                        }
                    }
                }
                None => {
                    // Whole passes: the rows as before (references, alternatives, reverse complements).
                    let seqs: Vec<&[u8]> = refs.iter().chain(&alts).copied().collect();
                    out += &runner.logits(encode(&seqs, length, n_value, both).view(), batch);
                }
            }
        }
        out / self.runners.len() as f32
    }

    /// Mean ISM maps (rows, 4, L) of the members for class `k`.
    fn ism(&self, x: &Array3<f32>, k: usize, batch: usize) -> Array3<f32> {
        let target = Target::Class(k);
        let mut sum = ism_best(&self.runners[0], x, &target, batch);
        for runner in &self.runners[1..] {
            sum += &ism_best(runner, x, &target, batch);
        }
        sum / self.runners.len() as f32
    }
}

/// What to score and where to write it.
#[derive(Debug, Clone)]
pub struct VariantRequest {
    /// The VCF (plain, gzip or bgzip).
    pub vcf: PathBuf,
    /// The indexed reference FASTA.
    pub fasta: PathBuf,
    /// What a REF mismatch does.
    pub ref_mismatch: RefMismatch,
    /// Average the logits of each window and its reverse complement.
    pub both_strands: bool,
    /// Write ISM effects of the bases this far either side of each variant.
    pub ism_flank: Option<usize>,
    /// One-hot value of N.
    pub n_value: f32,
    /// VCF records per chunk (memory holds one chunk's windows).
    pub records_per_chunk: usize,
    /// Rows per burn forward pass.
    pub batch: usize,
    /// Score only shard I of N (records I, I + N, …).
    pub shard: Option<ShardOf>,
    /// Output prefix: PREFIX.tsv, PREFIX.vcf, PREFIX.json (and PREFIX.ism.tsv).
    pub prefix: String,
}

impl VariantRequest {
    /// The files this request writes.
    pub fn files(&self) -> VariantFiles {
        files_of(&self.prefix, self.ism_flank.is_some())
    }
}

/// The output files of prefix `prefix`.
pub(crate) fn files_of(prefix: &str, ism: bool) -> VariantFiles {
    VariantFiles {
        tsv: format!("{prefix}.tsv"),
        vcf: format!("{prefix}.vcf"),
        ism: ism.then(|| format!("{prefix}.ism.tsv")),
    }
}

/// A record of this shard, with its variants' windows (`None`: its REF is not the FASTA's).
struct Job {
    record: VcfRecord,
    windows: Option<Vec<Windows>>,
}

/// Score every variant of the VCF (or of one shard) with every model; the staged files (TSV, VCF
/// copy, ISM TSV, then the sidecar) are committed by the caller.
pub fn score_variants(
    request: &VariantRequest,
    models: &[VariantModel<'_>],
    progress: &dyn Progress,
) -> Result<Vec<AtomicFile>> {
    let length = models[0].length;
    let files = request.files();
    let mut fields: Vec<InfoField> = Vec::new();
    for m in models {
        for &k in &m.scored {
            let key = info_key(&m.name, &m.classes[k]);
            if fields.iter().any(|f| f.key == key) {
                return Err(Error::usage(format!(
                    "model '{}' and class '{}' give the VCF INFO key {key} twice: name the models apart",
                    m.name, m.classes[k]
                )));
            }
            let description =
                format!("gkd-variant: alt - ref logit of class {} by model {}, per ALT allele", m.classes[k], m.name);
            fields.push(InfoField { key, description });
        }
    }
    let mut vcf = VcfVariants::open(&request.vcf)?;
    let mut fasta = IndexedFasta::open(&request.fasta)?;
    let tsv_file = AtomicFile::create(&files.tsv)?;
    let vcf_file = AtomicFile::create(&files.vcf)?;
    let ism_file = files.ism.as_ref().map(AtomicFile::create).transpose()?;
    let (mut tsv, mut vcf_out) = (tsv_file.writer()?, vcf_file.writer()?);
    let mut ism_out = ism_file.as_ref().map(AtomicFile::writer).transpose()?;
    writeln!(tsv, "{TSV_HEADER}").with_path(&files.tsv)?;
    for line in vcf_copy::header(vcf.header_lines(), &fields) {
        writeln!(vcf_out, "{line}").with_path(&files.vcf)?;
    }
    if let (Some(out), Some(path)) = (ism_out.as_mut(), &files.ism) {
        writeln!(out, "{ISM_HEADER}").with_path(path)?;
    }
    let mut counts = VariantCounts::default();
    let in_shard = |number: u64| request.shard.is_none_or(|s| (number - 1) % s.count as u64 == (s.index - 1) as u64);
    progress.start("scoring variants (records)", None);
    loop {
        let mut jobs: Vec<Job> = Vec::new();
        while jobs.len() < request.records_per_chunk.max(1) {
            let Some(record) = vcf.next_record()? else { break };
            if !in_shard(record.number) {
                continue;
            }
            counts.records += 1;
            counts.alleles += record.alleles as u64;
            counts.symbolic += record.skipped.symbolic;
            counts.breakend += record.skipped.breakend;
            counts.missing += record.skipped.missing;
            let mut windows = Some(Vec::with_capacity(record.variants.len()));
            for variant in &record.variants {
                match gkd_genomics::vcf::windows(&mut fasta, &request.vcf, variant, length)? {
                    Built::Windows(w) => windows.as_mut().expect("no mismatch yet").push(w),
                    Built::RefMismatch(found) => {
                        if request.ref_mismatch == RefMismatch::Error {
                            return Err(Error::in_file(
                                &request.vcf,
                                format!(
                                    "record {}: REF {} at {}:{} is not the FASTA's bases ({found}); is the VCF on another assembly? (--ref-mismatch skip skips such records)",
                                    record.number, variant.reference, variant.chrom, variant.position
                                ),
                            ));
                        }
                        windows = None;
                        break;
                    }
                }
            }
            match &windows {
                Some(w) => counts.scored += w.len() as u64,
                None => counts.ref_mismatch += record.variants.len() as u64,
            }
            jobs.push(Job { record, windows });
        }
        if jobs.is_empty() {
            break;
        }
        score_chunk(request, models, &jobs, &mut tsv, &mut vcf_out, ism_out.as_mut(), &files)?;
        progress.advance(jobs.len() as u64);
    }
    progress.finish();
    for (writer, path) in [(tsv, &files.tsv), (vcf_out, &files.vcf)] {
        writer.into_inner().map_err(|e| e.into_error()).with_path(path)?;
    }
    if let (Some(w), Some(path)) = (ism_out, &files.ism) {
        w.into_inner().map_err(|e| e.into_error()).with_path(path)?;
    }
    let sidecar = VariantEffects {
        schema: VARIANT_EFFECTS_SCHEMA.to_owned(),
        vcf: request.vcf.display().to_string(),
        fasta: request.fasta.display().to_string(),
        models: models
            .iter()
            .map(|m| ScoredModel {
                name: m.name.clone(),
                dirs: m.dirs.iter().map(|d| d.display().to_string()).collect(),
                head: m.head.name().to_owned(),
                length: m.length,
            })
            .collect(),
        settings: settings(request, models),
        shard: request.shard,
        counts,
        files: files.clone(),
        tool: "gkd-variant".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    log::info!(
        "{} record(s): {} variant(s) scored, {} REF mismatch(es) skipped, {} symbolic / {} breakend / {} missing allele(s) skipped",
        counts.records,
        counts.scored,
        counts.ref_mismatch,
        counts.symbolic,
        counts.breakend,
        counts.missing
    );
    let mut out = vec![tsv_file, vcf_file];
    out.extend(ism_file);
    out.push(sidecar.stage(std::path::Path::new(&format!("{}.json", request.prefix)))?);
    Ok(out)
}

/// The sidecar's settings.
fn settings(request: &VariantRequest, models: &[VariantModel<'_>]) -> VariantSettings {
    let mut classes: Vec<String> = Vec::new();
    for m in models {
        for &k in &m.scored {
            if !classes.contains(&m.classes[k]) {
                classes.push(m.classes[k].clone());
            }
        }
    }
    VariantSettings {
        classes,
        both_strands: request.both_strands,
        ref_mismatch: <&str>::from(request.ref_mismatch).to_owned(),
        n_value: request.n_value,
        ism_flank: request.ism_flank,
        windows: WINDOWS.to_owned(),
    }
}

/// One-hot rows of `windows`, and of their reverse complements after them when `both`.
fn encode(windows: &[&[u8]], length: usize, n_value: f32, both: bool) -> Array3<f32> {
    let (forward, _) = encode_batch(windows, length, true, n_value);
    if !both {
        return forward;
    }
    let reverse: Vec<Vec<u8>> = windows.iter().map(|w| reverse_complement(w)).collect();
    let (reverse, _) = encode_batch(&reverse, length, true, n_value);
    concatenate(Axis(0), &[forward.view(), reverse.view()]).expect("same shapes")
}

/// Score one chunk's variants and write their rows, VCF lines and ISM rows.
fn score_chunk(
    request: &VariantRequest,
    models: &[VariantModel<'_>],
    jobs: &[Job],
    tsv: &mut impl Write,
    vcf_out: &mut impl Write,
    ism_out: Option<&mut impl Write>,
    files: &VariantFiles,
) -> Result<()> {
    let windows: Vec<&Windows> = jobs.iter().filter_map(|j| j.windows.as_ref()).flatten().collect();
    let n = windows.len();
    // Rows: every reference window, then every alternative window (then their reverse complements).
    let logits: Vec<Array2<f32>> = models
        .iter()
        .map(|m| {
            let z = if n == 0 {
                Array2::zeros((0, m.classes.len()))
            } else {
                m.pair_logits(&windows, request.n_value, request.both_strands, request.batch)
            };
            if request.both_strands && n > 0 {
                let half = 2 * n;
                (&z.slice(ndarray::s![..half, ..]) + &z.slice(ndarray::s![half.., ..])) / 2.0
            } else {
                z
            }
        })
        .collect();
    let mut row = 0;
    let mut number = ryu::Buffer::new();
    for job in jobs {
        let record = &job.record;
        let mut values: Vec<(String, Vec<Option<f32>>)> = models
            .iter()
            .flat_map(|m| m.scored.iter().map(|&k| (info_key(&m.name, &m.classes[k]), vec![None; record.alleles])))
            .collect();
        if job.windows.is_some() {
            for (v, variant) in record.variants.iter().enumerate() {
                let mut field = 0;
                for (m, z) in models.iter().zip(&logits) {
                    let (zr, za) = (z.row(row + v), z.row(n + row + v));
                    let (zr, za) = (zr.as_slice().expect("row"), za.as_slice().expect("row"));
                    for &k in &m.scored {
                        let e = effect(m.head, zr, za, k);
                        // Shortest round-trip float32 text (ryu: several times faster than
                        // `{}` formatting, which was a fifth of the run on 12 classes).
                        let mut line = format!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                            record.number,
                            variant.chrom,
                            variant.position,
                            variant.id,
                            variant.reference,
                            variant.alternative,
                            variant.allele,
                            m.name,
                            m.classes[k]
                        );
                        for value in [
                            e.ref_logit,
                            e.alt_logit,
                            e.ref_prob as f32,
                            e.alt_prob as f32,
                            e.logit_diff as f32,
                            e.prob_diff as f32,
                            e.log_odds_ratio as f32,
                        ] {
                            line.push('\t');
                            line.push_str(number.format(value));
                        }
                        writeln!(tsv, "{line}").with_path(&files.tsv)?;
                        values[field].1[variant.allele - 1] = Some(e.logit_diff as f32);
                        field += 1;
                    }
                }
            }
            row += record.variants.len();
        }
        writeln!(vcf_out, "{}", annotate(&record.line, &values, job.windows.is_none())).with_path(&files.vcf)?;
    }
    if let (Some(out), Some(flank)) = (ism_out, request.ism_flank) {
        write_ism(request, models, jobs, flank, out, files.ism.as_deref().unwrap_or_default())?;
    }
    Ok(())
}

/// ISM on each scored record's reference window: the rows of the `flank` bases either side of the
/// variant's first base.
fn write_ism(
    request: &VariantRequest,
    models: &[VariantModel<'_>],
    jobs: &[Job],
    flank: usize,
    out: &mut impl Write,
    path: &str,
) -> Result<()> {
    let length = models[0].length;
    let scored: Vec<(&VcfRecord, &Windows)> =
        jobs.iter().filter_map(|j| j.windows.as_ref().and_then(|w| w.first()).map(|w| (&j.record, w))).collect();
    if scored.is_empty() {
        return Ok(());
    }
    let seqs: Vec<&[u8]> = scored.iter().map(|(_, w)| w.reference.as_slice()).collect();
    let x = encode(&seqs, length, request.n_value, false);
    // Every model's and class's maps first, so that the rows come out record by record.
    let maps: Vec<(&VariantModel<'_>, usize, Array3<f32>)> = models
        .iter()
        .flat_map(|m| m.scored.iter().map(move |&k| (m, k)))
        .map(|(m, k)| (m, k, m.ism(&x, k, request.batch)))
        .collect();
    for (r, (record, w)) in scored.iter().enumerate() {
        let variant = &record.variants[0];
        let (lo, hi) = (w.offset.saturating_sub(flank), (w.offset + flank + 1).min(length));
        for (m, k, all) in &maps {
            let map = all.index_axis(Axis(0), r);
            for p in lo..hi {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    record.number,
                    variant.chrom,
                    m.name,
                    m.classes[*k],
                    p as i64 - w.offset as i64,
                    w.start + p as i64 + 1,
                    w.reference[p] as char,
                    map[[0, p]],
                    map[[1, p]],
                    map[[2, p]],
                    map[[3, p]]
                )
                .with_path(path)?;
            }
        }
    }
    Ok(())
}
