//! Attribution maps as a genome-browser track: each map's per-position score placed on its row's
//! reference coordinates, written as a bigWig.

use std::collections::BTreeMap;
use std::path::Path;

use gkd_genomics::track::{BaseTrack, read_chrom_sizes};
use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::{AttributionMethod, MapRow};
use gkd_io::error::{Error, Result};
use gkd_io::table::Strand;
use gkd_metrics::recovery::{PositionScore, position_scores};
use ndarray::{Array3, Axis};

/// The per-position scores of attribution maps placed on their rows' reference coordinates,
/// gathered chunk by chunk (one value per covered base), then written as a bigWig.
pub struct MapTrack {
    how: PositionScore,
    length: usize,
    track: BaseTrack,
}

impl MapTrack {
    /// A track for maps of `method` with `length` positions; refused for methods without
    /// per-position scores of the input.
    pub fn new(method: AttributionMethod, length: usize) -> Result<Self> {
        let how = PositionScore::for_method(method).ok_or_else(|| {
            Error::usage(format!(
                "--bigwig needs per-position scores of the input; --method {} has none",
                method.name()
            ))
        })?;
        Ok(Self { how, length, track: BaseTrack::default() })
    }

    /// Add maps (maps, channels, positions) with their inputs and rows.
    pub fn add(&mut self, attr: &Array3<f32>, x: Option<&Array3<f32>>, rows: &[MapRow]) -> Result<()> {
        let x = x.ok_or_else(|| Error::usage("--bigwig needs the inputs of the maps (attention maps have none)"))?;
        let channels = attr.shape()[1];
        for (i, row) in rows.iter().enumerate() {
            let (Some(chrom), Some(start), Some(end)) = (&row.chrom, row.start, row.end) else {
                return Err(Error::usage(format!(
                    "--bigwig needs rows with reference coordinates; row '{}' has none (make the dataset with gkd-onehot --fasta --bed)",
                    row.id
                )));
            };
            let length = self.length as u64;
            if end - start != length {
                return Err(Error::usage(format!(
                    "row '{}' spans {chrom}:{start}-{end} ({} bp) but its map has {length} positions",
                    row.id,
                    end - start
                )));
            }
            let flat = |arr: &Array3<f32>| arr.index_axis(Axis(0), i).iter().copied().collect::<Vec<f32>>();
            let scores = position_scores(&flat(attr), &flat(x), channels, self.how);
            for (p, score) in scores.into_iter().enumerate() {
                // Reverse-strand rows were reverse-complemented: position p is end − 1 − p.
                let pos = if row.strand == Strand::Reverse { end - 1 - p as u64 } else { start + p as u64 };
                let pos = u32::try_from(pos).map_err(|_| {
                    Error::usage(format!("row '{}': position {pos} is beyond bigWig's 2^32 limit", row.id))
                })?;
                self.track.add(chrom, pos, score);
            }
        }
        Ok(())
    }

    /// Stage the bigWig at `path`; chromosome sizes from `chrom_sizes` (name<TAB>size) or,
    /// without it, each chromosome ends at its last scored position.
    pub fn stage(self, path: &Path, chrom_sizes: Option<&Path>) -> Result<AtomicFile> {
        let sizes: BTreeMap<String, u32> = match chrom_sizes {
            Some(file) => read_chrom_sizes(file)?,
            None => self.track.extents(),
        };
        self.track.stage_bigwig(path, &sizes)
    }
}
