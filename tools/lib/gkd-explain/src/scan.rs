//! Genome scans (gkd-scan): a model's predictions over every window of whole chromosomes or BED
//! regions of a FASTA file, at a stride, as one bigWig track per class.
//!
//! The FASTA is read by region through its index (`.fai`, built in memory when absent, for
//! uncompressed files), a chunk of windows at a time; the engine computes each chunk's layers
//! once along its sequence ([`gkd_engine::CnnEngine::scan`]); each class's values go to a
//! temporary file as they are computed, and each bigWig is written from its file at the end. So
//! memory follows the chunk, not the chromosome.
//!
//! Placement: the window starting at s (length L) gives the interval of `stride` bases centred
//! in it, `[s + ⌊(L − stride)/2⌋, … + stride)` (one base at stride 1, the window itself at stride
//! L): consecutive windows' intervals tile the region without overlapping. Regions shorter than
//! a window give no values.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use gkd_engine::CnnEngine;
use gkd_genomics::bed::read_bed;
use gkd_genomics::fasta::IndexedFasta;
use gkd_genomics::onehot::{EncodingTable, encode_into, first_invalid};
use gkd_genomics::track::SpooledTrack;
use gkd_io::atomic::AtomicFile;
use gkd_io::error::{Error, Result};
use gkd_io::progress::Progress;
use gkd_nn::loss::{Head, probabilities};
use gkd_nn::store::{CARD_FILE, LoadedModel};
use ndarray::ArrayViewMut2;
use rayon::prelude::*;

/// Bases of sequence per thread in one chunk of a shared-layer scan.
const SHARED_BASES: usize = 65_536;

/// What each track holds.
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
pub enum TrackValue {
    /// The class's probability (sigmoid, or softmax over the classes, as the model's head).
    #[default]
    Probability,
    /// The class's logit.
    Logit,
}

/// A scan.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// FASTA file (plain, or bgzip with its .fai and .gzi).
    pub fasta: PathBuf,
    /// Regions to scan (default: every sequence of the FASTA).
    pub bed: Option<PathBuf>,
    /// Bases between consecutive window starts.
    pub stride: usize,
    /// The classes to write (indices into the model's classes).
    pub classes: Vec<usize>,
    /// Probability or logit.
    pub value: TrackValue,
    /// The one-hot value of N and other ambiguous bases (as gkd-onehot --n-value).
    pub n_value: f32,
    /// Windows per chunk (memory holds one chunk's sequence and layers).
    pub windows_per_chunk: usize,
    /// Compute the layers once along each chunk (else every window on its own, the reference
    /// the shared computation is checked and measured against).
    pub shared_layers: bool,
}

/// One stretch of a chromosome to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    chrom: String,
    start: u64,
    end: u64,
}

/// The regions: every sequence, or the BED's intervals (sorted, overlaps merged, each checked
/// against the FASTA).
fn regions(bed: Option<&Path>, sizes: &[(String, u64)], fasta_path: &Path) -> Result<Vec<Region>> {
    let Some(bed) = bed else {
        return Ok(sizes.iter().map(|(c, n)| Region { chrom: c.clone(), start: 0, end: *n }).collect());
    };
    let order = |c: &str| sizes.iter().position(|(name, _)| name == c);
    let mut out: Vec<(usize, Region)> = Vec::new();
    for iv in read_bed(bed)? {
        let Some(i) = order(&iv.chrom) else {
            return Err(Error::at_line(
                bed,
                iv.line,
                format!("chromosome '{}' is not in {}", iv.chrom, fasta_path.display()),
            ));
        };
        if iv.end > sizes[i].1 {
            return Err(Error::at_line(
                bed,
                iv.line,
                format!("{}:{}-{} ends beyond the chromosome's {} bases", iv.chrom, iv.start, iv.end, sizes[i].1),
            ));
        }
        out.push((i, Region { chrom: iv.chrom, start: iv.start, end: iv.end }));
    }
    out.sort_by_key(|(i, r)| (*i, r.start, r.end));
    let mut merged: Vec<(usize, Region)> = Vec::new();
    for (i, r) in out {
        match merged.last_mut() {
            Some((j, last)) if *j == i && r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push((i, r)),
        }
    }
    Ok(merged.into_iter().map(|(_, r)| r).collect())
}

/// The values the tracks hold for a chunk's logits (windows × classes): the logits, or the
/// probabilities the model's head gives (as gkd-predict computes them).
fn track_values(logits: ndarray::Array2<f32>, head: Head, value: TrackValue) -> ndarray::Array2<f32> {
    match value {
        TrackValue::Logit => logits,
        TrackValue::Probability => {
            let (n, k) = logits.dim();
            let device = Device::flex();
            let z = Tensor::<2>::from_data(TensorData::new(logits.into_raw_vec_and_offset().0, [n, k]), &device);
            let p = probabilities(head, z, 1.0).into_data().try_to_vec::<f32>().expect("float32");
            ndarray::Array2::from_shape_vec((n, k), p).expect("windows x classes")
        }
    }
}

