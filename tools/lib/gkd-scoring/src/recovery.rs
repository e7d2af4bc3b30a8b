//! Motif recovery (docs/science.md §5, Koo & Ploenzke 2021): for the first N maps whose row is positive
//! for the explained class, score each position (gradient maps: Σ attr·x; ISM: L2 norm over
//! bases), call positions whose generating PWM column has IC > threshold the motif, and average
//! the per-sequence AUROC / AUPR and signal-to-noise. With a sites table (gkd-synth's
//! NAME.sites.tsv) the motif is only the explained class's sites: on multi-label data (task 1)
//! a map explaining one class is scored against that class's motifs, not every motif in the row.

use std::io::Write;
use std::path::{Path, PathBuf};

use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::{AttributionReader, MapKind, MapRow};
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::DatasetKind;
use gkd_io::scores::RecoveryRow;
pub use gkd_io::sites::ClassSites;
use gkd_metrics::recovery::{PositionScore, motif_positions, position_scores, recovery, signal_to_noise};
use ndarray::Axis;

use gkd_metrics::mean_sd;

/// One scored sequence.
pub struct SequenceScore {
    model: String,
    id: String,
    auroc: Option<f64>,
    aupr: Option<f64>,
    snr: [Option<f64>; 3],
}

/// Maps read at a time.
const CHUNK: usize = 256;

/// Score every input's maps against the dataset's truth (only the explained class's sites when
/// `sites` is given).
pub fn score(
    data_path: &Path,
    inputs: &[(String, PathBuf)],
    first: usize,
    threshold: f64,
    sites: Option<&ClassSites>,
) -> Result<(Vec<RecoveryRow>, Vec<SequenceScore>)> {
    let data = Dataset::load(data_path)?;
    if !data.has_truth() {
        data.gather_truth(&[])?;
    }
    let truth = Truth { data: &data, path: data_path };
    let mut rows = Vec::new();
    let mut sequences = Vec::new();
    for (label, path) in inputs {
        let maps = AttributionReader::open(path)?;
        let (input_rows, scored) = if data.kind() == DatasetKind::Histone {
            score_gene_maps(&truth, label, path, &maps, first)?
        } else {
            score_sequence_maps(&truth, label, path, &maps, first, threshold, sites)?
        };
        rows.extend(input_rows);
        sequences.extend(scored);
    }
    Ok((rows, sequences))
}

/// The dataset the maps are scored against, and its path for messages.
struct Truth<'a> {
    data: &'a Dataset,
    path: &'a Path,
}

impl Truth<'_> {
    /// The dataset row of map `i`, or `None` when that row is not positive for the class the map
    /// explains; an error when the map is not a row of the dataset or explains an unknown class.
    fn positive_row(&self, maps_path: &Path, i: usize, row: &MapRow) -> Result<Option<usize>> {
        let data = self.data;
        let r = row.dataset_row.filter(|&r| r < data.len() && data.ids[r] == row.id).ok_or_else(|| {
            Error::in_file(maps_path, format!("map {} ('{}') is not a row of {}", i + 1, row.id, self.path.display()))
        })?;
        let k = data.manifest.classes.iter().position(|c| *c == row.class).ok_or_else(|| {
            Error::in_file(
                maps_path,
                format!("explains class '{}', which {} does not label", row.class, self.path.display()),
            )
        })?;
        Ok((data.y[[r, k]] > 0.5).then_some(r))
    }

    /// An error unless the maps have the dataset's length and `channels_agree` (the caller's
    /// test of the maps' channels against the dataset's).
    fn check_shape(&self, maps_path: &Path, maps: &AttributionReader, channels_agree: bool) -> Result<()> {
        let (c, l) = (self.data.channels(), self.data.length());
        if maps.info.length == l && channels_agree {
            return Ok(());
        }
        Err(Error::in_file(
            maps_path,
            format!(
                "holds {} x {} maps; {} holds {c} x {l} inputs",
                maps.info.channels.len(),
                maps.info.length,
                self.path.display()
            ),
        ))
    }
}

