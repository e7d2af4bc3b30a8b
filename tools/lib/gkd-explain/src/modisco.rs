//! Attribution maps as TF-MoDISco (modisco-lite) reads them: `modisco motifs -s sequences.npz
//! -a attributions.npz -w LENGTH` loads the `arr_0` member of each archive, both (maps, 4,
//! positions) float32, the second holding hypothetical contributions (a score for every base at
//! every position). The rows TSV goes beside them, so that seqlets (which modisco reports by map
//! index) can be traced back to the dataset's rows.
//!
//! What each method's maps become:
//! - deeplift / deepshap: already hypothetical contributions, written as they are;
//! - saliency: the gradient at every base is its hypothetical contribution per unit input;
//! - ism / ism-fast: mean-centred over the four bases at each position. gkd's ISM maps hold
//!   0 at the reference base, so Σ attr·x would be 0 at every position and modisco finds no
//!   seqlets (modisco-lite 3.0.0 then stops with an IndexError); centred, the observed base
//!   carries how much better it is than the average substitution;
//! - gradxinput, ig: written as they are, with a warning (they are 0 off the observed base, not
//!   hypothetical: prefer saliency or deepshap);
//! - temporal, classopt, attention: refused (not scores of one-hot DNA positions).

use std::path::Path;

use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::{AttributionMethod, AttributionReader};
use gkd_io::dtype::Dtype;
use gkd_io::error::{Error, Result};
use gkd_io::npz::NpzWriter;
use ndarray::{Array3, Axis};

/// Whether maps of `method` can go to TF-MoDISco: those that score the input's positions.
pub fn exports(method: AttributionMethod) -> bool {
    method.scores_positions()
}

/// Maps read and written at a time.
const CHUNK: usize = 1024;

/// Subtract, at every position of every map, the mean over the channels.
pub fn mean_centre(attr: &mut Array3<f32>) {
    for mut map in attr.axis_iter_mut(Axis(0)) {
        let mean = map.mean_axis(Axis(0)).expect("channels > 0");
        for mut channel in map.axis_iter_mut(Axis(0)) {
            channel -= &mean;
        }
    }
}

/// Write `maps`' one-hot inputs and hypothetical scores into `dir` (sequences.npz,
/// attributions.npz, rows.tsv). Returns the staged files.
pub fn export(maps: &Path, dir: &Path) -> Result<Vec<AtomicFile>> {
    let reader = AttributionReader::open(maps)?;
    let method = reader.info.method;
    let centre = match method {
        AttributionMethod::Deeplift
        | AttributionMethod::Deepshap
        | AttributionMethod::Gkmexplain
        | AttributionMethod::Saliency => false,
        AttributionMethod::Ism | AttributionMethod::IsmFast => true,
        AttributionMethod::Gradxinput | AttributionMethod::Ig => {
            log::warn!(
                "{} maps are 0 off the observed base, not hypothetical contributions: TF-MoDISco works best with deepshap or saliency maps",
                method.name()
            );
            false
        }
        other => {
            return Err(Error::in_file(
                maps,
                format!(
                    "holds {} maps, which are not scores of DNA positions: TF-MoDISco needs saliency, deeplift, deepshap or ISM maps",
                    other.name()
                ),
            ));
        }
    };
    if reader.info.channels != ["A", "C", "G", "T"] {
        return Err(Error::in_file(
            maps,
            format!("has channels {:?}: TF-MoDISco reads one-hot DNA (A, C, G, T)", reader.info.channels),
        ));
    }
    let (n, length) = (reader.len(), reader.info.length);
    if reader.x(0..n.min(1))?.is_none() {
        return Err(Error::in_file(maps, "has no inputs 'x' to give TF-MoDISco as the sequences"));
    }
    let mut sequences = AtomicFile::create(dir.join("sequences.npz"))?;
    let mut attributions = AtomicFile::create(dir.join("attributions.npz"))?;
    let mut rows = AtomicFile::create(dir.join("rows.tsv"))?;
    {
        let mut seq_npz = NpzWriter::new(sequences.file(), true);
        let mut attr_npz = NpzWriter::new(attributions.file(), true);
        seq_npz.begin("arr_0", &[n, 4, length], Dtype::Float32)?;
        attr_npz.begin("arr_0", &[n, 4, length], Dtype::Float32)?;
        for start in (0..n).step_by(CHUNK) {
            let range = start..(start + CHUNK).min(n);
            let x = reader.x(range.clone())?.expect("checked: the file has inputs");
            let mut attr = reader.attr(range)?;
            if centre {
                mean_centre(&mut attr);
            }
            seq_npz.write(x.as_standard_layout().as_slice().expect("standard layout"))?;
            attr_npz.write(attr.as_standard_layout().as_slice().expect("standard layout"))?;
        }
        seq_npz.end()?;
        attr_npz.end()?;
        seq_npz.finish()?;
        attr_npz.finish()?;
    }
    let mut table = String::from("index\tid\tclass\tchrom\tstart\tend\n");
    for (i, row) in reader.rows.iter().enumerate() {
        let (chrom, start, end) = (
            row.chrom.clone().unwrap_or_default(),
            row.start.map(|s| s.to_string()).unwrap_or_default(),
            row.end.map(|e| e.to_string()).unwrap_or_default(),
        );
        table.push_str(&format!("{i}\t{}\t{}\t{chrom}\t{start}\t{end}\n", row.id, row.class));
    }
    rows.write_all(table.as_bytes())?;
    log::info!(
        "{n} {method} map(s) -> {}: modisco motifs -s sequences.npz -a attributions.npz -w {length}",
        dir.display()
    );
    Ok(vec![sequences, attributions, rows])
}
