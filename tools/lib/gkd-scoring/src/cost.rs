//! `gkd-score cost`: what a model costs to keep and to run. Parameters are the stored ones that
//! gkd-compress records (non-zero weights after pruning, factor entries after factorisation);
//! file bytes are those of the weights file, raw and gzipped (pruning keeps PyTorch's dense
//! layout, so its saving shows in the gzipped size); prediction time comes from gkd-predict's
//! --stats.

use std::io::Write;
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::scores::CostRow;

/// Stored parameters and the weights file of a model directory.
fn model_size(dir: &Path) -> Result<(usize, PathBuf)> {
    let card_path = dir.join("model.json");
    let text = std::fs::read_to_string(&card_path).with_path(&card_path)?;
    let card: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::in_file(&card_path, format!("is not a gkd model description: {e}")))?;
    let parameters = card["compression"]["parameters_after"]
        .as_u64()
        .or_else(|| card["parameters"].as_u64())
        .ok_or_else(|| Error::in_file(&card_path, "has no parameter count ('parameters')"))?;
    let int8 = dir.join("model.int8.safetensors");
    let weights = if int8.exists() { int8 } else { dir.join("model.safetensors") };
    Ok((parameters as usize, weights))
}

/// Bytes of `data` gzipped at level 6.
fn gzip_len(data: &[u8]) -> u64 {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory").len() as u64
}

/// Milliseconds per 1,000 rows and the early-exit fraction of a gkd-predict --stats file (its
/// first model: one model per predictions run in the workflows).
fn timing(path: &Path) -> Result<(f64, Option<f64>)> {
    let text = std::fs::read_to_string(path).with_path(path)?;
    let stats: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::in_file(path, format!("is not a gkd-predict --stats file: {e}")))?;
    let first = &stats["models"][0];
    match (first["rows"].as_f64(), first["seconds"].as_f64()) {
        (Some(rows), Some(seconds)) if rows > 0.0 => Ok((1e6 * seconds / rows, first["fraction"].as_f64())),
        _ => Err(Error::in_file(path, "has no 'models' entry with rows and seconds")),
    }
}

/// One row per model directory; ratios against `reference` (default: the first input).
pub fn score(
    inputs: &[(String, PathBuf)],
    timings: &[(String, PathBuf)],
    reference: Option<&str>,
) -> Result<Vec<CostRow>> {
    for (label, path) in timings {
        if !inputs.iter().any(|(l, _)| l == label) {
            return Err(Error::usage(format!("--timing {label}={}: no --input is labelled '{label}'", path.display())));
        }
    }
    let sizes: Vec<(usize, PathBuf)> = inputs.iter().map(|(_, dir)| model_size(dir)).collect::<Result<_>>()?;
    let base = match reference {
        Some(name) => inputs
            .iter()
            .position(|(l, _)| l == name)
            .ok_or_else(|| Error::usage(format!("--reference '{name}' is not an --input label")))?,
        None => 0,
    };
    let base_parameters = sizes[base].0 as f64;
    let mut rows = Vec::with_capacity(inputs.len());
    for ((label, _), (parameters, weights)) in inputs.iter().zip(sizes) {
        let bytes = std::fs::read(&weights).with_path(&weights)?;
        gkd_io::weights::check_finite(&bytes, &weights)?;
        let (ms, exit) = match timings.iter().find(|(l, _)| l == label) {
            Some((_, path)) => {
                let (ms, exit) = timing(path)?;
                (Some(ms), exit)
            }
            None => (None, None),
        };
        rows.push(CostRow {
            model: label.clone(),
            parameters,
            compression_ratio: base_parameters / parameters.max(1) as f64,
            file_bytes: bytes.len() as u64,
            gzip_bytes: gzip_len(&bytes),
            predict_ms_per_1000: ms,
            exit_fraction: exit,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_shrinks_zeros_and_not_noise() {
        let zeros = vec![0u8; 40_000];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let noise: Vec<u8> = (0..40_000)
            .map(|_| {
                // xorshift64*
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect();
        assert!(gzip_len(&zeros) < 200);
        assert!(gzip_len(&noise) > 39_000);
    }
}