/// One input's sequence maps: the first `first` maps of positive rows, each scored by position
/// against the motif positions (IC above `threshold`, only the explained class's sites when given).
fn score_sequence_maps(
    truth: &Truth<'_>,
    label: &str,
    path: &Path,
    maps: &AttributionReader,
    first: usize,
    threshold: f64,
    sites: Option<&ClassSites>,
) -> Result<(Vec<RecoveryRow>, Vec<SequenceScore>)> {
    let data = truth.data;
    let channels = data.channels();
    let how = PositionScore::for_method(maps.info.method).ok_or_else(|| {
        Error::in_file(
            path,
            format!("holds '{}' maps, which are not scores of the input's positions", maps.info.method.name()),
        )
    })?;
    truth.check_shape(path, maps, maps.info.channels == data.manifest.channels)?;
    let flat = |a: ndarray::ArrayViewD<'_, f32>| a.iter().copied().collect::<Vec<f32>>();
    let mut scored: Vec<SequenceScore> = Vec::new();
    let mut chunk: Option<(usize, ndarray::Array3<f32>)> = None;
    for (i, row) in maps.rows.iter().enumerate() {
        if scored.len() == first {
            break;
        }
        let Some(r) = truth.positive_row(path, i, row)? else { continue };
        // Maps are read a chunk at a time, only as far as the scored ones reach.
        if chunk.as_ref().is_none_or(|(start, a)| i >= start + a.shape()[0]) {
            chunk = Some((i, maps.attr(i..(i + CHUNK).min(maps.len()))?));
        }
        let (start, attr) = chunk.as_ref().expect("read above");
        let scores = position_scores(
            &flat(attr.index_axis(Axis(0), i - start).into_dyn()),
            &flat(data.gather_x(&[r])?.into_dyn().view()),
            channels,
            how,
        );
        let mut motif = motif_positions(&flat(data.gather_truth(&[r])?.into_dyn().view()), channels, threshold);
        if let Some(sites) = sites {
            let of_class = sites.mask(&row.id, &row.class, motif.len()).ok_or_else(|| {
                Error::in_file(
                    sites.path(),
                    format!("has no site of class '{}' in row '{}', which is labelled with it", row.class, row.id),
                )
            })?;
            motif.iter_mut().zip(of_class).for_each(|(m, c)| *m &= c);
        }
        scored.push(SequenceScore::new(label.to_owned(), &row.id, &scores, &motif));
    }
    if scored.is_empty() {
        return Err(Error::in_file(path, "has no map of a row that is positive for the class it explains"));
    }
    if scored.len() < first {
        log::warn!("{label}: only {} positive maps (asked for the first {first})", scored.len());
    }
    let position_score = match how {
        PositionScore::Observed => "observed",
        PositionScore::L2Norm => "l2",
    };
    let row = summary_row(label, maps.info.method.name(), position_score, &scored);
    log::info!(
        "{label}: motif recovery AUROC {:.4} over {} sequences",
        row.auroc_mean.unwrap_or(f64::NAN),
        scored.len()
    );
    Ok((vec![row], scored))
}

impl SequenceScore {
    /// One map's position scores ranked against its true positions.
    fn new(model: String, id: &str, scores: &[f32], truth: &[bool]) -> Self {
        let rank = recovery(scores, truth);
        Self { model, id: id.to_owned(), auroc: rank.auroc, aupr: rank.aupr, snr: signal_to_noise(scores, truth) }
    }
}

/// One input's row: the mean ± sd of its scored sequences' AUROC and AUPR, and mean
/// signal-to-noise.
fn summary_row(label: &str, method: &str, position_score: &str, scored: &[SequenceScore]) -> RecoveryRow {
    let (auroc_mean, auroc_sd) = mean_sd(scored.iter().filter_map(|s| s.auroc));
    let (aupr_mean, aupr_sd) = mean_sd(scored.iter().filter_map(|s| s.aupr));
    let snr = |j: usize| mean_sd(scored.iter().filter_map(|s| s.snr[j])).0;
    RecoveryRow {
        model: label.to_owned(),
        method: method.to_owned(),
        position_score: position_score.to_owned(),
        sequences: scored.len(),
        auroc_mean,
        auroc_sd,
        aupr_mean,
        aupr_sd,
        snr_max: snr(0),
        snr_mean: snr(1),
        snr_top10: snr(2),
    }
}

/// How a histone map's cells are scored against the truth (marks × bins).
#[derive(Debug, Clone, Copy, PartialEq)]
enum CellScore {
    /// |attr| of each (mark, bin): gradient-type maps, whose sign says activating or repressing.
    Magnitude,
    /// The attention weight itself (AttentiveChrome's α over each mark's bins).
    Attention,
}