/// Scan `request`'s regions with `model` (on the CPU engine), writing one bigWig per class:
/// `paths[i]` for `request.classes[i]`. Returns the staged files.
pub fn scan(
    request: &ScanRequest,
    model: &LoadedModel,
    model_dir: &Path,
    paths: &[PathBuf],
    progress: &dyn Progress,
) -> Result<Vec<AtomicFile>> {
    let card = &model.card;
    let engine = CnnEngine::new(&card.spec, &model.network).ok_or_else(|| {
        Error::in_file(
            model_dir.join(CARD_FILE),
            format!("gkd-scan runs the convolutional sequence models; this model is {}", card.spec.arch.name()),
        )
    })?;
    if card.spec.channels != 4 {
        return Err(Error::in_file(model_dir.join(CARD_FILE), "gkd-scan needs a model of one-hot DNA (4 channels)"));
    }
    let window = card.spec.length;
    let stride = request.stride.max(1);
    let mut fasta = IndexedFasta::open(&request.fasta)?;
    let sizes = fasta.sizes().to_vec();
    let regions = regions(request.bed.as_deref(), &sizes, &request.fasta)?;
    let mut chrom_sizes = Vec::with_capacity(sizes.len());
    for (chrom, size) in &sizes {
        let size = u32::try_from(*size)
            .map_err(|_| Error::in_file(&request.fasta, format!("'{chrom}' is longer than bigWig's 2^32 positions")))?;
        chrom_sizes.push((chrom.clone(), size));
    }
    let mut tracks = request.classes.iter().map(|_| SpooledTrack::new()).collect::<Result<Vec<_>>>()?;
    let table = EncodingTable::new(request.n_value);
    let total: u64 =
        regions.iter().map(|r| (r.end - r.start).saturating_sub(window as u64 - 1).div_ceil(stride as u64)).sum();
    if total == 0 {
        let source = request.bed.as_deref().unwrap_or(&request.fasta);
        return Err(Error::in_file(source, format!("no region is as long as a window ({window} bp): nothing to scan")));
    }
    progress.start("scanning windows", Some(total));
    let offset = ((window.saturating_sub(stride)) / 2) as u64;
    // Chunks of at most ~64 kb of sequence per thread, split between the threads: the shared
    // layers of a sub-chunk stay in cache (a chunk of megabases would stream its layers through
    // memory and run slower than window by window).
    let threads = rayon::current_num_threads().max(1);
    let per_chunk = request.windows_per_chunk.min((SHARED_BASES * threads / stride).max(threads)).max(1);
    for region in &regions {
        let length = region.end - region.start;
        if length < window as u64 {
            log::warn!(
                "{}:{}-{} is shorter than a window ({window} bp): no values",
                region.chrom,
                region.start,
                region.end
            );
            continue;
        }
        let starts: Vec<u64> = (region.start..=region.end - window as u64).step_by(stride).collect();
        for chunk in starts.chunks(per_chunk) {
            let (first, last) = (chunk[0], chunk[chunk.len() - 1] + window as u64);
            let seq = fasta.fetch(&region.chrom, first, last)?;
            if let Some((i, b)) = first_invalid(&seq) {
                return Err(Error::in_file(
                    &request.fasta,
                    format!(
                        "'{}' position {}: '{}' is not a nucleotide code",
                        region.chrom,
                        first + i as u64 + 1,
                        b as char
                    ),
                ));
            }
            let mut onehot = vec![0f32; seq.len() * 4];
            encode_into(&seq, ArrayViewMut2::from_shape((seq.len(), 4), &mut onehot).expect("L x 4"), false, &table);
            let relative: Vec<usize> = chunk.iter().map(|&s| (s - first) as usize).collect();
            let logits = if request.shared_layers {
                let parts: Vec<&[usize]> = relative.chunks(relative.len().div_ceil(threads)).collect();
                let scanned: Vec<ndarray::Array2<f32>> = parts
                    .par_iter()
                    .map(|part| {
                        let (lo, hi) = (part[0], part[part.len() - 1] + window);
                        let starts: Vec<usize> = part.iter().map(|s| s - lo).collect();
                        engine.scan(&onehot[lo * 4..hi * 4], &starts)
                    })
                    .collect();
                let views: Vec<_> = scanned.iter().map(|a| a.view()).collect();
                ndarray::concatenate(ndarray::Axis(0), &views).expect("parts of one chunk")
            } else {
                let windows = ndarray::Array3::from_shape_fn((relative.len(), 4, window), |(w, c, p)| {
                    onehot[(relative[w] + p) * 4 + c]
                });
                engine.logits(windows.view())
            };
            let values = track_values(logits, card.head, request.value);
            for (w, &s) in chunk.iter().enumerate() {
                let (a, b) = ((s + offset) as u32, (s + offset + stride as u64).min(region.end) as u32);
                for (track, &k) in tracks.iter_mut().zip(&request.classes) {
                    track.push(&region.chrom, a, b, values[[w, k]])?;
                }
            }
            progress.advance(chunk.len() as u64);
        }
    }
    progress.finish();
    tracks.into_iter().zip(paths).map(|(track, path)| track.stage(path, &chrom_sizes)).collect()
}
