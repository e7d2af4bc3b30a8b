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
use std::str::FromStr;

use burn::tensor::{Device, Tensor, TensorData};
use gkd_engine::CnnEngine;
use gkd_genomics::bed::read_bed;
use gkd_genomics::fasta::IndexedFasta;
use gkd_genomics::onehot::{EncodingTable, encode_into, first_invalid};
use gkd_genomics::track::{OverlapAverager, SpooledTrack, TrackReader};
use gkd_io::atomic::AtomicFile;
use gkd_io::error::{Error, Result};
use gkd_io::progress::Progress;
use gkd_io::scan_manifest::{SCAN_MANIFEST_SCHEMA, ScanManifest, ScanTrack, ShardOf, scan_manifest_path};
use gkd_nn::loss::{Head, probabilities};
use gkd_nn::store::{CARD_FILE, LoadedModel};
use ndarray::{Array2, Array3, ArrayViewMut2, Axis};
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

/// Attribution tracks a scan can add: one value per base, averaged over the windows that
/// cover it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum TrackAttribution {
    /// Σ_c ∂logit/∂x_c · x_c: the class logit's gradient at the observed base.
    Saliency,
    /// The L2 norm over the four bases of the single-base mutants' logit changes (fast ISM).
    Ism,
}

impl TrackAttribution {
    /// The name used in file names and manifests.
    pub fn name(self) -> &'static str {
        self.into()
    }
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
    /// Attribution tracks to add, per class.
    pub attributions: Vec<TrackAttribution>,
    /// The one-hot value of N and other ambiguous bases (as gkd-onehot --n-value).
    pub n_value: f32,
    /// Windows per chunk (memory holds one chunk's sequence and layers).
    pub windows_per_chunk: usize,
    /// Compute the layers once along each chunk (else every window on its own, the reference
    /// the shared computation is checked and measured against).
    pub shared_layers: bool,
    /// Scan only this shard of the windows (scatter/gather; `gkd-scan merge` joins the parts).
    pub shard: Option<ShardOf>,
    /// Output prefix: PREFIX.<class>.bw, PREFIX.<class>.<attribution>.bw, PREFIX.scan.json.
    pub prefix: String,
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
fn track_values(logits: Array2<f32>, head: Head, value: TrackValue) -> Array2<f32> {
    match value {
        TrackValue::Logit => logits,
        TrackValue::Probability => {
            let (n, k) = logits.dim();
            let device = Device::flex();
            let z = Tensor::<2>::from_data(TensorData::new(logits.into_raw_vec_and_offset().0, [n, k]), &device);
            let p = probabilities(head, z, 1.0).into_data().try_to_vec::<f32>().expect("float32");
            Array2::from_shape_vec((n, k), p).expect("windows x classes")
        }
    }
}

/// A class name as part of a file name (path separators, spaces and the like replaced).
pub fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || "-_.+".contains(c) { c } else { '_' }).collect()
}

/// A region's share of the scan: the windows this run owns (0-based indices along the region)
/// and the bases whose attribution values it writes.
#[derive(Debug, Clone)]
struct RegionPlan {
    region: Region,
    /// Windows whose predictions this run writes.
    owned: std::ops::Range<u64>,
    /// Bases whose attribution values this run writes: from the first owned window's start
    /// (the region's start for its first window) to the next shard's first window (the
    /// region's end after its last window), so that shards' bases tile the region.
    bases: std::ops::Range<u64>,
}

/// Split the regions' windows (in region order) into the shard's contiguous share.
fn plan(regions: Vec<Region>, window: u64, stride: u64, shard: Option<ShardOf>) -> (Vec<RegionPlan>, u64) {
    let count = |r: &Region| if r.end - r.start < window { 0 } else { (r.end - r.start - window) / stride + 1 };
    let total: u64 = regions.iter().map(count).sum();
    let (lo, hi) = match shard {
        None => (0, total),
        Some(ShardOf { index, count: n }) => {
            let cut = |i: usize| (total as u128 * i as u128 / n as u128) as u64;
            (cut(index - 1), cut(index))
        }
    };
    let mut plans = Vec::new();
    let mut offset = 0;
    for region in regions {
        let n = count(&region);
        if n == 0 {
            log::warn!(
                "{}:{}-{} is shorter than a window ({window} bp): no values",
                region.chrom,
                region.start,
                region.end
            );
        }
        let owned = lo.max(offset).min(offset + n) - offset..hi.max(offset).min(offset + n) - offset;
        offset += n;
        if owned.is_empty() {
            continue;
        }
        let start_of = |j: u64| region.start + j * stride;
        let first = if owned.start == 0 { region.start } else { start_of(owned.start) };
        let last = if owned.end == n { region.end } else { start_of(owned.end) };
        plans.push(RegionPlan { bases: first..last, owned, region });
    }
    (plans, total)
}

