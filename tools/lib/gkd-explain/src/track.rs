//! Attribution maps as a genome-browser track: each map's per-position score placed on its row's
//! reference coordinates, written as a bigWig.

use std::collections::BTreeMap;
use std::path::Path;

use gkd_genomics::track::{BaseTrack, read_chrom_sizes};
use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::Attributions;
use gkd_io::error::{Error, Result};
use gkd_io::table::Strand;
use gkd_metrics::recovery::{PositionScore, position_scores};
use ndarray::{ArrayD, Axis};

/// Stage a bigWig of the per-position score of every map (Σ channels attr·x; ISM: L2 norm over
/// bases) at `path`; chromosome sizes from `chrom_sizes` (name<TAB>size) or, without it, each
/// chromosome ends at its last scored position.
pub fn stage_bigwig(a: &Attributions, path: &Path, chrom_sizes: Option<&Path>) -> Result<AtomicFile> {
    let how = PositionScore::for_method(&a.info.method).ok_or_else(|| {
        Error::usage(format!("--bigwig needs per-position scores of the input; --method {} has none", a.info.method))
    })?;
    let (attr, x) = (a.attr(), a.array("x").expect("row methods store x"));
    let channels = a.info.channels.len();
    let mut track = BaseTrack::default();
    for (i, row) in a.rows.iter().enumerate() {
        let (Some(chrom), Some(start), Some(end)) = (&row.chrom, row.start, row.end) else {
            return Err(Error::usage(format!(
                "--bigwig needs rows with reference coordinates; row '{}' has none (make the dataset with gkd-onehot --fasta --bed)",
                row.id
            )));
        };
        let length = a.info.length as u64;
        if end - start != length {
            return Err(Error::usage(format!(
                "row '{}' spans {chrom}:{start}-{end} ({} bp) but its map has {length} positions",
                row.id,
                end - start
            )));
        }
        let flat = |arr: &ArrayD<f32>| arr.index_axis(Axis(0), i).iter().copied().collect::<Vec<f32>>();
        let scores = position_scores(&flat(attr), &flat(x), channels, how);
        for (p, score) in scores.into_iter().enumerate() {
            // Reverse-strand rows were reverse-complemented: position p is end − 1 − p.
            let pos = if row.strand == Strand::Reverse { end - 1 - p as u64 } else { start + p as u64 };
            let pos = u32::try_from(pos)
                .map_err(|_| Error::usage(format!("row '{}': position {pos} is beyond bigWig's 2^32 limit", row.id)))?;
            track.add(chrom, pos, score);
        }
    }
    let sizes: BTreeMap<String, u32> = match chrom_sizes {
        Some(file) => read_chrom_sizes(file)?,
        None => track.extents(),
    };
    track.stage_bigwig(path, &sizes)
}