impl CellScore {
    /// How maps of this method are scored, or an error naming the file for methods that do not
    /// score cells.
    fn of(path: &Path, maps: &AttributionReader) -> Result<Self> {
        match maps.info.method.map_kind() {
            MapKind::Gradient | MapKind::Contribution => Ok(Self::Magnitude),
            MapKind::Attention => Ok(Self::Attention),
            MapKind::Mutagenesis | MapKind::Temporal | MapKind::ClassOptimization => Err(Error::in_file(
                path,
                format!(
                    "holds '{}' maps: histone recovery scores gradient, DeepLIFT and attention maps of genes",
                    maps.info.method.name()
                ),
            )),
        }
    }

    /// The position-score name recorded in the report.
    fn name(self) -> &'static str {
        match self {
            Self::Magnitude => "abs",
            Self::Attention => "attention",
        }
    }
}

/// Histone data from `gkd-synth histone`: per gene (the first N positive ones), AUROC / AUPR of
/// the map's cells against the truth cells (the rule's marks and bins); for attention maps also a
/// row for β, AUROC over the marks against the marks the rule uses (`attention-beta`).
fn score_gene_maps(
    truth: &Truth<'_>,
    label: &str,
    path: &Path,
    maps: &AttributionReader,
    first: usize,
) -> Result<(Vec<RecoveryRow>, Vec<SequenceScore>)> {
    let data = truth.data;
    let (marks, bins) = (data.channels(), data.length());
    let how = CellScore::of(path, maps)?;
    truth.check_shape(path, maps, how != CellScore::Magnitude || maps.info.channels.len() == marks)?;
    let beta = if how == CellScore::Attention { Some(maps.array("beta")?) } else { None };
    let mut cells: Vec<SequenceScore> = Vec::new();
    let mut beta_scores: Vec<SequenceScore> = Vec::new();
    for (i, row) in maps.rows.iter().enumerate() {
        if cells.len() == first {
            break;
        }
        let Some(r) = truth.positive_row(path, i, row)? else { continue };
        let true_cells: Vec<bool> = data.gather_truth(&[r])?.iter().map(|&v| v > 0.5).collect();
        let attr = maps.attr(i..i + 1)?;
        let scores: Vec<f32> = match how {
            CellScore::Magnitude => attr.iter().map(|v| v.abs()).collect(),
            CellScore::Attention => attr.iter().copied().collect(),
        };
        cells.push(SequenceScore::new(label.to_owned(), &row.id, &scores, &true_cells));
        if let Some(beta) = &beta {
            let used: Vec<bool> = (0..marks).map(|m| true_cells[m * bins..(m + 1) * bins].iter().any(|&t| t)).collect();
            let weights: Vec<f32> = beta.index_axis(Axis(0), i).iter().copied().collect();
            let mut score = SequenceScore::new(format!("{label}.beta"), &row.id, &weights, &used);
            score.snr = [None; 3];
            beta_scores.push(score);
        }
    }
    if cells.is_empty() {
        return Err(Error::in_file(path, "has no map of a gene that is positive for the class it explains"));
    }
    let mut rows = vec![summary_row(label, maps.info.method.name(), how.name(), &cells)];
    if !beta_scores.is_empty() {
        rows.push(summary_row(label, "attention-beta", "attention", &beta_scores));
    }
    log::info!("{label}: histone recovery over {} genes", cells.len());
    cells.extend(beta_scores);
    Ok((rows, cells))
}

/// Stage the per-sequence table.
pub fn stage_per_sequence(path: &Path, sequences: &[SequenceScore]) -> Result<AtomicFile> {
    let mut file = AtomicFile::create(path)?;
    {
        let p = file.path().to_path_buf();
        let mut w = file.buffered();
        let cell = |v: Option<f64>| v.map_or("NA".to_owned(), |x| format!("{x:.6}"));
        writeln!(w, "model\tid\tauroc\taupr\tsnr_max\tsnr_mean\tsnr_top10").with_path(&p)?;
        for s in sequences {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                s.model,
                s.id,
                cell(s.auroc),
                cell(s.aupr),
                cell(s.snr[0]),
                cell(s.snr[1]),
                cell(s.snr[2])
            )
            .with_path(&p)?;
        }
        w.flush().with_path(&p)?;
    }
    Ok(file)
}