/// The windows (N, 4, L) starting at `starts` of a position-major one-hot sequence.
fn windows_of(onehot: &[f32], starts: &[usize], window: usize) -> Array3<f32> {
    Array3::from_shape_fn((starts.len(), 4, window), |(w, c, p)| onehot[(starts[w] + p) * 4 + c])
}

/// One value per base of each window (N, L) for logit `class`: Σ_c gradient·x (saliency) or
/// the L2 norm of the four mutants' logit changes (ISM).
fn base_values(engine: &CnnEngine, windows: &Array3<f32>, class: usize, kind: TrackAttribution) -> Array2<f32> {
    match kind {
        TrackAttribution::Saliency => {
            let (_, g) = engine.logits_and_gradients(windows.view(), &|_| class);
            (g * windows).sum_axis(Axis(1))
        }
        TrackAttribution::Ism => {
            let d = engine.ism(windows.view(), &|_| class);
            d.mapv(|v| v * v).sum_axis(Axis(1)).mapv(f32::sqrt)
        }
    }
}

/// Scan `request`'s regions with `model` (on the CPU engine), writing one bigWig per class
/// and value (see [`ScanRequest::prefix`]) and the scan manifest. Returns the staged files.
pub fn scan(
    request: &ScanRequest,
    model: &LoadedModel,
    model_dir: &Path,
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
    let (plans, total) = plan(regions, window as u64, stride as u64, request.shard);
    if total == 0 {
        let source = request.bed.as_deref().unwrap_or(&request.fasta);
        return Err(Error::in_file(source, format!("no region is as long as a window ({window} bp): nothing to scan")));
    }
    // The tracks: predictions of each class, then each class's attributions.
    let names = &card.classes;
    let mut manifest_tracks = Vec::new();
    for &k in &request.classes {
        let content: &str = request.value.into();
        manifest_tracks.push(ScanTrack { class: names[k].clone(), content: content.into(), file: String::new() });
    }
    for &k in &request.classes {
        for kind in &request.attributions {
            manifest_tracks.push(ScanTrack {
                class: names[k].clone(),
                content: kind.name().into(),
                file: String::new(),
            });
        }
    }
    for t in &mut manifest_tracks {
        t.file = track_file(&request.prefix, &t.class, &t.content, request.value);
    }
    let mut predictions = request.classes.iter().map(|_| SpooledTrack::new()).collect::<Result<Vec<_>>>()?;
    let mut attributions = (0..request.classes.len() * request.attributions.len())
        .map(|_| SpooledTrack::new())
        .collect::<Result<Vec<_>>>()?;
    let table = EncodingTable::new(request.n_value);
    let offset = ((window.saturating_sub(stride)) / 2) as u64;
    // Attribution values of a shard's first bases need the windows before them that cover them.
    let first_computed = |p: &RegionPlan| -> u64 {
        let before = p.bases.start - p.region.start;
        match () {
            _ if request.attributions.is_empty() => p.owned.start,
            _ if before < window as u64 => 0,
            // The first window j with start + L > bases.start.
            _ => ((before - window as u64) / stride as u64 + 1).min(p.owned.start),
        }
    };
    let computed: u64 = plans.iter().map(|p| p.owned.end - first_computed(p)).sum();
    progress.start("scanning windows", Some(computed));
    // Chunks of at most ~64 kb of sequence per thread, split between the threads: the shared
    // layers of a sub-chunk stay in cache (a chunk of megabases would stream its layers through
    // memory and run slower than window by window).
    let threads = rayon::current_num_threads().max(1);
    let per_chunk = request.windows_per_chunk.min((SHARED_BASES * threads / stride).max(threads)).max(1);
    let mut owned_windows = 0u64;
    for p in &plans {
        let region = &p.region;
        let start_of = |j: u64| region.start + j * stride as u64;
        let indices: Vec<u64> = (first_computed(p)..p.owned.end).collect();
        let mut averagers: Vec<OverlapAverager> =
            attributions.iter().map(|_| OverlapAverager::new(start_of(indices[0]))).collect();
        for chunk in indices.chunks(per_chunk) {
            let starts: Vec<u64> = chunk.iter().map(|&j| start_of(j)).collect();
            let (first, last) = (starts[0], starts[starts.len() - 1] + window as u64);
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
            let relative: Vec<usize> = starts.iter().map(|&s| (s - first) as usize).collect();
            let logits = if request.shared_layers {
                let parts: Vec<&[usize]> = relative.chunks(relative.len().div_ceil(threads)).collect();
                let scanned: Vec<Array2<f32>> = parts
                    .par_iter()
                    .map(|part| {
                        let (lo, hi) = (part[0], part[part.len() - 1] + window);
                        let starts: Vec<usize> = part.iter().map(|s| s - lo).collect();
                        engine.scan(&onehot[lo * 4..hi * 4], &starts)
                    })
                    .collect();
                let views: Vec<_> = scanned.iter().map(|a| a.view()).collect();
                ndarray::concatenate(Axis(0), &views).expect("parts of one chunk")
            } else {
                engine.logits(windows_of(&onehot, &relative, window).view())
            };
            let values = track_values(logits, card.head, request.value);
            for ((w, &s), &j) in starts.iter().enumerate().zip(chunk) {
                if !p.owned.contains(&j) {
                    continue;
                }
                owned_windows += 1;
                let (a, b) = ((s + offset) as u32, (s + offset + stride as u64).min(region.end) as u32);
                for (track, &k) in predictions.iter_mut().zip(&request.classes) {
                    track.push(&region.chrom, a, b, values[[w, k]])?;
                }
            }
            if !request.attributions.is_empty() {
                let windows = windows_of(&onehot, &relative, window);
                let kinds = request.classes.iter().flat_map(|&k| request.attributions.iter().map(move |&m| (k, m)));
                for ((k, kind), averager) in kinds.zip(averagers.iter_mut()) {
                    let per_base = base_values(&engine, &windows, k, kind);
                    for (row, &s) in per_base.outer_iter().zip(&starts) {
                        averager.add(s, row.as_slice().expect("standard layout"));
                    }
                }
                // Later windows start after this chunk's last: the bases before it are final.
                let done = (starts[starts.len() - 1] + stride as u64).min(p.bases.end);
                write_bases(&mut averagers, &mut attributions, &region.chrom, done, &p.bases)?;
            }
            progress.advance(chunk.len() as u64);
        }
        write_bases(&mut averagers, &mut attributions, &region.chrom, p.bases.end, &p.bases)?;
    }
    progress.finish();
    let mut files = Vec::new();
    let tracks = predictions.into_iter().chain(attributions);
    for (track, t) in tracks.zip(&manifest_tracks) {
        files.push(track.stage(Path::new(&t.file), &chrom_sizes)?);
    }
    let manifest = ScanManifest {
        schema: SCAN_MANIFEST_SCHEMA.into(),
        model: model_dir.display().to_string(),
        fasta: request.fasta.display().to_string(),
        bed: request.bed.as_ref().map(|b| b.display().to_string()),
        window,
        stride,
        n_value: request.n_value,
        shard: request.shard,
        windows: owned_windows,
        tracks: manifest_tracks.into_iter().map(|t| ScanTrack { file: file_name(&t.file), ..t }).collect(),
        tool: "gkd-scan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    files.push(manifest.stage(&scan_manifest_path(&request.prefix))?);
    Ok(files)
}

/// The path of a track: PREFIX.<class>.bw for predictions, PREFIX.<class>.<attribution>.bw.
fn track_file(prefix: &str, class: &str, content: &str, value: TrackValue) -> String {
    let prediction: &str = value.into();
    if content == prediction {
        format!("{prefix}.{}.bw", file_safe(class))
    } else {
        format!("{prefix}.{}.{content}.bw", file_safe(class))
    }
}

/// The last component of a path.
fn file_name(path: &str) -> String {
    Path::new(path).file_name().map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// Write the averaged bases before `end` that fall in `bases` to their tracks.
fn write_bases(
    averagers: &mut [OverlapAverager],
    tracks: &mut [SpooledTrack],
    chrom: &str,
    end: u64,
    bases: &std::ops::Range<u64>,
) -> Result<()> {
    for (averager, track) in averagers.iter_mut().zip(tracks.iter_mut()) {
        for (pos, value) in averager.drain_before(end) {
            if bases.contains(&pos) {
                track.push(chrom, pos as u32, pos as u32 + 1, value)?;
            }
        }
    }
    Ok(())
}

/// Join the tracks of a scan's shards (their prefixes, in any order) into `prefix`'s tracks and
/// manifest: every shard 1..n present once, all of the same scan. Returns the staged files.
pub fn merge(parts: &[String], prefix: &str, progress: &dyn Progress) -> Result<Vec<AtomicFile>> {
    let mut manifests = Vec::with_capacity(parts.len());
    for part in parts {
        let path = scan_manifest_path(part);
        let manifest = ScanManifest::read(&path)?;
        let Some(shard) = manifest.shard else {
            return Err(Error::in_file(&path, "is not a shard (written without --shard)"));
        };
        manifests.push((shard, part.as_str(), path, manifest));
    }
    manifests.sort_by_key(|(shard, ..)| shard.index);
    let Some((first_shard, _, first_path, first)) = manifests.first().cloned() else {
        return Err(Error::usage("gkd-scan merge needs the shards' prefixes"));
    };
    for (shard, _, path, manifest) in &manifests {
        if shard.count != first_shard.count || !manifest.same_scan(&first) {
            return Err(Error::in_file(
                path,
                format!(
                    "is not a shard of the same scan as {} (model, FASTA, regions, stride, tracks)",
                    first_path.display()
                ),
            ));
        }
    }
    let given: Vec<usize> = manifests.iter().map(|(s, ..)| s.index).collect();
    if given != (1..=first_shard.count).collect::<Vec<_>>() {
        let given: Vec<String> = given.iter().map(|i| i.to_string()).collect();
        return Err(Error::runtime(format!(
            "merging needs shards 1 to {} once each; given: {}",
            first_shard.count,
            given.join(", ")
        )));
    }
    let value = TrackValue::from_str(&first.tracks[0].content).unwrap_or_default();
    progress.start("merging tracks", Some(first.tracks.len() as u64));
    let mut files = Vec::new();
    let mut tracks = Vec::new();
    for (t, track) in first.tracks.iter().enumerate() {
        let dest = track_file(prefix, &track.class, &track.content, value);
        let mut merged = SpooledTrack::new()?;
        let mut sizes: Option<Vec<(String, u32)>> = None;
        // Per chromosome, the shards in order: their windows are contiguous ranges in region
        // order, so their intervals follow one another.
        let mut readers = Vec::new();
        for (_, part, path, manifest) in &manifests {
            let file = Path::new(part).parent().unwrap_or(Path::new("")).join(&manifest.tracks[t].file);
            let reader = TrackReader::open(&file).map_err(|e| {
                Error::in_file(&file, format!("cannot read the bigWig listed in {}: {e}", path.display()))
            })?;
            match &sizes {
                None => sizes = Some(reader.chroms()),
                Some(s) if *s != reader.chroms() => {
                    return Err(Error::in_file(&file, "has other chromosomes than the first shard's track"));
                }
                _ => {}
            }
            readers.push(reader);
        }
        let sizes = sizes.unwrap_or_default();
        for (chrom, length) in &sizes {
            let mut last_end = 0u32;
            for reader in &mut readers {
                reader.for_each(chrom, *length, |start, end, value| {
                    if start < last_end {
                        return Err(format!(
                            "'{chrom}':{start} overlaps an earlier shard's values (a shard of another scan?)"
                        ));
                    }
                    last_end = end;
                    merged.push(chrom, start, end, value).map_err(|e| e.to_string())
                })?;
            }
        }
        files.push(merged.stage(Path::new(&dest), &sizes)?);
        tracks.push(ScanTrack { file: file_name(&dest), ..track.clone() });
        progress.advance(1);
    }
    progress.finish();
    let windows = manifests.iter().map(|(_, _, _, m)| m.windows).sum();
    let manifest = ScanManifest { shard: None, windows, tracks, ..first };
    files.push(manifest.stage(&scan_manifest_path(prefix))?);
    Ok(files)
}
